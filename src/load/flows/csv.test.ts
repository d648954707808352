import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ObservedFlow } from '../../model/flows.ts';
import { formatDiagnostic, InputError } from '../diagnostics.ts';
import { CsvHeader, splitRow } from './csv.ts';
import { guarded } from './records.ts';
import { fixture, readAll, readLines, scratch } from './test-support.ts';

const HEADER = 'time,src_namespace,src_pod,src_ip,dst_namespace,dst_pod,dst_ip,protocol,port,verdict';

const strip = ({ file: _file, events, ...rest }: ObservedFlow) => {
  assert.equal(events, 1);
  return rest;
};

async function csv(lines: string[]) {
  const { flows, stats } = await readLines('flows.csv', lines);
  return { flows: flows.map(strip), stats };
}

async function headerErrors(header: string): Promise<string[]> {
  try {
    await readLines('flows.csv', [header, '']);
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return assert.fail('expected an InputError');
}

test('csv: the fixture maps every column, by name', async () => {
  const path = fixture('flows.csv');
  const { flows, stats } = await readAll(path);
  assert.deepEqual(stats, {
    file: path,
    format: 'csv',
    lines: 8,
    flows: 6,
    connections: 60,
    events: 6,
    counting: 'CSV: the count column per row (1 when empty)',
    malformed: { count: 0 },
    ignored: { ICMP: 1 },
  });
  assert.deepEqual(flows[0], {
    time: '2024-05-10T09:12:33.000Z',
    src: { ip: '10.0.1.15', namespace: 'portal', pod: 'frontend-7d9f8c6b5-x2x7q', workload: 'frontend' },
    dst: {
      ip: '10.0.2.31',
      namespace: 'records',
      pod: 'records-api-5c8d7f9b4-k8j2m',
      workload: 'records-api',
    },
    protocol: 'TCP',
    port: 8443,
    verdict: 'forwarded',
    count: 3,
    events: 1,
    file: path,
    line: 2,
  });
  // A zone offset is converted to UTC; `allowed` is forwarded.
  assert.deepEqual(strip(flows[2] as ObservedFlow), {
    time: '2024-05-10T09:13:05.000Z',
    src: { ip: '10.0.2.31', namespace: 'records', workload: 'records-api' },
    dst: { ip: '10.0.0.10', namespace: 'kube-system', workload: 'coredns' },
    protocol: 'UDP',
    port: 53,
    verdict: 'forwarded',
    count: 12,
    line: 4,
  });
  // UNIX seconds; an empty count is 1.
  assert.deepEqual(strip(flows[3] as ObservedFlow), {
    time: '2024-05-10T09:15:00.000Z',
    src: { ip: '203.0.113.7' },
    dst: { namespace: 'portal', pod: 'frontend-7d9f8c6b5-x2x7q', workload: 'frontend' },
    protocol: 'TCP',
    port: 443,
    verdict: 'forwarded',
    count: 1,
    line: 5,
  });
  // No time; a quoted extra column with a comma in it.
  assert.deepEqual(strip(flows[4] as ObservedFlow), {
    src: { namespace: 'portal', workload: 'frontend-7d9f8c6b5-*' },
    dst: { namespace: 'records', workload: 'records-api-5c8d7f9b4-*' },
    protocol: 'TCP',
    port: 8443,
    verdict: 'dropped',
    count: 41,
    line: 6,
  });
  // Quoted fields, doubled quotes in an extra column, SCTP, `denied`.
  assert.deepEqual(strip(flows[5] as ObservedFlow), {
    time: '2024-05-10T09:20:00.000Z',
    src: { namespace: 'records', pod: 'records-api-5c8d7f9b4-k8j2m', workload: 'records-api' },
    dst: { ip: '192.0.2.44' },
    protocol: 'SCTP',
    port: 3868,
    verdict: 'dropped',
    count: 1,
    line: 7,
  });
});

test('csv: columns in any order, unknown columns skipped, only protocol, port, verdict and one name per end', async () => {
  const { flows, stats } = await csv([
    'Verdict, Port ,PROTOCOL,dst_ip,bytes,src_ip',
    'deny,5432,tcp,10.0.2.47,1200,10.0.3.22',
  ]);
  assert.deepEqual(stats.malformed, { count: 0 });
  assert.deepEqual(flows, [
    {
      src: { ip: '10.0.3.22' },
      dst: { ip: '10.0.2.47' },
      protocol: 'TCP',
      port: 5432,
      verdict: 'dropped',
      count: 1,
      line: 2,
    },
  ]);
});

test('csv: verdicts', async () => {
  const verdicts = [
    'forwarded',
    'allowed',
    'allow',
    'FORWARDED',
    'Dropped',
    'denied',
    'deny',
    'blocked',
    '',
    'constructor',
  ];
  const { flows, stats } = await csv([
    'src_ip,dst_ip,protocol,port,verdict',
    ...verdicts.map((v) => `10.0.0.1,10.0.0.2,TCP,80,${v}`),
  ]);
  assert.deepEqual(
    flows.map((f) => f.verdict),
    ['forwarded', 'forwarded', 'forwarded', 'forwarded', 'dropped', 'dropped', 'dropped'],
  );
  assert.deepEqual(stats.malformed, {
    count: 3,
    firstLine: 9,
    firstProblem: 'verdict: expected forwarded or dropped, not "blocked"',
  });
});

test('csv: broken rows are skipped and counted, the first one named', async () => {
  const rows = [
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,8443,forwarded',
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,8443',
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,8443,forwarded,extra',
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,0,forwarded',
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,https,forwarded',
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,,forwarded',
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,T/CP,8443,forwarded',
    'yesterday,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,8443,forwarded',
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1,records,api-1,10.0.2.31,TCP,8443,forwarded',
    '2024-05-10T09:00:00Z,portal,"frontend-1"x,10.0.1.15,records,api-1,10.0.2.31,TCP,8443,forwarded',
    '2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,8443,dropped',
  ];
  const { flows, stats } = await csv([HEADER, ...rows]);
  assert.deepEqual(stats.malformed, { count: 9, firstLine: 3, firstProblem: '9 fields, the header has 10' });
  assert.equal(stats.lines, 12);
  assert.deepEqual(
    flows.map((f) => [f.line, f.verdict]),
    [
      [2, 'forwarded'],
      [12, 'dropped'],
    ],
  );
  const problems = [];
  const header = new CsvHeader(HEADER.split(','), 'flows.csv', 1);
  for (const row of rows.slice(1, -1)) {
    const fields = splitRow(row);
    const result = Array.isArray(fields)
      ? guarded(() => header.map(fields, { file: 'flows.csv', line: 0 }))
      : { kind: 'malformed', problem: fields };
    problems.push(result.kind === 'malformed' ? result.problem : result.kind);
  }
  assert.deepEqual(problems, [
    '9 fields, the header has 10',
    '11 fields, the header has 10',
    'port: not a port (1-65535): "0"',
    'port: not a port (1-65535): "https"',
    'port: empty',
    'protocol: not a protocol: "T/CP"',
    'time: not an ISO 8601 time or UNIX seconds: "yesterday"',
    'src_ip: not an IP address: "10.0.1"',
    'unexpected text after the closing quote of field 3',
  ]);
});

test('csv: RFC 4180 quoting, including fields that span lines', async () => {
  const { flows, stats } = await csv([
    'src_namespace,src_pod,dst_ip,protocol,port,verdict,note',
    '"portal","frontend,1",10.0.2.31,TCP,8443,forwarded,"said ""hi"""',
    'portal,frontend-2,10.0.2.31,TCP,8443,forwarded,"a note',
    'over two lines"',
    'portal,frontend-3,10.0.2.31,TCP,8443,forwarded,""',
    'portal,frontend-4,10.0.2.31,TCP,8443,forwarded,"never closed',
  ]);
  assert.deepEqual(
    flows.map((f) => [f.line, f.src.pod]),
    [
      [2, 'frontend,1'],
      [3, 'frontend-2'],
      [5, 'frontend-3'],
    ],
  );
  assert.deepEqual(stats.malformed, { count: 1, firstLine: 6, firstProblem: 'unterminated quoted field' });
  assert.equal(stats.lines, 6);
});

test('csv: splitRow', () => {
  assert.deepEqual(splitRow('a,b,,c'), ['a', 'b', '', 'c']);
  assert.deepEqual(splitRow(''), ['']);
  assert.deepEqual(splitRow('"a,b",c'), ['a,b', 'c']);
  assert.deepEqual(splitRow('"a ""b""",""'), ['a "b"', '']);
  assert.deepEqual(splitRow('a,"b\nc"'), ['a', 'b\nc']);
  assert.equal(splitRow('a,"b'), 'open');
  assert.equal(splitRow('"a"b'), 'unexpected text after the closing quote of field 1');
  // Round trip: any fields, quoted the RFC 4180 way, come back as they were.
  fc.assert(
    fc.property(fc.array(fc.string(), { minLength: 1 }), (fields) => {
      const row = fields.map((f) => `"${f.replaceAll('"', '""')}"`).join(',');
      assert.deepEqual(splitRow(row), fields);
    }),
  );
});

test('csv: a byte order mark and CRLF line ends are fine', async () => {
  const tmp = scratch();
  try {
    const path = tmp.file(
      'export.csv',
      `\uFEFF${HEADER}\r\n2024-05-10T09:00:00Z,portal,frontend-1,10.0.1.15,records,api-1,10.0.2.31,TCP,8443,forwarded\r\n`,
    );
    const { flows, stats } = await readAll(path);
    assert.equal(stats.format, 'csv');
    assert.deepEqual(stats.malformed, { count: 0 });
    assert.deepEqual(flows[0]?.dst, { ip: '10.0.2.31', namespace: 'records', pod: 'api-1' });
    assert.equal(flows[0]?.verdict, 'forwarded');
  } finally {
    tmp.cleanup();
  }
});

test('csv: ends that cannot be placed, and ICMP, are ignored', async () => {
  const { flows, stats } = await csv([
    'src_namespace,src_pod,src_ip,dst_namespace,dst_pod,dst_ip,protocol,port,verdict',
    ',frontend-1,,records,api-1,,TCP,8443,forwarded',
    'portal,,,records,api-1,,TCP,8443,forwarded',
    'portal,frontend-1,,records,,,TCP,8443,forwarded',
    'portal,frontend-1,,records,api-1,,ICMP,,forwarded',
    'portal,frontend-1,,records,api-1,,icmpv6,,dropped',
    'portal,frontend-1,,records,api-1,,gre,,dropped',
    'portal,frontend-1,,records,api-1,,TCP,8443,forwarded',
  ]);
  assert.deepEqual(stats.ignored, {
    'source has neither an IP nor a pod': 2,
    'destination has neither an IP nor a pod': 1,
    ICMP: 2,
    'protocol gre': 1,
  });
  assert.deepEqual(stats.malformed, { count: 0 });
  assert.deepEqual(
    flows.map((f) => f.line),
    [8],
  );
});

test('csv: counts', async () => {
  const { flows, stats } = await csv([
    'src_ip,dst_ip,protocol,port,verdict,count',
    '10.0.0.1,10.0.0.2,TCP,80,allow,7',
    '10.0.0.1,10.0.0.2,TCP,80,allow,',
    '10.0.0.1,10.0.0.2,TCP,80,allow,0',
    '10.0.0.1,10.0.0.2,TCP,80,allow,-',
    '10.0.0.1,10.0.0.2,TCP,80,allow,many',
  ]);
  assert.deepEqual(
    flows.map((f) => f.count),
    [7, 1, 1, 1],
  );
  assert.deepEqual(stats.malformed, { count: 1, firstLine: 6, firstProblem: 'count: not a count: "many"' });
});

test('csv: a header that cannot make flows is an input error', async () => {
  const messages = await headerErrors('time,src_ip,dst_ip,protocol');
  assert.equal(messages.length, 1);
  assert.match(
    messages[0] ?? '',
    /^\/.*\/flows\.csv:1: flow CSV header: missing columns port, verdict \(the header must name the columns; see docs\/flows\.md\)$/,
  );
});

test('csv: header errors name the file, the line and every problem', async () => {
  const messages = (await headerErrors('src_ip,src_ip,dst_namespace,protocol,port,verdict')).map((m) =>
    m.replace(/^.*flows\.csv:/, 'flows.csv:'),
  );
  assert.deepEqual(messages, [
    'flows.csv:1: flow CSV header: column "src_ip" appears twice (the header must name the columns; see docs/flows.md)',
    'flows.csv:1: flow CSV header: no column names the destination (dst_ip, dst_pod or dst_workload) (the header must name the columns; see docs/flows.md)',
  ]);
  const data = (await headerErrors('10.0.0.1,10.0.0.2,TCP,80,forwarded')).map((m) =>
    m.replace(/^.*flows\.csv:/, ''),
  );
  assert.equal(data.length, 3);
  assert.match(data[0] ?? '', /^1: flow CSV header: missing columns protocol, port, verdict/);
});

test('csv: a header alone is a file with no flows', async () => {
  const { flows, stats } = await csv([HEADER]);
  assert.deepEqual(flows, []);
  assert.equal(stats.lines, 1);
  assert.equal(stats.format, 'csv');
});

test('csv: no row makes the reader throw', () => {
  const header = new CsvHeader(`${HEADER},count,src_workload,dst_workload`.split(','), 'flows.csv', 1);
  const field = fc.oneof(
    fc.string(),
    fc.constantFrom(
      'TCP',
      'udp',
      '80',
      '0',
      '65536',
      'forwarded',
      'deny',
      '10.0.0.1',
      '::1',
      '-',
      '__proto__',
    ),
  );
  fc.assert(
    fc.property(fc.array(field, { minLength: 12, maxLength: 14 }), (fields) => {
      const result = guarded(() => header.map(fields, { file: 'flows.csv', line: 2 }));
      assert.ok(['flow', 'ignored', 'malformed'].includes(result.kind));
    }),
  );
});
