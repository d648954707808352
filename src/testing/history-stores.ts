/** Test support: the stores history tests run on, a SQLite file and a PostgreSQL schema of their own. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '../analysis/connectivity.ts';
import { portSetOf } from '../engine/ports.ts';
import { type Capture, captureOf } from '../history/capture.ts';
import { parseStoreLocation, type StoreLocation } from '../history/db.ts';

/** The server `.ci/run` makes sure answers; PHIWALL_TEST_PG points elsewhere. */
export const PG_URL = process.env.PHIWALL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestBackend {
  name: 'sqlite' | 'postgres';
  /** Why the backend's tests are skipped, when they are. */
  skip?: string;
  /** A new, empty store: `--db` text and its parsed location. */
  fresh(): { db: string; location: StoreLocation };
  cleanup(): Promise<void>;
}

async function postgresAnswers(): Promise<string | undefined> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (error) {
    return `no PostgreSQL answers at ${PG_URL} (${error instanceof Error ? error.message : error}); .ci/run starts one`;
  }
}

export async function testBackends(): Promise<TestBackend[]> {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-history-'));
  let files = 0;
  const schemas: string[] = [];
  const tag = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const sqlite: TestBackend = {
    name: 'sqlite',
    fresh() {
      const db = join(dir, `h${++files}.db`);
      return { db, location: parseStoreLocation(db) };
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const skip = await postgresAnswers();
  const postgres: TestBackend = {
    name: 'postgres',
    ...(skip ? { skip } : {}),
    fresh() {
      const schema = `phiwall_test_${tag}_${schemas.length + 1}`;
      schemas.push(schema);
      const db = `${PG_URL}?schema=${schema}`;
      return { db, location: parseStoreLocation(db) };
    },
    async cleanup() {
      if (skip || schemas.length === 0) return;
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
  return [sqlite, postgres];
}

const workload = (name: string) => ({ workload: `app/${name}[Deployment]` });

/**
 * A small capture without a cluster behind it: `open` lists `src>dst:port` connections, `objects`
 * names NetworkPolicies. Enough for the store's own behaviour; the CLI tests use real manifests.
 */
export function syntheticCapture(options: {
  at?: Date;
  open?: string[];
  objects?: string[];
  cluster?: string;
  padding?: number;
}): Capture {
  const connections: Connection[] = (options.open ?? []).map((spec) => {
    const [pair, port] = spec.split(':') as [string, string];
    const [src, dst] = pair.split('>') as [string, string];
    return {
      src: workload(src),
      dst: workload(dst),
      ports: portSetOf('TCP', [[Number(port), Number(port)]]),
      dependsOn: [],
    };
  });
  const names = [
    ...(options.objects ?? []),
    ...Array.from({ length: options.padding ?? 0 }, (_, i) => `pad-${i}`),
  ];
  return captureOf({
    cluster: options.cluster ?? 'test',
    at: options.at ?? new Date(),
    source: { type: 'files', files: [{ path: 'k8s/', sha256: 'f'.repeat(64) }] },
    objects: names.map((name) => ({
      path: 'k8s/policies.yaml',
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { namespace: 'app', name },
      },
    })),
    connections,
    options: { ipBlockMatchesPods: true, hostNetwork: 'node' },
    phi: new Set(['app/db[Deployment]']),
  });
}
