/**
 * `phiwall serve`: a live map of the segmentation in the browser (API and security: docs/serve-api.md).
 *
 * Programmatic use (tests, the UI's browser test):
 *
 *   import { startServe } from '../server/index.ts';
 *   const served = await startServe({ paths: ['examples/hipaa-clinic/insecure'], port: 0 });
 *   // served.url: `http://127.0.0.1:PORT/` (with `?token=…` when there is a token); served.token
 *   await served.close();
 *
 *   startServe(options: ServeOptions): Promise<RunningServe>
 *     paths       manifest files or folders (default ['.']); watched, and reloaded when they change
 *     live        read (and watch) the cluster instead: { kubeconfig?, context?, namespace? }
 *     config      audit config file (default: ./phiwall.yaml when present, else the defaults)
 *     flows       flow logs to compare with policy (GET /api/flows)
 *     host        bind address (default 127.0.0.1); any non-loopback one needs a token, and one is
 *                 generated when none is given
 *     port        default 8750; 0 = any free port
 *     token       required on every request when set
 *     tls         { cert, key } (PEM): serve HTTPS
 *     webRoot     the built UI (default: dist/web of this package)
 *     watch       watch the inputs (default true)
 *     record      called with each generation and the objects it was built from (serve --record)
 *
 *   RunningServe: { url, port, token?, state, close(): Promise<void> }
 *
 * Lower level: createApp(state, options) returns the Hono app (tests call `app.request`), and
 * startServer(state, options) listens with @hono/node-server.
 */

import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { type AuditConfig, loadAuditConfig } from '../compliance/config.ts';
import { DEFAULT_OPTIONS, type EngineOptions } from '../engine/endpoint.ts';
import type { RecordedInput } from '../history/capture.ts';
import { fileSource, liveSource } from '../history/source-info.ts';
import { formatDiagnostic, InputError } from '../load/diagnostics.ts';
import { type ClusterConnection, connect } from '../load/live/connection.ts';
import { absentNote, type ClusterListing, listCluster } from '../load/live/list.ts';
import { snapshotOfListing } from '../load/live/snapshot.ts';
import { ClusterWatch } from '../load/live/watch.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import { readSources } from '../load/sources.ts';
import type { Snapshot, WorkloadNames } from '../model/types.ts';
import type { StateOptions } from './analysis.ts';
import type { Load, LocalAnalyst } from './analyst.ts';
import { type AppOptions, createApp } from './app.ts';
import type { GraphSource } from './graph.ts';
import type { InputSpec } from './inputs.ts';
import { DEFAULT_HOST, DEFAULT_PORT, generateToken, isLoopbackHost } from './security.ts';
import { ServeState, type View } from './state.ts';
import { defaultWebRoot } from './static.ts';
import { type InputWatch, watchInputs } from './watch-files.ts';

export { type AppOptions, createApp } from './app.ts';
export type { Graph, GraphEdge, GraphNode } from './graph.ts';
export { type ChangeEvent, type ErrorEvent, type ServeEvent, ServeState, type View } from './state.ts';
export { defaultWebRoot } from './static.ts';

export interface ServerOptions {
  host?: string;
  port?: number;
  token?: string;
  webRoot?: string;
  keepAliveMs?: number;
  /** Serve HTTPS with this certificate chain and key (PEM): for a bind other machines reach. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface RunningServer {
  /** `http://HOST:PORT/`, with `?token=…` when there is a token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

function urlOf(host: string, port: number, token: string | undefined, tls: boolean): string {
  const name = host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${name}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/**
 * Listens on `host:port` (port 0: any free port). Refuses a non-loopback host without a token: whoever
 * can reach the address could read the cluster's segmentation.
 */
export async function startServer(state: ServeState, options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  if (!isLoopbackHost(host) && !options.token)
    throw new Error(`binding to ${host} needs a token: anyone who can reach it could read the analysis`);
  const appOptions: AppOptions = {
    host,
    port: options.port ?? DEFAULT_PORT,
    token: options.token,
    webRoot: options.webRoot ?? defaultWebRoot(),
    keepAliveMs: options.keepAliveMs,
    secureCookie: options.tls !== undefined,
  };
  const app = createApp(state, appOptions);
  const server = (
    options.tls
      ? createAdaptorServer({ fetch: app.fetch, createServer: createHttpsServer, serverOptions: options.tls })
      : createAdaptorServer({ fetch: app.fetch })
  ) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(appOptions.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // With port 0 the app learns its port only now; it reads it at every request (the Host check).
  appOptions.port = (server.address() as AddressInfo).port;
  return {
    url: urlOf(host, appOptions.port, options.token, options.tls !== undefined),
    port: appOptions.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Event streams never end by themselves.
        server.closeAllConnections();
      }),
  };
}

