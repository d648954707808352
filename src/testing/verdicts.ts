/**
 * Test support for semantics tests: clusters written as YAML, and questions asked of both evaluators.
 * Every expectation is checked against both, so a test fails when either one strays from the Kubernetes
 * semantics, not only when they disagree with each other.
 */
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseAddress } from '../engine/addresses.ts';
import { DEFAULT_OPTIONS, type Endpoint, type EngineOptions } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import { contains } from '../engine/intervals.ts';
import { intersectPorts } from '../engine/ports.ts';
import { referenceAllows } from '../engine/reference.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { Pod, Protocol, Snapshot } from '../model/types.ts';

export interface PodSpec {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  ips?: string[];
  ports?: { name: string; containerPort: number; protocol?: Protocol }[];
  hostNetwork?: boolean;
  /** Name of the ReplicaSet that controls the pod, to group pods into one workload. */
  owner?: string;
}

export function pod(spec: PodSpec): string {
  const owner = spec.owner
    ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: spec.owner, controller: true }] }
    : {};
  return stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? 'default',
      labels: spec.labels ?? {},
      ...owner,
    },
    spec: {
      hostNetwork: spec.hostNetwork ?? false,
      containers: [{ name: 'main', image: 'app', ports: spec.ports ?? [] }],
    },
    status: { phase: 'Running', podIPs: (spec.ips ?? []).map((ip) => ({ ip })) },
  });
}

export function namespace(name: string, labels: Record<string, string> = {}): string {
  return stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
}

export function dedent(text: string): string {
  const lines = text
    .replace(/^\s*\n/, '')
    .trimEnd()
    .split('\n');
  const indent = Math.min(
    ...lines.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)?.[0].length ?? 0),
  );
  return lines.map((line) => line.slice(indent)).join('\n');
}

/** A NetworkPolicy whose spec is written as an indented YAML block. */
export function policy(name: string, spec: string, policyNamespace = 'default'): string {
  const body = dedent(spec)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return [
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    `metadata: { name: ${name}, namespace: ${policyNamespace} }`,
    'spec:',
    body,
  ].join('\n');
}

export function cluster(...documents: string[]): Snapshot {
  return clusterWarning(undefined, ...documents);
}

/**
 * An unexpected warning means the loader dropped or reinterpreted part of the input the test relies on,
 * so every warning must be the one expected.
 */
export function clusterWarning(expected: RegExp | undefined, ...documents: string[]): Snapshot {
  const snapshot = buildSnapshot([{ path: 'semantics.yaml', text: documents.join('\n---\n') }]);
  const messages = snapshot.warnings.map((w) => w.message);
  if (expected === undefined) assert.deepEqual(messages, []);
  else {
    assert.notEqual(messages.length, 0, `expected a warning matching ${expected}`);
    for (const message of messages) assert.match(message, expected);
  }
  return snapshot;
}

export function findPod(snapshot: Snapshot, ref: string): Pod {
  const [ns, name] = ref.split('/');
  const found = snapshot.pods.find((p) => p.namespace === ns && p.name === name);
  if (!found) throw new Error(`no pod ${ref}`);
  return found;
}

/** `namespace/name` names a pod; anything else is an address outside the pods. */
export function endpoint(snapshot: Snapshot, ref: string): Endpoint {
  return ref.includes('/') ? { pod: findPod(snapshot, ref) } : { ip: ref };
}

export function externalAllows(
  engine: Engine,
  subject: Pod,
  ip: string,
  direction: 'ingress' | 'egress',
  protocol: Protocol,
  port: number,
): boolean {
  const bySide = contains(engine.explainSide(subject, { ip }, direction).ports[protocol], port);
  const address = parseAddress(ip) as bigint;
  const group = engine
    .externalPorts(engine.classOf(subject), direction)
    .find((g) => contains(g.addresses, address));
  const byPartition = group !== undefined && contains(group.ports[protocol], port);
  assert.equal(byPartition, bySide, `externalPorts and explainSide disagree on ${ip} (${direction})`);
  return bySide;
}

/** The fast engine's answer, read every way it offers one, which must all agree. */
export function engineAllows(
  engine: Engine,
  src: Endpoint,
  dst: Endpoint,
  protocol: Protocol,
  port: number,
): boolean {
  if ('pod' in src && 'pod' in dst) {
    const allowed = contains(engine.portsBetween(src.pod, dst.pod)[protocol], port);
    if (src.pod !== dst.pod) {
      const sides = intersectPorts(
        engine.explainSide(src.pod, dst, 'egress').ports,
        engine.explainSide(dst.pod, src, 'ingress').ports,
      );
      assert.equal(contains(sides[protocol], port), allowed, 'explainSide disagrees with portsBetween');
    }
    return allowed;
  }
  if ('pod' in src && 'ip' in dst) return externalAllows(engine, src.pod, dst.ip, 'egress', protocol, port);
  if ('ip' in src && 'pod' in dst) return externalAllows(engine, dst.pod, src.ip, 'ingress', protocol, port);
  throw new Error('a question needs at least one pod');
}

/** [from, to, `PROTOCOL/port`, allowed] */
export type Case = readonly [string, string, string, boolean];

export function expectVerdicts(
  snapshot: Snapshot,
  cases: readonly Case[],
  options: Partial<EngineOptions> = {},
): void {
  const opts = { ...DEFAULT_OPTIONS, ...options };
  const engine = new Engine(snapshot, opts);
  for (const [from, to, query, allowed] of cases) {
    const [protocol, portText] = query.split('/') as [Protocol, string];
    const port = Number(portText);
    const src = endpoint(snapshot, from);
    const dst = endpoint(snapshot, to);
    const what = `${from} → ${to} ${query} with ${JSON.stringify(opts)}`;
    assert.equal(referenceAllows(snapshot, src, dst, protocol, port, opts), allowed, `reference: ${what}`);
    assert.equal(engineAllows(engine, src, dst, protocol, port), allowed, `engine: ${what}`);
  }
}
