import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FlowEndpoint, ObservedFlow } from '../../model/flows.ts';
import { NO_PORT } from './calico.ts';
import { readAll, SHARED_FLOWS } from './test-support.ts';

/**
 * Records Cilium and Calico really wrote (../shared/flows/README.md says where each comes from), and the
 * connections each set stands for.
 */

type Connection = [src: string, dst: string, protocol: string, port: number, verdict: string, events: number];

interface Expected {
  connections: Connection[];
  ignored: Record<string, number>;
}

/** An end as the tests name it: `namespace/workload-or-pod`, or the address. */
function named(end: FlowEndpoint): string {
  return end.namespace !== undefined ? `${end.namespace}/${end.workload ?? end.pod}` : (end.ip ?? '?');
}

const EXPECTED: Record<string, Expected> = {
  // Two reply packets, and a same-node TO_ENDPOINT trace that Cilium marks EGRESS (the source is local).
  'hubble-aks-retina.jsonl': {
    connections: [['default/kapinger-bad', 'default/kapinger-good', 'TCP', 8080, 'forwarded', 1]],
    ignored: { reply: 2 },
  },
  'hubble-cilium-docs-exporter.jsonl': {
    connections: [['default/xwing', 'default/deathstar-7848d6c4d5-th9v2', 'TCP', 80, 'dropped', 1]],
    ignored: { ICMP: 1 },
  },
  // The node's host delivering to CoreDNS on the same node: TO_ENDPOINT, EGRESS.
  'hubble-eks-exporter.jsonl': {
    connections: [['192.168.85.176', 'kube-system/coredns', 'TCP', 8181, 'forwarded', 1]],
    ignored: {},
  },
  'hubble-k3d-drop.jsonl': {
    connections: [['agent-restricted/agent-probe', 'corp-prod/corp-prod-target', 'TCP', 8080, 'dropped', 1]],
    ignored: {},
  },
  'hubble-policy-verdict-118.jsonl': {
    connections: [
      ['net-lab/traffic-generator', 'net-lab/echo-server-65887564dc-jjw7k', 'TCP', 80, 'dropped', 1],
    ],
    ignored: {},
  },
  // One drop printed three ways (legacy json, jsonpb, jsonpb with an IP trace id): one 5-tuple.
  'hubble-printer-test.jsonl': {
    connections: [['1.1.1.1', '2.2.2.2', 'TCP', 8080, 'dropped', 3]],
    ignored: {},
  },
  // The node's host to two internet addresses (TO_NETWORK), and a reply.
  'hubble-tke-exporter.jsonl': {
    connections: [
      ['10.10.21.241', '9.134.108.44', 'TCP', 9922, 'forwarded', 1],
      ['10.10.21.241', '183.47.117.75', 'TCP', 9988, 'forwarded', 1],
    ],
    ignored: { reply: 1 },
  },
  'calico-felix-flowslog.jsonl': {
    connections: [
      ['default/multitool', 'hipstershop/checkoutservice-598d5b586d-*', 'TCP', 5050, 'dropped', 1],
    ],
    ignored: {},
  },
  // dest_port 0: aggregated away, not a broken record.
  'calico-es-hit.jsonl': { connections: [], ignored: { [NO_PORT]: 1 } },
  'calico-whisker-3.32.jsonl': {
    connections: [
      ['storefront/scraper-655c844475-*', 'storefront/web-574ff6d9fd-*', 'TCP', 80, 'dropped', 1],
      ['storefront/shopper-6fd84cfbb4-*', 'payments/ledger-api-5cd68f8d6c-*', 'TCP', 80, 'dropped', 1],
      ['storefront/scraper-655c844475-*', 'kube-system/coredns-559f6c778d-*', 'UDP', 53, 'forwarded', 1],
    ],
    ignored: {},
  },
};

const present = existsSync(SHARED_FLOWS);
const SKIP = present ? false : `${SHARED_FLOWS} is absent (the shared corpus of real flow logs)`;

test('shared flow samples: every sample has its expected connections here', { skip: SKIP }, () => {
  const samples = readdirSync(SHARED_FLOWS).filter((name) => name.endsWith('.jsonl'));
  assert.ok(samples.length > 0);
  assert.deepEqual(samples.sort(), Object.keys(EXPECTED).sort());
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`shared flow samples: ${name}`, { skip: SKIP }, async () => {
    const { flows, stats } = await readAll(join(SHARED_FLOWS, name));
    assert.deepEqual(stats.malformed, { count: 0 });
    assert.deepEqual(
      flows.map(
        (f: ObservedFlow): Connection => [
          named(f.src),
          named(f.dst),
          f.protocol,
          f.port,
          f.verdict,
          f.events,
        ],
      ),
      expected.connections,
    );
    assert.deepEqual(stats.ignored, expected.ignored);
    // Nothing lost: every record is in a connection, ignored, or malformed.
    const ignored = Object.values(stats.ignored).reduce((a, b) => a + b, 0);
    assert.equal(stats.events + ignored, stats.lines);
  });
}

test('shared flow samples: Whisker labels are split and Calico’s own dropped; drops keep their reason', {
  skip: SKIP,
}, async () => {
  const whisker = await readAll(join(SHARED_FLOWS, 'calico-whisker-3.32.jsonl'));
  assert.deepEqual(whisker.flows[0]?.src.labels, {
    app: 'scraper',
    'pod-template-hash': '655c844475',
    team: 'storefront',
  });
  assert.equal(whisker.flows[0]?.time, '2026-09-27T11:32:15.000Z');
  const verdict = await readAll(join(SHARED_FLOWS, 'hubble-policy-verdict-118.jsonl'));
  assert.equal(verdict.flows[0]?.dropReason, 'POLICY_DENY');
  const printer = await readAll(join(SHARED_FLOWS, 'hubble-printer-test.jsonl'));
  // The legacy printer gives the reason only as the drop event's sub-type (133).
  assert.equal(printer.flows[0]?.dropReason, 'POLICY_DENIED');
});
