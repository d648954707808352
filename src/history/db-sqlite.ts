import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { type Db, StoreError } from './db.ts';

const require = createRequire(import.meta.url);

/**
 * A SQLite file in WAL mode. Created 0600 before SQLite opens it (its -wal and -shm files take the
 * database file's mode): the history holds the cluster's objects.
 */
export function openSqlite(file: string): Db {
  // Loaded here, not at start-up: the native module costs every other command nothing.
  const Database: typeof BetterSqlite3 = require('better-sqlite3');
  let db: BetterSqlite3.Database;
  try {
    closeSync(openSync(file, 'a', 0o600));
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    // A second recorder waits for the first instead of failing.
    db.pragma('busy_timeout = 60000');
    db.pragma('synchronous = FULL');
  } catch (error) {
    throw new StoreError(
      `cannot open the history ${file}: ${error instanceof Error ? error.message : error}`,
    );
  }
  return {
    dialect: 'sqlite',
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return db.prepare(sql).all(...params) as T[];
    },
    async run(sql, params = []) {
      const statement = db.prepare(sql);
      if (statement.reader) statement.all(...params);
      else statement.run(...params);
    },
    async hasTable(name) {
      return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").all(name).length > 0;
    },
    async writeTransaction(work) {
      // IMMEDIATE takes the write lock now, so two recorders never both read the same last entry.
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
    async close() {
      db.close();
    },
  };
}
