import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterPeer } from '../../model/types.ts';
import { type CiliumCluster, withCilium } from '../../testing/random-cilium.ts';
import { type Cluster, toSnapshot } from '../../testing/random-cluster.ts';
import { parseAddress } from '../addresses.ts';
import type { EngineOptions } from '../endpoint.ts';
import { Engine } from '../engine.ts';
import { contains } from '../intervals.ts';
import { referenceAllows } from '../reference.ts';

const ALL = { matchLabels: {}, matchExpressions: [] };
const OPTIONS: EngineOptions = { ipBlockMatchesPods: true, hostNetwork: 'pod', ciliumIdentity: false };

/**
 * One hostNetwork pod without addresses, policed as a pod; a BaselineAdminNetworkPolicy denying its
 * egress to `peer`; a CiliumClusterwideNetworkPolicy allowing all its egress without isolating it.
 */
function snapshotWith(peer: ClusterPeer, nodes: Cluster['nodes']) {
  const cluster: Cluster = {
    namespaceLabels: [{}, {}, {}],
    pods: [
      {
        namespace: 'default',
        labels: {},
        replicas: [{ v4: undefined, v6: undefined, relabel: undefined }],
        namedPorts: [],
        hostNetwork: true,
      },
    ],
    policies: [
      {
        namespace: 'default',
        podSelector: ALL,
        isolates: { ingress: false, egress: false },
        ingress: [],
        egress: [],
        order: 0,
      },
    ],
    clusterPolicies: [
      {
        tier: 'Admin',
        priority: undefined,
        subject: { namespaceSelector: ALL, podSelector: undefined },
        ingress: [],
        egress: [{ action: 'Deny', peers: [peer], ports: undefined }],
      },
    ],
    nodes,
    probeSeed: 0,
  } as Cluster;
  const allowAll = {
    clusterwide: true,
    namespace: 'default',
    endpointSelector: ALL,
    defaultDeny: { ingress: false, egress: false },
    ingress: [],
    egress: [
      {
        deny: false,
        peers: undefined,
        l4: { ports: [{ protocols: ['TCP', 'UDP', 'SCTP'] }] },
        requires: undefined,
      },
    ],
  };
  const cilium = {
    policies: [allowAll, { ...allowAll, egress: [] }],
    accounts: ['default'],
    withoutCilium: [false, false],
    groups: [['0.0.0.0/0'], ['0.0.0.0/0']],
  } as CiliumCluster;
  return withCilium(toSnapshot(cluster, false), cilium);
}

// The API: Baseline rules apply to traffic "not matched by any AdminNetworkPolicy or NetworkPolicy rules";
// a Cilium allow rule matches it in NetworkPolicy's tier even when enableDefaultDeny is off.
for (const [name, peer, nodes, ip] of [
  ['nodes peer', { kind: 'nodes', nodeSelector: ALL }, [{ labels: {}, offset: 0n }], '10.0.0.0'],
  ['networks peer', { kind: 'networks', cidrs: ['fd00::/0'] }, [], 'fd00::1'],
] as const) {
  test(`a non-isolating Cilium allow rule overrides a Baseline Deny (${name})`, () => {
    const snapshot = snapshotWith(peer as ClusterPeer, nodes as unknown as Cluster['nodes']);
    const pod = snapshot.pods[0];
    assert.ok(pod);
    assert.equal(snapshot.clusterPolicies[0]?.tier, 'Baseline');
    assert.equal(referenceAllows(snapshot, { pod }, { ip }, 'TCP', 1, OPTIONS), true);
    const engine = new Engine(snapshot, OPTIONS);
    const address = parseAddress(ip) as bigint;
    const group = engine
      .externalPorts(engine.classOf(pod), 'egress')
      .find((g) => contains(g.addresses, address));
    assert.ok(group && contains(group.ports.TCP, 1));
  });
}
