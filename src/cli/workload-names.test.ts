import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runPhiwall } from '../testing/cli.ts';

/** `kubectl get deploy,rs,pods -o yaml` of one Deployment, and a client pod. */
const DUMP = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: web }
spec: { template: { metadata: { labels: { app: api } } } }
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-5c6b9d
  namespace: web
  ownerReferences: [{ kind: Deployment, name: api, controller: true }]
spec: { template: { metadata: { labels: { app: api, pod-template-hash: 5c6b9d } } } }
---
apiVersion: v1
kind: Pod
metadata:
  name: api-5c6b9d-a
  namespace: web
  labels: { app: api, pod-template-hash: 5c6b9d }
  ownerReferences: [{ kind: ReplicaSet, name: api-5c6b9d, controller: true }]
status: { podIP: 10.0.0.1 }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: web, labels: { app: client } }
status: { podIP: 10.0.0.3 }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-egress, namespace: web }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Egress]
  egress: [{ to: [{ podSelector: { matchLabels: { app: client } } }], ports: [{ port: 80 }] }]
`;

const run = (...args: string[]) => runPhiwall(args, { stdin: DUMP });

test('every command names the Deployment; --workload-names controller, before or after the command, the ReplicaSet', async () => {
  const top = await run('connectivity', '-', '--focus', 'web/api');
  assert.equal(top.code, 0, top.stderr);
  assert.equal(
    top.stdout,
    'web/api[Deployment] => web/client[Pod] : TCP 80\nweb/client[Pod] => web/api[Deployment] : all ports\n0.0.0.0/0,::/0 => web/api[Deployment] : all ports\n',
  );
  for (const args of [
    ['--workload-names', 'controller', 'connectivity', '-', '--focus', 'web/api-5c6b9d'],
    ['connectivity', '-', '--focus', 'web/api-5c6b9d', '--workload-names', 'controller'],
  ]) {
    const controller = await run(...args);
    assert.equal(controller.code, 0, controller.stderr);
    assert.match(controller.stdout, /^web\/api-5c6b9d\[ReplicaSet\] => web\/client\[Pod\] : TCP 80$/m);
  }
  const explained = await run('explain', 'web/api', 'web/client', '-', '--port', '80');
  assert.match(
    explained.stdout,
    /^web\/api\[Deployment\] -> web\/client\[Pod\]\nVerdict on TCP 80: ALLOWED$/m,
  );
  const byReplicaSet = await run('explain', 'web/api-5c6b9d', 'web/client', '-', '--port', '81');
  assert.match(byReplicaSet.stdout, /Verdict on TCP 81: DENIED/);
  const bad = await run('--workload-names', 'deployment', 'connectivity', '-');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /argument 'deployment' is invalid. Allowed choices are top, controller/);
});
