import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { VERSION } from '../version.ts';
import { canonicalJson, sha256 } from './canonical.ts';
import { type Db, openDb, type StoreLocation } from './db.ts';
import { migrate } from './migrations.ts';
import type { Signer } from './signing.ts';

export type EntryKind = 'full' | 'check' | 'checkpoint';

/** What each entry's state rows hold, one row per key that changed. */
export const STATE_KINDS = ['object', 'connection', 'finding', 'audit', 'config'] as const;
export type StateKind = (typeof STATE_KINDS)[number];

export interface EntryRow {
  seq: number;
  cluster: string;
  at: string;
  kind: EntryKind;
  /** Canonical JSON; the entry's hash covers it and the previous entry's hash. */
  content: string;
  prev_hash: string;
  hash: string;
  signature: string | null;
  key_id: string | null;
}

/** From entry `seq` on, `key` of `kind` is `value` (canonical JSON, deflated), or gone when null. */
export interface StateRow {
  seq: number;
  cluster: string;
  kind: StateKind;
  key: string;
  value: Buffer | null;
}

export interface StateChange {
  kind: StateKind;
  key: string;
  /** Canonical JSON; null when the key is gone. */
  value: string | null;
}

/** A keyed state: key to canonical JSON. */
export type State = Map<string, string>;

/** What a checkpoint entry says about the entries pruned before it. */
export interface Checkpoint {
  /** Entries up to this seq were pruned. */
  through: number;
  /** The hash of entry `through`, which the first kept entry is chained to. */
  lastHash: string;
  entries: number;
  from: string;
  to: string;
  /** The state rows kept from pruned entries (each key's state at the cut). */
  carried: { rows: number; digest: string };
}

export const GENESIS = '0'.repeat(64);

export function entryHash(prevHash: string, content: string): string {
  return sha256(`${prevHash}\n${content}`);
}

export const packValue = (text: string): Buffer => deflateRawSync(Buffer.from(text, 'utf8'));
export const unpackValue = (value: Buffer | Uint8Array): string => inflateRawSync(value).toString('utf8');

/** One line per changed key, sorted: what an entry's `delta` hash covers. */
function changeLine(change: StateChange): string {
  return `${change.kind}\t${change.key}\t${change.value === null ? '-' : sha256(change.value)}\n`;
}

/** The hash of a set of state changes, whatever order the database returns them in. */
export function changesDigest(changes: readonly StateChange[]): string {
  return sha256(changes.map(changeLine).sort().join(''));
}

/** The hash of a whole state: equal states, equal hashes. */
export function stateDigest(state: State): string {
  return sha256(
    [...state.keys()]
      .sort()
      .map((key) => `${key}\t${sha256(state.get(key) as string)}\n`)
      .join(''),
  );
}

export function rowChange(row: StateRow): StateChange {
  return { kind: row.kind, key: row.key, value: row.value === null ? null : unpackValue(row.value) };
}

const ROWS_PER_INSERT = 400;

export class HistoryStore {
  private constructor(readonly db: Db) {}

