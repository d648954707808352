import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import { Engine } from '../engine/engine.ts';
import { formatPorts } from '../engine/ports.ts';
import { buildSnapshot, loadSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import { type ConnectionChange, type DiffResult, diffConnectivity, diffFails } from './diff.ts';

const WORKLOADS = `apiVersion: v1
kind: Namespace
metadata: { name: vault, labels: { data-classification: phi } }
---
apiVersion: v1
kind: Namespace
metadata: { name: app }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: vault, labels: { app: db } }
spec: { containers: [{ name: c }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: app, labels: { app: web } }
spec: { containers: [{ name: c }] }
---
apiVersion: v1
kind: Pod
metadata: { name: worker, namespace: app, labels: { app: worker } }
spec: { containers: [{ name: c }] }
`;

/** Every pod isolated both ways; `extra` adds the policies under test. */
function clusterText(extra: string): string {
  const deny = ['vault', 'app']
    .map(
      (ns) => `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny, namespace: ${ns} }
spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
`,
    )
    .join('');
  return `${WORKLOADS}${deny}---\n${extra}`;
}

function cluster(extra: string): Snapshot {
  return buildSnapshot([{ path: 'cluster.yaml', text: clusterText(extra) }]);
}

/** Lets `from` send to `to` and `to` admit `from` on `ports` (TCP). */
function allow(name: string, from: [string, string], to: [string, string], ports: string): string {
  return `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: ${name}-out, namespace: ${from[0]} }
spec:
  podSelector: { matchLabels: { app: ${from[1]} } }
  policyTypes: [Egress]
  egress:
    - to: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ${to[0]} } }, podSelector: { matchLabels: { app: ${to[1]} } } }]
      ports: [${ports}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: ${name}-in, namespace: ${to[0]} }
spec:
  podSelector: { matchLabels: { app: ${to[1]} } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ${from[0]} } }, podSelector: { matchLabels: { app: ${from[1]} } } }]
      ports: [${ports}]
---
`;
}

function diff(before: Snapshot, after: Snapshot): DiffResult {
  const phi = new Set([
    ...phiScope(before, DEFAULT_CONFIG).phi.keys(),
    ...phiScope(after, DEFAULT_CONFIG).phi.keys(),
  ]);
  return diffConnectivity(new Engine(before), new Engine(after), phi);
}

const name = (c: ConnectionChange) =>
  `${'workload' in c.src ? c.src.workload : c.src.external.join(',')} -> ${'workload' in c.dst ? c.dst.workload : c.dst.external.join(',')}`;

test('no change in policies is no change in connectivity', () => {
  const text = allow('a', ['app', 'web'], ['app', 'worker'], '{ port: 80 }');
  const result = diff(cluster(text), cluster(text));
  assert.deepEqual(result.changes, []);
  assert.deepEqual(result.summary, { added: 0, removed: 0, changed: 0, phi: 0, phiWidening: 0 });
  assert.equal(diffFails(result, 'any'), false);
});

test('added, removed and changed connections, with the ports gained and lost per protocol', () => {
  const before = cluster(
    allow('a', ['app', 'web'], ['app', 'worker'], '{ port: 80 }, { port: 53, protocol: UDP }') +
      allow('b', ['app', 'worker'], ['app', 'web'], '{ port: 9000 }'),
  );
  const after = cluster(
    allow('a', ['app', 'web'], ['app', 'worker'], '{ port: 80 }, { port: 443 }') +
      allow('c', ['app', 'web'], ['vault', 'db'], '{ port: 5432 }'),
  );
  const result = diff(before, after);
  const byName = new Map(result.changes.map((c) => [name(c), c]));
  assert.deepEqual(
    [...byName.keys()],
    ['app/web[Pod] -> vault/db[Pod]', 'app/web[Pod] -> app/worker[Pod]', 'app/worker[Pod] -> app/web[Pod]'],
  );
  const changed = byName.get('app/web[Pod] -> app/worker[Pod]');
  assert.equal(changed?.kind, 'changed');
  assert.ok(changed);
  assert.equal(formatPorts(changed.gained), 'TCP 443');
  assert.equal(formatPorts(changed.lost), 'UDP 53');
  assert.equal(formatPorts(changed.after), 'TCP 80,443');
  const removed = byName.get('app/worker[Pod] -> app/web[Pod]');
  assert.equal(removed?.kind, 'removed');
  assert.equal(formatPorts(removed.lost), 'TCP 9000');
  assert.equal(byName.get('app/web[Pod] -> vault/db[Pod]')?.kind, 'added');
  assert.deepEqual(result.summary, { added: 1, removed: 1, changed: 1, phi: 1, phiWidening: 1 });
});

test('the rules responsible on both sides, named by spec path and placed at file:line', () => {
  const before = cluster('');
  const after = cluster(allow('c', ['app', 'web'], ['vault', 'db'], '{ port: 5432 }'));
  const [change] = diff(before, after).changes;
  assert.ok(change);
  const { before: was, after: now } = change.responsible;
  assert.deepEqual(
    was.ingress?.isolatedBy.map((p) => p.policy),
    ['vault/deny'],
  );
  assert.deepEqual(was.ingress?.admittedBy, []);
  assert.match(was.ingress?.isolatedBy[0]?.at ?? '', /^cluster\.yaml:\d+$/);
  assert.deepEqual(
    now.egress?.admittedBy.map((r) => r.rule),
    ['app/c-out#spec.egress[0]'],
  );
  assert.deepEqual(
    now.ingress?.admittedBy.map((r) => r.rule),
    ['vault/c-in#spec.ingress[0]'],
  );
  const lines = clusterText(allow('c', ['app', 'web'], ['vault', 'db'], '{ port: 5432 }')).split('\n');
  const line = now.ingress?.admittedBy[0]?.line ?? 0;
  assert.match(lines[line - 1] ?? '', /- from: .*kubernetes\.io\/metadata\.name: app/);
  assert.equal(now.ingress?.admittedBy[0]?.at, `cluster.yaml:${line}`);
});

test('PHI changes come first and are marked; only widening ones fail --fail-on phi', () => {
  const base =
    allow('a', ['app', 'web'], ['vault', 'db'], '{ port: 5432 }, { port: 5433 }') +
    allow('b', ['app', 'web'], ['app', 'worker'], '{ port: 80 }');
  const narrowed = diff(
    cluster(base),
    cluster(
      allow('a', ['app', 'web'], ['vault', 'db'], '{ port: 5432 }') +
        allow('b', ['app', 'web'], ['app', 'worker'], '{ port: 80 }, { port: 81 }'),
    ),
  );
  assert.deepEqual(
    narrowed.changes.map((c) => [name(c), c.phi, c.phiWidening]),
    [
      ['app/web[Pod] -> vault/db[Pod]', ['vault/db[Pod]'], false],
      ['app/web[Pod] -> app/worker[Pod]', [], false],
    ],
  );
  assert.equal(diffFails(narrowed, 'phi'), false, 'narrowing PHI reachability does not fail');
  assert.equal(diffFails(narrowed, 'any'), true);
  assert.equal(diffFails(narrowed, 'never'), false);

  const widened = diff(
    cluster(base),
    cluster(
      allow('a', ['app', 'web'], ['vault', 'db'], '{ port: 5432 }') +
        allow('b', ['app', 'web'], ['app', 'worker'], '{ port: 80 }') +
        allow('d', ['vault', 'db'], ['app', 'worker'], '{ port: 8125, protocol: UDP }'),
    ),
  );
  assert.deepEqual(
    widened.changes.map((c) => [name(c), c.phiWidening]),
    [
      ['vault/db[Pod] -> app/worker[Pod]', true],
      ['app/web[Pod] -> vault/db[Pod]', false],
    ],
    'widening PHI changes before other PHI changes',
  );
  assert.equal(diffFails(widened, 'phi'), true);
});

test('external connections are diffed too', () => {
  const egress = (cidr: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: out, namespace: vault }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ to: [{ ipBlock: { cidr: ${cidr} } }], ports: [{ port: 443 }] }]
`;
  const result = diff(cluster(egress('203.0.113.0/24')), cluster(egress('0.0.0.0/0')));
  const added = result.changes.find((c) => c.kind === 'added');
  assert.ok(added && 'external' in added.dst);
  assert.ok(added.phiWidening);
  assert.deepEqual(
    added.responsible.after.egress?.admittedBy.map((r) => r.rule),
    ['vault/out#spec.egress[0]'],
  );
  assert.equal(added.responsible.after.ingress, undefined, 'no policy governs an external address');
});

test('a workload that exists on one side only is named as missing on the other', () => {
  const after = buildSnapshot([
    {
      path: 'more.yaml',
      text: `${WORKLOADS}---
apiVersion: v1
kind: Pod
metadata: { name: new, namespace: app, labels: { app: new } }
spec: { containers: [{ name: c }] }
`,
    },
  ]);
  const before = buildSnapshot([{ path: 'less.yaml', text: WORKLOADS }]);
  const result = diff(before, after);
  const toNew = result.changes.find((c) => name(c) === 'app/web[Pod] -> app/new[Pod]');
  assert.equal(toNew?.kind, 'added');
  assert.deepEqual(toNew?.responsible.before.missing, ['app/new[Pod]']);
  assert.equal(toNew?.responsible.before.ingress, undefined);
});

test('the diff scenario: a half-open break and PHI opened to another namespace', () => {
  const before = loadSnapshot(['examples/diff-scenario/before']);
  const after = loadSnapshot(['examples/diff-scenario/after']);
  const result = diff(before, after);
  assert.deepEqual(
    result.changes.map((c) => [c.kind, name(c), c.phiWidening]),
    [
      ['added', 'analytics/reporting[Deployment] -> records/records-api[Deployment]', true],
      ['removed', 'shop/web[Deployment] -> shop/api[Deployment]', false],
    ],
  );
  const [opened, broken] = result.changes;
  assert.deepEqual(opened?.phi, ['records/records-api[Deployment]']);
  assert.deepEqual(
    opened?.responsible.after.ingress?.admittedBy.map((r) => r.rule),
    ['records/records-api-ingress#spec.ingress[0]'],
  );
  assert.equal(broken?.halfOpen?.openSide, 'egress');
  assert.equal(formatPorts(broken.halfOpen.ports), 'TCP 8080');
  assert.equal(diffFails(result, 'phi'), true);
});

/** The external changes of a diff as `kind peer -> peer before => after`, in the order given. */
function externalChanges(result: DiffResult): string[] {
  return result.changes
    .filter((c) => 'external' in c.src || 'external' in c.dst)
    .map((c) => `${c.kind} ${name(c)} ${formatPorts(c.before) || '-'} => ${formatPorts(c.after) || '-'}`);
}

/** db in vault may send TCP 443 to `blocks` (YAML ipBlock peers). */
function egressTo(blocks: string): Snapshot {
  return cluster(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: out, namespace: vault }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ to: [${blocks}], ports: [{ port: 443 }] }]
`);
}