export interface ServeOptions extends ServerOptions {
  paths?: string[];
  live?: { kubeconfig?: string; context?: string; namespace?: string };
  /** Audit config file. */
  config?: string;
  /** An audit config already read (wins over `config`). */
  auditConfig?: AuditConfig;
  flows?: string[];
  /** Namespace for objects that name none (files). */
  namespace?: string;
  skipInvalid?: boolean;
  workloadNames?: WorkloadNames;
  engineOptions?: EngineOptions;
  watch?: boolean;
  /** Quiet time after a file change before reloading (default 150 ms). */
  debounceMs?: number;
  /** Status lines: reloads, warnings, the watch's reconnections (default: nowhere). */
  log?: (text: string) => void;
  /**
   * `serve --record`: called with the first generation and each one after it, with the objects its
   * snapshot was built from (read in the same step, so an entry never pairs one input with another's
   * analysis).
   */
  record?: (input: RecordedInput, view: View) => Promise<void>;
}

export interface RunningServe extends RunningServer {
  token?: string;
  state: ServeState;
}

/** Loads the input, computes the first state, starts watching and listening. */
export async function startServe(options: ServeOptions = {}): Promise<RunningServe> {
  const host = options.host ?? DEFAULT_HOST;
  const token = options.token || (isLoopbackHost(host) ? undefined : generateToken());
  const config = options.auditConfig ?? loadAuditConfig(options.config).config;
  const log = options.log;
  const stateOptions = {
    config,
    engineOptions: options.engineOptions ?? DEFAULT_OPTIONS,
    flowFiles: options.flows,
    namespace: options.live ? undefined : options.namespace,
    log,
  };
  const { workloadNames } = options;
  const stops: (() => void)[] = [];
  let state: ServeState;
  if (options.record) {
    const recorded = await startRecording(options, stateOptions, options.record);
    state = recorded.state;
    stops.push(...recorded.stops);
  } else if (options.live) {
    const { connection, listing } = await listLive(options.live, log);
    state = await ServeState.inWorkers(
      { kind: 'listing', listing, skipInvalid: options.skipInvalid, workloadNames },
      { ...stateOptions, source: liveLabel(listing) },
    );
    if (options.watch !== false) {
      const load = (current: ClusterListing): Load => ({
        kind: 'listing',
        listing: current,
        skipInvalid: true,
        workloadNames,
      });
      stops.push(watchCluster(state, connection, listing, load, log));
    }
  } else {
    const paths = options.paths && options.paths.length > 0 ? options.paths : ['.'];
    const input: InputSpec = {
      kind: 'files',
      paths,
      namespace: options.namespace,
      skipInvalid: options.skipInvalid,
      workloadNames,
    };
    state = await ServeState.inWorkers(input, { ...stateOptions, source: filesLabel(paths) });
    if (options.watch !== false) stops.push(watchFiles(state, paths, input, options));
  }
  stops.push(() => void state.close());
  let server: RunningServer;
  try {
    server = await startServer(state, { ...options, host, token });
  } catch (error) {
    for (const stop of stops) stop();
    throw error;
  }
  return {
    ...server,
    ...(token ? { token } : {}),
    state,
    async close() {
      for (const stop of stops) stop();
      await server.close();
    },
  };
}

const liveLabel = (listing: ClusterListing): GraphSource => ({
  kind: 'live',
  label: `${listing.context} (${listing.server})`,
});
const filesLabel = (paths: readonly string[]): GraphSource => ({ kind: 'files', label: paths.join(' ') });

