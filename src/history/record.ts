import type { Capture } from './capture.ts';
import type { Signer } from './signing.ts';
import {
  type EntryRow,
  type HistoryStore,
  STATE_KINDS,
  type State,
  type StateChange,
  type StateKind,
  stateDigest,
} from './store.ts';

/** Names listed per kind of change in an entry; the counts stay exact above it. */
const LISTED = 50;

/** What an entry changed, as `history log` shows it. */
export interface EntryChanges {
  connections: { added: number; removed: number; changed: number };
  /** Changes of connections into or out of PHI: `src -> dst`. */
  phi: { added: string[]; removed: string[]; changed: string[]; more: number };
  /** Findings that started or stopped failing: `CHECK objects`. */
  findings: { started: string[]; stopped: string[] };
  objects: { added: number; changed: number; removed: number };
}

export interface RecordResult {
  entry: EntryRow;
  /** `check`: connectivity and findings were as in the previous entry; only the check was recorded. */
  kind: 'full' | 'check';
  changes?: EntryChanges;
}

function changesBetween(kind: StateKind, before: State, after: State): StateChange[] {
  const changes: StateChange[] = [];
  for (const [key, value] of after) if (before.get(key) !== value) changes.push({ kind, key, value });
  for (const key of before.keys()) if (!after.has(key)) changes.push({ kind, key, value: null });
  return changes;
}

const failing = (value: string | undefined) => {
  if (value === undefined) return false;
  const finding = JSON.parse(value) as { status: string; accepted?: unknown };
  return finding.status === 'fail' && !finding.accepted;
};

function summarise(capture: Capture, before: Record<StateKind, State>, changes: StateChange[]): EntryChanges {
  const arrow = (key: string) => key.replace('\t', ' -> ');
  const touchesPhi = (key: string) => key.split('\t').some((end) => capture.phi.has(end));
  const result: EntryChanges = {
    connections: { added: 0, removed: 0, changed: 0 },
    phi: { added: [], removed: [], changed: [], more: 0 },
    findings: { started: [], stopped: [] },
    objects: { added: 0, changed: 0, removed: 0 },
  };
  for (const change of changes) {
    const was = before[change.kind].has(change.key);
    const how = change.value === null ? 'removed' : was ? 'changed' : 'added';
    if (change.kind === 'object') result.objects[how]++;
    if (change.kind === 'connection') {
      result.connections[how]++;
      if (touchesPhi(change.key)) {
        if (result.phi[how].length < LISTED) result.phi[how].push(arrow(change.key));
        else result.phi.more++;
      }
    }
    if (change.kind === 'finding') {
      const now = failing(change.value ?? undefined);
      const then = failing(before.finding.get(change.key));
      const name = arrow(change.key).replace(' -> ', ' ');
      if (now && !then) result.findings.started.push(name);
      if (then && !now) result.findings.stopped.push(name);
    }
  }
  for (const list of [
    result.phi.added,
    result.phi.removed,
    result.phi.changed,
    ...Object.values(result.findings),
  ])
    list.sort();
  return result;
}

/** The hashes that decide whether anything changed: connectivity, and findings with their context. */
function resultHashes(capture: Capture) {
  const { connection, finding, audit } = capture.states;
  return {
    connectivityHash: stateDigest(connection),
    findingsHash: stateDigest(new Map([...finding, ...audit])),
  };
}

/**
 * Records one capture as the next entry: in full when its connectivity or findings differ from the
 * cluster's previous entry, else as a check that only says when, on which inputs, it was seen the same.
 */
export async function recordCapture(
  store: HistoryStore,
  capture: Capture,
  options: { signer?: Signer } = {},
): Promise<RecordResult> {
  const hashes = resultHashes(capture);
  return store.db.writeTransaction(async () => {
    const previous = await store.last(capture.cluster);
    const was = previous ? (JSON.parse(previous.content) as Record<string, unknown>) : undefined;
    if (
      previous &&
      was?.connectivityHash === hashes.connectivityHash &&
      was.findingsHash === hashes.findingsHash
    ) {
      const entry = await store.append(
        {
          cluster: capture.cluster,
          at: capture.at,
          kind: 'check',
          content: {
            ...hashes,
            inputsHash: capture.inputsHash,
            sameAs: was.kind === 'check' ? was.sameAs : previous.seq,
            ...(capture.source.type === 'live' ? { resourceVersions: capture.source.resourceVersions } : {}),
          },
        },
        [],
        options.signer,
      );
      return { entry, kind: 'check' as const };
    }
    const before = {} as Record<StateKind, State>;
    const changes: StateChange[] = [];
    // The cluster's state now, whether its last entry is still stored or was pruned with state kept.
    const latest = (await store.last())?.seq ?? 0;
    for (const kind of STATE_KINDS) {
      before[kind] = await store.stateAt(capture.cluster, kind, latest);
      changes.push(...changesBetween(kind, before[kind], capture.states[kind]));
    }
    const summary = summarise(capture, before, changes);
    const entry = await store.append(
      {
        cluster: capture.cluster,
        at: capture.at,
        kind: 'full',
        content: {
          ...hashes,
          inputsHash: capture.inputsHash,
          source: capture.source,
          options: capture.options,
          summary: capture.summary,
          changes: summary,
          phi: [...capture.phi].sort(),
        },
      },
      changes,
      options.signer,
    );
    return { entry, kind: 'full' as const, changes: summary };
  });
}
