import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditOf, findingsOf } from '../../testing/audit.ts';
import type { AuditConfig } from '../config.ts';
import type { Finding } from '../types.ts';

const API = 'records/api[Deployment]';

const NAMESPACES = `apiVersion: v1
kind: Namespace
metadata: {name: records, labels: {data-classification: phi}}
---
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {team: frontend}}
---
apiVersion: v1
kind: Namespace
metadata: {name: billing}
`;

function deployment(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  extra: { ports?: string; podSpec?: string } = {},
): string {
  const labelText = Object.entries(labels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  selector: {matchLabels: {${labelText}}}
  template:
    metadata: {labels: {${labelText}}}
    spec:${extra.podSpec ? `\n      ${extra.podSpec}` : ''}
      containers:
        - name: main
          image: example/${name}:1
          ports: ${extra.ports ?? '[{name: https, containerPort: 8443}, {name: http, containerPort: 8080}]'}
`;
}

function policy(namespace: string, name: string, spec: string): string {
  const body = spec
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${namespace}}
spec:
${body}
`;
}

const WORKLOADS = [
  NAMESPACES,
  deployment('records', 'api', { app: 'api' }),
  deployment('web', 'ui', { app: 'ui' }),
  deployment('billing', 'ledger', { app: 'ledger' }),
  deployment(
    'kube-system',
    'coredns',
    { 'k8s-app': 'kube-dns' },
    { ports: '[{name: dns, containerPort: 53, protocol: UDP}]' },
  ),
].join('');

/** A PHI API isolated both ways; `ingress`/`egress` are its rules (YAML lists). */
function cluster(ingress: string, egress: string, more = ''): string {
  return (
    WORKLOADS +
    policy(
      'records',
      'api',
      `podSelector: {matchLabels: {app: api}}\npolicyTypes: [Ingress, Egress]\ningress:\n${ingress}\negress:\n${egress}`,
    ) +
    more
  );
}

const NO_RULES = '  []';
const DNS_EGRESS = `  - to:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]`;

function audit(yaml: string, config: Partial<AuditConfig> = {}) {
  return auditOf(yaml, config);
}

function only(findings: Finding[], check: string): Finding {
  const list = findings.filter((f) => f.check === check);
  assert.equal(list.length, 1, JSON.stringify(list, null, 1));
  return list[0] as Finding;
}

function finding(yaml: string, check: string, config: Partial<AuditConfig> = {}): Finding {
  return only(findingsOf(audit(yaml, config), check), check);
}

function assertPass(yaml: string, check: string, config: Partial<AuditConfig> = {}): void {
  const findings = findingsOf(audit(yaml, config), check);
  assert.deepEqual(
    findings.map((f) => f.status),
    ['pass'],
    JSON.stringify(findings, null, 1),
  );
}

/** Applies a remediation manifest by replacing the policies of the same name (policies are additive). */
function applied(yaml: string, manifest: string): string {
  const names = [...manifest.matchAll(/^ {2}name: (\S+)\n {2}namespace: (\S+)$/gm)].map(
    ([, n, ns]) => `${ns}/${n}`,
  );
  const kept = yaml
    .split(/^---\n/m)
    .filter((doc) => {
      const match = /kind: NetworkPolicy\nmetadata: \{name: (\S+), namespace: (\S+)\}/.exec(doc);
      return !match || !names.includes(`${match[2]}/${match[1]}`);
    })
    .join('---\n');
  return `${kept}\n---\n${manifest}`;
}

function lineOf(yaml: string, text: string): number {
  const index = yaml.split('\n').findIndex((line) => line.includes(text));
  assert.ok(index >= 0, `no line with ${text}`);
  return index + 1;
}

describe('HIPAA-NP-013 namespace peers by immutable name', () => {
  const byLabel = `  - from:
      - namespaceSelector: {matchLabels: {team: frontend}}
    ports: [{protocol: TCP, port: 8443}]`;

  test('fails on a custom namespace label, with the peer, the edge and a pinned rewrite', () => {
    const yaml = cluster(byLabel, NO_RULES);
    const f = finding(yaml, 'HIPAA-NP-013');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, [API, 'records/api']);
    assert.deepEqual(f.evidence.rules, [
      { rule: 'records/api#spec.ingress[0].from[0]', at: `cluster.yaml:${lineOf(yaml, '- from:')}` },
    ]);
    assert.deepEqual(f.evidence.edges, ['web/ui[Deployment] -> records/api[Deployment] TCP 8443']);
    assert.match(f.evidence.notes?.[0] ?? '', /selects by team; now matches web/);
    assert.match(
      f.remediation?.yaml ?? '',
      /key: kubernetes.io\/metadata.name, operator: In, values: \[web\]/,
    );
    const fixed = applied(yaml, f.remediation?.yaml ?? '');
    assertPass(fixed, 'HIPAA-NP-013');
    // The rewrite keeps the flow it was written for.
    assert.ok(findingsOf(audit(fixed), 'HIPAA-NP-020').some((x) => x.status === 'pass'));
  });

  test('passes when the namespace is named by kubernetes.io/metadata.name', () => {
    assertPass(
      cluster(
        `  - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web, team: frontend}}`,
        NO_RULES,
      ),
      'HIPAA-NP-013',
    );
  });
});

