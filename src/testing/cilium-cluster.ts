import type { EngineOptions } from '../engine/endpoint.ts';
import { yaml } from './yaml.ts';

/**
 * Test cluster for Cilium semantics: three pods in shop (web, api with named port http 8080, db with
 * service account `db`), tool in ops (labelled app=web too), hostNetwork pods agent on node n1 and
 * outsider on n2, which Cilium's chart keeps off (cilium.io/no-schedule), so its address is world.
 */
export const CILIUM_CLUSTER = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: {name: shop, labels: {team: shop}}
  ---
  apiVersion: v1
  kind: Namespace
  metadata: {name: ops}
  ---
  apiVersion: v1
  kind: Node
  metadata: {name: n1}
  status: {addresses: [{type: InternalIP, address: 192.168.0.1}]}
  ---
  apiVersion: v1
  kind: Node
  metadata: {name: n2, labels: {cilium.io/no-schedule: "true"}}
  status: {addresses: [{type: InternalIP, address: 192.168.0.2}]}
  ---
  apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: shop, labels: {app: web}}
  spec: {containers: [{name: c, image: i}]}
  status: {podIP: 10.0.0.1}
  ---
  apiVersion: v1
  kind: Pod
  metadata: {name: api, namespace: shop, labels: {app: api}}
  spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
  status: {podIP: 10.0.0.2}
  ---
  apiVersion: v1
  kind: Pod
  metadata: {name: db, namespace: shop, labels: {app: db}}
  spec: {serviceAccountName: db, containers: [{name: c, image: i}]}
  status: {podIP: 10.0.0.3}
  ---
  apiVersion: v1
  kind: Pod
  metadata: {name: tool, namespace: ops, labels: {app: web}}
  spec: {containers: [{name: c, image: i}]}
  status: {podIP: 10.0.1.1}
  ---
  apiVersion: v1
  kind: Pod
  metadata: {name: agent, namespace: ops, labels: {app: agent}}
  spec: {hostNetwork: true, containers: [{name: c, image: i}]}
  status: {podIP: 192.168.0.1}
  ---
  apiVersion: v1
  kind: Pod
  metadata: {name: outsider, namespace: ops, labels: {app: outsider}}
  spec: {hostNetwork: true, containers: [{name: c, image: i}]}
  status: {podIP: 192.168.0.2}
`;

/** The engine as Cilium enforces policy (the `cilium` CNI profile): what the Cilium tests analyse with. */
export const CILIUM_OPTIONS: EngineOptions = {
  ipBlockMatchesPods: false,
  hostNetwork: 'node',
  ciliumIdentity: true,
};
