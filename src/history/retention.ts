import { StoreError } from './db.ts';
import type { Signer } from './signing.ts';
import { type Checkpoint, changesDigest, type EntryRow, type HistoryStore, rowChange } from './store.ts';

/** HIPAA keeps documentation six years (45 CFR 164.316(b)(2)(i)). */
export const DEFAULT_RETENTION = '6y';

/** The oldest time kept under `--retain` (`6y`, `90d`, `48h`), counted back from `now`. */
export function retentionCutoff(text: string, now: Date): Date {
  const match = /^(\d+)([ydh])$/.exec(text);
  if (!match)
    throw new StoreError(`--retain: expected a number of years, days or hours (6y, 90d, 48h), got "${text}"`);
  const n = Number(match[1]);
  const cutoff = new Date(now);
  if (match[2] === 'y') cutoff.setUTCFullYear(cutoff.getUTCFullYear() - n);
  else cutoff.setTime(cutoff.getTime() - n * (match[2] === 'd' ? 86_400_000 : 3_600_000));
  return cutoff;
}

/**
 * Removes the entries recorded before `cutoff` (never the last one), keeping for each key the state it
 * had at the cut, and appends a checkpoint entry that records the last pruned hash and a digest of the
 * kept state: the chain still verifies from there, and a prefix removed without one does not.
 */
export async function prune(
  store: HistoryStore,
  cutoff: Date,
  signer?: Signer,
): Promise<{ entry: EntryRow; pruned: Checkpoint } | undefined> {
  return store.db.writeTransaction(async () => {
    const [bounds] = await store.db.all<{ through: number | null; last: number | null }>(
      'SELECT (SELECT max(seq) FROM entries WHERE at < ?) AS through, (SELECT max(seq) FROM entries) AS last',
      [cutoff.toISOString()],
    );
    const last = Number(bounds?.last ?? 0);
    const through = Math.min(Number(bounds?.through ?? 0), last - 1);
    if (through < 1) return undefined;
    const [span] = await store.db.all<{ entries: number | string; first: string }>(
      'SELECT count(*) AS entries, min(at) AS first FROM entries WHERE seq <= ?',
      [through],
    );
    const lastPruned = (await store.entry(through)) as EntryRow;
    await store.db.run(
      `DELETE FROM states WHERE seq <= ? AND (value IS NULL OR EXISTS (
         SELECT 1 FROM states t WHERE t.cluster = states.cluster AND t.kind = states.kind AND t.key = states.key
           AND t.seq > states.seq AND t.seq <= ?))`,
      [through, through],
    );
    await store.db.run('DELETE FROM entries WHERE seq <= ?', [through]);
    const carried = await store.stateRows(0, through);
    const pruned: Checkpoint = {
      through,
      lastHash: lastPruned.hash,
      entries: Number(span?.entries ?? 0),
      from: span?.first ?? lastPruned.at,
      to: lastPruned.at,
      carried: { rows: carried.length, digest: changesDigest(carried.map(rowChange)) },
    };
    const entry = await store.append(
      { cluster: '', at: new Date().toISOString(), kind: 'checkpoint', content: { pruned } },
      [],
      signer,
    );
    return { entry, pruned };
  });
}