const block = (cidr: string, except: string[] = []) =>
  `{ ipBlock: { cidr: ${cidr}${except.length ? `, except: [${except.join(', ')}]` : ''} } }`;

test('a narrowed ipBlock removes only the addresses it no longer covers', () => {
  const result = diff(egressTo(block('10.0.0.0/8')), egressTo(block('10.0.0.0/9')));
  assert.deepEqual(externalChanges(result), ['removed vault/db[Pod] -> 10.128.0.0/9 TCP 443 => -']);
  assert.equal(diffFails(result, 'phi'), false, 'narrowing fails no PHI gate');
});

test('an except carved out of 0.0.0.0/0 removes exactly the except', () => {
  const result = diff(egressTo(block('0.0.0.0/0')), egressTo(block('0.0.0.0/0', ['10.0.0.0/8'])));
  assert.deepEqual(externalChanges(result), ['removed vault/db[Pod] -> 10.0.0.0/8 TCP 443 => -']);
});

test('blocks written differently over the same addresses are no change', () => {
  const spellings = [
    block('10.0.0.0/8'),
    `${block('10.128.0.0/9')}, ${block('10.0.0.0/9')}`,
    `${block('10.0.0.0/8', ['10.1.0.0/16'])}, ${block('10.1.0.0/16')}`,
    `${block('10.0.0.0/9')}, ${block('10.0.0.0/8', ['10.0.0.0/9'])}`,
  ];
  for (const spelling of spellings) {
    const result = diff(egressTo(block('10.0.0.0/8')), egressTo(spelling));
    assert.deepEqual(result.changes, [], spelling);
    assert.equal(diffFails(result, 'any'), false);
  }
  const rules = (a: string, b: string) =>
    cluster(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: out, namespace: vault }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ to: [${a}], ports: [{ port: 443 }] }, { to: [${b}], ports: [{ port: 443 }] }]
