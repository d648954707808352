import { type Connection, computeConnectivity, peerName } from '../analysis/connectivity.ts';
import { type AuditResult, runAudit } from '../compliance/audit.ts';
import type { AuditConfig, LoadedConfig } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import type { Finding } from '../compliance/types.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import { parseSource } from '../load/documents.ts';
import type { SourceText } from '../load/sources.ts';
import type { Snapshot, WorkloadNames } from '../model/types.ts';
import { portsToJson } from '../report/ports-json.ts';
import { canonicalJson, sha256 } from './canonical.ts';
import type { State, StateKind } from './store.ts';

/** Where an entry's objects were read from. */
export type SourceInfo =
  | {
      type: 'files';
      files: { path: string; sha256: string }[];
      git?: { commit: string; dirty: boolean };
    }
  | {
      type: 'live';
      context: string;
      server: string;
      serverVersion: string;
      namespace?: string;
      resourceVersions: Record<string, string>;
    };

/** Everything one run saw, ready to be compared with the last entry and stored. */
export interface Capture {
  cluster: string;
  at: string;
  source: SourceInfo;
  /** One hash over the inputs: what an unchanged check records instead of the source. */
  inputsHash: string;
  /** How the snapshot was loaded and the engine configured, so that it can be rebuilt alike. */
  options: EngineOptions & { namespace?: string; skipInvalid?: boolean; workloadNames?: WorkloadNames };
  states: Record<StateKind, State>;
  /** PHI workload ids, to tell the changes that matter most. */
  phi: ReadonlySet<string>;
  summary: Record<string, unknown>;
}

/** What a run read, as the history keeps it: where from, and the objects one by one. */
export interface RecordedInput {
  source: SourceInfo;
  objects: StoredObject[];
}

/** One stored object: the object, and the input it came from. */
export interface StoredObject {
  path: string;
  object: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The objects of the inputs, one by one (a List's items apart), so that a day's change to a
 * 60 MB dump stores the objects that changed, not the dump again. Parsing errors do not arise here:
 * the loader has read the same sources first.
 */
export function objectsOfSources(sources: readonly SourceText[]): StoredObject[] {
  const out: StoredObject[] = [];
  for (const source of sources) {
    for (const doc of parseSource(source).documents) {
      const value = doc.value;
      if (!isRecord(value)) continue;
      const items = typeof value.kind === 'string' && value.kind.endsWith('List') ? value.items : undefined;
      if (Array.isArray(items)) {
        for (const item of items) if (isRecord(item)) out.push({ path: source.path, object: item });
      } else out.push({ path: source.path, object: value });
    }
  }
  return out;
}

function objectKey({ path, object }: StoredObject): string {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  return [path, object.apiVersion, object.kind, metadata.namespace ?? '', metadata.name ?? ''].join('\t');
}

/** Keys that would repeat get `#2`, `#3`…: nothing is dropped for sharing a name. */
function keyed<T>(items: readonly T[], keyOf: (item: T) => string, stored: (item: T) => unknown): State {
  const state: State = new Map();
  for (const item of items) {
    const base = keyOf(item);
    let key = base;
    for (let n = 2; state.has(key); n++) key = `${base}#${n}`;
    state.set(key, canonicalJson(stored(item)));
  }
  return state;
}

/** `src\tdst`, peers as the connectivity listing names them. */
export function connectionKey(c: Pick<Connection, 'src' | 'dst'>): string {
  return `${peerName(c.src)}\t${peerName(c.dst)}`;
}

export const findingKey = (f: Finding) => `${f.check}\t${f.objects.join(',')}`;

/**
 * Analyses a snapshot as `connectivity` and (with a config file) `audit` would, and keys the results for
 * the store. Findings are recorded only when a config names the PHI: the defaults guess at it.
 */
export function captureSnapshot(input: {
  cluster: string;
  at: Date;
  source: SourceInfo;
  objects: readonly StoredObject[];
  snapshot: Snapshot;
  options: Capture['options'];
  config: LoadedConfig;
  /** An engine (and its connectivity) already built for this snapshot, as a watch keeps one. */
  engine?: Engine;
  connections?: readonly Connection[];
}): Capture {
  const engine = input.engine ?? new Engine(input.snapshot, input.options);
  const { config, source } = input.config;
  return captureOf({
    ...input,
    connections: input.connections ?? computeConnectivity(engine),
    phi: new Set(phiScope(input.snapshot, config).phi.keys()),
    audit: source
      ? { result: runAudit(engine, config, { now: input.at }), config, configSource: source }
      : undefined,
  });
}

export function captureOf(input: {
  cluster: string;
  at: Date;
  source: SourceInfo;
  objects: readonly StoredObject[];
  connections: readonly Connection[];
  options: Capture['options'];
  phi: ReadonlySet<string>;
  audit?: { result: AuditResult; config: AuditConfig; configSource?: { path: string; sha256: string } };
}): Capture {
  const { audit } = input;
  const objects = keyed(input.objects, objectKey, (o) => o.object);
  const connections = keyed(input.connections, connectionKey, (c) => ({
    ports: portsToJson(c.ports),
    dependsOn: c.dependsOn,
  }));
  const findings = audit ? keyed(audit.result.findings, findingKey, (f) => f) : new Map();
  const { findings: _, ...rest } = audit?.result ?? {};
  const touchesPhi = (c: Connection) =>
    ('workload' in c.src && input.phi.has(c.src.workload)) ||
    ('workload' in c.dst && input.phi.has(c.dst.workload));
  return {
    cluster: input.cluster,
    at: input.at.toISOString(),
    source: input.source,
    inputsHash: sha256(
      canonicalJson(input.source.type === 'files' ? input.source.files : input.source.resourceVersions),
    ),
    options: input.options,
    states: {
      object: objects,
      connection: connections,
      finding: findings,
      // The report's order of findings, which keyed rows do not keep.
      audit: audit
        ? new Map([['result', canonicalJson({ ...rest, order: [...findings.keys()] })]])
        : new Map(),
      config: audit
        ? new Map([['config', canonicalJson({ config: audit.config, source: audit.configSource })]])
        : new Map(),
    },
    phi: input.phi,
    summary: {
      objects: objects.size,
      connections: connections.size,
      phiConnections: input.connections.filter(touchesPhi).length,
      phi: input.phi.size,
      ...(audit ? { findings: audit.result.summary } : {}),
    },
  };
}
