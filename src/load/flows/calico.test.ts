import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ObservedFlow } from '../../model/flows.ts';
import { mapCalicoRecord, NO_PORT } from './calico.ts';
import { BOTH_REPORTERS, CALICO_COUNTING, SOURCE_ONLY } from './calico-reporters.ts';
import { guarded, type RecordResult } from './records.ts';
import { fixture, readAll, readLines } from './test-support.ts';

const AT = { file: 'flows.log', line: 3 };

function map(record: unknown): RecordResult {
  return guarded(() => mapCalicoRecord(record, AT));
}

function flowOf(result: RecordResult): ObservedFlow {
  assert.equal(result.kind, 'flow', JSON.stringify(result));
  return (result as { flow: ObservedFlow }).flow;
}

/** A Felix flow log record, reported by the destination's node: billing's invoices pod denied by records-db. */
function felix(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    start_time: 1715332200,
    end_time: 1715332500,
    source_ip: '10.0.3.22',
    source_name: 'invoices-6f7b9d8c4-p4q9z',
    source_name_aggr: 'invoices-6f7b9d8c4-*',
    source_namespace: 'billing',
    source_port: null,
    source_type: 'wep',
    source_labels: { labels: ['app=invoices', 'projectcalico.org/namespace=billing'] },
    dest_ip: '10.0.2.47',
    dest_name: 'records-db-0',
    dest_name_aggr: 'records-db-*',
    dest_namespace: 'records',
    dest_port: 5432,
    dest_type: 'wep',
    dest_labels: { labels: ['app=records-db', 'projectcalico.org/orchestrator=k8s'] },
    proto: 'tcp',
    action: 'deny',
    reporter: 'dst',
    num_flows: 2,
    num_flows_started: 2,
    num_flows_completed: 0,
    host: 'worker-2',
    ...overrides,
  };
}

const INVOICES = {
  ip: '10.0.3.22',
  namespace: 'billing',
  pod: 'invoices-6f7b9d8c4-p4q9z',
  workload: 'invoices-6f7b9d8c4-*',
  labels: { app: 'invoices' },
};
const RECORDS_DB = {
  ip: '10.0.2.47',
  namespace: 'records',
  pod: 'records-db-0',
  workload: 'records-db-*',
  labels: { app: 'records-db' },
};

test('calico: the Felix flow log fixture maps every field', async () => {
  const path = fixture('calico-flows.jsonl');
  const { flows, stats } = await readAll(path);
  assert.deepEqual(stats, {
    file: path,
    format: 'calico',
    lines: 11,
    flows: 7,
    connections: 64,
    events: 7,
    counting: CALICO_COUNTING,
    malformed: { count: 0 },
    ignored: {
      [BOTH_REPORTERS]: 2,
      ICMP: 1,
      'source has neither an IP nor a pod': 1,
    },
  });
  assert.deepEqual(flows[0], {
    time: '2024-05-10T09:10:00.000Z',
    src: {
      ip: '10.0.1.15',
      namespace: 'portal',
      pod: 'frontend-7d9f8c6b5-x2x7q',
      workload: 'frontend-7d9f8c6b5-*',
      labels: { app: 'frontend', tier: 'web' },
    },
    dst: {
      ip: '10.0.2.31',
      namespace: 'records',
      pod: 'records-api-5c8d7f9b4-k8j2m',
      workload: 'records-api-5c8d7f9b4-*',
      labels: { app: 'records-api', phi: 'true' },
    },
    protocol: 'TCP',
    port: 8443,
    verdict: 'forwarded',
    count: 3,
    events: 1,
    file: path,
    line: 1,
    until: '2024-05-10T09:15:00.000Z',
  });
  // Aggregated by pod prefix: no IPs, no pod names, only the workload's prefix.
  assert.deepEqual(flows[2], {
    time: '2024-05-10T09:15:00.000Z',
    src: { namespace: 'portal', workload: 'frontend-7d9f8c6b5-*', labels: { app: 'frontend', tier: 'web' } },
    dst: {
      namespace: 'records',
      workload: 'records-api-5c8d7f9b4-*',
      labels: { app: 'records-api', phi: 'true' },
    },
    protocol: 'TCP',
    port: 8443,
    verdict: 'forwarded',
    count: 41,
    events: 1,
    file: path,
    line: 5,
    until: '2024-05-10T09:20:00.000Z',
  });
  // A public network (`pub`) is its address; a network set is its address.
  assert.deepEqual(flows[3]?.src, { ip: '203.0.113.7' });
  assert.deepEqual(flows[6]?.dst, { ip: '192.0.2.44' });
  assert.deepEqual(
    flows.map((f) => [f.line, f.protocol, f.port, f.verdict, f.count]),
    [
      [1, 'TCP', 8443, 'forwarded', 3],
      [4, 'TCP', 5432, 'dropped', 2],
      [5, 'TCP', 8443, 'forwarded', 41],
      [6, 'TCP', 443, 'forwarded', 1],
      [7, 'TCP', 443, 'forwarded', 4],
      [8, 'UDP', 53, 'forwarded', 12],
      [10, 'TCP', 22, 'dropped', 1],
    ],
  );
});