describe('HIPAA-NP-014 specific ingress ports', () => {
  const wide = `  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}}]
    ports: [{protocol: TCP, port: 8000, endPort: 8999}]`;

  test('fails on a range wider than maxPortRange, naming the rule', () => {
    const yaml = cluster(wide, NO_RULES);
    const f = finding(yaml, 'HIPAA-NP-014');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, [API]);
    assert.deepEqual(f.evidence.edges, ['web/ui[Deployment] -> records/api[Deployment] TCP 8000-8999']);
    assert.deepEqual(f.evidence.rules, [
      {
        rule: 'records/api#spec.ingress[0] (TCP 8000-8999)',
        at: `cluster.yaml:${lineOf(yaml, '- from: [{namespaceSelector')}`,
      },
    ]);
    assert.match(f.evidence.notes?.[0] ?? '', /TCP 8000-8999 \(1000 ports\)/);
    assert.deepEqual(f.location, { file: 'cluster.yaml', line: lineOf(yaml, '- from: [{namespaceSelector') });
  });

  test('fails on all ports of every protocol when the workload is not ingress-isolated', () => {
    const yaml = WORKLOADS;
    const f = finding(yaml, 'HIPAA-NP-014');
    assert.equal(f.status, 'fail');
    assert.ok(f.evidence.edges?.includes('web/ui[Deployment] -> records/api[Deployment] all ports'));
    assert.ok(f.evidence.notes?.some((n) => n.includes('all TCP ports')));
    assert.ok(f.evidence.notes?.some((n) => n.includes('not ingress-isolated')));
  });

  test('passes on single ports, and on a range within a raised maxPortRange', () => {
    assertPass(cluster(`  - ports: [{protocol: TCP, port: 8443}]`, NO_RULES), 'HIPAA-NP-014');
    assertPass(cluster(wide, NO_RULES), 'HIPAA-NP-014', { maxPortRange: 1000 });
  });
});

describe('HIPAA-NP-015 narrow ipBlocks', () => {
  test('fails on an IPv4 ipBlock broader than /16, with the peer and the external edge', () => {
    const yaml = cluster(
      `  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]
    ports: [{protocol: TCP, port: 8443}]`,
      NO_RULES,
    );
    const f = finding(yaml, 'HIPAA-NP-015');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, [API]);
    assert.deepEqual(f.evidence.rules, [
      { rule: 'records/api#spec.ingress[0].from[0]', at: `cluster.yaml:${lineOf(yaml, 'cidr: 10.0.0.0/8')}` },
    ]);
    assert.deepEqual(f.evidence.edges, ['10.0.0.0/8 -> records/api[Deployment] TCP 8443']);
    assert.match(f.evidence.notes?.[0] ?? '', /is a \/8, broader than \/16/);
  });

  test('fails on an IPv6 ipBlock broader than /48', () => {
    const f = finding(cluster(`  - from: [{ipBlock: {cidr: "2001:db8::/32"}}]`, NO_RULES), 'HIPAA-NP-015');
    assert.equal(f.status, 'fail');
    assert.match(f.evidence.notes?.[0] ?? '', /\/32, broader than \/48/);
  });

  test('passes on a /24 and a /48', () => {
    assertPass(
      cluster(`  - from: [{ipBlock: {cidr: 10.1.2.0/24}}, {ipBlock: {cidr: "2001:db8:1::/48"}}]`, NO_RULES),
      'HIPAA-NP-015',
    );
  });
});

