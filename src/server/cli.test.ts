import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { runCli } from '../cli/main.ts';
import { FAKE_APISERVER_CA, TEST_KEY } from '../testing/fake-apiserver.ts';
import type { Graph } from './graph.ts';
import { CONFIG_FILE, EXAMPLE } from './test-support.ts';

/**
 * Runs `phiwall serve …` in-process until `stop` is called, or the test ends (so that a failed assertion
 * leaves no server behind); resolves the URL it prints.
 */
function serve(t: TestContext, args: string[]) {
  const controller = new AbortController();
  let stdout = '';
  let stderr = '';
  let announce: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    announce = resolve;
  });
  const exit = runCli(['serve', ...args], {
    stdout: (text) => {
      stdout += text;
      const match = /serving (\S+) /.exec(stdout);
      if (match) announce(match[1] as string);
    },
    stderr: (text) => {
      stderr += text;
    },
    readStdin: () => '',
    signal: controller.signal,
  });
  const stop = () => {
    controller.abort();
    return exit;
  };
  t.after(stop);
  return {
    url: Promise.race([url, exit.then((code) => Promise.reject(new Error(`exited ${code}: ${stderr}`)))]),
    output: () => ({ stdout, stderr }),
    stop,
  };
}

test('phiwall serve: prints the URL, answers the API, stops when told', async (t) => {
  const run = serve(t, [`${EXAMPLE}insecure`, '-c', CONFIG_FILE, '--port', '0', '--no-open']);
  const url = await run.url;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(run.output().stdout, /^phiwall: serving http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C stops\)\n$/);
  const graph = (await (await fetch(new URL('/api/graph', url))).json()) as Graph;
  assert.equal(graph.summary.workloads, 9);
  assert.equal(await run.stop(), 0);
  await assert.rejects(fetch(new URL('/api/graph', url)), 'the server is closed');
});

test('phiwall serve --host 0.0.0.0 generates a token and prints it in the URL; --token is used as given', async (t) => {
  const run = serve(t, [`${EXAMPLE}secure`, '--host', '0.0.0.0', '--port', '0', '--no-open']);
  const url = new URL(await run.url);
  const token = url.searchParams.get('token') ?? '';
  assert.ok(token.length >= 20);
  assert.match(run.output().stderr, /generated a token/);
  const local = `http://127.0.0.1:${url.port}`;
  assert.equal((await fetch(`${local}/api/graph`)).status, 401);
  assert.equal(
    (await fetch(`${local}/api/graph`, { headers: { authorization: `Bearer ${token}` } })).status,
    200,
  );
  assert.equal(await run.stop(), 0);

  const given = serve(t, [`${EXAMPLE}secure`, '--port', '0', '--token', 'my token', '--no-open']);
  const withToken = new URL(await given.url);
  assert.equal(withToken.searchParams.get('token'), 'my token');
  assert.equal((await fetch(new URL('/api/graph', withToken))).status, 401);
  assert.equal(await given.stop(), 0);
});

test('phiwall serve: bad input and bad options exit 2 before listening', async () => {
  const messages: string[] = [];
  const io = { stdout: () => {}, stderr: (t: string) => messages.push(t), readStdin: () => '' };
  assert.equal(await runCli(['serve', '/nonexistent/phiwall', '--no-open'], io), 2);
  assert.match(messages.join(''), /no such file or folder/);
  assert.equal(await runCli(['serve', '-', '--no-open'], io), 2);
  assert.match(messages.join(''), /not - \(stdin\)/);
  assert.equal(await runCli(['serve', '--port', '99999'], io), 2);
  assert.equal(await runCli(['serve', '--live', EXAMPLE], io), 2);
  assert.match(messages.join(''), /--live reads the cluster/);
});

