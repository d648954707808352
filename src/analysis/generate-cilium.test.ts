import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSnapshot } from '../load/snapshot.ts';
import { renderCiliumPolicy } from '../report/cilium-policies.ts';
import { yaml } from '../testing/yaml.ts';
import type { FlowEdge } from './flows.ts';
import { ciliumAddressPeer } from './generate-cilium.ts';

const SNAPSHOT = buildSnapshot([
  {
    path: 'nodes.yaml',
    text: yaml`
      apiVersion: v1
      kind: Node
      metadata: { name: n1 }
      status: { addresses: [{ type: InternalIP, address: 192.168.0.1 }] }
    `,
  },
]);

function edge(address: FlowEdge['address']): FlowEdge {
  return {
    src: { workload: 'shop/web[Deployment]' },
    dst: { ip: '198.51.100.9' },
    protocol: 'TCP',
    port: 443,
    observed: 'forwarded',
    count: 1,
    events: 1,
    policyAllows: true,
    at: { file: 'flows.jsonl', line: 1 },
    ...(address && { address }),
  };
}

const peers = (address: FlowEdge['address'], ip: string, direction: 'ingress' | 'egress') =>
  ciliumAddressPeer(SNAPSHOT, edge(address), ip, direction)?.peers;

test('names go to toFQDNs on egress only; reserved identities become their entity, unknown ones cluster', () => {
  assert.deepEqual(
    peers({ names: ['a.example', 'b.example'], identity: 'world' }, '198.51.100.9', 'egress'),
    [{ fqdn: 'a.example' }, { fqdn: 'b.example' }],
  );
  // Cilium has no fromFQDNs: a named client is written as its address, as NetworkPolicy would.
  assert.equal(peers({ names: ['a.example'], identity: 'world' }, '198.51.100.9', 'ingress'), undefined);
  assert.equal(peers({ identity: 'world' }, '198.51.100.9', 'egress'), undefined);
  assert.equal(peers(undefined, '198.51.100.9', 'egress'), undefined);
  assert.deepEqual(peers({ identity: 'kube-apiserver' }, '10.96.0.1', 'egress'), [
    { entity: 'kube-apiserver' },
  ]);
  assert.deepEqual(peers({ identity: 'unknown' }, '10.0.9.9', 'ingress'), [{ entity: 'cluster' }]);
  // A log without identities (Calico, CSV): an address of one of the input's Nodes is the nodes' entities.
  assert.deepEqual(peers(undefined, '192.168.0.1', 'ingress'), [
    { entity: 'host' },
    { entity: 'remote-node' },
  ]);
});

test('the Cilium writer: namespaces by label, every address as world, one rule per kind of peer', () => {
  const text = renderCiliumPolicy({
    namespace: 'shop',
    name: 'web-observed',
    role: 'workload',
    podSelector: { matchLabels: { app: 'web' }, matchExpressions: [] },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        peers: [
          { namespaceSelector: { matchLabels: { team: 'ops' }, matchExpressions: [] } },
          { ipBlock: '0.0.0.0/0' },
          { ipBlock: '::/0' },
        ],
        ports: [{ protocol: 'TCP', port: 8000, endPort: 8080 }],
        comments: [],
      },
    ],
    egress: [],
    comments: [],
  });
  const [policy] = buildSnapshot([{ path: 'p.yaml', text }]).ciliumPolicies;
  // A namespace chosen by its labels needs the namespace key, else Cilium keeps the peer in shop.
  assert.deepEqual(policy?.ingress[0]?.peers, [
    {
      kind: 'endpoints',
      selector: {
        matchLabels: { 'k8s:io.cilium.k8s.namespace.labels.team': 'ops' },
        matchExpressions: [{ key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists', values: [] }],
      },
    },
  ]);
  assert.deepEqual(policy?.ingress[1]?.peers, [{ kind: 'entity', entity: 'world' }]);
  assert.deepEqual(policy?.ingress[1]?.ports, [{ port: 8000, endPort: 8080, protocols: ['TCP'] }]);
  // Egress governed with no rule: the empty rule isolates.
  assert.equal(policy?.egress.length, 1);
  assert.equal(policy?.egress[0]?.peers, undefined);
});