describe('HIPAA-NP-016 internet egress', () => {
  const anywhere = `  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{protocol: TCP, port: 443}]
${DNS_EGRESS}`;

  test('fails on egress to 0.0.0.0/0; the rewritten policy passes and keeps private ranges', () => {
    const yaml = cluster(NO_RULES, anywhere);
    const f = finding(yaml, 'HIPAA-NP-016');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, [API]);
    assert.deepEqual(f.evidence.rules, [
      { rule: 'records/api#spec.egress[0] (TCP 443)', at: `cluster.yaml:${lineOf(yaml, 'cidr: 0.0.0.0/0')}` },
    ]);
    assert.deepEqual(f.evidence.edges, ['records/api[Deployment] -> 0.0.0.0/0 TCP 443']);
    assert.match(f.evidence.notes?.[0] ?? '', /include internet addresses, e\.g\. 1\.0\.0\.0/);
    assert.match(f.remediation?.yaml ?? '', /\{ipBlock: \{cidr: "10\.0\.0\.0\/8"\}\}/);
    const fixed = applied(yaml, f.remediation?.yaml ?? '');
    assertPass(fixed, 'HIPAA-NP-016');
    const egress = findingsOf(audit(fixed), 'HIPAA-NP-018');
    assert.deepEqual(
      egress.map((x) => x.status),
      ['pass'],
    );
  });

  test('fails when not egress-isolated; the suggested egress policy passes', () => {
    const yaml = WORKLOADS;
    const f = finding(yaml, 'HIPAA-NP-016');
    assert.ok(f.evidence.notes?.some((n) => n.includes('not egress-isolated')));
    assertPass(`${yaml}---\n${f.remediation?.yaml}`, 'HIPAA-NP-016');
  });

  test('passes on private ranges, cluster DNS and an allowedEgress partner', () => {
    const partner = `  - to: [{ipBlock: {cidr: 10.0.0.0/8}}, {ipBlock: {cidr: 52.10.0.0/24}}]
${DNS_EGRESS}`;
    assert.equal(finding(cluster(NO_RULES, partner), 'HIPAA-NP-016').status, 'fail');
    assertPass(cluster(NO_RULES, partner), 'HIPAA-NP-016', { allowedEgress: ['52.10.0.0/24'] });
  });
});

describe('HIPAA-NP-017 DNS only to cluster DNS', () => {
  const anyHost53 = `  - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]`;

  test('fails on port 53 to any host; the rule rewritten to the DNS pods passes', () => {
    const yaml = cluster(NO_RULES, anyHost53);
    const f = finding(yaml, 'HIPAA-NP-017');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, [API]);
    assert.ok(f.evidence.edges?.includes('records/api[Deployment] -> web/ui[Deployment] TCP 53 UDP 53'));
    assert.ok(f.evidence.edges?.some((e) => e.startsWith('records/api[Deployment] -> 0.0.0.0/0,::/0')));
    assert.ok(!f.evidence.edges?.some((e) => e.includes('coredns')));
    assert.deepEqual(f.evidence.rules, [
      {
        rule: 'records/api#spec.egress[0] (TCP 53 UDP 53)',
        at: `cluster.yaml:${lineOf(yaml, 'port: 53}, {protocol: TCP')}`,
      },
    ]);
    assert.match(f.remediation?.yaml ?? '', /podSelector: \{matchLabels: \{k8s-app: kube-dns\}\}/);
    assertPass(applied(yaml, f.remediation?.yaml ?? ''), 'HIPAA-NP-017');
  });

  test('passes when DNS egress names the kube-dns pods', () => {
    assertPass(cluster(NO_RULES, DNS_EGRESS), 'HIPAA-NP-017');
  });
});