test('calico: a JSON array file, laid out over many lines, is read element by element', async () => {
  const path = fixture('calico-array.json');
  const lines = await readAll(fixture('calico-flows.jsonl'));
  const { flows, stats } = await readAll(path);
  assert.equal(stats.format, 'calico');
  assert.deepEqual(stats.malformed, { count: 0 });
  assert.deepEqual(
    flows.map((f) => f.line),
    [2, 68],
  );
  const strip = ({ file: _f, line: _l, ...rest }: ObservedFlow) => rest;
  assert.deepEqual(
    flows.map(strip),
    [lines.flows[0], lines.flows[1]].map((f) => strip(f as ObservedFlow)),
  );
});

test('calico: actions', () => {
  assert.equal(flowOf(map(felix({ action: 'allow' }))).verdict, 'forwarded');
  assert.equal(flowOf(map(felix({ action: 'deny' }))).verdict, 'dropped');
  assert.equal(flowOf(map(felix({ action: 'Allow' }))).verdict, 'forwarded');
  assert.equal(flowOf(map(felix({ action: 'Deny' }))).verdict, 'dropped');
  assert.deepEqual(map(felix({ action: 'pass' })), {
    kind: 'malformed',
    problem: 'action: expected allow or deny, not "pass"',
  });
  assert.deepEqual(map(felix({ action: undefined })), { kind: 'malformed', problem: 'missing action' });
  // Names of Object's own properties are not actions.
  assert.deepEqual(map(felix({ action: 'constructor' })), {
    kind: 'malformed',
    problem: 'action: expected allow or deny, not "constructor"',
  });
  assert.deepEqual(map(felix({ action: { toString: null } })), {
    kind: 'malformed',
    problem: 'action: expected allow or deny, not {"toString":null}',
  });
});

