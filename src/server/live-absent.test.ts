import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { FakeApiServer } from '../testing/fake-apiserver.ts';
import { startServe } from './index.ts';
import { CONFIG_FILE, EXAMPLE } from './test-support.ts';

test('serve --live says which policy CRDs the cluster does not serve, as the CLI does', async (t) => {
  const dir = `${EXAMPLE}insecure`;
  const objects = readdirSync(dir)
    .sort()
    .flatMap((file) => parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJSON()))
    .filter((o) => o !== null);
  const cluster = await FakeApiServer.start({ objects, crds: false });
  t.after(() => cluster.close());
  const tmp = mkdtempSync(join(tmpdir(), 'phiwall-serve-absent-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const kubeconfig = join(tmp, 'kubeconfig');
  writeFileSync(kubeconfig, cluster.kubeconfig({ context: 'bare' }));
  const logged: string[] = [];
  const served = await startServe({
    live: { kubeconfig },
    config: CONFIG_FILE,
    port: 0,
    watch: false,
    log: (text) => logged.push(text),
  });
  t.after(() => served.close());
  assert.match(
    logged.join(''),
    /^phiwall: not served by this cluster \(CRD not installed\), so not read: .*ciliumnetworkpolicies\.cilium\.io, ciliumclusterwidenetworkpolicies\.cilium\.io, ciliumcidrgroups\.cilium\.io$/m,
  );
});