async function listLive(live: NonNullable<ServeOptions['live']>, log: ServeOptions['log']) {
  const connection = await connect({ kubeconfig: live.kubeconfig, context: live.context });
  const listing = await listCluster(connection, {
    namespace: live.namespace,
    progress: (text) => log?.(`phiwall: ${text}\n`),
  });
  const absent = absentNote(listing);
  if (absent) log?.(absent);
  return { connection, listing };
}

/** Reloads when the cluster changes; returns the stop. */
function watchCluster(
  state: ServeState,
  connection: ClusterConnection,
  listing: ClusterListing,
  load: (current: ClusterListing) => Load,
  log: ServeOptions['log'],
): () => void {
  const watch = new ClusterWatch(connection, listing, {
    onChange(changes, current) {
      void state.reload(load(current), 'the cluster changed', {
        objects: changes.map(({ type, kind, namespace, name }) => ({ type, kind, namespace, name })),
      });
    },
    onStatus: (text) => log?.(`phiwall: ${text}\n`),
    onFatal: (error) => state.fail(error),
  });
  watch.start();
  return () => watch.stop();
}

/** Reloads when a watched file or flow log changes; returns the stop. */
function watchFiles(state: ServeState, paths: string[], load: Load, options: ServeOptions): () => void {
  const flowFiles = new Set((options.flows ?? []).map((file) => resolve(file)));
  const watch: InputWatch = watchInputs(
    [...paths, ...flowFiles],
    (changed) =>
      void state.reload(load, `changed: ${changed.join(', ')}`, {
        // New flow records change the comparison, not the objects.
        force: changed.some((file) => flowFiles.has(resolve(file))),
      }),
    { debounceMs: options.debounceMs },
  );
  return () => watch.close();
}

/**
 * `serve --record`: the engine work stays in process, since the history writer reads each generation's
 * engine and connections; each snapshot is loaded together with the objects it was built from.
 */
async function startRecording(
  options: ServeOptions,
  stateOptions: Omit<StateOptions, 'source'>,
  record: NonNullable<ServeOptions['record']>,
): Promise<{ state: ServeState; stops: (() => void)[] }> {
  const inputs = new WeakMap<Snapshot, RecordedInput>();
  const stops: (() => void)[] = [];
  const log = options.log;
  let started: { state: ServeState; analyst: LocalAnalyst };
  if (options.live) {
    const { connection, listing } = await listLive(options.live, log);
    const loadListing = (current: ClusterListing, skipInvalid: boolean | undefined) => {
      const snapshot = snapshotOfListing(current, { skipInvalid, workloadNames: options.workloadNames });
      inputs.set(snapshot, liveSource(current));
      return snapshot;
    };
    const snapshot = loadListing(listing, options.skipInvalid ? true : undefined);
    for (const warning of snapshot.warnings) log?.(`${formatDiagnostic(warning)}\n`);
    started = await ServeState.local(snapshot, { ...stateOptions, source: liveLabel(listing) });
    if (options.watch !== false) {
      const load = (current: ClusterListing) => () => loadListing(current, true);
      stops.push(watchCluster(started.state, connection, listing, load, log));
    }
  } else {
    const paths = options.paths && options.paths.length > 0 ? options.paths : ['.'];
    const loadOptions = {
      namespace: options.namespace,
      skipInvalid: options.skipInvalid,
      workloadNames: options.workloadNames,
    };
    const load = () => {
      const { sources, errors } = readSources(paths);
      if (errors.length > 0) throw new InputError(errors);
      const snapshot = buildSnapshot(sources, loadOptions);
      inputs.set(snapshot, fileSource(paths, sources));
      return snapshot;
    };
    started = await ServeState.local(load(), { ...stateOptions, source: filesLabel(paths) });
    if (options.watch !== false) stops.push(watchFiles(started.state, paths, load, options));
  }
  const { state, analyst } = started;
  const save = () => {
    const view = analyst.view;
    const input = inputs.get(view.snapshot);
    if (input)
      record(input, view).catch((error: Error) =>
        log?.(`phiwall: the history could not be written: ${error.message}\n`),
      );
  };
  save();
  stops.push(state.subscribe((event) => event.type === 'change' && save()));
  return { state, stops };
}

export { DEFAULT_HOST, DEFAULT_PORT } from './security.ts';
