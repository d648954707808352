import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ObservedFlow } from '../../model/flows.ts';
import { InputError } from '../diagnostics.ts';
import { HUBBLE_COUNTING } from './hubble-connections.ts';
import { detectFlowFormat, readFlowFile, STDIN_NAME } from './read-flows.ts';
import { fixture, readAll, scratch } from './test-support.ts';

function firstLine(name: string): string {
  return readFileSync(fixture(name), 'utf8').split('\n')[0] ?? '';
}

async function inputError(promise: Promise<unknown>): Promise<InputError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  return assert.fail('expected an InputError');
}

const HUBBLE_LINE = JSON.stringify({
  time: '2024-05-10T09:12:33.101980112Z',
  verdict: 'FORWARDED',
  IP: { source: '10.0.1.15', destination: '10.0.2.31' },
  l4: { TCP: { destination_port: 8443 } },
  source: { namespace: 'portal', pod_name: 'frontend-1' },
  destination: { namespace: 'records', pod_name: 'api-1' },
  traffic_direction: 'INGRESS',
});

test('detectFlowFormat: by content, then by name', () => {
  assert.equal(detectFlowFormat(firstLine('hubble-flat.jsonl'), 'flows.json'), 'hubble');
  assert.equal(detectFlowFormat(firstLine('hubble-wrapped.jsonl'), 'flows.json'), 'hubble');
  assert.equal(detectFlowFormat(firstLine('calico-flows.jsonl'), 'flows.log'), 'calico');
  assert.equal(detectFlowFormat(firstLine('flows.csv'), 'export.txt'), 'csv');
  assert.equal(
    detectFlowFormat('[\n  {\n    "start_time": 1715332200,\n    "dest_port": 5432', 'a.json'),
    'calico',
  );
  assert.equal(
    detectFlowFormat('[\n  {\n    "time": "2024-05-10T09:12:33Z",\n    "verdict": "DROPPED"', 'a'),
    'hubble',
  );
  assert.equal(
    detectFlowFormat('{"id":1,"flow":{"Key":{"source_name":"web-*","reporter":"Dst"}}}', '-'),
    'calico',
  );
  assert.equal(detectFlowFormat('\uFEFF{"verdict":"FORWARDED"}', 'a'), 'hubble');
  assert.equal(detectFlowFormat('Verdict,Protocol,Port,src_ip,dst_ip', 'a'), 'csv');
  assert.equal(detectFlowFormat('"src_ip","dst_ip","protocol","port","verdict"', 'a'), 'csv');
  // A log read from its middle: the first line is cut, the next ones are whole.
  assert.equal(detectFlowFormat(`ination":{"namespace":"records"}}\n${HUBBLE_LINE}`, 'tail.jsonl'), 'hubble');
  assert.equal(detectFlowFormat('src,dst\n1,2', 'export.csv'), 'csv');
  assert.equal(detectFlowFormat('{"foo": 1}', 'flows.json'), undefined);
  assert.equal(detectFlowFormat('{"foo": 1}', 'flows.csv'), 'csv');
  assert.equal(detectFlowFormat('hello world', 'notes.txt'), undefined);
  assert.equal(detectFlowFormat('', 'flows.json'), undefined);
});

test('readFlowFile: detects each format from the file', async () => {
  const formats = await Promise.all(
    ['hubble-flat.jsonl', 'hubble-wrapped.jsonl', 'calico-flows.jsonl', 'calico-array.json', 'flows.csv'].map(
      async (name) => (await readAll(fixture(name))).stats.format,
    ),
  );
  assert.deepEqual(formats, ['hubble', 'hubble', 'calico', 'calico', 'csv']);
});

test('readFlowFile: an explicit format is used as it is', async () => {
  const { flows, stats } = await readAll(fixture('hubble-flat.jsonl'), { format: 'calico' });
  assert.equal(stats.format, 'calico');
  assert.deepEqual(flows, []);
  assert.deepEqual(stats.malformed, { count: 16, firstLine: 1, firstProblem: 'missing action' });
});

