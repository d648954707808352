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

export interface ReachInterval {
  /** `src -> dst` as the connectivity listing names them. */
  connection: string;
  opened: { seq: number; at: string; ports: string; objects: ObjectChange[] };
  /** Absent while the connection is still open at the last entry. */
  closed?: { seq: number; at: string; objects: ObjectChange[] };
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

async function objectChangesAt(store: HistoryStore, cluster: string, seq: number): Promise<ObjectChange[]> {
  const rows = await store.db.all<{ key: string; gone: number | boolean; was: number | boolean | null }>(
    `SELECT key, value IS NULL AS gone, (SELECT t.value IS NOT NULL FROM states t
       WHERE t.cluster = s.cluster AND t.kind = s.kind AND t.key = s.key AND t.seq < s.seq
       ORDER BY t.seq DESC LIMIT 1) AS was
     FROM states s WHERE s.seq = ? AND s.cluster = ? AND s.kind = 'object'`,
    [seq, cluster],
  );
  // Policies first: they are what opens and closes connections most often.
  const rank = (o: ObjectChange) => (/Policy /.test(o.object) ? 0 : 1);
  return rows
    .map((row) => {
      const [path, , kind, namespace, name] = row.key.split('\t') as string[];
      const change: ObjectChange['change'] = row.gone ? 'removed' : row.was ? 'changed' : 'added';
      return { change, object: `${kind} ${namespace ? `${namespace}/` : ''}${name}`, path: path as string };
    })
    .sort((a, b) => rank(a) - rank(b) || (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
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
  const clusters = await store.db.all<{ cluster: string }>(
    "SELECT DISTINCT cluster FROM entries WHERE kind <> 'checkpoint'",
  );
  if (!query.cluster && clusters.length > 1) {
    throw new StoreError(
      `the history holds several clusters (${clusters.map((c) => c.cluster).join(', ')}): name one with --cluster`,
    );
  }
  if (cluster === undefined) return { cluster: '', intervals: [] };
  const keys = await store.db.all<{ key: string }>(
    "SELECT DISTINCT key FROM states WHERE cluster = ? AND kind = 'connection' AND key LIKE ? ESCAPE '\\' ORDER BY key",
    [cluster, `${likePattern(query.from)}\t${likePattern(query.to)}`],
  );
  const intervals: ReachInterval[] = [];
  const atOf = async (seq: number) => (await store.entry(seq))?.at ?? '';
  for (const { key } of keys) {
    let open: ReachInterval | undefined;
    for (const row of await store.historyOf(cluster, 'connection', key)) {
      const value = row.value ? (JSON.parse(unpackValue(row.value)) as { ports: PortsJson }) : undefined;
      const reaches =
        value !== undefined &&
        (!query.port ||
          (value.ports[query.port.protocol] ?? []).some(
            ([a, b]) => a <= (query.port as Port).port && (query.port as Port).port <= b,
          ));
      if (reaches && !open) {
        open = {
          connection: key.replace('\t', ' -> '),
          opened: {
            seq: row.seq,
            at: await atOf(row.seq),
            ports: portsText((value as { ports: PortsJson }).ports),
            objects: await objectChangesAt(store, cluster, row.seq),
          },
        };
        intervals.push(open);
      } else if (!reaches && open) {
        open.closed = {
          seq: row.seq,
          at: await atOf(row.seq),
          objects: await objectChangesAt(store, cluster, row.seq),
        };
        open = undefined;
      }
    }
  }
  intervals.sort((a, b) => a.opened.seq - b.opened.seq);
  return { cluster, intervals, last: await store.last(cluster) };
}
