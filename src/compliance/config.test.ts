import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic, InputError } from '../load/diagnostics.ts';
import { DEFAULT_CONFIG, parseAuditConfig, STARTER_CONFIG } from './config.ts';

function errorsOf(text: string): string[] {
  try {
    parseAuditConfig('phiwall.yaml', text);
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return assert.fail('expected an InputError');
}

test('an empty config means the catalogue defaults', () => {
  assert.deepEqual(parseAuditConfig('phiwall.yaml', ''), DEFAULT_CONFIG);
  assert.deepEqual(parseAuditConfig('phiwall.yaml', 'maxPortRange: 10\n').maxPortRange, 10);
});

test('the starter config written by init is valid and says what the defaults are', () => {
  assert.deepEqual(parseAuditConfig('phiwall.yaml', STARTER_CONFIG), DEFAULT_CONFIG);
});

test('config mistakes are positioned errors, all of them', () => {
  assert.deepEqual(
    errorsOf(
      'tlsPort: [443]\nmetadataCIDRs: [169.254.169.254/33]\naccept:\n  - {check: NP-5, object: x, reason: r, until: tomorrow}\n',
    ),
    [
      'phiwall.yaml:2:17: metadataCIDRs[0]: not a valid CIDR',
      'phiwall.yaml:4:13: accept[0].check: a check id such as HIPAA-NP-005',
      'phiwall.yaml:4:48: accept[0].until: a date, YYYY-MM-DD',
      'phiwall.yaml:1:10: tlsPort: Unrecognized key: "tlsPort"',
    ],
  );
});

test('dns: one target or a list, ports defaulting to 53; mistakes are positioned', () => {
  assert.deepEqual(
    parseAuditConfig('phiwall.yaml', 'dns: {namespace: dns-system, podLabels: {app: unbound}}\n').dns,
    [{ namespace: 'dns-system', podLabels: { app: 'unbound' }, ports: [53] }],
  );
  assert.deepEqual(
    parseAuditConfig('phiwall.yaml', 'dns:\n  - {namespace: a, ports: [5353]}\n  - {namespace: b}\n').dns,
    [
      { namespace: 'a', podLabels: {}, ports: [5353] },
      { namespace: 'b', podLabels: {}, ports: [53] },
    ],
  );
  assert.match(errorsOf('dns: {namespace: a, ports: [0]}\n').join('\n'), /^phiwall\.yaml:1:\d+: dns/m);
});
