import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { loadAuditConfig } from '../compliance/config.ts';
import { STDIN } from '../load/sources.ts';
import { DEFAULT_HOST, DEFAULT_PORT, generateToken, isLoopbackHost } from '../server/security.ts';
import { openRecorder } from './history.ts';
import { type CliIo, EnvironmentError, UsageError, untilStopped } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions, workloadNamesOf } from './shared-options.ts';

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    throw new InvalidArgumentError(`"${value}" is not a port between 0 (any free port) and 65535`);
  return port;
}

/** The PEM files of --tls-cert and --tls-key, read now so that a wrong path stops before listening. */
function readTls(certFile: string | undefined, keyFile: string | undefined) {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined)
    throw new UsageError('--tls-cert and --tls-key go together: give both');
  const read = (file: string, flag: string) => {
    try {
      const text = readFileSync(file, 'utf8');
      if (!text.includes('-----BEGIN ')) throw new UsageError(`${flag} ${file}: not a PEM file`);
      return text;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new EnvironmentError(
        `${flag} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  };
  const tls = { cert: read(certFile, '--tls-cert'), key: read(keyFile, '--tls-key') };
  try {
    createSecureContext(tls);
  } catch (error) {
    throw new UsageError(`--tls-cert ${certFile} / --tls-key ${keyFile}: ${(error as Error).message}`);
  }
  return tls;
}

/** Opens the page in the desktop's browser; a machine without one (a server, CI) just has the URL. */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No browser to open: the printed URL is enough.
  }
}

export function serveCommand(io: CliIo) {
  return withInputOptions(
    new Command('serve').argument('[paths...]', 'manifest files or folders (default: the working folder)'),
  )
    .description('Serve a live map of the segmentation in the browser; it follows the files (or the cluster)')
    .option('-c, --config <file>', 'audit configuration (default: ./phiwall.yaml when present)')
    .option('--flows <files...>', 'flow logs (Hubble, Calico, CSV) to show beside policy')
    .option('--port <port>', `port to listen on; 0 = any free port (default: ${DEFAULT_PORT})`, parsePort)
    .option('--host <address>', `address to listen on (default: ${DEFAULT_HOST})`)
    .option(
      '--token <token>',
      'require this token on every request (generated when --host is not a loopback address)',
    )
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--no-open', 'do not open the page in a browser')
    .option('--record', 'append a history entry for the start and each change (see phiwall history)')
    .option(
      '--db <file|url>',
      'with --record: the history (SQLite file or postgres://…; default: phiwall-history.db)',
    )
    .option(
      '--cluster <name>',
      "with --record: the cluster's name in the history (default: the context, or default)",
    )
    .option('--sign-key <file>', 'with --record: sign each entry with this Ed25519 private key (PEM)')
    .addHelpText(
      'after',
      `
The page and its API are read-only: nothing is written to the cluster or to the files. Any address but
a loopback one needs a token; without --token one is generated and printed in the URL.

Examples:
  phiwall serve examples/hipaa-clinic/insecure --config examples/hipaa-clinic/phiwall.yaml
  phiwall serve k8s/ --flows hubble-24h.json --port 0 --no-open
  phiwall serve --live --context prod
  phiwall serve k8s/ --host 0.0.0.0 --token "$(openssl rand -hex 16)"`,
    )
    .action(async (paths, options, command) => {
      if (paths.includes(STDIN))
        throw new UsageError('serve watches its inputs: name files or folders, not - (stdin)');
      const host = options.host ?? DEFAULT_HOST;
      if (options.token !== undefined && options.token.trim() === '')
        throw new UsageError('--token: the token must not be empty');
      const generated = options.token === undefined && !isLoopbackHost(host);
      const token = options.token ?? (generated ? generateToken() : undefined);
      const tls = readTls(options.tlsCert, options.tlsKey);
      const { config } = loadAuditConfig(options.config);
      const log = (text: string) => io.stderr(text);
      const live = options.live
        ? (() => {
            if (paths.length > 0)
              throw new UsageError(`--live reads the cluster: leave out the paths (${paths.join(' ')})`);
            if (options.allNamespaces && options.namespace)
              throw new UsageError('--all-namespaces and --namespace exclude each other');
            return { kubeconfig: options.kubeconfig, context: options.context, namespace: options.namespace };
          })()
        : undefined;
      // Files are loaded here, as every command loads them, so that bad input is reported the same way.
      const snapshot = live ? undefined : await loadInputs(paths, options, io);
      const semantics = engineOptionsOf(command, snapshot, io);
      const recorder = options.record
        ? await openRecorder({ ...options, workloadNames: workloadNamesOf(command) }, semantics, io)
        : undefined;
      // The server (Hono and the UI's state) is loaded only when serving: other commands start faster.
      const { startServe } = await import('../server/index.ts');
      const served = await startServe({
        paths,
        live,
        auditConfig: config,
        flows: options.flows,
        namespace: options.namespace,
        skipInvalid: options.skipInvalid,
        workloadNames: workloadNamesOf(command),
        engineOptions: semantics,
        ...(recorder ? { record: (input, view) => recorder.record(input, view.snapshot, view) } : {}),
        host,
        port: options.port ?? DEFAULT_PORT,
        token,
        tls,
        log,
      });
      if (generated)
        io.stderr(`phiwall: ${host} is not a loopback address: generated a token; it is in the URL below\n`);
      io.stdout(`phiwall: serving ${served.url} (Ctrl-C stops)\n`);
      if (options.open) openBrowser(served.url);
      try {
        await untilStopped(io);
      } finally {
        await served.close();
        await recorder?.close();
      }
    });
}
