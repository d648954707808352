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

test('an accepted finding names a check of the catalogue and a day of the calendar; approved flows name workloads, IPs or CIDRs', () => {
  assert.deepEqual(
    errorsOf(
      [
        'accept:',
        '  - {check: HIPAA-NP-999, object: a/b, reason: r, until: 2027-02-28}',
        '  - {check: HIPAA-NP-005, object: a/b, reason: r, until: 2027-02-30}',
        'approvedFlows:',
        "  - {from: 'not a workload', to: records/api}",
        '  - {from: 10.0.0.0/8, to: Records/API}',
        "  - {from: 'frontend/portal[Deployment]', to: 192.0.2.7}",
        '',
      ].join('\n'),
    ),
    [
      'phiwall.yaml:5:12: approvedFlows[0].from: "not a workload" is not a workload (ns/name or ns/name[Kind]) or an IP address or CIDR: must be a lowercase RFC 1123 subdomain (a-z, 0-9, - and .)',
      'phiwall.yaml:6:28: approvedFlows[1].to: "Records/API" is not a workload (ns/name or ns/name[Kind]) or an IP address or CIDR: must be a lowercase RFC 1123 label (a-z, 0-9 and -, alphanumeric at both ends)',
      'phiwall.yaml:2:13: accept[0].check: not a check of the catalogue (HIPAA-NP-001 … HIPAA-NP-033)',
      'phiwall.yaml:3:58: accept[1].until: not a date of the calendar',
    ],
  );
});
