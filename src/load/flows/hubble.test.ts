import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ObservedFlow } from '../../model/flows.ts';
import { mapHubbleRecord } from './hubble.ts';
import { HUBBLE_COUNTING, TRANSIT_ONLY } from './hubble-connections.ts';
import { guarded, type RecordResult } from './records.ts';
import { fixture, readAll, readLines } from './test-support.ts';

const AT = { file: 'flows.jsonl', line: 7 };

function map(record: unknown): RecordResult {
  return guarded(() => mapHubbleRecord(record, AT));
}

/** A minimal flow as Hubble writes it: an INGRESS policy verdict from one pod to another on TCP 8443. */
function hubbleFlow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time: '2024-05-10T09:12:33.101980112Z',
    verdict: 'FORWARDED',
    IP: { source: '10.0.1.15', destination: '10.0.2.31', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 51234, destination_port: 8443, flags: { SYN: true } } },
    source: { namespace: 'portal', pod_name: 'frontend-7d9f8c6b5-x2x7q', labels: ['k8s:app=frontend'] },
    destination: {
      namespace: 'records',
      pod_name: 'records-api-5c8d7f9b4-k8j2m',
      labels: ['k8s:app=records-api'],
    },
    Type: 'L3_L4',
    event_type: { type: 5 },
    traffic_direction: 'INGRESS',
    is_reply: false,
    ...overrides,
  };
}

function flowOf(result: RecordResult): ObservedFlow {
  assert.equal(result.kind, 'flow', JSON.stringify(result));
  return (result as { flow: ObservedFlow }).flow;
}

const FRONTEND = {
  ip: '10.0.1.15',
  namespace: 'portal',
  pod: 'frontend-7d9f8c6b5-x2x7q',
  workload: 'frontend',
  labels: { app: 'frontend', tier: 'web' },
};
const RECORDS_API = {
  ip: '10.0.2.31',
  namespace: 'records',
  pod: 'records-api-5c8d7f9b4-k8j2m',
  workload: 'records-api',
  labels: { app: 'records-api', phi: 'true' },
};

const FLAT_IGNORED = {
  reply: 1,
  ICMP: 1,
  'dropped, not by policy (CT_MAP_INSERTION_FAILED)': 1,
  'L7 record (the packets carry the L3/L4 verdict)': 1,
  'socket event (SOCK)': 1,
  'verdict ERROR': 1,
};

test('hubble: the flat `hubble observe -o json` fixture maps every field', async () => {
  const path = fixture('hubble-flat.jsonl');
  const { flows, stats } = await readAll(path);
  assert.deepEqual(stats, {
    file: path,
    format: 'hubble',
    lines: 16,
    flows: 7,
    connections: 7,
    events: 10,
    counting: HUBBLE_COUNTING,
    malformed: { count: 0 },
    ignored: FLAT_IGNORED,
  });
  // Lines 1-3 are one connection (the source's egress verdict, the destination's ingress verdict, the
  // TO_ENDPOINT trace); 6-7 one DNS query (TO_STACK, then TO_ENDPOINT); line 14 reuses line 1's 5-tuple
  // three minutes later, past the 60 s a SYN keeps it open: a new connection.
  assert.deepEqual(
    flows.map((f) => [f.line, f.events]),
    [
      [1, 3],
      [5, 1],
      [6, 2],
      [9, 1],
      [10, 1],
      [11, 1],
      [14, 1],
    ],
  );
  assert.deepEqual(flows[0], {
    time: '2024-05-10T09:12:33.101Z',
    src: FRONTEND,
    dst: RECORDS_API,
    protocol: 'TCP',
    port: 8443,
    verdict: 'forwarded',
    count: 1,
    events: 3,
    file: path,
    line: 1,
    until: '2024-05-10T09:12:33.102Z',
  });
  assert.deepEqual(flows[1], {
    time: '2024-05-10T09:13:02.448Z',
    src: {
      ip: '10.0.3.22',
      namespace: 'billing',
      pod: 'invoices-6f7b9d8c4-p4q9z',
      workload: 'invoices',
      labels: { app: 'invoices' },
    },
    dst: {
      ip: '10.0.2.47',
      namespace: 'records',
      pod: 'records-db-0',
      workload: 'records-db',
      labels: { app: 'records-db', phi: 'true', 'statefulset.kubernetes.io/pod-name': 'records-db-0' },
    },
    protocol: 'TCP',
    port: 5432,
    verdict: 'dropped',
    dropReason: 'POLICY_DENIED',
    count: 1,
    events: 1,
    file: path,
    line: 5,
  });
  // reserved:world: outside the cluster, known by its address and that identity only.
  assert.deepEqual(flows[3], {
    time: '2024-05-10T09:14:11.301Z',
    src: { ip: '203.0.113.7', identity: 'world' },
    dst: FRONTEND,
    protocol: 'TCP',
    port: 443,
    verdict: 'forwarded',
    count: 1,
    events: 1,
    file: path,
    line: 9,
  });
  assert.deepEqual(
    flows.map((f) => [f.protocol, f.port, f.verdict]),
    [
      ['TCP', 8443, 'forwarded'],
      ['TCP', 5432, 'dropped'],
      ['UDP', 53, 'forwarded'],
      ['TCP', 443, 'forwarded'],
      ['TCP', 443, 'forwarded'],
      ['TCP', 5432, 'forwarded'],
      ['TCP', 8443, 'forwarded'],
    ],
  );
});

