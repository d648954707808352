import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../compliance/config.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { WorkloadDetails } from './details.ts';
import { ServeState } from './state.ts';
import { clinicApp, QUARANTINE } from './test-support.ts';

const API = 'web/api[Deployment]';
const CLIENT = 'web/client[Pod]';

async function details(text: string, id: string): Promise<WorkloadDetails> {
  const state = await ServeState.create(buildSnapshot([{ path: 'cluster.yaml', text }]), {
    config: DEFAULT_CONFIG,
    engineOptions: DEFAULT_OPTIONS,
    source: { kind: 'files', label: 'cluster.yaml' },
  });
  const response = await clinicApp(state).request(`/api/workloads/${encodeURIComponent(id)}`);
  assert.equal(response.status, 200);
  return (await response.json()) as WorkloadDetails;
}

test('a workload whose pods differ: one group per pod class, what sets it apart, the edges where they differ', async () => {
  const api = await details(QUARANTINE, API);
  const groups = [...(api.podGroups ?? [])].sort((a, b) =>
    String(a.pods[0]).localeCompare(String(b.pods[0])),
  );
  const everywhere = ['0.0.0.0/0', '::/0'];
  // Nothing isolates ingress: both take anything. The quarantined pod sends nothing at all, so the
  // edge to the client (the only edge on which they differ) is none for it; the client reaches both.
  assert.deepEqual(groups, [
    {
      pods: ['api-5c6b9d-ok'],
      apart: ['!quarantine'],
      edges: [{ id: `${API}->${CLIENT}`, source: API, target: CLIENT, ports: 'all ports' }],
      outside: [
        { direction: 'egress', cidrs: everywhere, ports: 'all ports' },
        { direction: 'ingress', cidrs: everywhere, ports: 'all ports' },
      ],
    },
    {
      pods: ['api-5c6b9d-q'],
      apart: ['quarantine=true'],
      edges: [{ id: `${API}->${CLIENT}`, source: API, target: CLIENT, ports: 'none' }],
      outside: [{ direction: 'ingress', cidrs: everywhere, ports: 'all ports' }],
    },
  ]);
});

test('a workload whose pods are alike has no pod groups', async () => {
  const alike = QUARANTINE.replace('quarantine: "true"}', 'quarantine: "false"}');
  assert.notEqual(alike, QUARANTINE);
  const api = await details(alike, API);
  assert.equal(api.podGroups, undefined);
});