describe('HIPAA-NP-018 cloud metadata', () => {
  test('fails on open egress and points at the rule; the except rewrite passes', () => {
    const yaml = cluster(NO_RULES, `  - to: [{ipBlock: {cidr: 169.254.0.0/16}}, {podSelector: {}}]`);
    const f = finding(yaml, 'HIPAA-NP-018');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, [API]);
    assert.deepEqual(f.evidence.edges, [
      'records/api[Deployment] -> 169.254.169.254/32,169.254.170.2/32,169.254.170.23/32 all ports',
    ]);
    assert.deepEqual(f.evidence.rules, [
      {
        rule: 'records/api#spec.egress[0] (all ports)',
        at: `cluster.yaml:${lineOf(yaml, 'cidr: 169.254.0.0/16')}`,
      },
    ]);
    assert.match(
      f.remediation?.yaml ?? '',
      /except: \["169.254.169.254\/32", "169.254.170.2\/32", "169.254.170.23\/32"\]/,
    );
    assertPass(applied(yaml, f.remediation?.yaml ?? ''), 'HIPAA-NP-018');
  });

  test('fails when not egress-isolated; the suggested policy passes', () => {
    const f = finding(WORKLOADS, 'HIPAA-NP-018');
    assert.deepEqual(f.evidence.edges, [
      'records/api[Deployment] -> 100.100.100.200/32,168.63.129.16/32,169.254.169.254/32,169.254.170.2/32,169.254.170.23/32,fd00:ec2::23/128,fd00:ec2::254/128 all ports',
    ]);
    assert.match(
      f.remediation?.yaml ?? '',
      /"100.100.100.200\/32", "168.63.129.16\/32", "169.254.169.254\/32"/,
    );
    assertPass(`${WORKLOADS}---\n${f.remediation?.yaml}`, 'HIPAA-NP-018');
  });

  test('passes when the metadata addresses are excepted', () => {
    assertPass(
      cluster(
        NO_RULES,
        `  - to: [{ipBlock: {cidr: 169.254.0.0/16, except: [169.254.169.254/32, 169.254.170.0/24]}}]`,
      ),
      'HIPAA-NP-018',
    );
  });

  test('the defaults include EKS Pod Identity, ECS task credentials and Azure WireServer', () => {
    for (const [cidr, address] of [
      ['169.254.170.0/24', '169.254.170.23/32'],
      ['fd00:ec2::/64', 'fd00:ec2::23/128'],
      ['169.254.170.0/24', '169.254.170.2/32'],
      ['168.63.129.0/24', '168.63.129.16/32'],
    ]) {
      const f = finding(cluster(NO_RULES, `  - to: [{ipBlock: {cidr: ${cidr}}}]`), 'HIPAA-NP-018');
      assert.equal(f.status, 'fail', address);
      assert.ok(f.evidence.edges?.[0]?.includes(address as string), `${address} in ${f.evidence.edges}`);
    }
  });
});

describe('HIPAA-NP-019 egress to other namespaces', () => {
  const toBilling = `  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: billing}}}]
    ports: [{protocol: TCP, port: 8080}]
${DNS_EGRESS}`;

  test('fails on egress to a namespace outside allowedEgress, not on cluster DNS', () => {
    const yaml = cluster(NO_RULES, toBilling);
    const f = finding(yaml, 'HIPAA-NP-019');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, [API]);
    assert.deepEqual(f.evidence.edges, ['records/api[Deployment] -> billing/ledger[Deployment] TCP 8080']);
    assert.deepEqual(f.evidence.rules, [
      {
        rule: 'records/api#spec.egress[0] (TCP 8080)',
        at: `cluster.yaml:${lineOf(yaml, 'metadata.name: billing}}}]')}`,
      },
    ]);
    assert.match(f.evidence.notes?.[0] ?? '', /outside allowedEgress: billing$/);
  });

  test('passes when the namespace is in allowedEgress', () => {
    assertPass(cluster(NO_RULES, toBilling), 'HIPAA-NP-019', { allowedEgress: ['billing'] });
  });

  test('passes when the other namespace holds PHI too', () => {
    const phiBilling = cluster(NO_RULES, toBilling).replace(
      'metadata: {name: billing}',
      'metadata: {name: billing, labels: {data-classification: ephi}}',
    );
    // ledger itself, unisolated, still fails for its own egress; the API's flow to it does not.
    const findings = findingsOf(audit(phiBilling), 'HIPAA-NP-019');
    assert.deepEqual(
      findings.map((f) => f.objects),
      [['billing/ledger[Deployment]']],
    );
  });
});

