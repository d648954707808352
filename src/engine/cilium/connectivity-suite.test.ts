import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadSnapshot } from '../../load/snapshot.ts';
import type { Pod } from '../../model/types.ts';
import { CILIUM_OPTIONS } from '../../testing/cilium-cluster.ts';
import { parseAddress } from '../addresses.ts';
import type { Endpoint } from '../endpoint.ts';
import { Engine } from '../engine.ts';
import { contains } from '../intervals.ts';
import type { PortSet, Transport } from '../ports.ts';
import { referenceAllows } from '../reference.ts';

/**
 * Cilium's own connectivity suite (`cilium connectivity test`), as data in ../shared: every L3/L4
 * policy case and the verdict Cilium asserts for each connection it tries. Both the engine and the
 * reference evaluator must give Cilium's verdict, under the `cilium` profile's options.
 */
const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/cilium-connectivity/', import.meta.url));

interface Check {
  from: string;
  to: string;
  protocol: 'TCP' | 'ICMP';
  port?: number;
  icmp_type?: number;
  allowed: boolean;
}

interface Case {
  name: string;
  policies: string[];
  checks: Check[];
}

function readCases(): { dir: string; spec: Case }[] {
  return readdirSync(join(CORPUS, 'cases'))
    .sort()
    .map((name) => {
      const dir = join(CORPUS, 'cases', name);
      return { dir, spec: parse(readFileSync(join(dir, 'checks.yaml'), 'utf8')) as Case };
    });
}

function allows(ports: PortSet, protocol: Transport, port: number): boolean {
  return contains(ports[protocol], port);
}

/** What the engine allows between two ends; an external end is looked up in the other's address table. */
function engineAllows(
  engine: Engine,
  from: Endpoint,
  to: Endpoint,
  protocol: Transport,
  port: number,
): boolean {
  if ('pod' in from && 'pod' in to) return allows(engine.portsBetween(from.pod, to.pod), protocol, port);
  const [pod, ip, direction] =
    'pod' in from
      ? [from.pod, (to as { ip: string }).ip, 'egress' as const]
      : [(to as { pod: Pod }).pod, from.ip, 'ingress' as const];
  const address = parseAddress(ip) as bigint;
  const entry = engine
    .externalPorts(engine.classOf(pod), direction)
    .find((e) => contains(e.addresses, address));
  return entry !== undefined && allows(entry.ports, protocol, port);
}

describe('Cilium connectivity suite', { skip: existsSync(CORPUS) ? false : `${CORPUS} is absent` }, () => {
  const cases = existsSync(CORPUS) ? readCases() : [];
  test('the corpus holds every case the README lists', () => {
    assert.equal(cases.length, 53);
    assert.equal(
      cases.reduce((n, c) => n + c.spec.checks.length, 0),
      417,
    );
  });
  for (const { dir, spec } of cases) {
    test(spec.name, () => {
      const files = [join(CORPUS, 'topology.yaml'), ...spec.policies.map((p) => join(dir, p))];
      const snapshot = loadSnapshot(files);
      const engine = new Engine(snapshot, CILIUM_OPTIONS);
      const endpoint = (text: string): Endpoint => {
        if (!text.includes('/')) return { ip: text };
        const pod = snapshot.pods.find((p) => `${p.namespace}/${p.name}` === text);
        assert.ok(pod, `no pod ${text} in the topology`);
        return { pod };
      };
      assert.ok(spec.checks.length > 0);
      const wrong: string[] = [];
      for (const check of spec.checks) {
        const from = endpoint(check.from);
        const to = endpoint(check.to);
        const protocol: Transport = check.protocol;
        const port = (check.protocol === 'ICMP' ? check.icmp_type : check.port) as number;
        const what = `${check.from} -> ${check.to} ${check.protocol} ${port}: expected ${check.allowed ? 'allowed' : 'denied'}`;
        if (engineAllows(engine, from, to, protocol, port) !== check.allowed) wrong.push(`engine: ${what}`);
        if (referenceAllows(snapshot, from, to, protocol, port, CILIUM_OPTIONS) !== check.allowed)
          wrong.push(`reference: ${what}`);
      }
      assert.deepEqual(wrong, []);
    });
  }
});
