import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Engine } from '../engine/engine.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { ObservedFlow } from '../model/flows.ts';
import { yaml } from '../testing/yaml.ts';
import { compareFlows } from './flow-comparison.ts';
import { FlowMapper } from './flows.ts';

// records/db is PHI; web may reach it on 5432 only; billing is not isolated at all.
const CLUSTER = yaml`
  apiVersion: v1
  kind: Pod
  metadata:
    name: db-0
    namespace: records
    labels: { app: db }
    ownerReferences: [{ apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u1, controller: true }]
  spec: { containers: [{ name: db, image: postgres }] }
  status: { phase: Running, podIP: 10.0.0.10 }
  ---
  apiVersion: v1
  kind: Pod
  metadata:
    name: web-7d9f8c-abcde
    namespace: web
    labels: { app: web, pod-template-hash: 7d9f8c }
    ownerReferences: [{ apiVersion: apps/v1, kind: ReplicaSet, name: web-7d9f8c, uid: u2, controller: true }]
  spec: { containers: [{ name: web, image: web }] }
  status: { phase: Running, podIP: 10.0.1.10 }
  ---
  apiVersion: v1
  kind: Pod
  metadata: { name: invoicing, namespace: billing, labels: { app: invoicing } }
  spec: { containers: [{ name: job, image: job }] }
  status: { phase: Running, podIP: 10.0.2.10 }
  ---
  apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: { name: db, namespace: records }
  spec:
    podSelector: { matchLabels: { app: db } }
    ingress:
      - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: web } } }]
        ports: [{ port: 5432 }]
`;

function engine(): Engine {
  return new Engine(buildSnapshot([{ path: 'cluster.yaml', text: CLUSTER }]));
}

let line = 0;
function flow(partial: Partial<ObservedFlow> & Pick<ObservedFlow, 'src' | 'dst'>): ObservedFlow {
  line++;
  return {
    protocol: 'TCP',
    port: 5432,
    verdict: 'forwarded',
    count: 1,
    events: 1,
    file: 'flows.json',
    line,
    ...partial,
  };
}

const PHI = new Set(['records/db[StatefulSet]']);

describe('mapping flows to workloads', () => {
  test('by namespace and pod name, by IP, and by the owner name the log gives', () => {
    const mapper = new FlowMapper(engine());
    mapper.add(
      flow({
        src: { namespace: 'web', pod: 'web-7d9f8c-abcde' },
        dst: { ip: '10.0.0.10' },
        time: '2026-11-27T10:00:00Z',
      }),
    );
    mapper.add(
      flow({
        src: { namespace: 'web', workload: 'web-7d9f8c-*' },
        dst: { namespace: 'records', pod: 'db-0' },
        count: 5,
        time: '2026-11-27T11:00:00Z',
      }),
    );
    mapper.add(flow({ src: { namespace: 'web', workload: 'web' }, dst: { ip: '10.0.0.10' } }));
    const { edges, flows, records } = mapper.result();
    assert.equal(records, 3);
    assert.equal(flows, 7);
    assert.equal(edges.length, 1);
    assert.deepEqual(edges[0], {
      src: { workload: 'web/web[Deployment]' },
      dst: { workload: 'records/db[StatefulSet]' },
      protocol: 'TCP',
      port: 5432,
      observed: 'forwarded',
      count: 7,
      events: 3,
      policyAllows: true,
      firstSeen: '2026-11-27T10:00:00Z',
      lastSeen: '2026-11-27T11:00:00Z',
      at: { file: 'flows.json', line: line - 2 },
    });
  });

  test('ends that match nothing are counted per reason with their first record, never dropped silently', () => {
    const mapper = new FlowMapper(engine());
    mapper.add(flow({ src: { namespace: 'web', pod: 'gone-123' }, dst: { ip: '10.0.0.10' }, count: 3 }));
    const first = line;
    mapper.add(flow({ src: { namespace: 'web', pod: 'gone-456' }, dst: { ip: '10.0.0.10' } }));
    mapper.add(flow({ src: { ip: '192.0.2.1' }, dst: { ip: '198.51.100.1' } }));
    mapper.add(flow({ src: {}, dst: { ip: '10.0.0.10' } }));
    const { edges, unmapped } = mapper.result();
    assert.equal(edges.length, 0);
    assert.equal(unmapped.count, 6);
    assert.deepEqual(unmapped.reasons['a pod the snapshot does not hold (web/gone-123)'], {
      count: 3,
      example: { file: 'flows.json', line: first },
    });
    assert.equal(unmapped.reasons['neither end is a pod of the snapshot']?.count, 1);
    assert.equal(unmapped.reasons['an end with neither an IP nor a known pod']?.count, 1);
  });
});