`);
  const reordered = diff(
    rules(block('10.0.0.0/9'), block('192.168.0.0/16')),
    rules(block('192.168.0.0/17'), `${block('10.0.0.0/9')}, ${block('192.168.128.0/17')}`),
  );
  assert.deepEqual(reordered.changes, [], 'split across rules and reordered');
});

test('an except added and another removed: the one is removed, the other added', () => {
  const result = diff(
    egressTo(block('10.0.0.0/8', ['10.1.0.0/16'])),
    egressTo(block('10.0.0.0/8', ['10.2.0.0/16'])),
  );
  assert.deepEqual(externalChanges(result), [
    'added vault/db[Pod] -> 10.1.0.0/16 - => TCP 443',
    'removed vault/db[Pod] -> 10.2.0.0/16 TCP 443 => -',
  ]);
  assert.ok(result.changes[0]?.phiWidening, 'the added block widens PHI egress');
});

test('an ipBlock widened by one address adds that address', () => {
  const result = diff(
    egressTo(block('192.168.1.0/24')),
    egressTo(`${block('192.168.1.0/24')}, ${block('192.168.2.0/32')}`),
  );
  assert.deepEqual(externalChanges(result), ['added vault/db[Pod] -> 192.168.2.0/32 - => TCP 443']);
  const [added] = result.changes;
  assert.deepEqual(
    added?.responsible.after.egress?.admittedBy.map((r) => r.rule),
    ['vault/out#spec.egress[0]'],
  );
});

test('IPv6 blocks compare by address too, and never merge with IPv4', () => {
  assert.deepEqual(
    externalChanges(diff(egressTo(block('2001:db8::/32')), egressTo(block('2001:db8::/33')))),
    ['removed vault/db[Pod] -> 2001:db8:8000::/33 TCP 443 => -'],
  );
  assert.deepEqual(
    diff(
      egressTo(block('2001:db8::/32')),
      egressTo(`${block('2001:db8:8000::/33')}, ${block('2001:db8::/33')}`),
    ).changes,
    [],
  );
  const both = diff(egressTo(`${block('0.0.0.0/0')}, ${block('::/0')}`), egressTo(block('10.0.0.0/8')));
  assert.deepEqual(externalChanges(both), [
    'removed vault/db[Pod] -> 0.0.0.0/5,8.0.0.0/7 TCP 443 => -',
    'removed vault/db[Pod] -> 11.0.0.0/8,12.0.0.0/6,16.0.0.0/4,32.0.0.0/3,64.0.0.0/2,128.0.0.0/1 TCP 443 => -',
    'removed vault/db[Pod] -> ::/0 TCP 443 => -',
  ]);
});

test('a policy that starts isolating a pod removes what external blocks could reach, per family', () => {
  const open = buildSnapshot([{ path: 'open.yaml', text: WORKLOADS }]);
  const isolated = buildSnapshot([
    {
      path: 'isolated.yaml',
      text: `${WORKLOADS}---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: redis, namespace: app }
spec:
  podSelector: { matchLabels: { app: worker } }
  ingress: [{ from: [${block('0.0.0.0/1')}] }]
`,
    },
  ]);
  const result = diff(open, isolated);
  const external = result.changes.filter((c) => 'external' in c.src);
  assert.deepEqual(
    external.map((c) => `${c.kind} ${name(c)}`),
    ['removed 128.0.0.0/1 -> app/worker[Pod]', 'removed ::/0 -> app/worker[Pod]'],
    'nothing added: 0.0.0.0/1 was allowed before and still is',
  );
  const [lost] = external;
  assert.deepEqual(lost?.responsible.before.ingress?.isolatedBy, []);
  assert.deepEqual(
    lost?.responsible.after.ingress?.isolatedBy.map((p) => p.policy),
    ['app/redis'],
  );
  assert.deepEqual(lost?.responsible.after.ingress?.admittedBy, [], 'no rule admits the removed range');
  assert.equal(diffFails(result, 'phi'), false);
});