test('hubble: the wrapped GetFlowsResponse form reads as the flat form, events that are not flows ignored', async () => {
  const flat = await readAll(fixture('hubble-flat.jsonl'));
  const path = fixture('hubble-wrapped.jsonl');
  const { flows, stats } = await readAll(path);
  assert.equal(stats.format, 'hubble');
  assert.equal(stats.lines, 18);
  assert.deepEqual(stats.malformed, { count: 0 });
  assert.deepEqual(stats.ignored, {
    ...FLAT_IGNORED,
    'not a flow (node_status)': 1,
    'not a flow (lost_events)': 1,
  });
  // The node_status line comes first, so each record is one line further down.
  const strip = ({ file: _file, line, ...rest }: ObservedFlow) => ({ ...rest, line });
  assert.ok(flows.length > 0);
  assert.deepEqual(
    flows.map(strip),
    flat.flows.map((f) => ({ ...strip(f), line: f.line + 1 })),
  );
});

test('hubble: the wrapper time stands in when the flow has none', () => {
  const { time: _time, ...inner } = hubbleFlow();
  const flow = flowOf(map({ flow: inner, node_name: 'worker-2', time: '2024-05-10T10:00:00Z' }));
  assert.equal(flow.time, '2024-05-10T10:00:00.000Z');
  assert.equal(flowOf(map(inner)).time, undefined);
});

test('hubble: verdicts', () => {
  const cases: [unknown, string][] = [
    ['FORWARDED', 'flow forwarded'],
    ['DROPPED', 'flow dropped'],
    ['AUDIT', 'flow forwarded'],
    ['REDIRECTED', 'flow forwarded'],
    ['ERROR', 'ignored verdict ERROR'],
    ['TRACED', 'ignored verdict TRACED (observed, not decided)'],
    ['TRANSLATED', 'ignored verdict TRANSLATED (address translation)'],
    ['VERDICT_UNKNOWN', 'ignored no verdict (VERDICT_UNKNOWN)'],
    [1, 'flow forwarded'],
    [2, 'flow dropped'],
    [4, 'flow forwarded'],
    ['forwarded', 'malformed unknown verdict "forwarded"'],
    ['MAYBE', 'malformed unknown verdict "MAYBE"'],
    ['constructor', 'malformed unknown verdict "constructor"'],
    [9, 'malformed unknown verdict 9'],
    [true, 'malformed verdict: not a string: true'],
    [undefined, 'malformed missing verdict'],
  ];
  for (const [verdict, expected] of cases) {
    const result = map(hubbleFlow({ verdict }));
    const got =
      result.kind === 'flow'
        ? `flow ${result.flow.verdict}`
        : result.kind === 'ignored'
          ? `ignored ${result.reason}`
          : `malformed ${result.problem}`;
    assert.equal(got, expected, `verdict ${String(verdict)}`);
  }
});

