import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Connection, computeConnectivity } from '../analysis/connectivity.ts';
import { Engine } from '../engine/engine.ts';
import { NO_PORTS } from '../engine/ports.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import { type ConnectivityReport, connectivityJson, renderConnectivity } from './connectivity.ts';

// web accepts only db on TCP 8080 and 9000-9100 and sends only DNS; db is unrestricted.
const MANIFESTS = `
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop, labels: { app: web } }
spec: { containers: [{ name: c }] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: shop, labels: { app: db } }
spec: { containers: [{ name: c }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress, Egress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: db } } }]
      ports: [{ port: 8080 }, { port: 9000, endPort: 9100 }]
  egress:
    - to: [{ ipBlock: { cidr: 10.96.0.10/32 } }]
      ports: [{ port: 53, protocol: UDP }]
`;

const INVALID = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: broken, namespace: shop }
spec:
  podSelector: {}
  ingress: [{ from: [{ ipBlock: { cidr: not-a-cidr } }] }]
`;

function report(text = MANIFESTS, skipInvalid = false): ConnectivityReport {
  const snapshot = buildSnapshot([{ path: 'cluster.yaml', text }], { skipInvalid });
  return { snapshot, connections: computeConnectivity(new Engine(snapshot)), options: {} };
}

function emptySnapshot(): Snapshot {
  return buildSnapshot([]);
}

/** Peer names no real manifest produces, to exercise each format's quoting. */
const AWKWARD: Connection = {
  src: { workload: 'a/say "hi"|x[Pod]' },
  dst: { external: ['10.0.0.0/8', '192.168.0.0/16'] },
  ports: { ...NO_PORTS, TCP: [[443, 443]] },
  dependsOn: [],
};

test('json: connections carry workload or external peers and port ranges per protocol', () => {
  const json = JSON.parse(renderConnectivity(report(), 'json'));
  assert.deepEqual(json.connections, [
    {
      src: { workload: 'shop/db[Pod]' },
      dst: { workload: 'shop/web[Pod]' },
      ports: {
        TCP: [
          [8080, 8080],
          [9000, 9100],
        ],
      },
    },
    {
      src: { workload: 'shop/db[Pod]' },
      dst: { external: ['0.0.0.0/0', '::/0'] },
      ports: { TCP: [[1, 65535]], UDP: [[1, 65535]], SCTP: [[1, 65535]], ICMP: [[0, 255]] },
    },
    { src: { workload: 'shop/web[Pod]' }, dst: { external: ['10.96.0.10/32'] }, ports: { UDP: [[53, 53]] } },
    {
      src: { external: ['0.0.0.0/0', '::/0'] },
      dst: { workload: 'shop/db[Pod]' },
      ports: { TCP: [[1, 65535]], UDP: [[1, 65535]], SCTP: [[1, 65535]], ICMP: [[0, 255]] },
    },
  ]);
  assert.equal(json.partial, false);
  assert.equal(json.inputs[0].path, 'cluster.yaml');
  assert.match(json.inputs[0].sha256, /^[0-9a-f]{64}$/);
});

test('json: a pair with nothing allowed is left out', () => {
  const pairs = connectivityJson(report()).connections.map((c) => JSON.stringify([c.src, c.dst]));
  assert.ok(!pairs.includes(JSON.stringify([{ workload: 'shop/web[Pod]' }, { workload: 'shop/db[Pod]' }])));
});

test('json: partial results say so', () => {
  assert.equal(connectivityJson(report(MANIFESTS + INVALID, true)).partial, true);
});

test('csv: a header, then one row per protocol with ranges separated by spaces', () => {
  const lines = renderConnectivity(report(), 'csv').trimEnd().split('\n');
  assert.equal(lines[0], 'src,dst,protocol,ports,note');
  assert.ok(lines.includes('shop/db[Pod],shop/web[Pod],TCP,8080 9000-9100,'));
  assert.ok(lines.includes('shop/web[Pod],10.96.0.10/32,UDP,53,'));
  // Three protocols and ICMP (its types) for each of the two unrestricted pairs, plus the two restricted ones.
  assert.equal(lines.length, 1 + 2 + 4 * 2);
  assert.deepEqual(
    lines.filter((l) => l.startsWith('shop/db[Pod],"0.0.0.0/0,::/0"')),
    [
      ...['TCP', 'UDP', 'SCTP'].map((p) => `shop/db[Pod],"0.0.0.0/0,::/0",${p},1-65535,`),
      'shop/db[Pod],"0.0.0.0/0,::/0",ICMP,0-255,',
    ],
  );
});

test('csv: fields with commas or quotes are quoted, quotes doubled', () => {
  const csv = renderConnectivity({ ...report(), connections: [AWKWARD] }, 'csv');
  assert.equal(
    csv,
    'src,dst,protocol,ports,note\n"a/say ""hi""|x[Pod]","10.0.0.0/8,192.168.0.0/16",TCP,443,\n',
  );
});

test('md: a table with a row per connection', () => {
  const lines = renderConnectivity(report(), 'md').trimEnd().split('\n');
  assert.equal(lines[0], '# Allowed connections');
  const table = lines.filter((l) => l.startsWith('|'));
  assert.deepEqual(table.slice(0, 3), [
    '| Source | Destination | Ports |',
    '| --- | --- | --- |',
    '| shop/db[Pod] | shop/web[Pod] | TCP 8080,9000-9100 |',
  ]);
  assert.equal(table.length, 2 + 4);
  assert.ok(!lines.some((l) => l.includes('Partial')));
});

test('md: pipes in cells are escaped so the table keeps its columns', () => {
  const md = renderConnectivity({ ...report(), connections: [AWKWARD] }, 'md');
  assert.ok(md.includes('| a/say "hi"\\|x[Pod] | 10.0.0.0/8,192.168.0.0/16 | TCP 443 |'));
});

test('md: partial results carry a banner', () => {
  assert.match(renderConnectivity(report(MANIFESTS + INVALID, true), 'md'), /\*\*Partial result:\*\*/);
});

test('dot: a digraph with one labelled edge per connection', () => {
  const dot = renderConnectivity(report(), 'dot');
  assert.match(dot, /^digraph connectivity \{\n/);
  assert.match(dot, /\}\n$/);
  const edges = dot.split('\n').filter((l) => l.includes('->'));
  assert.equal(edges.length, 4);
  assert.ok(edges.includes('  "shop/db[Pod]" -> "shop/web[Pod]" [label="TCP 8080,9000-9100"];'));
  assert.ok(edges.includes('  "shop/web[Pod]" -> "10.96.0.10/32" [label="UDP 53"];'));
});

test('dot: quotes in names are escaped', () => {
  const dot = renderConnectivity({ ...report(), connections: [AWKWARD] }, 'dot');
  assert.ok(dot.includes('"a/say \\"hi\\"|x[Pod]" -> "10.0.0.0/8,192.168.0.0/16" [label="TCP 443"];'));
});

test('text: one line per connection with its ports and what it depends on', () => {
  const lines = renderConnectivity(report(), 'text').trimEnd().split('\n');
  assert.deepEqual(lines, [
    'shop/db[Pod] => shop/web[Pod] : TCP 8080,9000-9100',
    'shop/db[Pod] => 0.0.0.0/0,::/0 : all ports',
    'shop/web[Pod] => 10.96.0.10/32 : UDP 53',
    '0.0.0.0/0,::/0 => shop/db[Pod] : all ports',
  ]);
  const noted = renderConnectivity(
    { ...report(), connections: [{ ...AWKWARD, dependsOn: ['ipblock-matches-pods', 'hostNetwork'] }] },
    'text',
  );
  assert.match(noted, /: TCP 443 {2}\(depends on: ipblock-matches-pods, hostNetwork\)\n$/);
});

test('text: says when nothing is allowed, and marks partial results', () => {
  assert.equal(
    renderConnectivity({ snapshot: emptySnapshot(), connections: [], options: {} }, 'text'),
    'no connections are allowed\n',
  );
  assert.match(renderConnectivity(report(MANIFESTS + INVALID, true), 'text'), /^# PARTIAL/);
});