test("calico: a connection reported by both nodes is read once, from the destination's report", async () => {
  const srcAllow = felix({ reporter: 'src', action: 'allow' });
  const dstDeny = felix({ reporter: 'dst', action: 'deny', start_time: 1715332207 });
  const both = await readLines('flows.log', [srcAllow, dstDeny]);
  assert.deepEqual(
    both.flows.map((f) => [f.line, f.verdict, f.count]),
    [[2, 'dropped', 2]],
  );
  assert.deepEqual(both.stats.ignored, { [BOTH_REPORTERS]: 1 });
  // Allowed at both ends, over two intervals: the destination's reports, each its own flow.
  const allowed = await readLines('flows.log', [
    srcAllow,
    felix({ reporter: 'dst', action: 'allow' }),
    felix({ reporter: 'src', action: 'allow', start_time: 1715332500, end_time: 1715332800 }),
    felix({ reporter: 'dst', action: 'allow', start_time: 1715332500, end_time: 1715332800, num_flows: 5 }),
  ]);
  assert.deepEqual(
    allowed.flows.map((f) => [f.line, f.verdict, f.count, f.time, f.until]),
    [
      [2, 'forwarded', 2, '2024-05-10T09:10:00.000Z', '2024-05-10T09:15:00.000Z'],
      [4, 'forwarded', 5, '2024-05-10T09:15:00.000Z', '2024-05-10T09:20:00.000Z'],
    ],
  );
  assert.deepEqual(allowed.stats.ignored, { [BOTH_REPORTERS]: 2 });
  // The source's allows towards the internet, alone: read, gathered into one flow.
  const toNetAllows = {
    reporter: 'src',
    action: 'allow',
    dest_type: 'net',
    dest_name_aggr: 'pub',
    dest_ip: '1.1.1.1',
  };
  const gathered = await readLines('flows.log', [
    felix(toNetAllows),
    felix({ ...toNetAllows, start_time: 1715332500, end_time: 1715332800, num_flows: 5 }),
  ]);
  assert.deepEqual(
    gathered.flows.map((f) => [f.line, f.count, f.events, f.time, f.until]),
    [[1, 7, 2, '2024-05-10T09:10:00.000Z', '2024-05-10T09:20:00.000Z']],
  );
  // The source's allow alone, towards a pod: the destination may have denied it.
  const alone = await readLines('flows.log', [srcAllow]);
  assert.deepEqual([alone.flows, alone.stats.ignored], [[], { [SOURCE_ONLY]: 1 }]);
  // A deny at the source is final: the packet never reached the destination.
  const srcDeny = await readLines('flows.log', [felix({ reporter: 'src', action: 'deny' })]);
  assert.deepEqual(
    srcDeny.flows.map((f) => f.verdict),
    ['dropped'],
  );
  // Towards a network or a host, the source's record is the only one.
  const toNet = {
    reporter: 'src',
    action: 'allow',
    dest_type: 'net',
    dest_name_aggr: 'pub',
    dest_ip: '1.1.1.1',
  };
  const net = await readLines('flows.log', [felix(toNet)]);
  assert.deepEqual(
    net.flows.map((f) => [f.dst, f.verdict]),
    [[{ ip: '1.1.1.1' }, 'forwarded']],
  );
  assert.deepEqual(map(felix({ reporter: 'both' })), {
    kind: 'malformed',
    problem: 'reporter: expected src or dst, not "both"',
  });
});

test('calico: the whole record, and the time and count it carries', () => {
  assert.deepEqual(flowOf(map(felix())), {
    time: '2024-05-10T09:10:00.000Z',
    src: INVOICES,
    dst: RECORDS_DB,
    protocol: 'TCP',
    port: 5432,
    verdict: 'dropped',
    count: 2,
    events: 1,
    file: 'flows.log',
    line: 3,
    until: '2024-05-10T09:15:00.000Z',
  });
  assert.equal(flowOf(map(felix({ num_flows: undefined, num_flows_started: 5 }))).count, 5);
  assert.equal(flowOf(map(felix({ num_flows: undefined, num_flows_started: undefined }))).count, 1);
  assert.equal(flowOf(map(felix({ num_flows: 0 }))).count, 1);
  assert.deepEqual(map(felix({ num_flows: -1 })), {
    kind: 'malformed',
    problem: 'num_flows: not a count: -1',
  });
  // Elasticsearch keeps start_time as a date.
  assert.equal(flowOf(map(felix({ start_time: '2024-05-10T09:10:00Z' }))).time, '2024-05-10T09:10:00.000Z');
  assert.equal(flowOf(map(felix({ start_time: undefined }))).time, undefined);
  assert.deepEqual(map(felix({ start_time: 'yesterday' })), {
    kind: 'malformed',
    problem: 'start_time: not a time: "yesterday"',
  });
});

