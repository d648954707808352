import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSnapshot } from '../../load/snapshot.ts';
import type { Pod, Snapshot } from '../../model/types.ts';
import { CILIUM_CLUSTER, CILIUM_OPTIONS } from '../../testing/cilium-cluster.ts';
import { yaml } from '../../testing/yaml.ts';
import { parseAddress } from '../addresses.ts';
import type { Endpoint } from '../endpoint.ts';
import { Engine } from '../engine.ts';
import { contains } from '../intervals.ts';
import { formatPorts, type Transport } from '../ports.ts';
import { referenceAllows } from '../reference.ts';

function cluster(policies: string): { snapshot: Snapshot; engine: Engine } {
  const snapshot = buildSnapshot([{ path: 'c.yaml', text: `${CILIUM_CLUSTER}\n---\n${policies}` }]);
  return { snapshot, engine: new Engine(snapshot, CILIUM_OPTIONS) };
}

/** The engine's answer, checked against the reference on the same question. */
function allowed(
  { snapshot, engine }: { snapshot: Snapshot; engine: Engine },
  from: string,
  to: string,
  protocol: Transport,
  port: number,
): boolean {
  const end = (text: string): Endpoint => {
    if (/^[\d.:]+$/.test(text)) return { ip: text };
    const pod = snapshot.pods.find((p) => `${p.namespace}/${p.name}` === text);
    assert.ok(pod, text);
    return { pod };
  };
  const [a, b] = [end(from), end(to)];
  let answer: boolean;
  if ('pod' in a && 'pod' in b) answer = contains(engine.portsBetween(a.pod, b.pod)[protocol], port);
  else {
    const [pod, ip, direction] =
      'pod' in a
        ? [a.pod, (b as { ip: string }).ip, 'egress' as const]
        : [(b as { pod: Pod }).pod, a.ip, 'ingress' as const];
    const address = parseAddress(ip) as bigint;
    const group = engine
      .externalPorts(engine.classOf(pod), direction)
      .find((g) => contains(g.addresses, address));
    answer = group !== undefined && contains(group.ports[protocol], port);
  }
  assert.equal(
    referenceAllows(snapshot, a, b, protocol, port, CILIUM_OPTIONS),
    answer,
    `reference on ${from} -> ${to}`,
  );
  return answer;
}

const CNP = (name: string, spec: string) =>
  `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ${name}, namespace: shop}\nspec:\n${spec
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n---\n`;

