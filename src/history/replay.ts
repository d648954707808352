import type { AuditResult } from '../compliance/audit.ts';
import type { AuditConfig } from '../compliance/config.ts';
import type { Finding } from '../compliance/types.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { SourceText } from '../load/sources.ts';
import type { Snapshot } from '../model/types.ts';
import type { Capture } from './capture.ts';
import { StoreError } from './db.ts';
import type { EntryRow, HistoryStore } from './store.ts';

/** An entry as it was recorded: the snapshot rebuilt from its objects, and its stored audit. */
export interface ReplayedEntry {
  entry: EntryRow;
  /** The full entry whose state a check confirmed (the entry itself when full). */
  stateOf: EntryRow;
  content: Record<string, unknown>;
  snapshot: Snapshot;
  options: EngineOptions;
  phi: string[];
  audit?: { result: AuditResult; config: AuditConfig; configSource?: { path: string; sha256: string } };
}

export async function entryOrFail(store: HistoryStore, seq: number): Promise<EntryRow> {
  const entry = Number.isInteger(seq) ? await store.entry(seq) : undefined;
  if (!entry) throw new StoreError(`no entry #${seq} in the history`);
  if (entry.kind === 'checkpoint') throw new StoreError(`entry #${seq} is a checkpoint of pruned entries`);
  return entry;
}

/**
 * Objects stored one by one become one JSON List per input path again. Positions in what is rebuilt
 * point into these lists, not the original files, whose hashes the entry keeps.
 */
function sourcesOf(objects: Map<string, string>): SourceText[] {
  const byPath = new Map<string, unknown[]>();
  for (const key of [...objects.keys()].sort()) {
    const path = key.split('\t')[0] as string;
    const object: unknown = JSON.parse(objects.get(key) as string);
    const list = byPath.get(path);
    if (list) list.push(object);
    else byPath.set(path, [object]);
  }
  return [...byPath].map(([path, items]) => ({
    path,
    text: `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 1)}\n`,
  }));
}

/** The objects an entry saw, as one JSON List per input. */
export async function entrySources(store: HistoryStore, seq: number): Promise<SourceText[]> {
  const entry = await entryOrFail(store, seq);
  return sourcesOf(await store.stateAt(entry.cluster, 'object', entry.seq));
}

export async function replayEntry(store: HistoryStore, seq: number): Promise<ReplayedEntry> {
  const entry = await entryOrFail(store, seq);
  const content = JSON.parse(entry.content) as Record<string, unknown>;
  const stateSeq = entry.kind === 'check' ? (content.sameAs as number) : entry.seq;
  const stateOf = (await store.entry(stateSeq)) ?? entry;
  const full = JSON.parse(stateOf.content) as { options: Capture['options']; phi: string[] };
  const snapshot = buildSnapshot(sourcesOf(await store.stateAt(entry.cluster, 'object', entry.seq)), {
    namespace: full.options.namespace,
    skipInvalid: full.options.skipInvalid,
    workloadNames: full.options.workloadNames,
  });
  // What remains once the loader's options are taken out is what the engine was given (CNI profile included).
  const { namespace: _n, skipInvalid: _s, workloadNames: _w, ...options } = full.options;
  const findings = await store.stateAt(entry.cluster, 'finding', entry.seq);
  const [result] = (await store.stateAt(entry.cluster, 'audit', entry.seq)).values();
  const [config] = (await store.stateAt(entry.cluster, 'config', entry.seq)).values();
  const { order, ...rest } = result
    ? (JSON.parse(result) as Omit<AuditResult, 'findings'> & { order: string[] })
    : { order: [] };
  const audit =
    result && config
      ? {
          result: {
            ...(rest as Omit<AuditResult, 'findings'>),
            findings: order.flatMap((key) => {
              const finding = findings.get(key);
              return finding ? [JSON.parse(finding) as Finding] : [];
            }),
          },
          ...(JSON.parse(config) as { config: AuditConfig; source?: { path: string; sha256: string } }),
        }
      : undefined;
  return {
    entry,
    stateOf,
    content,
    snapshot,
    options,
    phi: full.phi,
    ...(audit ? { audit: { result: audit.result, config: audit.config, configSource: audit.source } } : {}),
  };
}
