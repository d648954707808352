import { type Db, StoreError } from './db.ts';

/**
 * The store's schema, one step per version; a store is brought up to date when it is opened, in one
 * transaction, so a store is always at one version or the next, never between. Never edit a step that
 * has shipped: add the next one.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: the chain of entries, and the keyed state (objects, connections, findings) each entry changed.
  [
    'CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
    `CREATE TABLE entries (
      seq INTEGER PRIMARY KEY,
      cluster TEXT NOT NULL,
      at TEXT NOT NULL,
      kind TEXT NOT NULL,
      content TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL,
      signature TEXT
    )`,
    `CREATE TABLE states (
      seq INTEGER NOT NULL,
      cluster TEXT NOT NULL,
      kind TEXT NOT NULL,
      key TEXT NOT NULL,
      value BLOB,
      PRIMARY KEY (cluster, kind, key, seq)
    )`,
  ],
  // 2: which key signed an entry (keys get rotated over six years), and indexes for `log --cluster`
  // and for verify's walk of the state rows in entry order.
  [
    'ALTER TABLE entries ADD COLUMN key_id TEXT',
    'CREATE INDEX entries_by_cluster ON entries (cluster, seq)',
    'CREATE INDEX states_by_seq ON states (seq, kind, key)',
  ],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

async function currentVersion(db: Db): Promise<number> {
  if (!(await db.hasTable('meta'))) return 0;
  const rows = await db.all<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'");
  return rows[0] ? Number(rows[0].value) : 0;
}

/** Brings the store to `target` (default: this phiwall's version); refuses a store from a newer phiwall. */
export async function migrate(db: Db, target = SCHEMA_VERSION): Promise<void> {
  await db.writeTransaction(async () => {
    const version = await currentVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `this history was written by a newer phiwall (schema version ${version}; this phiwall reads up to ${SCHEMA_VERSION}): upgrade phiwall to read or write it`,
      );
    }
    for (let v = version; v < target; v++) {
      for (const statement of MIGRATIONS[v] ?? []) await db.run(statement);
    }
    if (target > version) {
      await db.run(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [String(target)],
      );
    }
  });
}
