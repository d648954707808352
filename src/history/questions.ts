import { StoreError } from './db.ts';
import type { EntryChanges } from './record.ts';
import { type EntryRow, type HistoryStore, unpackValue } from './store.ts';

/** One line of `history log`: a full entry, or a run of checks that found nothing new. */
export type LogItem =
  | {
      kind: 'full';
      seq: number;
      at: string;
      cluster: string;
      summary: Record<string, unknown>;
      changes: EntryChanges;
    }
  | { kind: 'checks'; cluster: string; first: number; last: number; count: number; from: string; to: string }
  | { kind: 'checkpoint'; seq: number; at: string; through: number; entries: number };

const PAGE = 5000;

export async function historyLog(
  store: HistoryStore,
  options: { cluster?: string } = {},
): Promise<LogItem[]> {
  const items: LogItem[] = [];
  const openRuns = new Map<string, Extract<LogItem, { kind: 'checks' }>>();
  let after = 0;
  for (;;) {
    const page = await store.entriesAfter(after, PAGE, options.cluster);
    if (page.length === 0) break;
    for (const entry of page) {
      after = entry.seq;
      const content = JSON.parse(entry.content);
      if (entry.kind === 'check') {
        const run = openRuns.get(entry.cluster);
        if (run) {
          run.last = entry.seq;
          run.count++;
          run.to = entry.at;
        } else {
          const started = {
            kind: 'checks' as const,
            cluster: entry.cluster,
            first: entry.seq,
            last: entry.seq,
            count: 1,
            from: entry.at,
            to: entry.at,
          };
          openRuns.set(entry.cluster, started);
          items.push(started);
        }
        continue;
      }
      openRuns.delete(entry.cluster);
      if (entry.kind === 'checkpoint') {
        items.push({
          kind: 'checkpoint',
          seq: entry.seq,
          at: entry.at,
          through: content.pruned.through,
          entries: content.pruned.entries,
        });
      } else {
        items.push({
          kind: 'full',
          seq: entry.seq,
          at: entry.at,
          cluster: entry.cluster,
          summary: content.summary,
          changes: content.changes,
        });
      }
    }
  }
  return items;
}

/** An object an entry added, changed or removed: `changed NetworkPolicy billing/allow-db`. */
export interface ObjectChange {
  change: 'added' | 'changed' | 'removed';
  object: string;
  path: string;
}

/** The objects an entry changed: up to 50 by name, policies first, and how many more. */
export interface ObjectChanges {
  named: ObjectChange[];
  more: number;
}

export interface ReachInterval {
  /** `src -> dst` as the connectivity listing names them. */
  connection: string;
  opened: { seq: number; at: string; ports: string; objects: ObjectChanges };
  /** Absent while the connection is still open at the last entry. */
  closed?: { seq: number; at: string; objects: ObjectChanges };
}

export interface Port {
  protocol: string;
  port: number;
}

/** `5432` (TCP) or `53/UDP`. */
export function parsePort(text: string): Port {
  const match = /^(\d+)(?:\/(TCP|UDP|SCTP))?$/i.exec(text);
  const port = Number(match?.[1]);
  if (!match || port < 1 || port > 65535)
    throw new StoreError(`--port: expected PORT or PORT/PROTOCOL, got "${text}"`);
  return { port, protocol: (match[2] ?? 'TCP').toUpperCase() };
}

type PortsJson = Record<string, [number, number][]>;

function portsText(ports: PortsJson): string {
  return Object.entries(ports)
    .map(
      ([protocol, ranges]) =>
        `${protocol} ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`,
    )
    .join('; ');
}

/** `ns/name` names every workload of that name (`ns/name[Deployment]`…); a full id or CIDRs name one. */
function likePattern(peer: string): string {
  const escaped = peer.replace(/[\\%_]/g, (c) => `\\${c}`);
  return /\[[A-Za-z]+\]$/.test(peer) || !peer.includes('/') || /^[\d.:]/.test(peer)
    ? escaped
    : `${escaped}[%]`;
}

/** Object changes named per entry; the first entry of a history adds every object, and is counted. */
const NAMED_OBJECTS = 50;

/** In chunks, so no statement has more parameters than either database takes. */
const IN_CHUNK = 500;