test('calico: protocols and ports', () => {
  const proto = (value: unknown) => {
    const result = map(felix({ proto: value }));
    return result.kind === 'flow'
      ? result.flow.protocol
      : result.kind === 'ignored'
        ? result.reason
        : result.problem;
  };
  assert.equal(proto('tcp'), 'TCP');
  assert.equal(proto('udp'), 'UDP');
  assert.equal(proto('sctp'), 'SCTP');
  assert.equal(proto('TCP'), 'TCP');
  assert.equal(proto(6), 'TCP');
  assert.equal(proto('17'), 'UDP');
  assert.equal(proto(132), 'SCTP');
  assert.equal(proto('icmp'), 'ICMP');
  assert.equal(proto('icmp6'), 'ICMP');
  assert.equal(proto(58), 'ICMP');
  assert.equal(proto('esp'), 'protocol esp');
  assert.equal(proto('4'), 'IP protocol 4');
  assert.equal(proto(undefined), 'proto: missing protocol');
  assert.equal(proto('t c p'), 'proto: not a protocol: "t c p"');
  assert.deepEqual(map(felix({ dest_port: undefined })), { kind: 'malformed', problem: 'missing dest_port' });
  // Aggregated above the port: null in Felix's log, 0 in the Elasticsearch index. Not broken records.
  assert.deepEqual(map(felix({ dest_port: null })), { kind: 'ignored', reason: NO_PORT });
  assert.deepEqual(map(felix({ dest_port: 0 })), { kind: 'ignored', reason: NO_PORT });
  assert.deepEqual(map(felix({ dest_port: 70000 })), {
    kind: 'malformed',
    problem: 'dest_port: not a port (1-65535): 70000',
  });
  assert.equal(flowOf(map(felix({ dest_port: '5432' }))).port, 5432);
  // ICMP has no port at all; that is not a broken record.
  assert.deepEqual(map(felix({ proto: 'icmp', dest_port: null })), { kind: 'ignored', reason: 'ICMP' });
});

test('calico: ends that are not pods keep their address only', () => {
  const hep = flowOf(
    map(
      felix({
        source_type: 'hep',
        source_name: 'worker-1-eth0',
        source_name_aggr: 'worker-1-eth0',
        source_namespace: '-',
        source_ip: '172.16.0.11',
      }),
    ),
  );
  assert.deepEqual(hep.src, { ip: '172.16.0.11' });
  assert.deepEqual(
    map(
      felix({
        source_type: 'net',
        source_name: '-',
        source_name_aggr: 'pvt',
        source_namespace: '-',
        source_ip: null,
      }),
    ),
    { kind: 'ignored', reason: 'source has neither an IP nor a pod' },
  );
  // A pod name alone, without its namespace, places nothing.
  assert.deepEqual(map(felix({ dest_ip: null, dest_namespace: '-' })), {
    kind: 'ignored',
    reason: 'destination has neither an IP nor a pod',
  });
});

test('calico: label forms', () => {
  const labels = (value: unknown) => {
    const result = map(felix({ source_labels: value }));
    return result.kind === 'flow' ? result.flow.src.labels : result;
  };
  assert.deepEqual(labels({ labels: ['app=invoices', 'team=billing'] }), {
    app: 'invoices',
    team: 'billing',
  });
  assert.deepEqual(labels(['app=invoices']), { app: 'invoices' });
  assert.deepEqual(labels({ app: 'invoices' }), { app: 'invoices' });
  assert.deepEqual(labels('app=invoices,team=billing'), { app: 'invoices', team: 'billing' });
  assert.deepEqual(
    labels({ labels: ['projectcalico.org/serviceaccount=invoices', 'pcns.team=billing'] }),
    undefined,
  );
  assert.equal(labels(null), undefined);
  assert.deepEqual(labels({ labels: [1] }), { kind: 'malformed', problem: 'source_labels: not a string: 1' });
  assert.deepEqual(labels(5), { kind: 'malformed', problem: 'source_labels: not a list of labels: 5' });
});

test('calico: Elasticsearch documents are read from their _source', () => {
  const doc = { _index: 'tigera_secure_ee_flows.cluster.20240510', _id: 'x', _source: felix() };
  assert.deepEqual(map(doc), map(felix()));
});

