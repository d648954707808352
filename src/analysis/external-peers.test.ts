import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressGroups, coveringCidrs, DEFAULT_GROUPING, groupExternalEdges } from './external-peers.ts';

test('external addresses: a configured network first, then private or public', () => {
  const groups = new AddressGroups([
    { name: 'corporate VPN', cidrs: ['10.200.0.0/16'] },
    { name: 'partner lab', cidrs: ['198.51.100.0/28', '2001:db8:1::/48'] },
  ]);
  const label = (ip: string) => groups.of(ip).label;
  assert.equal(label('10.200.3.4'), 'corporate VPN');
  assert.equal(label('10.1.2.3'), 'private addresses');
  assert.equal(label('192.168.1.1'), 'private addresses');
  assert.equal(label('100.64.0.1'), 'private addresses');
  assert.equal(label('fd00::1'), 'private addresses');
  assert.equal(label('198.51.100.9'), 'partner lab');
  assert.equal(label('2001:db8:1::5'), 'partner lab');
  assert.equal(label('198.51.100.99'), 'internet');
  assert.equal(label('203.0.113.7'), 'internet');
  assert.equal(label('2001:db8:2::1'), 'internet');
  assert.deepEqual(groups.of('10.200.3.4').cidrs, ['10.200.0.0/16']);
});

test('external addresses: the smallest covering blocks no wider than the prefix length', () => {
  const prefix = DEFAULT_GROUPING.prefixLength;
  assert.deepEqual(coveringCidrs(['203.0.113.7'], prefix), ['203.0.113.7/32']);
  assert.deepEqual(coveringCidrs(['203.0.113.4', '203.0.113.7', '203.0.113.5'], prefix), ['203.0.113.4/30']);
  assert.deepEqual(coveringCidrs(['203.0.113.1', '203.0.113.200'], prefix), ['203.0.113.0/24']);
  // Never wider than the prefix length: two /24s stay two blocks.
  assert.deepEqual(coveringCidrs(['203.0.114.9', '203.0.113.1', '203.0.113.2'], prefix), [
    '203.0.113.0/30',
    '203.0.114.9/32',
  ]);
  assert.deepEqual(coveringCidrs(['203.0.113.1', '203.0.113.200'], { v4: 28, v6: 64 }), [
    '203.0.113.1/32',
    '203.0.113.200/32',
  ]);
  assert.deepEqual(coveringCidrs(['2001:db8::1', '2001:db8::3', '203.0.113.7'], prefix), [
    '203.0.113.7/32',
    '2001:db8::/126',
  ]);
  assert.deepEqual(coveringCidrs(['not an address'], prefix), []);
});

test('external edges: one per address group and other end, every address kept with its count', () => {
  interface Edge {
    src: { ip: string } | { workload: string };
    dst: { ip: string } | { workload: string };
    count: number;
    events: number;
    firstSeen?: string;
    lastSeen?: string;
  }
  const edge = (ip: string, workload: string, count: number, time: string): Edge => ({
    src: { ip },
    dst: { workload },
    count,
    events: count * 2,
    firstSeen: time,
    lastSeen: time,
  });
  const groups = new AddressGroups([{ name: 'corporate VPN', cidrs: ['10.200.0.0/16'] }]);
  const grouped = groupExternalEdges<Edge>(
    [
      edge('203.0.113.7', 'web/ingress', 3, '2026-01-01T00:00:02Z'),
      edge('198.51.100.20', 'web/ingress', 2, '2026-01-01T00:00:01Z'),
      edge('10.200.1.1', 'web/ingress', 1, '2026-01-01T00:00:03Z'),
      edge('203.0.113.8', 'web/api', 1, '2026-01-01T00:00:04Z'),
      { src: { workload: 'web/api' }, dst: { workload: 'web/db' }, count: 5, events: 5 },
    ],
    groups,
    () => '',
  );
  assert.deepEqual(
    grouped.map((e) => [
      e.external?.group.label ?? '-',
      'workload' in e.dst ? e.dst.workload : '',
      e.count,
      e.events,
      e.firstSeen,
      e.lastSeen,
      e.external?.addresses.map((a) => `${a.ip}×${a.count}`).join(' '),
    ]),
    [
      [
        'internet',
        'web/ingress',
        5,
        10,
        '2026-01-01T00:00:01Z',
        '2026-01-01T00:00:02Z',
        '203.0.113.7×3 198.51.100.20×2',
      ],
      ['corporate VPN', 'web/ingress', 1, 2, '2026-01-01T00:00:03Z', '2026-01-01T00:00:03Z', '10.200.1.1×1'],
      ['internet', 'web/api', 1, 2, '2026-01-01T00:00:04Z', '2026-01-01T00:00:04Z', '203.0.113.8×1'],
      ['-', 'web/db', 5, 5, undefined, undefined, undefined],
    ],
  );
});
