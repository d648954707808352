/** Where a history lives: a SQLite file, or a schema of a PostgreSQL database. */
export type StoreLocation =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string; schema: string };

/**
 * The few things the store asks of a database. Statements are written once, with `?` placeholders, in
 * the SQL both SQLite and PostgreSQL accept; each driver adapts the rest (placeholders, BLOB, locking).
 */
export interface Db {
  readonly dialect: 'sqlite' | 'postgres';
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  run(sql: string, params?: readonly unknown[]): Promise<void>;
  hasTable(name: string): Promise<boolean>;
  /**
   * Runs `work` in one transaction that holds the store's write lock: two recorders at once queue here,
   * and a process killed inside leaves the store as it was before the transaction.
   */
  writeTransaction<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const DEFAULT_DB_FILE = 'phiwall-history.db';
export const DEFAULT_PG_SCHEMA = 'phiwall';

/** `postgres://…[?schema=NAME]` or `postgresql://…`, else a file path. */
export function parseStoreLocation(text: string): StoreLocation {
  if (!/^postgres(ql)?:\/\//.test(text)) return { kind: 'sqlite', file: text };
  const url = new URL(text);
  const schema = url.searchParams.get('schema') ?? DEFAULT_PG_SCHEMA;
  url.searchParams.delete('schema');
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new StoreError(`--db: schema "${schema}" must be lower-case letters, digits and _`);
  }
  return { kind: 'postgres', url: url.toString(), schema };
}

/** A store that cannot be opened or used as asked: reported in one line, exit status 2. */
export class StoreError extends Error {
  override name = 'StoreError';
}

export async function openDb(location: StoreLocation): Promise<Db> {
  if (location.kind === 'sqlite') return (await import('./db-sqlite.ts')).openSqlite(location.file);
  return (await import('./db-postgres.ts')).openPostgres(location.url, location.schema);
}