describe('Cilium semantics', () => {
  test('a rule in a direction isolates that direction; enableDefaultDeny false leaves it open', () => {
    const c = cluster(
      CNP(
        'db',
        yaml`
      endpointSelector: {matchLabels: {app: db}}
      ingress: [{fromEndpoints: [{matchLabels: {app: api}}]}]
    `,
      ),
    );
    assert.equal(allowed(c, 'shop/api', 'shop/db', 'TCP', 5432), true);
    assert.equal(allowed(c, 'shop/web', 'shop/db', 'TCP', 5432), false);
    assert.equal(allowed(c, 'shop/db', 'shop/web', 'TCP', 80), true, 'egress stays open');
    const open = cluster(
      CNP(
        'db',
        yaml`
      endpointSelector: {matchLabels: {app: db}}
      enableDefaultDeny: {ingress: false}
      ingress: [{fromEndpoints: [{matchLabels: {app: api}}]}]
    `,
      ),
    );
    assert.equal(allowed(open, 'shop/web', 'shop/db', 'TCP', 5432), true);
  });

  test('fromEndpoints of a namespaced policy stay in its namespace unless they name one', () => {
    const c = cluster(
      CNP(
        'db',
        yaml`
      endpointSelector: {matchLabels: {app: db}}
      ingress:
        - fromEndpoints: [{matchLabels: {app: web}}]
          toPorts: [{ports: [{port: "5432"}]}]
        - fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: ops}}]
          toPorts: [{ports: [{port: "22"}]}]
    `,
      ),
    );
    assert.equal(allowed(c, 'shop/web', 'shop/db', 'TCP', 5432), true);
    assert.equal(
      allowed(c, 'ops/tool', 'shop/db', 'TCP', 5432),
      false,
      'app=web in ops is another namespace',
    );
    assert.equal(allowed(c, 'ops/tool', 'shop/db', 'TCP', 22), true);
  });

  test('allows of Cilium and NetworkPolicy are unioned; a deny wins over both', () => {
    const c = cluster(
      `${CNP(
        'db',
        yaml`
        endpointSelector: {matchLabels: {app: db}}
        ingress: [{fromEndpoints: [{matchLabels: {app: api}}], toPorts: [{ports: [{port: "5432"}]}]}]
        ingressDeny: [{fromEndpoints: [{matchLabels: {app: web}}], toPorts: [{ports: [{port: "9000"}]}]}]
      `,
      )}${yaml`
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web-to-db, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: db}}
          ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
      `}`,
    );
    assert.equal(allowed(c, 'shop/api', 'shop/db', 'TCP', 5432), true, 'the Cilium allow');
    assert.equal(allowed(c, 'shop/web', 'shop/db', 'TCP', 8000), true, 'the NetworkPolicy allow');
    assert.equal(
      allowed(c, 'shop/web', 'shop/db', 'TCP', 9000),
      false,
      'the deny wins over the NetworkPolicy',
    );
    const side = c.engine.explainSide(
      c.snapshot.pods.find((p) => p.name === 'db') as Pod,
      { pod: c.snapshot.pods.find((p) => p.name === 'web') as Pod },
      'ingress',
    );
    assert.deepEqual(
      side.kindSteps.map((s) => [s.action, s.rule.origin.rule, formatPorts(s.ports)]),
      [['Deny', 'CiliumNetworkPolicy/shop/db ingressDeny[0]', 'TCP 9000 UDP 9000 SCTP 9000']],
    );
  });

  test('entities: world is outside the cluster (a node without Cilium too), host is a Cilium node, cluster is both pods and nodes', () => {
    const c = cluster(
      CNP(
        'web',
        yaml`
      endpointSelector: {matchLabels: {app: web}}
      egress:
        - toEntities: [world]
          toPorts: [{ports: [{port: "443", protocol: TCP}]}]
        - toEntities: [host]
          toPorts: [{ports: [{port: "10250", protocol: TCP}]}]
        - toEntities: [cluster]
          toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
    `,
      ),
    );
    assert.equal(allowed(c, 'shop/web', '1.1.1.1', 'TCP', 443), true);
    assert.equal(allowed(c, 'shop/web', '192.168.0.2', 'TCP', 443), true, 'the node without Cilium is world');
    assert.equal(allowed(c, 'shop/web', '192.168.0.1', 'TCP', 443), false, 'a Cilium node is not world');
    assert.equal(allowed(c, 'shop/web', '192.168.0.1', 'TCP', 10250), true);
    assert.equal(allowed(c, 'shop/web', 'ops/agent', 'TCP', 10250), true, 'a hostNetwork pod is its node');
    assert.equal(allowed(c, 'shop/web', 'ops/outsider', 'TCP', 443), true, 'on a node without Cilium: world');
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'TCP', 8080), true);
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'TCP', 443), false, 'pods are not world');
  });

  test('CIDR rules select addresses outside the cluster only, never pods or Cilium nodes', () => {
    const c = cluster(
      CNP(
        'web',
        yaml`
      endpointSelector: {matchLabels: {app: web}}
      egress: [{toCIDR: [0.0.0.0/0]}]
    `,
      ),
    );
    assert.equal(allowed(c, 'shop/web', '8.8.8.8', 'TCP', 53), true);
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'TCP', 8080), false);
    assert.equal(allowed(c, 'shop/web', '192.168.0.1', 'TCP', 22), false);
    assert.equal(allowed(c, 'shop/web', 'ops/outsider', 'TCP', 22), true);
  });

  test('service accounts select through io.cilium.k8s.policy.serviceaccount; named ports resolve on the destination', () => {
    const c = cluster(
      CNP(
        'api',
        yaml`
      endpointSelector: {matchLabels: {app: api}}
      ingress:
        - fromEndpoints: [{matchLabels: {io.cilium.k8s.policy.serviceaccount: db}}]
          toPorts: [{ports: [{port: http, protocol: TCP}]}]
    `,
      ),
    );
    assert.equal(allowed(c, 'shop/db', 'shop/api', 'TCP', 8080), true);
    assert.equal(allowed(c, 'shop/db', 'shop/api', 'TCP', 8081), false);
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'TCP', 8080), false);
  });

  test('ICMP rules allow ICMP types only; port rules allow no ICMP; a rule without L4 allows both', () => {
    const c = cluster(
      CNP(
        'api',
        yaml`
      endpointSelector: {matchLabels: {app: api}}
      ingress:
        - fromEndpoints: [{matchLabels: {app: web}}]
          icmps: [{fields: [{type: 8}]}]
        - fromEndpoints: [{matchLabels: {app: db}}]
          toPorts: [{ports: [{port: "8080"}]}]
        - fromEntities: [host]
    `,
      ),
    );
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'ICMP', 8), true);
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'ICMP', 0), false);
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'TCP', 8), false, 'never a TCP allow');
    assert.equal(allowed(c, 'shop/db', 'shop/api', 'ICMP', 8), false);
    assert.equal(allowed(c, 'ops/agent', 'shop/api', 'ICMP', 8), true);
  });

  test('toFQDNs matches no address offline; L7 rules allow at L4 and say so', () => {
    const c = cluster(
      CNP(
        'web',
        yaml`
      endpointSelector: {matchLabels: {app: web}}
      egress:
        - toFQDNs: [{matchName: api.example.com}]
        - toEndpoints: [{matchLabels: {app: api}}]
          toPorts: [{ports: [{port: "8080", protocol: TCP}], rules: {http: [{method: GET}]}}]
    `,
      ),
    );
    assert.equal(allowed(c, 'shop/web', '93.184.216.34', 'TCP', 443), false);
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'TCP', 8080), true);
    const side = c.engine.explainSide(
      c.snapshot.pods.find((p) => p.name === 'web') as Pod,
      { pod: c.snapshot.pods.find((p) => p.name === 'api') as Pod },
      'egress',
    );
    assert.deepEqual(
      side.kindSteps.map((s) => s.rule.origin.note),
      ['L7-filtered (http)'],
    );
  });

  test('fromRequires: every source must also match, whatever allows it', () => {
    const c = cluster(
      CNP(
        'db',
        yaml`
      endpointSelector: {matchLabels: {app: db}}
      ingress:
        - fromRequires: [{matchLabels: {app: api}}]
        - fromEntities: [all]
    `,
      ),
    );
    assert.equal(allowed(c, 'shop/api', 'shop/db', 'TCP', 5432), true);
    assert.equal(allowed(c, 'shop/web', 'shop/db', 'TCP', 5432), false);
    assert.equal(allowed(c, '8.8.8.8', 'shop/db', 'TCP', 5432), false);
  });

  test('a clusterwide policy selects across namespaces; an egressDeny alone isolates egress', () => {
    const c = cluster(yaml`
      apiVersion: cilium.io/v2
      kind: CiliumClusterwideNetworkPolicy
      metadata: {name: no-world}
      spec:
        endpointSelector: {matchLabels: {app: web}}
        egressDeny: [{toEntities: [world]}]
    `);
    assert.equal(allowed(c, 'ops/tool', '1.1.1.1', 'TCP', 443), false);
    assert.equal(allowed(c, 'shop/web', '1.1.1.1', 'TCP', 443), false);
    assert.equal(allowed(c, 'shop/web', 'shop/api', 'TCP', 8080), false, 'egress is in default deny');
    assert.equal(allowed(c, 'shop/api', '1.1.1.1', 'TCP', 443), true);
  });
});