test('hubble: replies are ignored, by is_reply or the deprecated reply field', () => {
  assert.deepEqual(map(hubbleFlow({ is_reply: true })), { kind: 'ignored', reason: 'reply' });
  assert.deepEqual(map(hubbleFlow({ is_reply: undefined, reply: true })), {
    kind: 'ignored',
    reason: 'reply',
  });
  // is_reply, when present, is the authority (reply suffers from false negatives, never false positives).
  assert.equal(map(hubbleFlow({ is_reply: false, reply: true })).kind, 'flow');
  assert.equal(map(hubbleFlow({ is_reply: undefined })).kind, 'flow');
});

/** The events of one connection as Cilium writes them, at times 0, 1, 2 … ms after 09:12:33. */
function events(...overrides: Record<string, unknown>[]): Record<string, unknown>[] {
  return overrides.map((o, i) =>
    hubbleFlow({ time: `2024-05-10T09:12:33.${String(i).padStart(3, '0')}Z`, ...o }),
  );
}

const EGRESS_VERDICT = { event_type: { type: 5 }, traffic_direction: 'EGRESS' };
const INGRESS_VERDICT = { event_type: { type: 5 }, traffic_direction: 'INGRESS' };
const FROM_ENDPOINT = {
  event_type: { type: 4 },
  traffic_direction: 'EGRESS',
  trace_observation_point: 'FROM_ENDPOINT',
};
const TO_OVERLAY = {
  event_type: { type: 4 },
  traffic_direction: 'EGRESS',
  trace_observation_point: 'TO_OVERLAY',
};
const TO_ENDPOINT = {
  event_type: { type: 4 },
  traffic_direction: 'INGRESS',
  trace_observation_point: 'TO_ENDPOINT',
};
const ESTABLISHED = { l4: { TCP: { source_port: 51234, destination_port: 8443, flags: { ACK: true } } } };
const FIN = { l4: { TCP: { source_port: 51234, destination_port: 8443, flags: { FIN: true, ACK: true } } } };
const SYN_ACK_REPLY = {
  ...TO_ENDPOINT,
  is_reply: true,
  IP: { source: '10.0.2.31', destination: '10.0.1.15' },
  l4: { TCP: { source_port: 8443, destination_port: 51234, flags: { SYN: true, ACK: true } } },
};

test('hubble: the events of one connection at every observation point and both ends are one connection', async () => {
  const { flows, stats } = await readLines(
    'flows.jsonl',
    events(
      EGRESS_VERDICT,
      FROM_ENDPOINT,
      TO_OVERLAY,
      INGRESS_VERDICT,
      TO_ENDPOINT,
      SYN_ACK_REPLY,
      { ...FROM_ENDPOINT, ...ESTABLISHED },
      { ...TO_ENDPOINT, ...ESTABLISHED },
      { ...TO_ENDPOINT, ...FIN },
    ),
  );
  assert.deepEqual(
    flows.map((f) => [f.line, f.verdict, f.count, f.events, f.time, f.until]),
    [[1, 'forwarded', 1, 8, '2024-05-10T09:12:33.000Z', '2024-05-10T09:12:33.008Z']],
  );
  assert.deepEqual([stats.connections, stats.events, stats.ignored], [1, 8, { reply: 1 }]);
});

test('hubble: a same-node delivery (TO_ENDPOINT with traffic_direction EGRESS) is a delivery', async () => {
  const sameNode = { ...TO_ENDPOINT, traffic_direction: 'EGRESS' };
  const { flows } = await readLines('flows.jsonl', events(FROM_ENDPOINT, sameNode));
  assert.deepEqual(
    flows.map((f) => [f.verdict, f.events]),
    [['forwarded', 2]],
  );
  // Traces only, no policy verdicts: still one connection.
  const traces = await readLines('flows.jsonl', events(FROM_ENDPOINT, TO_OVERLAY, TO_ENDPOINT));
  assert.deepEqual(
    traces.flows.map((f) => [f.verdict, f.events]),
    [['forwarded', 3]],
  );
});

