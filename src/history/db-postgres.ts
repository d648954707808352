import type pg from 'pg';
import { type Db, StoreError } from './db.ts';

/** `?` placeholders as PostgreSQL's `$1, $2…`; no statement of the store has a `?` inside a literal. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`).replace(/\bBLOB\b/g, 'BYTEA');
}

/** One connection to the schema that holds the history; writers serialise on an advisory lock. */
export async function openPostgres(url: string, schema: string): Promise<Db> {
  const { default: postgres } = await import('pg');
  const client: pg.Client = new postgres.Client({ connectionString: url });
  const where = url.replace(/\/\/[^@/]*@/, '//');
  try {
    await client.connect();
  } catch (error) {
    throw new StoreError(
      `cannot reach PostgreSQL at ${where}: ${error instanceof Error ? error.message : error}`,
    );
  }
  // An idle connection that the server drops must not crash the process: the next query reports it.
  client.on('error', () => {});
  await client.query(`SET search_path TO "${schema}"`);
  let depth = 0;
  const db: Db = {
    dialect: 'postgres',
    async all<T>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(numbered(sql), [...params])).rows as T[];
    },
    async run(sql, params = []) {
      await client.query(numbered(sql), [...params]);
    },
    async hasTable(name) {
      const { rows } = await client.query('SELECT to_regclass($1) AS t', [`"${schema}".${name}`]);
      return rows[0]?.t !== null;
    },
    async writeTransaction(work) {
      if (depth > 0) return work();
      depth++;
      await client.query('BEGIN');
      try {
        // Held to the end of the transaction: recorders of one schema take turns, other schemas run free.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`phiwall-history:${schema}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        const result = await work();
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        depth--;
      }
    },
    async close() {
      await client.end();
    },
  };
  return db;
}