describe('HIPAA-NP-020 TLS ports', () => {
  const plain = `  - ports: [{protocol: TCP, port: 8080}, {protocol: TCP, port: 8443}]`;
  const service = (appProtocol: string) => `---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: records}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: http${appProtocol}}]
`;

  const fromPods = `  - from: [{namespaceSelector: {}}]
    ports: [{protocol: TCP, port: 8080}]`;
  const exposed = (type: string) => `---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: records}
spec:
  type: ${type}
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
`;

  test('needs review for a port outside tlsPorts that only pods reach', () => {
    const f = finding(cluster(fromPods, NO_RULES), 'HIPAA-NP-020');
    assert.equal(f.status, 'needs-review');
    assert.ok(f.evidence.edges?.includes('web/ui[Deployment] -> records/api[Deployment] TCP 8080'));
    assert.equal(
      finding(cluster(fromPods, NO_RULES, exposed('ClusterIP')), 'HIPAA-NP-020').status,
      'needs-review',
    );
  });

  test('fails where a LoadBalancer or NodePort publishes the plain port', () => {
    for (const type of ['LoadBalancer', 'NodePort']) {
      const f = finding(cluster(fromPods, NO_RULES, exposed(type)), 'HIPAA-NP-020');
      assert.equal(f.status, 'fail', type);
      assert.ok(
        f.evidence.notes?.some(
          (n) => n.includes('published outside the cluster on TCP 8080') && n.includes(type),
        ),
        JSON.stringify(f.evidence.notes),
      );
    }
  });

  test('fails for a port outside tlsPorts open to every address, saying Services are missing', () => {
    const yaml = cluster(plain, NO_RULES);
    const f = finding(yaml, 'HIPAA-NP-020');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, [API]);
    assert.ok(f.evidence.edges?.includes('web/ui[Deployment] -> records/api[Deployment] TCP 8080'));
    assert.ok(f.evidence.edges?.includes('0.0.0.0/0,::/0 -> records/api[Deployment] TCP 8080'));
    assert.deepEqual(f.evidence.rules, [
      {
        rule: 'records/api#spec.ingress[0] (TCP 8080)',
        at: `cluster.yaml:${lineOf(yaml, 'port: 8080}, {protocol')}`,
      },
    ]);
    assert.ok(f.evidence.notes?.some((n) => n.startsWith('no Services in input')));
  });

  test('passes on TLS ports, and where a Service marks the port appProtocol: https', () => {
    assertPass(cluster(`  - ports: [{protocol: TCP, port: 8443}]`, NO_RULES), 'HIPAA-NP-020');
    assertPass(cluster(plain, NO_RULES, service(', appProtocol: https')), 'HIPAA-NP-020');
    assert.equal(finding(cluster(fromPods, NO_RULES, service('')), 'HIPAA-NP-020').status, 'needs-review');
  });
});

const SERVICE = (type = 'ClusterIP', name = 'api') => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: records}
spec:
  type: ${type}
  selector: {app: api}
  ports: [{port: 443, targetPort: 8443${type === 'NodePort' ? ', nodePort: 30443' : ''}}]
`;

const INGRESS = (tls: string, backend = 'api') => `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: portal, namespace: records}
spec:${tls}
  rules:
    - host: records.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: ${backend}, port: {number: 443}}}}