test('phiwall serve --tls-cert/--tls-key serves HTTPS, with a Secure token cookie; bad TLS files exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, FAKE_APISERVER_CA);
  writeFileSync(key, TEST_KEY);
  const run = serve(t, [
    `${EXAMPLE}secure`,
    '--tls-cert',
    cert,
    '--tls-key',
    key,
    '--host',
    '0.0.0.0',
    '--token',
    'tok',
    '--port',
    '0',
    '--no-open',
  ]);
  const url = new URL(await run.url);
  assert.equal(url.protocol, 'https:');
  const port = Number(url.port);
  const get = (path: string) =>
    new Promise<{ status: number; cookie: string; body: string }>((resolve, reject) => {
      const request = httpsGet({ host: '127.0.0.1', port, path, ca: FAKE_APISERVER_CA }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            cookie: String(response.headers['set-cookie'] ?? ''),
            body,
          }),
        );
      });
      request.on('error', reject);
    });
  assert.equal((await get('/api/graph')).status, 401);
  const authorised = await get('/api/graph?token=tok');
  assert.equal(authorised.status, 200);
  assert.equal((JSON.parse(authorised.body) as Graph).summary.workloads, 9);
  assert.match(authorised.cookie, /HttpOnly; SameSite=Strict; Secure$/);
  // Plain HTTP on the same port gets no answer from the API.
  await assert.rejects(fetch(`http://127.0.0.1:${port}/api/graph?token=tok`));

  const messages: string[] = [];
  const io = { stdout: () => {}, stderr: (text: string) => messages.push(text), readStdin: () => '' };
  assert.equal(await runCli(['serve', `${EXAMPLE}secure`, '--tls-cert', cert, '--no-open'], io), 2);
  assert.match(messages.join(''), /--tls-cert and --tls-key go together/);
  assert.equal(
    await runCli(['serve', `${EXAMPLE}secure`, '--tls-cert', key, '--tls-key', cert, '--no-open'], io),
    2,
  );
  assert.equal(
    await runCli(['serve', `${EXAMPLE}secure`, '--tls-cert', join(dir, 'none.pem'), '--tls-key', key], io),
    2,
  );
  assert.match(messages.join(''), /--tls-cert \S*none\.pem: ENOENT/);
});

test('phiwall serve --record: an entry for the start and one for each change of the files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-serve-record-'));
  try {
    const work = join(dir, 'k8s');
    mkdirSync(work);
    for (const file of ['00-namespaces.yaml', '10-workloads.yaml', '20-services.yaml', '30-policies.yaml']) {
      copyFileSync(`${EXAMPLE}secure/${file}`, join(work, file));
    }
    const db = join(dir, 'history.db');
    const run = serve(t, [work, '-c', CONFIG_FILE, '--port', '0', '--no-open', '--record', '--db', db]);
    await run.url;
    const until = async (pattern: RegExp) => {
      const deadline = Date.now() + 10_000;
      while (!pattern.test(run.output().stderr)) {
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${pattern}:\n${run.output().stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    await until(/history #1 recorded/);
    writeFileSync(join(work, '30-policies.yaml'), readFileSync(`${EXAMPLE}insecure/30-policies.yaml`));
    await until(/history #2 recorded/);
    writeFileSync(join(work, '30-policies.yaml'), readFileSync(`${EXAMPLE}secure/30-policies.yaml`));
    await until(/history #3 recorded/);
    assert.equal(await run.stop(), 0);
    const lines: string[] = [];
    const io = {
      stdout: (t: string) => lines.push(t),
      stderr: (t: string) => lines.push(t),
      readStdin: () => '',
    };
    const code = await runCli(
      ['history', 'since', 'billing/invoicing', 'records/records-db', '--db', db, '-f', 'json'],
      io,
    );
    assert.equal(code, 0, lines.join(''));
    const answer = JSON.parse(lines.join('')) as {
      intervals: { opened: { seq: number }; closed?: { seq: number } }[];
    };
    assert.deepEqual(
      answer.intervals.map((i) => [i.opened.seq, i.closed?.seq]),
      [[2, 3]],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