async function inChunks<T>(
  seqs: readonly number[],
  query: (marks: string, chunk: number[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < seqs.length; i += IN_CHUNK) {
    const chunk = seqs.slice(i, i + IN_CHUNK);
    out.push(...(await query(chunk.map(() => '?').join(', '), chunk)));
  }
  return out;
}

/** The objects each of `seqs` changed, policies first. */
async function objectChangesAt(
  store: HistoryStore,
  seqs: readonly number[],
): Promise<Map<number, ObjectChanges>> {
  // An entry's rows are its cluster's: entry numbers alone find them, by the (seq, kind, key) index.
  const rows = await inChunks(seqs, (marks, chunk) =>
    store.db.all<{ seq: number; key: string; cluster: string; gone: number | boolean }>(
      `SELECT seq, key, cluster, value IS NULL AS gone FROM states WHERE kind = 'object' AND seq IN (${marks})`,
      chunk,
    ),
  );
  const bySeq = new Map<number, typeof rows>();
  for (const row of rows) {
    const list = bySeq.get(row.seq);
    if (list) list.push(row);
    else bySeq.set(row.seq, [row]);
  }
  const parts = (key: string) => key.split('\t') as [string, string, string, string, string];
  const out = new Map<number, ObjectChanges>();
  for (const seq of seqs) {
    const mine = bySeq.get(seq) ?? [];
    // Policies first: they are what opens and closes connections most often.
    const ranked = mine.map((row) => ({ row, rank: parts(row.key)[2].endsWith('Policy') ? 0 : 1 }));
    ranked.sort((a, b) => a.rank - b.rank || (a.row.key < b.row.key ? -1 : a.row.key > b.row.key ? 1 : 0));
    const named: ObjectChange[] = [];
    for (const { row } of ranked.slice(0, NAMED_OBJECTS)) {
      const [path, , kind, namespace, name] = parts(row.key);
      const [before] = await store.db.all<{ was: number | boolean }>(
        `SELECT value IS NOT NULL AS was FROM states WHERE cluster = ? AND kind = 'object' AND key = ? AND seq < ?
         ORDER BY seq DESC LIMIT 1`,
        [row.cluster, row.key, seq],
      );
      const change: ObjectChange['change'] = row.gone ? 'removed' : before?.was ? 'changed' : 'added';
      named.push({ change, object: `${kind} ${namespace ? `${namespace}/` : ''}${name}`, path });
    }
    out.set(seq, { named, more: mine.length - named.length });
  }
  return out;
}

/**
 * The intervals during which `from` could reach `to` (on `port`, when given): each opened by one entry
 * and closed by a later one, with the objects those entries changed. Reads only the rows of the
 * connections named, so it answers from an index however long the history is.
 */
export async function reachableSince(
  store: HistoryStore,
  query: { from: string; to: string; cluster?: string; port?: Port },
): Promise<{ cluster: string; intervals: ReachInterval[]; last?: EntryRow }> {
  const cluster = query.cluster ?? (await store.last())?.cluster;
  if (cluster === undefined) return { cluster: '', intervals: [] };
  if (!query.cluster) {
    const [other] = await store.otherClusters(cluster);
    if (other !== undefined) {
      throw new StoreError(
        `the history holds several clusters (${cluster}, ${other}…): name one with --cluster`,
      );
    }
  }
  const keys = await store.db.all<{ key: string }>(
    "SELECT DISTINCT key FROM states WHERE cluster = ? AND kind = 'connection' AND key LIKE ? ESCAPE '\\' ORDER BY key",
    [cluster, `${likePattern(query.from)}\t${likePattern(query.to)}`],
  );
  const port = query.port;
  const spans: { key: string; opened: number; ports: PortsJson; closed?: number }[] = [];
  for (const { key } of keys) {
    let open: (typeof spans)[number] | undefined;
    for (const row of await store.historyOf(cluster, 'connection', key)) {
      const ports = row.value
        ? (JSON.parse(unpackValue(row.value)) as { ports: PortsJson }).ports
        : undefined;
      const reaches =
        ports !== undefined &&
        (!port || (ports[port.protocol] ?? []).some(([a, b]) => a <= port.port && port.port <= b));
      if (reaches && !open) {
        open = { key, opened: row.seq, ports };
        spans.push(open);
      } else if (!reaches && open) {
        open.closed = row.seq;
        open = undefined;
      }
    }
  }
  const seqs = [
    ...new Set(spans.flatMap((s) => (s.closed === undefined ? [s.opened] : [s.opened, s.closed]))),
  ];
  const times = new Map(
    (
      await inChunks(seqs, (marks, chunk) =>
        store.db.all<{ seq: number; at: string }>(
          `SELECT seq, at FROM entries WHERE seq IN (${marks})`,
          chunk,
        ),
      )
    ).map((e) => [e.seq, e.at]),
  );
  const objects = await objectChangesAt(store, seqs);
  // Entries pruned under retention keep their state rows but not their time.
  const at = (seq: number) => ({ seq, at: times.get(seq) ?? '', objects: objects.get(seq) as ObjectChanges });
  const intervals = spans.map(
    (span): ReachInterval => ({
      connection: span.key.replace('\t', ' -> '),
      opened: { ...at(span.opened), ports: portsText(span.ports) },
      ...(span.closed === undefined ? {} : { closed: at(span.closed) }),
    }),
  );
  intervals.sort((a, b) => a.opened.seq - b.opened.seq);
  return { cluster, intervals, last: await store.last(cluster) };
}
