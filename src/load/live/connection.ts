import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** How to reach a cluster: the flags `--live` takes. */
export interface LiveOptions {
  kubeconfig?: string;
  context?: string;
  /** For tests: the environment to read KUBECONFIG, HOME and the in-cluster variables from. */
  env?: NodeJS.ProcessEnv;
}

/** A problem reaching or reading the cluster: reported in one line, exit status 2, like bad input. */
export class LiveError extends Error {
  override name = 'LiveError';
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface ClusterConnection {
  /** The kubeconfig context, or `in-cluster`. */
  context: string;
  server: string;
  /** GET a path; an HTTP error becomes a LiveError that names the status, the verb and the resource. */
  get(path: string, query?: Record<string, string>): Promise<Record<string, unknown>>;
  /** GET a path, answering undefined for 404 (an API group or CRD that is not installed). */
  getOptional(path: string, query?: Record<string, string>): Promise<Record<string, unknown> | undefined>;
  /** Streams watch events until the server ends the stream, the connection drops, or `stop` is called. */
  watch(
    path: string,
    query: Record<string, string>,
    onEvent: (event: WatchEvent) => void,
    onEnd: (error?: Error) => void,
  ): { stop(): void };
}

/** The client library costs about a second to load, so only `--live` pays for it. */
async function loadClient() {
  return import('@kubernetes/client-node');
}

/**
 * Connects with a kubeconfig (`--kubeconfig`, else $KUBECONFIG, else ~/.kube/config) or, inside a pod
 * with neither, the pod's service account. Credentials, certificates and exec plugins are the client
 * library's; requests are plain HTTP(S) so that lists arrive as the API server's own JSON.
 */
export async function connect(options: LiveOptions = {}): Promise<ClusterConnection> {
  const env = options.env ?? process.env;
  const { KubeConfig } = await loadClient();
  const kc = new KubeConfig();
  const home = env.HOME ?? homedir();
  const defaultFile = join(home, '.kube', 'config');
  let source: string;
  try {
    if (options.kubeconfig) {
      if (!existsSync(options.kubeconfig))
        throw new LiveError(`--kubeconfig ${options.kubeconfig}: no such file`);
      kc.loadFromFile(options.kubeconfig);
      source = options.kubeconfig;
    } else if (env.KUBECONFIG) {
      const files = env.KUBECONFIG.split(':').filter(Boolean);
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length === files.length)
        throw new LiveError(`KUBECONFIG names no existing file (${env.KUBECONFIG})`);
      kc.loadFromFile(files.find((f) => existsSync(f)) as string);
      source = env.KUBECONFIG;
    } else if (existsSync(defaultFile)) {
      kc.loadFromFile(defaultFile);
      source = defaultFile;
    } else if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) {
      kc.loadFromCluster();
      source = 'in-cluster service account';
    } else {
      throw new LiveError(
        `no kubeconfig found (--kubeconfig, $KUBECONFIG and ${defaultFile} are all absent) and not running in a pod; pass --kubeconfig FILE`,
      );
    }
  } catch (error) {
    if (error instanceof LiveError) throw error;
    throw new LiveError(
      `cannot read the kubeconfig (${options.kubeconfig ?? env.KUBECONFIG ?? defaultFile}): ${messageOf(error)}`,
    );
  }
  if (options.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(options.context)) {
      throw new LiveError(
        `context "${options.context}" is not in ${source} (its contexts: ${names.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new LiveError(`${source} has no current context; pass --context NAME`);
  const context = kc.getCurrentContext() || 'in-cluster';
  const server = cluster.server.replace(/\/+$/, '');

  const request = async (path: string, query: Record<string, string> = {}) => {
    const url = new URL(server + path);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
    try {
      await kc.applyToHTTPSOptions(opts);
    } catch (error) {
      throw new LiveError(
        `cannot use the credentials of context "${context}" for ${server}: ${messageOf(error)}`,
      );
    }
    return { url, opts };
  };
  const describeServer = `the API server at ${server} (context "${context}")`;

  const get = async (path: string, query?: Record<string, string>, optional = false) => {
    const { url, opts } = await request(path, query);
    const { status, body } = await send(url, opts).catch((error: unknown) => {
      throw new LiveError(
        `cannot reach ${describeServer}: ${messageOf(error)}; check that the cluster is up and the kubeconfig points at it`,
      );
    });
    if (status === 404 && optional) return undefined;
    if (status < 200 || status > 299) throw httpError(status, body, path, describeServer, 'list');
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new LiveError(`${describeServer} answered ${path} with something that is not JSON`);
    }
  };

  return {
    context,
    server,
    get: (path, query) => get(path, query) as Promise<Record<string, unknown>>,
    getOptional: (path, query) => get(path, query, true),
    watch(path, query, onEvent, onEnd) {
      let stopped = false;
      let live: http.ClientRequest | undefined;
      let ended = false;
      const end = (error?: Error) => {
        if (ended) return;
        ended = true;
        if (!stopped) onEnd(error);
      };
      request(path, { ...query, watch: 'true' })
        .then(({ url, opts }) => {
          if (stopped) return;
          live = (url.protocol === 'https:' ? https : http).request(url, opts, (response) => {
            if ((response.statusCode ?? 0) !== 200) {
              let body = '';
              response.setEncoding('utf8');
              response.on('data', (chunk: string) => {
                body += chunk;
              });
              response.on('end', () =>
                end(httpError(response.statusCode ?? 0, body, path, describeServer, 'watch')),
              );
              return;
            }
            let buffer = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              buffer += chunk;
              let newline = buffer.indexOf('\n');
              while (newline >= 0) {
                const line = buffer.slice(0, newline).trim();
                buffer = buffer.slice(newline + 1);
                if (line) {
                  try {
                    onEvent(JSON.parse(line) as WatchEvent);
                  } catch {
                    end(new LiveError(`${describeServer} sent a watch event that is not JSON`));
                    live?.destroy();
                    return;
                  }
                }
                newline = buffer.indexOf('\n');
              }
            });
            response.on('end', () => end());
            response.on('error', (error) => end(error));
            response.on('aborted', () => end(new Error('the watch connection was cut')));
          });
          live.on('error', (error) => end(error));
          live.end();
        })
        .catch((error: unknown) => end(error instanceof Error ? error : new Error(String(error))));
      return {
        stop() {
          stopped = true;
          live?.destroy();
        },
      };
    },
  };
}

function send(url: URL, opts: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, opts, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end();
  });
}

/** `pods` and its API group from a list or watch path, for messages about RBAC. */
export function resourceOfPath(path: string): { group: string; resource: string; namespace?: string } {
  const parts = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  const core = parts[0] === 'api';
  const rest = parts.slice(core ? 2 : 3);
  const group = core ? '' : (parts[1] ?? '');
  if (rest[0] === 'namespaces' && rest.length >= 3)
    return { group, resource: rest[2] as string, namespace: rest[1] };
  return { group, resource: rest[0] ?? path };
}

function httpError(
  status: number,
  body: string,
  path: string,
  server: string,
  verb: 'list' | 'watch',
): LiveError {
  let message = '';
  try {
    message = String((JSON.parse(body) as { message?: unknown }).message ?? '');
  } catch {
    message = body.slice(0, 200);
  }
  const { group, resource, namespace } = resourceOfPath(path);
  const where = namespace ? `in namespace "${namespace}"` : 'in all namespaces';
  if (status === 401) {
    return new LiveError(
      `${server} rejected the credentials (401 Unauthorized): the token or client certificate is expired or invalid; log in again or refresh the kubeconfig${message ? ` (${message})` : ''}`,
    );
  }
  if (status === 403) {
    return new LiveError(
      `RBAC denies "${verb}" on "${resource}" (API group "${group}") ${where}: ${message || 'forbidden'}. phiwall needs get, list and watch on ${resource}: apply deploy/rbac.yaml, or ask your cluster admin for "${verb}" on "${resource}"`,
    );
  }
  return new LiveError(`${server} answered ${status} to GET ${path}${message ? `: ${message}` : ''}`);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${error.message} (${code})`
      : error.message;
  }
  return String(error);
}
