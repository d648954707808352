import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  dnsLabelProblem,
  dnsSubdomainProblem,
  labelKeyProblem,
  labelValueProblem,
  portNameProblem,
} from './names.ts';

test('DNS labels: lowercase alphanumerics and dashes, at most 63 characters', () => {
  for (const ok of ['a', 'web-1', '0', 'a'.repeat(63)]) assert.equal(dnsLabelProblem(ok), undefined, ok);
  for (const bad of ['', 'Web', '-a', 'a-', 'a.b', 'a_b']) assert.ok(dnsLabelProblem(bad), bad);
  assert.equal(dnsLabelProblem('a'.repeat(64)), 'must be no more than 63 characters');
});

test('DNS subdomains: dot-separated labels, at most 253 characters', () => {
  for (const ok of ['a.b.c', 'web-1.shop', `${'a'.repeat(63)}.${'b'.repeat(63)}`]) {
    assert.equal(dnsSubdomainProblem(ok), undefined, ok);
  }
  for (const bad of ['a..b', '.a', 'a.', 'A.b', 'system:coredns']) assert.ok(dnsSubdomainProblem(bad), bad);
  const labels = `${'a'.repeat(63)}.`.repeat(3);
  assert.equal(dnsSubdomainProblem(`${labels}${'b'.repeat(61)}`), undefined);
  assert.equal(dnsSubdomainProblem(`${labels}${'b'.repeat(62)}`), 'must be no more than 253 characters');
});

test('label keys: an optional DNS-subdomain prefix, then a name of at most 63 characters', () => {
  for (const ok of ['app', 'app.kubernetes.io/name', 'A_b.c-D', 'x/Y', `p/${'n'.repeat(63)}`]) {
    assert.equal(labelKeyProblem(ok), undefined, ok);
  }
  assert.equal(labelKeyProblem(''), 'a label key name must not be empty');
  assert.equal(labelKeyProblem('example.com/'), 'a label key name must not be empty');
  assert.equal(labelKeyProblem('/app'), 'a label key prefix must not be empty');
  assert.equal(labelKeyProblem('a/b/c'), 'a label key may contain at most one "/"');
  assert.match(
    labelKeyProblem('Example.com/app') ?? '',
    /^the prefix must be a lowercase RFC 1123 subdomain/,
  );
  assert.equal(labelKeyProblem('n'.repeat(64)), 'a label key name must be no more than 63 characters');
  assert.match(labelKeyProblem('-app') ?? '', /start and end with an alphanumeric/);
  assert.match(labelKeyProblem('app name') ?? '', /must consist of alphanumerics/);
});

test('label values: empty, or up to 63 alphanumerics, "-", "_" and "." between alphanumerics', () => {
  for (const ok of ['', 'v1', 'A_b.c-D', 'v'.repeat(63)]) assert.equal(labelValueProblem(ok), undefined, ok);
  for (const bad of ['-v', 'v-', 'a b', 'a/b', '.']) assert.ok(labelValueProblem(bad), bad);
  assert.equal(labelValueProblem('v'.repeat(64)), 'a label value must be no more than 63 characters');
});

test('port names: IANA service names of at most 15 characters with a letter and no "--"', () => {
  for (const ok of ['http', 'h2c', 'grpc-web', 'a'.repeat(15)])
    assert.equal(portNameProblem(ok), undefined, ok);
  assert.equal(portNameProblem('a'.repeat(16)), 'a port name must be no more than 15 characters');
  assert.equal(portNameProblem('8080'), 'a port name must contain at least one letter');
  for (const bad of ['my--port', 'HTTP', '-http', 'http-', 'my_port', ''])
    assert.ok(portNameProblem(bad), bad);
});
