import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSnapshot } from '../load/snapshot.ts';
import { yaml } from '../testing/yaml.ts';
import { cniProfile, describeProfile } from './cni-profile.ts';

const daemonSet = (name: string, image: string) => yaml`
  apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: ${name}, namespace: kube-system}
  spec:
    selector: {matchLabels: {app: ${name}}}
    template:
      metadata: {labels: {app: ${name}}}
      spec:
        containers: [{name: agent, image: ${image}}]
`;

const CNP = yaml`
  apiVersion: cilium.io/v2
  kind: CiliumNetworkPolicy
  metadata: {name: deny, namespace: shop}
  spec: {endpointSelector: {}, ingress: [{}]}
`;

const snapshotOf = (text: string) => buildSnapshot([{ path: 'in.yaml', text }]);

test('a Cilium DaemonSet selects the cilium profile: ipBlocks leave pods alone, selectors see derived labels', () => {
  const profile = cniProfile(snapshotOf(daemonSet('cilium', 'quay.io/cilium/cilium:v1.16.1')), undefined);
  assert.equal(profile.name, 'cilium');
  assert.deepEqual(profile.options, { ipBlockMatchesPods: false, hostNetwork: 'node', ciliumIdentity: true });
  assert.equal(
    describeProfile(profile),
    'CNI profile: cilium (detected: Cilium (kube-system/cilium[DaemonSet]))',
  );
});

test('a Calico DaemonSet selects the calico profile', () => {
  const profile = cniProfile(snapshotOf(daemonSet('calico-node', 'quay.io/calico/node:v3.28.1')), undefined);
  assert.equal(profile.name, 'calico');
  assert.deepEqual(profile.options, { ipBlockMatchesPods: true, hostNetwork: 'node' });
});

test('without a DaemonSet, Cilium policies in the input select the cilium profile; else generic', () => {
  assert.equal(cniProfile(snapshotOf(CNP), undefined).name, 'cilium');
  assert.equal(cniProfile(snapshotOf(CNP), undefined).source, 'the input holds Cilium policies');
  assert.equal(
    cniProfile(snapshotOf(daemonSet('kube-flannel-ds', 'docker.io/flannel/flannel:v0.25.1')), undefined).name,
    'generic',
  );
  assert.equal(cniProfile(undefined, undefined).name, 'generic');
});

test('--cni wins over detection, and explicit options win over the profile', () => {
  const snapshot = snapshotOf(daemonSet('cilium', 'quay.io/cilium/cilium:v1.16.1'));
  assert.equal(cniProfile(snapshot, 'generic').name, 'generic');
  assert.equal(cniProfile(snapshot, 'generic').source, '--cni');
  const profile = cniProfile(snapshot, undefined, { ipBlockMatchesPods: true });
  assert.deepEqual(profile.options, { ipBlockMatchesPods: true, hostNetwork: 'node', ciliumIdentity: true });
});

test('without a DaemonSet, Calico policies in the input select the calico profile', () => {
  const gnp = yaml`
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: {name: deny}
    spec: {selector: all(), types: [Ingress]}
  `;
  const profile = cniProfile(snapshotOf(gnp), undefined);
  assert.equal(profile.name, 'calico');
  assert.equal(profile.source, 'the input holds Calico policies');
});