test('readFlowFile: a log whose first line is cut reads from its second line', async () => {
  const tmp = scratch();
  try {
    const path = tmp.file(
      'tail.jsonl',
      `ination":{"namespace":"records"}}\n${HUBBLE_LINE}\n${HUBBLE_LINE}\n`,
    );
    const { flows, stats } = await readAll(path);
    assert.equal(stats.format, 'hubble');
    assert.equal(stats.malformed.count, 1);
    assert.equal(stats.malformed.firstLine, 1);
    assert.deepEqual(
      flows.map((f) => f.line),
      [2, 3],
    );
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: `-` reads standard input', async () => {
  const text = readFileSync(fixture('calico-flows.jsonl'));
  // Chunks cut anywhere, even inside a line.
  const chunks = [text.subarray(0, 100), text.subarray(100, 2500), text.subarray(2500)];
  const calls: [number, number][] = [];
  const flows: ObservedFlow[] = [];
  const stats = await readFlowFile('-', (flow) => flows.push(flow), {
    stdin: Readable.from(chunks),
    progress: (read, total) => calls.push([read, total]),
  });
  const fromFile = await readAll(fixture('calico-flows.jsonl'));
  assert.deepEqual(stats, { ...fromFile.stats, file: STDIN_NAME });
  assert.ok(flows.length > 0);
  assert.deepEqual(
    flows.sort((a, b) => a.line - b.line),
    fromFile.flows.map((f) => ({ ...f, file: STDIN_NAME })),
  );
  // The size of standard input is not known: total 0, and the final call says how much was read.
  assert.deepEqual(calls.at(-1), [text.length, 0]);
});

test('readFlowFile: characters split between chunks are decoded whole', async () => {
  const line = `{"verdict":"FORWARDED","l4":{"TCP":{"destination_port":80}},"IP":{"source":"10.0.0.1","destination":"10.0.0.2"},"source":{"namespace":"café","pod_name":"naïve-1"}}\n`;
  const bytes = Buffer.from(line);
  const cut = bytes.indexOf(Buffer.from('é')) + 1;
  const flows: ObservedFlow[] = [];
  await readFlowFile('-', (flow) => flows.push(flow), {
    stdin: Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]),
  });
  assert.deepEqual(flows[0]?.src, { ip: '10.0.0.1', namespace: 'café', pod: 'naïve-1' });
});

test('readFlowFile: progress at most every 250 ms, and once at the end', async () => {
  async function* slow() {
    for (let i = 0; i < 8; i++) {
      yield Buffer.from(`${HUBBLE_LINE}\n`);
      await sleep(90);
    }
  }
  const calls: { at: number; read: number; total: number }[] = [];
  const stats = await readFlowFile('-', () => {}, {
    stdin: Readable.from(slow()),
    progress: (read, total) => calls.push({ at: performance.now(), read, total }),
  });
  assert.equal(stats.flows, 8);
  assert.ok(calls.length >= 2, `${calls.length} calls`);
  const during = calls.slice(0, -1);
  for (let i = 1; i < during.length; i++) {
    assert.ok((during[i]?.at ?? 0) - (during[i - 1]?.at ?? 0) >= 240, 'calls 250 ms apart');
  }
  assert.ok(during.every((c, i) => i === 0 || c.read >= (during[i - 1]?.read ?? 0)));
  assert.deepEqual(calls.at(-1)?.read, (HUBBLE_LINE.length + 1) * 8);

  const file = fixture('flows.csv');
  const fileCalls: [number, number][] = [];
  await readFlowFile(file, () => {}, { progress: (read, total) => fileCalls.push([read, total]) });
  const size = statSync(file).size;
  assert.deepEqual(fileCalls, [[size, size]]);
});