test('hubble: allowed at the source and dropped by the destination is a drop; seen only leaving, it is counted apart', async () => {
  const denied = { ...INGRESS_VERDICT, verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' };
  const { flows } = await readLines('flows.jsonl', events(EGRESS_VERDICT, FROM_ENDPOINT, denied, denied));
  assert.deepEqual(
    flows.map((f) => [f.verdict, f.dropReason, f.events]),
    [['dropped', 'POLICY_DENIED', 4]],
  );
  // Only the source's node in the log: the destination may have dropped it, so it is not a forwarded flow.
  const leaving = await readLines('flows.jsonl', events(EGRESS_VERDICT, FROM_ENDPOINT, TO_OVERLAY));
  assert.deepEqual(leaving.flows, []);
  assert.deepEqual(leaving.stats.ignored, { [TRANSIT_ONLY]: 3 });
  // Towards an address outside the pods, the source's side is all there is.
  const world = await readLines(
    'flows.jsonl',
    events({
      ...EGRESS_VERDICT,
      IP: { source: '10.0.1.15', destination: '198.51.100.20' },
      destination: { identity: 2, labels: ['reserved:world'] },
    }),
  );
  assert.deepEqual(
    world.flows.map((f) => [f.dst, f.verdict]),
    [[{ ip: '198.51.100.20', identity: 'world' }, 'forwarded']],
  );
  // A pod Hubble knows by identity only (no pod name yet) is still a pod.
  const byIdentity = await readLines(
    'flows.jsonl',
    events({ ...EGRESS_VERDICT, destination: { namespace: 'records', labels: ['k8s:app=records-api'] } }),
  );
  assert.deepEqual(byIdentity.stats.ignored, { [TRANSIT_ONLY]: 1 });
});

test('hubble: a SYN after the connection carried packets, or a 5-tuple idle past the conntrack timeout, is a new connection', async () => {
  const at = (time: string, o: Record<string, unknown>) => hubbleFlow({ ...TO_ENDPOINT, ...o, time });
  const { flows } = await readLines('flows.jsonl', [
    at('2024-05-10T09:00:00Z', {}),
    at('2024-05-10T09:00:01Z', {}), // a retransmitted SYN: the same connection
    at('2024-05-10T09:00:02Z', ESTABLISHED),
    at('2024-05-10T09:00:03Z', {}), // the port reused: a new connection
    at('2024-05-10T09:00:04Z', FIN),
    at('2024-05-10T09:00:30Z', ESTABLISHED), // 26 s after FIN: past the 10 s Cilium keeps a closed one
    at('2024-05-10T09:00:31Z', { l4: { UDP: { source_port: 51234, destination_port: 8443 } } }),
    at('2024-05-10T09:01:30Z', { l4: { UDP: { source_port: 51234, destination_port: 8443 } } }),
    at('2024-05-10T09:02:31Z', { l4: { UDP: { source_port: 51234, destination_port: 8443 } } }),
  ]);
  assert.deepEqual(
    flows.map((f) => [f.line, f.protocol, f.events]),
    [
      [1, 'TCP', 3],
      [4, 'TCP', 2],
      [6, 'TCP', 1],
      [7, 'UDP', 2],
      [9, 'UDP', 1],
    ],
  );
});

test('hubble: older logs without is_reply: the other direction of an open connection is its reply', async () => {
  const { flows, stats } = await readLines(
    'flows.jsonl',
    events({ ...TO_ENDPOINT, is_reply: undefined }, { ...SYN_ACK_REPLY, is_reply: undefined }),
  );
  assert.deepEqual(
    flows.map((f) => [f.line, f.port]),
    [[1, 8443]],
  );
  assert.deepEqual(stats.ignored, { reply: 1 });
});

test('hubble: drops keep their reason; drops for reasons other than policy say nothing about policy', async () => {
  const drop = (reason: Record<string, unknown>) => map(hubbleFlow({ verdict: 'DROPPED', ...reason }));
  assert.equal(flowOf(drop({ drop_reason_desc: 'POLICY_DENIED' })).dropReason, 'POLICY_DENIED');
  assert.equal(flowOf(drop({ drop_reason_desc: 'POLICY_DENY' })).dropReason, 'POLICY_DENY');
  assert.equal(flowOf(drop({ drop_reason: 133 })).dropReason, 'POLICY_DENIED');
  assert.equal(flowOf(drop({ event_type: { type: 1, sub_type: 181 } })).dropReason, 'POLICY_DENY');
  assert.equal(flowOf(drop({})).dropReason, undefined);
  const { flows, stats } = await readLines('flows.jsonl', [
    hubbleFlow({ verdict: 'DROPPED', drop_reason_desc: 'STALE_OR_UNROUTABLE_IP' }),
    hubbleFlow({
      verdict: 'DROPPED',
      drop_reason: 155,
      l4: { TCP: { source_port: 2, destination_port: 8443 } },
    }),
    hubbleFlow({ verdict: 'DROPPED', l4: { TCP: { source_port: 3, destination_port: 8443 } } }),
  ]);
  assert.deepEqual(stats.ignored, {
    'dropped, not by policy (STALE_OR_UNROUTABLE_IP)': 1,
    'dropped, not by policy (155)': 1,
  });
  assert.deepEqual(
    flows.map((f) => [f.line, f.verdict]),
    [[3, 'dropped']],
  );
});

test('hubble: a time that is not a time makes the record malformed', async () => {
  assert.deepEqual(map(hubbleFlow({ time: 'yesterday' })), {
    kind: 'malformed',
    problem: 'time: not a time: "yesterday"',
  });
  const { time: _time, ...inner } = hubbleFlow();
  assert.deepEqual(map({ flow: inner, time: 'soon' }), {
    kind: 'malformed',
    problem: 'time: not a time: "soon"',
  });
});

test('hubble: protocols and ports', () => {
  const udp = flowOf(map(hubbleFlow({ l4: { UDP: { source_port: 53871, destination_port: 53 } } })));
  assert.deepEqual([udp.protocol, udp.port], ['UDP', 53]);
  const sctp = flowOf(map(hubbleFlow({ l4: { SCTP: { source_port: 3868, destination_port: 3868 } } })));
  assert.deepEqual([sctp.protocol, sctp.port], ['SCTP', 3868]);
  assert.deepEqual(map(hubbleFlow({ l4: { ICMPv4: { type: 8 } } })), { kind: 'ignored', reason: 'ICMP' });
  assert.deepEqual(map(hubbleFlow({ l4: { ICMPv6: { type: 128 } } })), { kind: 'ignored', reason: 'ICMP' });
  assert.deepEqual(map(hubbleFlow({ l4: undefined })), { kind: 'ignored', reason: 'no L4 port' });
  assert.deepEqual(map(hubbleFlow({ l4: {} })), { kind: 'ignored', reason: 'no L4 port' });
  assert.deepEqual(map(hubbleFlow({ l4: { TCP: { destination_port: 0 } } })), {
    kind: 'malformed',
    problem: 'l4.TCP.destination_port: not a port (1-65535): 0',
  });
  assert.deepEqual(map(hubbleFlow({ l4: { TCP: { source_port: 1 } } })), {
    kind: 'malformed',
    problem: 'l4.TCP: missing destination_port',
  });
  assert.deepEqual(map(hubbleFlow({ l4: { UDP: { destination_port: '53' } } })).kind, 'flow');
});

test('hubble: L7, socket and non-flow events are ignored by kind', () => {
  const l7 = hubbleFlow({ Type: 'L7', l7: { type: 'REQUEST', http: { method: 'GET' } } });
  assert.deepEqual(map(l7), { kind: 'ignored', reason: 'L7 record (the packets carry the L3/L4 verdict)' });
  assert.deepEqual(map(hubbleFlow({ Type: 'SOCK', verdict: 'TRACED' })), {
    kind: 'ignored',
    reason: 'socket event (SOCK)',
  });
  // A debug capture (monitor message type 3) carries no verdict and is no flow.
  assert.deepEqual(map({ ...hubbleFlow({ event_type: { type: 3 } }), verdict: undefined }), {
    kind: 'ignored',
    reason: 'not a flow (Cilium event type 3)',
  });
  for (const event of ['node_status', 'lost_events', 'agent_event', 'debug_event']) {
    assert.deepEqual(map({ [event]: {}, node_name: 'worker-1' }), {
      kind: 'ignored',
      reason: `not a flow (${event})`,
    });
  }
});

test('hubble: labels keep the pod labels only', () => {
  const flow = flowOf(
    map(
      hubbleFlow({
        source: {
          namespace: 'portal',
          pod_name: 'frontend-1',
          labels: [
            'k8s:app=frontend',
            'k8s:app.kubernetes.io/name=portal',
            'k8s:version=',
            'k8s:__proto__=polluted',
            'k8s:io.kubernetes.pod.namespace=portal',
            'k8s:io.cilium.k8s.policy.serviceaccount=frontend',
            'k8s:io.cilium.k8s.namespace.labels.team=web',
            'reserved:host',
            'cidr:10.0.0.0/8',
            'container:id=abc',
          ],
        },
      }),
    ),
  );
  assert.deepEqual(flow.src, {
    ip: '10.0.1.15',
    namespace: 'portal',
    pod: 'frontend-1',
    labels: { app: 'frontend', 'app.kubernetes.io/name': 'portal', version: '' },
  });
});

test('hubble: addresses are validated and written the way the snapshot writes them', () => {
  const v6 = flowOf(map(hubbleFlow({ IP: { source: 'fd00:0:0:0::a', destination: '::ffff:10.0.2.31' } })));
  assert.equal(v6.src.ip, 'fd00::a');
  assert.equal(v6.dst.ip, '10.0.2.31');
  assert.deepEqual(map(hubbleFlow({ IP: { source: '10.0.1.300', destination: '10.0.2.31' } })), {
    kind: 'malformed',
    problem: 'IP.source: not an IP address: "10.0.1.300"',
  });
  // Without IP, the pods still place both ends.
  const noIp = flowOf(map(hubbleFlow({ IP: undefined })));
  assert.deepEqual(noIp.src, {
    namespace: 'portal',
    pod: 'frontend-7d9f8c6b5-x2x7q',
    labels: { app: 'frontend' },
  });
});

test('hubble: an end with neither an IP nor a pod cannot be compared', () => {
  assert.deepEqual(map(hubbleFlow({ IP: undefined, source: { identity: 1, labels: ['reserved:host'] } })), {
    kind: 'ignored',
    reason: 'source has neither an IP nor a pod',
  });
  assert.deepEqual(map(hubbleFlow({ IP: { source: '10.0.1.15' }, destination: { namespace: 'records' } })), {
    kind: 'ignored',
    reason: 'destination has neither an IP nor a pod',
  });
});

test('hubble: malformed lines are skipped and counted, the first one named', async () => {
  const path = fixture('hubble-malformed.jsonl');
  const { flows, stats } = await readAll(path);
  // The parser's wording differs between Node versions; the rest is exact.
  assert.match(stats.malformed.firstProblem ?? '', /^not valid JSON \(.+\)$/);
  assert.deepEqual(stats, {
    file: path,
    format: 'hubble',
    lines: 10,
    flows: 2,
    connections: 2,
    events: 2,
    counting: HUBBLE_COUNTING,
    malformed: { count: 7, firstLine: 3, firstProblem: stats.malformed.firstProblem },
    ignored: {},
  });
  assert.deepEqual(
    flows.map((f) => [f.line, f.verdict]),
    [
      [1, 'forwarded'],
      [10, 'dropped'],
    ],
  );
});

test('hubble: each kind of broken record says what is wrong', async () => {
  const { stats } = await readLines('flows.jsonl', [hubbleFlow({ verdict: undefined }), hubbleFlow()]);
  assert.deepEqual(stats.malformed, { count: 1, firstLine: 1, firstProblem: 'missing verdict' });
  const problems: [unknown, string][] = [
    [42, 'not a JSON object: 42'],
    [null, 'not a JSON object: null'],
    [{ flow: 'x' }, '"flow" is not an object: "x"'],
    [hubbleFlow({ IP: 'x' }), 'IP: not an object: "x"'],
    [hubbleFlow({ l4: [] }), 'l4: not an object: []'],
    [hubbleFlow({ source: 'frontend' }), 'source: not an object: "frontend"'],
    [hubbleFlow({ source: { pod_name: 7 } }), 'source.pod_name: expected a string, not 7'],
    [hubbleFlow({ source: { labels: 'app=web' } }), 'source.labels: not a list: "app=web"'],
    [hubbleFlow({ source: { workloads: [1] } }), 'source.workloads[0]: not an object: 1'],
  ];
  for (const [record, problem] of problems) assert.deepEqual(map(record), { kind: 'malformed', problem });
});

test('hubble: no JSON value makes the reader throw', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.ok(['flow', 'ignored', 'malformed'].includes(map(value).kind));
    }),
  );
  // Values shaped like flows, with any value in any field.
  const anyFlow = fc.record(
    {
      verdict: fc.oneof(fc.constantFrom('FORWARDED', 'DROPPED', 'AUDIT'), fc.jsonValue()),
      IP: fc.oneof(fc.record({ source: fc.jsonValue(), destination: fc.ipV4() }), fc.jsonValue()),
      l4: fc.oneof(fc.record({ TCP: fc.record({ destination_port: fc.jsonValue() }) }), fc.jsonValue()),
      source: fc.oneof(
        fc.record({
          namespace: fc.jsonValue(),
          pod_name: fc.jsonValue(),
          labels: fc.jsonValue(),
          workloads: fc.jsonValue(),
        }),
        fc.jsonValue(),
      ),
      destination: fc.jsonValue(),
      traffic_direction: fc.jsonValue(),
      is_reply: fc.jsonValue(),
      drop_reason_desc: fc.jsonValue(),
      event_type: fc.jsonValue(),
      Type: fc.jsonValue(),
      time: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(anyFlow, fc.boolean(), (record, wrapped) => {
      assert.ok(['flow', 'ignored', 'malformed'].includes(map(wrapped ? { flow: record } : record).kind));
    }),
    { numRuns: Number(process.env.RUNS ?? 100) },
  );
});