`;

describe('HIPAA-NP-021 Ingress TLS', () => {
  test('not assessable without Ingress objects', () => {
    const f = finding(cluster(NO_RULES, NO_RULES, SERVICE()), 'HIPAA-NP-021');
    assert.equal(f.status, 'not-assessable');
    assert.match(f.evidence.notes?.[0] ?? '', /no Ingress objects in input/);
  });

  test('fails on a route to a PHI Service without TLS', () => {
    const yaml = cluster(NO_RULES, NO_RULES, SERVICE() + INGRESS(''));
    const f = finding(yaml, 'HIPAA-NP-021');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, ['records/portal', 'records/api', API]);
    assert.match(f.evidence.notes?.[0] ?? '', /^records\.example\.com\/ -> Service records\/api/);
    assert.deepEqual(f.location, { file: 'cluster.yaml', line: lineOf(yaml, 'kind: Ingress') - 1 });
    assert.match(f.remediation?.yaml ?? '', /hosts: \[records.example.com\]/);
  });

  test('not assessable when the routed Service is missing from the input', () => {
    const f = finding(cluster(NO_RULES, NO_RULES, SERVICE() + INGRESS('', 'other')), 'HIPAA-NP-021');
    assert.equal(f.status, 'not-assessable');
    assert.match(f.evidence.notes?.[0] ?? '', /records\/other/);
  });

  test('passes when a TLS entry (or a wildcard) covers the host', () => {
    const tls = '\n  tls: [{hosts: [records.example.com], secretName: records-tls}]';
    assertPass(cluster(NO_RULES, NO_RULES, SERVICE() + INGRESS(tls)), 'HIPAA-NP-021');
    const wildcard = '\n  tls: [{hosts: ["*.example.com"], secretName: wild-tls}]';
    assertPass(cluster(NO_RULES, NO_RULES, SERVICE() + INGRESS(wildcard)), 'HIPAA-NP-021');
  });
});

describe('HIPAA-NP-022 node-level exposure', () => {
  test('not assessable without Services', () => {
    const f = finding(cluster(NO_RULES, NO_RULES), 'HIPAA-NP-022');
    assert.equal(f.status, 'not-assessable');
    assert.match(f.evidence.notes?.[0] ?? '', /no Service objects in input/);
  });

  test('fails on a NodePort Service selecting PHI', () => {
    const yaml = cluster(`  - ports: [{protocol: TCP, port: 8443}]`, NO_RULES, SERVICE('NodePort'));
    const f = finding(yaml, 'HIPAA-NP-022');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, ['records/api', API]);
    assert.match(f.evidence.notes?.[0] ?? '', /exposed by type NodePort on TCP 443 \(nodePort 30443\)/);
    assert.deepEqual(f.evidence.edges, ['0.0.0.0/0,::/0 -> records/api[Deployment] TCP 8443']);
  });

  test('passes on a ClusterIP Service', () => {
    assertPass(cluster(NO_RULES, NO_RULES, SERVICE()), 'HIPAA-NP-022');
  });
});

describe('HIPAA-NP-023 and 024 host networking', () => {
  const hostNet =
    NAMESPACES + deployment('records', 'agent', { app: 'agent' }, { podSpec: 'hostNetwork: true' });
  const hostPort =
    NAMESPACES +
    deployment(
      'records',
      'agent',
      { app: 'agent' },
      { ports: '[{name: metrics, containerPort: 9100, hostPort: 9100}]' },
    );

  test('023 fails on a hostNetwork PHI pod and passes without', () => {
    const f = finding(hostNet, 'HIPAA-NP-023');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, ['records/agent[Deployment]']);
    assert.match(
      f.evidence.notes?.[0] ?? '',
      /spec.hostNetwork: true .*namespace records has data-classification=phi/,
    );
    assert.equal(f.location?.line, lineOf(hostNet, 'kind: Deployment') - 1);
    assertPass(hostPort, 'HIPAA-NP-023');
  });

  test('024 fails on a hostPort of a PHI container and passes without', () => {
    const f = finding(hostPort, 'HIPAA-NP-024');
    assert.equal(f.status, 'fail');
    assert.deepEqual(f.objects, ['records/agent[Deployment]']);
    assert.equal(f.evidence.notes?.[0], 'container main hostPort 9100');
    assertPass(hostNet, 'HIPAA-NP-024');
  });

  test('workloads outside PHI are not held to 023 and 024', () => {
    const yaml = deployment('billing', 'agent', { app: 'agent' }, { podSpec: 'hostNetwork: true' });
    assertPass(yaml, 'HIPAA-NP-023');
  });
});