test('readFlowFile: a file that cannot be read is an input error naming it', async () => {
  const tmp = scratch();
  try {
    const missing = `${tmp.dir}/missing.jsonl`;
    assert.deepEqual((await inputError(readAll(missing))).diagnostics, [
      { severity: 'error', file: missing, message: 'cannot read the flow file: no such file' },
    ]);
    assert.deepEqual((await inputError(readAll(tmp.dir))).diagnostics, [
      { severity: 'error', file: tmp.dir, message: 'cannot read the flow file: it is a directory' },
    ]);
    // Reading fails half way.
    const failing = new Readable({
      read() {
        this.push(`${HUBBLE_LINE}\n`);
        this.destroy(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
      },
    });
    const error = await inputError(readFlowFile('-', () => {}, { stdin: failing }));
    assert.deepEqual(error.diagnostics, [
      { severity: 'error', file: STDIN_NAME, message: 'cannot read the flow file: EIO: i/o error, read' },
    ]);
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: a file without read permission is an input error', {
  skip: process.getuid?.() === 0 ? 'root reads any file' : false,
}, async () => {
  const tmp = scratch();
  try {
    const path = tmp.file('secret.jsonl', `${HUBBLE_LINE}\n`);
    chmodSync(path, 0o000);
    assert.deepEqual((await inputError(readAll(path))).diagnostics, [
      { severity: 'error', file: path, message: 'cannot read the flow file: permission denied' },
    ]);
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: a file of no known format is an input error naming the formats', async () => {
  const tmp = scratch();
  try {
    const path = tmp.file('flows.json', '{"foo": 1}\n{"foo": 2}\n');
    const error = await inputError(readAll(path));
    assert.equal(
      error.message,
      `${path}: cannot tell the format of the flow file: expected Cilium Hubble JSON (hubble observe -o json), Calico flow logs (JSON) or phiwall flow CSV (see docs/flows.md)`,
    );
    const binary = tmp.file('flows.bin', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x0a, 0xff]));
    assert.match((await inputError(readAll(binary))).message, /cannot tell the format/);
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: an empty file is an input error, unless its format is given', async () => {
  const tmp = scratch();
  try {
    const empty = tmp.file('empty.jsonl', '');
    assert.match((await inputError(readAll(empty))).message, /no flow records: the file is empty/);
    const blank = tmp.file('blank.jsonl', '\n  \n\n');
    assert.match((await inputError(readAll(blank))).message, /no flow records/);
    const { flows, stats } = await readAll(blank, { format: 'hubble' });
    assert.deepEqual(flows, []);
    assert.deepEqual(stats, {
      file: blank,
      format: 'hubble',
      lines: 3,
      flows: 0,
      connections: 0,
      events: 0,
      counting: HUBBLE_COUNTING,
      malformed: { count: 0 },
      ignored: {},
    });
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: a last line without a line break, and CRLF line breaks', async () => {
  const tmp = scratch();
  try {
    const path = tmp.file('flows.jsonl', `${HUBBLE_LINE}\r\n\r\n${HUBBLE_LINE}`);
    const { flows, stats } = await readAll(path);
    assert.deepEqual(
      flows.map((f) => f.line),
      [1, 3],
    );
    assert.equal(stats.lines, 3);
    assert.deepEqual(stats.malformed, { count: 0 });
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: a line too long to be a record is skipped without holding it', async () => {
  const tmp = scratch();
  try {
    const path = tmp.file('flows.jsonl', `${HUBBLE_LINE}\n`);
    appendFileSync(path, `{"verdict":"${'x'.repeat(17 * 1024 * 1024)}"}\n`);
    appendFileSync(path, `${HUBBLE_LINE}\n{"verdict":"${'y'.repeat(17 * 1024 * 1024)}`);
    const { flows, stats } = await readAll(path);
    assert.deepEqual(
      flows.map((f) => f.line),
      [1, 3],
    );
    assert.deepEqual(stats.malformed, { count: 2, firstLine: 2, firstProblem: 'line longer than 16 MiB' });
    assert.equal(stats.lines, 4);
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: JSON arrays with broken or odd elements', async () => {
  const tmp = scratch();
  try {
    const record = (port: number) =>
      JSON.stringify({ ...JSON.parse(HUBBLE_LINE), l4: { TCP: { destination_port: port } } }, null, 2);
    const path = tmp.file(
      'flows.json',
      `[\n${record(1)},\n{"verdict": },\n  42, "text",\n${record(2)}, ${record(3)}\n]\ntrailing\n`,
    );
    const { flows, stats } = await readAll(path);
    assert.deepEqual(
      flows.map((f) => [f.port, f.line]),
      [
        [1, 2],
        [2, 26],
        [3, 47],
      ],
    );
    // `{"verdict": }`, 42, "text" and the text after the array.
    assert.equal(stats.malformed.count, 4);
    assert.equal(stats.malformed.firstLine, 24);
    assert.match(stats.malformed.firstProblem ?? '', /^not valid JSON/);
    const unclosed = tmp.file('unclosed.json', `[\n${record(1)},\n${record(2).slice(0, 40)}`);
    const cut = await readAll(unclosed);
    assert.deepEqual(
      cut.flows.map((f) => f.port),
      [1],
    );
    assert.deepEqual(cut.stats.malformed, {
      count: 1,
      firstLine: 24,
      firstProblem: 'truncated record: the JSON array is not closed',
    });
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: an error in the callback is not mistaken for bad input', async () => {
  await assert.rejects(
    readFlowFile(fixture('flows.csv'), () => {
      throw new TypeError('bug in the caller');
    }),
    TypeError,
  );
});

test('readFlowFile: 200k Hubble connections stream through without the file in memory', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  const tmp = scratch();
  try {
    const path = tmp.file('big.jsonl', '');
    const total = 200_000;
    for (let from = 0; from < total; from += 10_000) {
      const lines: string[] = [];
      for (let i = from; i < from + 10_000; i++) {
        lines.push(
          // One closing packet per connection, 100 ms apart: finished connections leave the table.
          `{"time":"${new Date(Date.UTC(2024, 4, 10) + i * 100).toISOString()}","verdict":"${i % 7 === 0 ? 'DROPPED' : 'FORWARDED'}","IP":{"source":"10.0.${(i >> 8) & 255}.${i & 255}","destination":"10.1.0.${i % 200}","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":${30000 + (i % 30000)},"destination_port":${1 + (i % 1000)},"flags":{"FIN":true,"ACK":true}}},"source":{"namespace":"ns-${i % 50}","pod_name":"web-${i % 500}","labels":["k8s:app=web"]},"destination":{"namespace":"db","pod_name":"db-0","labels":["k8s:app=db"]},"Type":"L3_L4","traffic_direction":"INGRESS","is_reply":false}`,
        );
      }
      appendFileSync(path, `${lines.join('\n')}\n`);
    }
    const size = statSync(path).size;
    assert.ok(size > 75_000_000, `${size} bytes`);

    gc?.();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let delivered = 0;
    let dropped = 0;
    let lineSum = 0;
    const stats = await readFlowFile(path, (flow) => {
      delivered++;
      if (flow.verdict === 'dropped') dropped++;
      lineSum += flow.line;
      if (delivered % 25_000 === 0) {
        // Retained memory: what survives a full collection while the reader is half way through the file.
        gc?.();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
    });
    assert.equal(delivered, total);
    // Every line once (they arrive as their connections finish, not in file order).
    assert.equal(lineSum, (total * (total + 1)) / 2);
    assert.equal(dropped, Math.ceil(total / 7));
    assert.deepEqual(stats, {
      file: path,
      format: 'hubble',
      lines: total,
      flows: total,
      connections: total,
      events: total,
      counting: HUBBLE_COUNTING,
      malformed: { count: 0 },
      ignored: {},
    });
    // Without a collector to call, the bound is looser: garbage awaiting collection counts too.
    const bound = gc !== undefined ? size / 20 : size / 2;
    assert.ok(peak < bound, `heap grew ${(peak / 1e6).toFixed(1)} MB reading ${(size / 1e6).toFixed(0)} MB`);
  } finally {
    tmp.cleanup();
  }
});

test('readFlowFile: the fixtures are what the docs say they are', () => {
  // Guards the fixtures against edits that would make the tests above pass for the wrong reason.
  const hubble = readFileSync(fixture('hubble-flat.jsonl'), 'utf8').trim().split('\n');
  assert.ok(hubble.every((line) => 'verdict' in JSON.parse(line)));
  const wrapped = readFileSync(fixture('hubble-wrapped.jsonl'), 'utf8').trim().split('\n');
  assert.ok(wrapped.slice(1, -1).every((line) => 'flow' in JSON.parse(line)));
});