test('hubble: the DNS names of an address and the reserved identity of an end that is no pod', () => {
  const flow = flowOf(
    map(
      hubbleFlow({
        IP: { source: '10.0.1.15', destination: '140.82.112.6' },
        destination: { identity: 2, labels: ['reserved:world-ipv4'] },
        destination_names: ['API.GitHub.com.', 'github.com'],
      }),
    ),
  );
  assert.deepEqual(flow.dst, {
    ip: '140.82.112.6',
    names: ['api.github.com', 'github.com'],
    identity: 'world',
  });
  const node = flowOf(
    map(
      hubbleFlow({
        IP: { source: '192.168.0.1', destination: '10.0.2.31' },
        source: { labels: ['reserved:remote-node'] },
      }),
    ),
  );
  assert.deepEqual(node.src, { ip: '192.168.0.1', identity: 'remote-node' });
  assert.deepEqual(map(hubbleFlow({ destination_names: 'github.com' })), {
    kind: 'malformed',
    problem: 'destination_names: not a list: "github.com"',
  });
});

test('hubble: a DNS answer names the connections to its addresses after it, as Cilium’s DNS proxy does', async () => {
  const toPartner = (time: string, port: number) =>
    hubbleFlow({
      ...TO_ENDPOINT,
      time,
      IP: { source: '10.0.1.15', destination: '140.82.112.6' },
      l4: { TCP: { source_port: port, destination_port: 443, flags: { SYN: true } } },
      destination: { identity: 2, labels: ['reserved:world'] },
    });
  const answer = {
    time: '2024-05-10T09:12:34Z',
    verdict: 'FORWARDED',
    Type: 'L7',
    IP: { source: '10.0.0.10', destination: '10.0.1.15' },
    l7: { type: 'RESPONSE', dns: { query: 'api.partner-labs.example.', ips: ['140.82.112.6'], ttl: 30 } },
  };
  const { flows, stats } = await readLines('flows.jsonl', [
    toPartner('2024-05-10T09:12:33Z', 40001),
    answer,
    toPartner('2024-05-10T09:12:35Z', 40002),
  ]);
  assert.deepEqual(
    flows.map((f) => f.dst.names),
    [undefined, ['api.partner-labs.example']],
  );
  // The answer itself is no flow: it is counted with the other L7 records.
  assert.equal(stats.ignored['L7 record (the packets carry the L3/L4 verdict)'], 1);
});