test('calico: flows of the open-source flow log API (Goldmane), snake_case and camelCase', () => {
  const expected = {
    time: '2024-05-10T09:10:00.000Z',
    src: { namespace: 'portal', workload: 'frontend-7d9f8c6b5-*', labels: { app: 'frontend' } },
    dst: { namespace: 'records', workload: 'records-api-5c8d7f9b4-*', labels: { app: 'records-api' } },
    protocol: 'TCP' as const,
    port: 8443,
    verdict: 'forwarded' as const,
    count: 4,
    events: 1,
    file: 'flows.log',
    line: 3,
    until: '2024-05-10T09:10:15.000Z',
  };
  const snake = {
    id: 17,
    flow: {
      Key: {
        source_name: 'frontend-7d9f8c6b5-*',
        source_namespace: 'portal',
        source_type: 'WorkloadEndpoint',
        dest_name: 'records-api-5c8d7f9b4-*',
        dest_namespace: 'records',
        dest_type: 'WorkloadEndpoint',
        dest_port: 8443,
        proto: 'tcp',
        reporter: 'Dst',
        action: 'Allow',
      },
      start_time: 1715332200,
      end_time: 1715332215,
      source_labels: ['app=frontend'],
      dest_labels: ['app=records-api'],
      num_connections_started: 4,
    },
  };
  assert.deepEqual(flowOf(map(snake)), expected);
  // protojson: camelCase, int64 as strings, enums as names.
  const camel = {
    id: '17',
    flow: {
      Key: {
        sourceName: 'frontend-7d9f8c6b5-*',
        sourceNamespace: 'portal',
        sourceType: 'WorkloadEndpoint',
        destName: 'records-api-5c8d7f9b4-*',
        destNamespace: 'records',
        destType: 'WorkloadEndpoint',
        destPort: '8443',
        proto: 'tcp',
        reporter: 'Dst',
        action: 'Allow',
      },
      startTime: '1715332200',
      endTime: '1715332215',
      sourceLabels: ['app=frontend'],
      destLabels: ['app=records-api'],
      numConnectionsStarted: '4',
    },
  };
  assert.deepEqual(flowOf(map(camel)), expected);
  const fromSource = map({ flow: { Key: { ...snake.flow.Key, reporter: 'Src' } } });
  assert.deepEqual(fromSource.kind === 'flow' ? fromSource.part : fromSource, {
    format: 'calico',
    key: 'TCP 8443 portal/frontend-7d9f8c6b5-*// records/records-api-5c8d7f9b4-*//',
    reporter: 'src',
  });
  assert.deepEqual(map({ Key: 'x' }), { kind: 'malformed', problem: 'Key: not an object: "x"' });
});

test('calico: malformed records are skipped and counted, the first one named', async () => {
  const { flows, stats } = await readLines('flows.log', [
    felix(),
    '',
    felix({ action: 'maybe' }),
    '{"start_time": 1715332200, "source_ip": ',
    felix({ source_ip: '10.0.3' }),
    felix({ dest_port: 'https' }),
    felix({ source_name: 42 }),
    '[1, 2]',
    felix({ proto: 'icmp', dest_port: null }),
    felix({ action: 'allow' }),
  ]);
  assert.deepEqual(stats.malformed, {
    count: 6,
    firstLine: 3,
    firstProblem: 'action: expected allow or deny, not "maybe"',
  });
  assert.deepEqual(stats.ignored, { ICMP: 1 });
  assert.equal(stats.lines, 10);
  assert.deepEqual(
    flows.map((f) => [f.line, f.verdict]),
    [
      [1, 'dropped'],
      [10, 'forwarded'],
    ],
  );
});

test('calico: no JSON value makes the reader throw', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      assert.ok(['flow', 'ignored', 'malformed'].includes(map(value).kind));
    }),
  );
  const fields = ['source', 'dest'].flatMap((side) =>
    ['ip', 'name', 'name_aggr', 'namespace', 'type', 'labels'].map((f) => `${side}_${f}`),
  );
  const anyRecord = fc.record(
    Object.fromEntries(
      [
        ...fields,
        'dest_port',
        'proto',
        'action',
        'reporter',
        'num_flows',
        'start_time',
        'Key',
        '_source',
      ].map((name) => [name, fc.jsonValue()]),
    ),
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(anyRecord, (record) => {
      assert.ok(['flow', 'ignored', 'malformed'].includes(map({ ...felix(), ...record }).kind));
    }),
    { numRuns: Number(process.env.RUNS ?? 100) },
  );
});
