import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runPhiwall } from '../testing/cli.ts';
import { yaml } from '../testing/yaml.ts';

// Every command reads AdminNetworkPolicies: a guardrail denies what a namespace's NetworkPolicy allows.
const APPS = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: phi, labels: { phi: "true" } }
  ---
  apiVersion: v1
  kind: Namespace
  metadata: { name: web }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: db, namespace: phi, labels: { app: db } }
  spec: { containers: [{ name: db, image: db, ports: [{ name: pg, containerPort: 5432 }] }] }
  status: { podIP: 10.0.0.1 }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: frontend, namespace: web, labels: { app: frontend } }
  spec: { containers: [{ name: web, image: web }] }
  status: { podIP: 10.0.1.1 }
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: open-db, namespace: phi }
  spec:
    podSelector: { matchLabels: { app: db } }
    ingress: [{}]
`;

const GUARDRAIL = yaml`
  apiVersion: policy.networking.k8s.io/v1alpha1
  kind: AdminNetworkPolicy
  metadata: { name: phi-guardrail }
  spec:
    priority: 10
    subject: { namespaces: { matchLabels: { phi: "true" } } }
    ingress:
      - name: allow-pg-from-web
        action: Pass
        from: [{ namespaces: { matchLabels: { kubernetes.io/metadata.name: web } } }]
        ports: [{ namedPort: pg }]
      - name: deny-rest
        action: Deny
        from: [{ namespaces: {} }]
`;

const dir = mkdtempSync(join(tmpdir(), 'phiwall-anp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>): string {
  const path = join(dir, name);
  mkdirSync(path);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
  return path;
}

const before = folder('before', { 'apps.yaml': APPS });
const guarded = folder('after', { 'apps.yaml': APPS, 'anp.yaml': GUARDRAIL });

const run = (...argv: string[]) => runPhiwall(argv);

test('connectivity applies the guardrail over the NetworkPolicy', async () => {
  const open = await run('connectivity', before);
  assert.match(open.stdout, /^web\/frontend\[Pod\] => phi\/db\[Pod\] : all ports$/m);
  const r = await run('connectivity', guarded);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^web\/frontend\[Pod\] => phi\/db\[Pod\] : TCP 5432$/m);
  // External sources are not namespaces: the Deny does not match them, and open-db admits them.
  assert.match(r.stdout, /^0\.0\.0\.0\/0,::\/0 => phi\/db\[Pod\] : all ports$/m);
});

test('explain shows the chain of tiers with each rule, action and position', async () => {
  const r = await run('explain', 'web/frontend', 'phi/db', guarded, '--port', '5432');
  assert.equal(r.code, 0, r.stderr);
  const anp = join(guarded, 'anp.yaml');
  const apps = join(guarded, 'apps.yaml');
  assert.match(r.stdout, /^Verdict on TCP 5432: ALLOWED$/m);
  assert.ok(
    r.stdout.includes(
      [
        'Ingress to phi/db[Pod]: decided tier by tier (Admin, NetworkPolicy, Baseline, default)',
        `  Admin tier, priority 10: AdminNetworkPolicy/phi-guardrail ingress[0] "allow-pg-from-web" (${anp}:8): Pass on TCP 5432, handed to NetworkPolicy  <- matches`,
        `  Admin tier, priority 10: AdminNetworkPolicy/phi-guardrail ingress[1] "deny-rest" (${anp}:12): Deny on TCP 1-5431,5433-65535 UDP 1-65535 SCTP 1-65535 ICMP`,
        `  NetworkPolicy tier: TCP 5432 admitted by phi/open-db ingress[0] (${apps}:26)  <- matches`,
      ].join('\n'),
    ),
    r.stdout,
  );
  const json = JSON.parse((await run('explain', 'web/frontend', 'phi/db', guarded, '-f', 'json')).stdout);
  assert.deepEqual(
    json.ingress.tiers.map((s: { tier: string; action: string; ruleName?: string }) => [
      s.tier,
      s.action,
      s.ruleName,
    ]),
    [
      ['Admin', 'Pass', 'allow-pg-from-web'],
      ['Admin', 'Deny', 'deny-rest'],
      ['NetworkPolicy', 'Allow', undefined],
    ],
  );
  assert.deepEqual(json.allowed, { TCP: [[5432, 5432]] });
});

test('test names the deciding Admin-tier rule in its reason', async () => {
  const tests = join(dir, 'tests.yaml');
  writeFileSync(
    tests,
    yaml`
      tests:
        - { name: web reaches db metrics, from: web/frontend, to: phi/db, port: 9090, expect: allow }
    `,
  );
  const r = await run('test', guarded, '--tests', tests);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stdout,
    /expected allow, got deny: ingress of phi\/db\[Pod\]: Admin tier, priority 10: AdminNetworkPolicy\/phi-guardrail ingress\[1\] "deny-rest" \(.*anp\.yaml:12\): Deny on /,
  );
});

test('diff shows the connections a new guardrail removes, and the tier that now decides', async () => {
  const r = await run('diff', before, guarded, '-f', 'json');
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  const change = json.changes.find(
    (c: { src: { workload?: string }; dst: { workload?: string } }) =>
      c.src.workload === 'web/frontend[Pod]' && c.dst.workload === 'phi/db[Pod]',
  );
  assert.equal(change?.kind, 'changed');
  const deny = change.responsible.after.ingress.tiers.find((s: { action: string }) => s.action === 'Deny');
  assert.match(deny.rule, /^AdminNetworkPolicy\/phi-guardrail ingress\[1\] "deny-rest"$/);
  const text = await run('diff', before, guarded);
  assert.match(
    text.stdout,
    /ingress of phi\/db\[Pod\]: Admin AdminNetworkPolicy\/phi-guardrail ingress\[0\] "allow-pg-from-web" \(.*\): Pass TCP 5432; Admin .*"deny-rest" .*: Deny /,
  );
});