describe('comparing flows with policy', () => {
  function compare(...flows: ObservedFlow[]) {
    const e = engine();
    const mapper = new FlowMapper(e);
    for (const f of flows) mapper.add(f);
    return compareFlows(e, mapper.result(), PHI);
  }

  test('each verdict group: enforcement gap, needed drop, dropped although allowed, used', () => {
    const { edges } = compare(
      flow({ src: { ip: '10.0.2.10' }, dst: { ip: '10.0.0.10' } }),
      flow({ src: { ip: '10.0.1.10' }, dst: { ip: '10.0.0.10' }, port: 22, verdict: 'dropped' }),
      flow({ src: { ip: '10.0.1.10' }, dst: { ip: '10.0.0.10' }, verdict: 'dropped' }),
      flow({ src: { ip: '10.0.1.10' }, dst: { ip: '10.0.0.10' } }),
    );
    assert.deepEqual(
      edges.map((e) => [e.group, e.src, e.port, e.phi]),
      [
        ['gap', { workload: 'billing/invoicing[Pod]' }, 5432, ['records/db[StatefulSet]']],
        ['needed', { workload: 'web/web[Deployment]' }, 22, ['records/db[StatefulSet]']],
        ['dropped-allowed', { workload: 'web/web[Deployment]' }, 5432, ['records/db[StatefulSet]']],
        ['used', { workload: 'web/web[Deployment]' }, 5432, ['records/db[StatefulSet]']],
      ],
    );
    // The gap names the policy that should have dropped it.
    const gap = edges[0];
    assert.equal(gap?.responsible.ingress?.isolatedBy[0]?.policy, 'records/db');
    assert.deepEqual(gap?.responsible.ingress?.admittedBy, []);
  });

  test('allowed but never seen: every allowed connection no forwarded flow used, with what allows it', () => {
    const { unused } = compare(flow({ src: { ip: '10.0.1.10' }, dst: { ip: '10.0.0.10' } }));
    const names = unused.map(
      (u) => `${JSON.stringify(u.connection.src)} ${JSON.stringify(u.connection.dst)}`,
    );
    // web → db was used; billing is open both ways, so its connections are all unused allows.
    assert.ok(!names.includes('{"workload":"web/web[Deployment]"} {"workload":"records/db[StatefulSet]"}'));
    assert.ok(names.includes('{"workload":"billing/invoicing[Pod]"} {"workload":"web/web[Deployment]"}'));
    // Connections touching PHI come first.
    assert.deepEqual(unused[0]?.phi, ['records/db[StatefulSet]']);
    const external = unused.find(
      (u) =>
        'external' in u.connection.src &&
        'workload' in u.connection.dst &&
        u.connection.dst.workload === 'billing/invoicing[Pod]',
    );
    assert.ok(external, 'traffic from outside into billing is allowed and unused');
    // An external address that was seen covers the block it falls in.
    const seen = compare(flow({ src: { ip: '203.0.113.7' }, dst: { ip: '10.0.2.10' }, port: 443 }));
    assert.ok(
      !seen.unused.some(
        (u) =>
          'external' in u.connection.src &&
          'workload' in u.connection.dst &&
          u.connection.dst.workload === 'billing/invoicing[Pod]',
      ),
    );
  });

  test('the window spans the earliest and latest record times', () => {
    const { window } = compare(
      flow({ src: { ip: '10.0.1.10' }, dst: { ip: '10.0.0.10' }, time: '2026-11-27T12:00:00Z' }),
      flow({ src: { ip: '10.0.2.10' }, dst: { ip: '10.0.1.10' }, port: 80, time: '2026-11-27T09:30:00Z' }),
    );
    assert.deepEqual(window, { from: '2026-11-27T09:30:00Z', to: '2026-11-27T12:00:00Z' });
  });
});
