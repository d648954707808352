import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { explainConnection } from '../analysis/explain.ts';
import { explainNamedConnection, isNamedPeerText } from '../analysis/explain-named.ts';
import { resolveEndpoint } from '../analysis/resolve.ts';
import { Engine } from '../engine/engine.ts';
import { PROTOCOLS } from '../model/types.ts';
import { explanationJson, renderExplanationText } from '../report/explain.ts';
import { namedExplanationJson, renderNamedExplanationText } from '../report/explain-named.ts';
import { type CliIo, UsageError } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions } from './shared-options.ts';

function parsePort(value: string): number {
  // Digits only: Number() would also take "0x50", "1e3" and " 80 " as ports.
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  // InvalidArgumentError makes commander report a usage error (exit 2), not an internal one.
  if (!(port >= 1 && port <= 65535))
    throw new InvalidArgumentError(`"${value}" is not a port between 1 and 65535`);
  return port;
}

/** `-`, a manifest file name, or a file or folder that exists: no workload is written like that. */
function isPathLike(text: string): boolean {
  return text === '-' || /\.(ya?ml|json)$/i.test(text) || existsSync(text);
}

export function explainCommand(io: CliIo) {
  return withInputOptions(
    new Command('explain')
      .argument('<from>', 'source: ns/name, ns/name[Kind] or an IP address')
      .argument('<to>', 'destination: ns/name, ns/name[Kind], an IP address or fqdn:<name> (Cilium toFQDNs)')
      .argument('[paths...]', 'manifest files or folders, or - for stdin'),
  )
    .description('Explain whether FROM may connect to TO, and which policies and rules decide it')
    .option('-p, --port <port>', 'the destination port to ask about', parsePort)
    .addOption(new Option('--protocol <protocol>', 'the protocol to ask about').choices(PROTOCOLS))
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json'] as const)
        .default('text' as const),
    )
    .addHelpText(
      'after',
      `
Examples:
  phiwall explain frontend/portal records/api --port 8443 examples/clinic
  phiwall explain 203.0.113.7 records/db --port 5432 examples/clinic
  phiwall explain 'records/api[Deployment]' records/db examples/clinic --format json
  phiwall explain shop/web fqdn:api.stripe.com --port 443 k8s/`,
    )
    .action(async (from, to, paths, options, command) => {
      const misplaced = [from, to].find(isPathLike);
      if (misplaced) {
        throw new UsageError(
          `"${misplaced}" is a path where a workload belongs: the arguments are out of order; explain takes FROM TO [PATHS...], e.g. phiwall explain frontend/portal records/api k8s/`,
        );
      }
      const snapshot = await loadInputs(paths, options, io);
      const engine = new Engine(snapshot, engineOptionsOf(command, snapshot, io));
      const query =
        options.port !== undefined || options.protocol !== undefined
          ? { protocol: options.protocol ?? 'TCP', port: options.port }
          : undefined;
      const source = resolveEndpoint(snapshot, from);
      if (isNamedPeerText(to)) {
        const named = explainNamedConnection(engine, source, to, query);
        io.stdout(
          options.format === 'json'
            ? `${JSON.stringify(namedExplanationJson(named), null, 2)}\n`
            : renderNamedExplanationText(named),
        );
        return;
      }
      const explanation = explainConnection(engine, source, resolveEndpoint(snapshot, to), query);
      io.stdout(
        options.format === 'json'
          ? `${JSON.stringify(explanationJson(explanation), null, 2)}\n`
          : renderExplanationText(explanation),
      );
    });
}