  /** Opens the store, creating it or bringing its schema up to date. */
  static async open(
    location: StoreLocation,
    options: { schemaVersion?: number } = {},
  ): Promise<HistoryStore> {
    const db = await openDb(location);
    try {
      await migrate(db, options.schemaVersion);
    } catch (error) {
      await db.close();
      throw error;
    }
    return new HistoryStore(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async last(cluster?: string): Promise<EntryRow | undefined> {
    const rows = cluster
      ? await this.db.all<EntryRow>(
          'SELECT * FROM entries WHERE cluster = ? AND kind <> ? ORDER BY seq DESC LIMIT 1',
          [cluster, 'checkpoint'],
        )
      : await this.db.all<EntryRow>('SELECT * FROM entries ORDER BY seq DESC LIMIT 1');
    return rows[0];
  }

  /** Clusters other than `cluster` (at most two), read by seeks on the cluster index, not a scan. */
  async otherClusters(cluster: string): Promise<string[]> {
    const above = await this.db.all<{ cluster: string }>(
      'SELECT cluster FROM entries WHERE cluster > ? ORDER BY cluster LIMIT 1',
      [cluster],
    );
    // Checkpoints belong to no cluster: ''.
    const below = await this.db.all<{ cluster: string }>(
      "SELECT cluster FROM entries WHERE cluster < ? AND cluster > '' ORDER BY cluster DESC LIMIT 1",
      [cluster],
    );
    return [...above, ...below].map((r) => r.cluster);
  }

  async entry(seq: number): Promise<EntryRow | undefined> {
    return (await this.db.all<EntryRow>('SELECT * FROM entries WHERE seq = ?', [seq]))[0];
  }

  /** Entries after `afterSeq`, in chain order, a page at a time. */
  async entriesAfter(afterSeq: number, limit: number, cluster?: string): Promise<EntryRow[]> {
    return cluster
      ? this.db.all<EntryRow>('SELECT * FROM entries WHERE seq > ? AND cluster = ? ORDER BY seq LIMIT ?', [
          afterSeq,
          cluster,
          limit,
        ])
      : this.db.all<EntryRow>('SELECT * FROM entries WHERE seq > ? ORDER BY seq LIMIT ?', [afterSeq, limit]);
  }

  /** State rows of entries `from`..`to`, in entry order. */
  async stateRows(from: number, to: number): Promise<StateRow[]> {
    return this.db.all<StateRow>('SELECT * FROM states WHERE seq >= ? AND seq <= ? ORDER BY seq', [from, to]);
  }

  /** The state of one kind as it was at entry `seq`: for each key, its latest row up to `seq`. */
  async stateAt(cluster: string, kind: StateKind, seq: number): Promise<State> {
    const rows = await this.db.all<{ key: string; value: Buffer | null }>(
      `SELECT key, value FROM states s WHERE cluster = ? AND kind = ? AND seq <= ? AND seq = (
         SELECT max(seq) FROM states t WHERE t.cluster = s.cluster AND t.kind = s.kind AND t.key = s.key AND t.seq <= ?)`,
      [cluster, kind, seq, seq],
    );
    const state: State = new Map();
    for (const row of rows) if (row.value !== null) state.set(row.key, unpackValue(row.value));
    return state;
  }

  /** Every row of one key, oldest first. */
  async historyOf(cluster: string, kind: StateKind, key: string): Promise<StateRow[]> {
    return this.db.all<StateRow>(
      'SELECT * FROM states WHERE cluster = ? AND kind = ? AND key = ? ORDER BY seq',
      [cluster, kind, key],
    );
  }

  /**
   * Appends an entry to the chain with its state changes. Call inside `db.writeTransaction`, so that the
   * last entry read here is still the last one when the new one is written.
   */
  async append(
    draft: { cluster: string; at: string; kind: EntryKind; content: Record<string, unknown> },
    changes: readonly StateChange[],
    signer?: Signer,
  ): Promise<EntryRow> {
    const previous = await this.last();
    const seq = (previous?.seq ?? 0) + 1;
    const prevHash = previous?.hash ?? GENESIS;
    const content = canonicalJson({
      ...draft.content,
      format: 1,
      phiwall: VERSION,
      seq,
      cluster: draft.cluster,
      at: draft.at,
      kind: draft.kind,
      delta: { rows: changes.length, digest: changesDigest(changes) },
    });
    const hash = entryHash(prevHash, content);
    const row: EntryRow = {
      seq,
      cluster: draft.cluster,
      at: draft.at,
      kind: draft.kind,
      content,
      prev_hash: prevHash,
      hash,
      signature: signer ? signer.sign(hash) : null,
      key_id: signer ? signer.keyId : null,
    };
    await this.db.run(
      'INSERT INTO entries (seq, cluster, at, kind, content, prev_hash, hash, signature, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        row.seq,
        row.cluster,
        row.at,
        row.kind,
        row.content,
        row.prev_hash,
        row.hash,
        row.signature,
        row.key_id,
      ],
    );
    await this.insertStates(
      changes.map((c) => ({
        seq,
        cluster: draft.cluster,
        kind: c.kind,
        key: c.key,
        value: c.value === null ? null : packValue(c.value),
      })),
    );
    return row;
  }

  /** The seq of the entry whose hash this is, if one is stored. */
  async seqOfHash(hash: string): Promise<number | undefined> {
    return (await this.db.all<{ seq: number }>('SELECT seq FROM entries WHERE hash = ?', [hash]))[0]?.seq;
  }

  /** The latest checkpoint's record of what was pruned, if anything was. */
  async checkpoint(): Promise<Checkpoint | undefined> {
    const rows = await this.db.all<{ content: string }>(
      "SELECT content FROM entries WHERE kind = 'checkpoint' ORDER BY seq DESC LIMIT 1",
    );
    return rows[0] ? (JSON.parse(rows[0].content) as { pruned: Checkpoint }).pruned : undefined;
  }

  async insertStates(rows: readonly StateRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const batch = rows.slice(i, i + ROWS_PER_INSERT);
      await this.db.run(
        `INSERT INTO states (seq, cluster, kind, key, value) VALUES ${batch.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
        batch.flatMap((r) => [r.seq, r.cluster, r.kind, r.key, r.value]),
      );
    }
  }
}
