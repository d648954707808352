import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSnapshot } from '../load/snapshot.ts';
import { yaml } from '../testing/yaml.ts';
import { type LintProblem, lintSnapshot } from './lint.ts';

// Workloads live in apps.yaml and the policies under test in np.yaml, so lines in np.yaml are the test's.
const APPS = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: shop }
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: { name: web, namespace: shop }
  spec:
    selector: { matchLabels: { app: web } }
    template:
      metadata: { labels: { app: web } }
      spec:
        containers:
          - { name: web, image: web, ports: [{ name: http, containerPort: 8080 }] }
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: { name: api, namespace: shop }
  spec:
    selector: { matchLabels: { app: api } }
    template:
      metadata: { labels: { app: api } }
      spec:
        containers:
          - { name: api, image: api, ports: [{ name: http, containerPort: 8080 }, { containerPort: 9090 }] }
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: { name: worker, namespace: shop }
  spec:
    selector: { matchLabels: { app: worker } }
    template:
      metadata: { labels: { app: worker } }
      spec:
        containers: [{ name: worker, image: worker }]
`;

/** Policies as YAML documents; `policy(name, spec)` writes the header so specs stay short. */
function policy(name: string, spec: string): string {
  const body = spec
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: ${name}, namespace: shop }\nspec:\n${body}\n`;
}

function lint(...policies: string[]): LintProblem[] {
  const snapshot = buildSnapshot([
    { path: 'apps.yaml', text: APPS },
    { path: 'np.yaml', text: policies.join('---\n') },
  ]);
  return lintSnapshot(snapshot).problems;
}

function of(problems: LintProblem[], rule: string): LintProblem[] {
  return problems.filter((p) => p.rule === rule);
}

const at = (p: LintProblem | undefined) => (p ? `${p.file}:${p.line}` : 'none');

// A DNS rule so that egress-isolating policies do not also raise PW-LINT-006.
const DNS = '  - ports: [{ port: 53, protocol: UDP }]';

describe('PW-LINT-001 policy selects no workload', () => {
  test('fires at the policy, naming the selector and the labels that exist', () => {
    const [found, ...rest] = of(
      lint(policy('ghost', 'podSelector: { matchLabels: { app: ghost } }')),
      'PW-LINT-001',
    );
    assert.equal(rest.length, 0);
    assert.equal(at(found), 'np.yaml:1');
    assert.equal(found?.severity, 'warning');
    assert.match(
      found?.message ?? '',
      /shop\/ghost selects no workload: podSelector app=ghost matches no pod/,
    );
    assert.match(found?.message ?? '', /app=api, app=web/);
    assert.match(found?.fix ?? '', /Correct spec.podSelector/);
  });
  test('does not fire for a policy that selects a workload', () => {
    assert.deepEqual(
      of(lint(policy('web', 'podSelector: { matchLabels: { app: web } }')), 'PW-LINT-001'),
      [],
    );
  });
});

describe('PW-LINT-002 rule peer selects nothing', () => {
  test('fires at the rule, naming the peer', () => {
    const problems = lint(
      policy(
        'web',
        `podSelector: { matchLabels: { app: web } }
ingress:
  - from: [{ podSelector: { matchLabels: { app: api } } }]
  - from: [{ podSelector: { matchLabels: { app: apj } } }]`,
      ),
    );
    const [found, ...rest] = of(problems, 'PW-LINT-002');
    assert.equal(rest.length, 0);
    assert.equal(at(found), 'np.yaml:8');
    assert.equal(found?.path, 'shop/web#spec.ingress[1].from[0]');
    assert.match(found?.message ?? '', /podSelector app=apj matches no pod in namespace shop/);
  });
  test('does not fire when every peer matches a pod', () => {
    const problems = lint(
      policy(
        'web',
        `podSelector: { matchLabels: { app: web } }
ingress:
  - from: [{ podSelector: { matchLabels: { app: api } } }]`,
      ),
    );
    assert.deepEqual(of(problems, 'PW-LINT-002'), []);
  });
});

describe('PW-LINT-003 redundant rule or policy', () => {
  test('a rule whose grant another rule covers, however written, is redundant', () => {
    const problems = lint(
      policy(
        'api',
        `podSelector: { matchLabels: { app: api } }
ingress:
  - from: [{ podSelector: {} }]
    ports: [{ port: 8080 }]
  - from: [{ podSelector: { matchExpressions: [{ key: app, operator: In, values: [web] }] } }]
    ports: [{ port: http }]`,
      ),
    );
    const [found, ...rest] = of(problems, 'PW-LINT-003');
    assert.equal(rest.length, 0);
    assert.equal(at(found), 'np.yaml:9');
    assert.match(found?.message ?? '', /shop\/api#spec.ingress\[1\] is redundant/);
    assert.match(found?.message ?? '', /already allowed by shop\/api#spec.ingress\[0\] \(np.yaml:7\)/);
  });
  test('a policy whose every grant other policies make is redundant as a whole', () => {
    const spec = `podSelector: { matchLabels: { app: api } }
ingress:
  - from: [{ podSelector: { matchLabels: { app: web } } }]
    ports: [{ port: 8080 }]`;
    const problems = of(
      lint(
        policy('api', `${spec}\n  - from: [{ podSelector: { matchLabels: { app: worker } } }]`),
        policy('api-web', spec),
      ),
      'PW-LINT-003',
    );
    assert.deepEqual(
      problems.map((p) => [at(p), p.path]),
      [
        // Each policy's rule is covered by the other's; only api-web adds nothing as a whole.
        ['np.yaml:7', 'shop/api#spec.ingress[0]'],
        ['np.yaml:11', 'shop/api-web'],
      ],
    );
    assert.match(
      problems[1]?.message ?? '',
      /policy shop\/api-web is redundant: removing it leaves every connection/,
    );
  });
  test('does not fire for rules that each add something', () => {
    const problems = lint(
      policy(
        'api',
        `podSelector: { matchLabels: { app: api } }
ingress:
  - from: [{ podSelector: { matchLabels: { app: web } } }]
    ports: [{ port: 8080 }]
  - from: [{ podSelector: { matchLabels: { app: web } } }]
    ports: [{ port: 9090 }]`,
      ),
    );
    assert.deepEqual(of(problems, 'PW-LINT-003'), []);
  });
});

describe('PW-LINT-004 rules ignored because of policyTypes', () => {
  test('egress rules under policyTypes [Ingress] are an error at the first of them', () => {
    const problems = lint(
      policy(
        'web',
        `podSelector: { matchLabels: { app: web } }
policyTypes: [Ingress]
egress:
  - to: [{ podSelector: { matchLabels: { app: api } } }]
  - to: [{ podSelector: { matchLabels: { app: worker } } }]`,
      ),
    );
    const [found, ...rest] = of(problems, 'PW-LINT-004');
    assert.equal(rest.length, 0);
    assert.equal(at(found), 'np.yaml:8');
    assert.equal(found?.severity, 'error');
    assert.match(found?.message ?? '', /has 2 egress rule\(s\) but spec.policyTypes is \[Ingress\]/);
    assert.match(found?.fix ?? '', /Add Egress to spec.policyTypes/);
  });
  test('and the mirror case: ingress rules under policyTypes [Egress]', () => {
    const problems = lint(
      policy(
        'web',
        `podSelector: { matchLabels: { app: web } }
policyTypes: [Egress]
egress:
${DNS}
ingress:
  - {}`,
      ),
    );
    const [found] = of(problems, 'PW-LINT-004');
    assert.equal(at(found), 'np.yaml:10');
    assert.match(found?.message ?? '', /ingress rules are ignored/);
  });
  test('does not fire when policyTypes cover the rules', () => {
    const problems = lint(
      policy(
        'web',
        `podSelector: { matchLabels: { app: web } }
policyTypes: [Ingress, Egress]
egress:
${DNS}
ingress:
  - {}`,
      ),
    );
    assert.deepEqual(of(problems, 'PW-LINT-004'), []);
  });
});

describe('PW-LINT-005 half-open flows', () => {
  const webEgress = (ports: string) =>
    policy(
      'web',
      `podSelector: { matchLabels: { app: web } }
policyTypes: [Egress]
egress:
${DNS}
  - to: [{ podSelector: { matchLabels: { app: api } } }]
    ports: [${ports}]`,
    );
  const apiIngress = policy(
    'api',
    `podSelector: { matchLabels: { app: api } }
ingress:
  - from: [{ podSelector: { matchLabels: { app: web } } }]
    ports: [{ port: 8080 }]`,
  );
  test('egress admits ports the isolated ingress does not: the lost ports, at the egress rule', () => {
    const problems = of(lint(webEgress('{ port: 8080 }, { port: 9090 }'), apiIngress), 'PW-LINT-005');
    assert.equal(problems.length, 1);
    assert.equal(at(problems[0]), 'np.yaml:9');
    assert.equal(problems[0]?.severity, 'error');
    assert.match(
      problems[0]?.message ?? '',
      /lets shop\/web\[Deployment\] connect to shop\/api\[Deployment\] on TCP 8080,9090/,
    );
    assert.match(problems[0]?.message ?? '', /TCP 9090 is lost/);
  });
  test('ingress admits ports the isolated egress does not: reported at the ingress rule', () => {
    const problems = of(lint(webEgress('{ port: 9090 }'), apiIngress), 'PW-LINT-005');
    assert.deepEqual(
      problems.map((p) => [at(p), /TCP (\d+) is lost/.exec(p.message)?.[1]]),
      [
        ['np.yaml:9', '9090'],
        ['np.yaml:18', '8080'],
      ],
    );
    assert.match(problems[1]?.message ?? '', /admits shop\/web\[Deployment\] into shop\/api\[Deployment\]/);
  });
  test('does not fire when both sides agree, or the other side is not isolated', () => {
    assert.deepEqual(of(lint(webEgress('{ port: 8080 }'), apiIngress), 'PW-LINT-005'), []);
    assert.deepEqual(of(lint(webEgress('{ port: 9090 }')), 'PW-LINT-005'), []);
  });
});

describe('PW-LINT-006 egress-isolated pods without DNS', () => {
  test('fires at the isolating policy, naming the workloads', () => {
    const problems = lint(
      policy(
        'deny-egress',
        `podSelector: {}
policyTypes: [Egress]`,
      ),
    );
    const [found, ...rest] = of(problems, 'PW-LINT-006');
    assert.equal(rest.length, 0);
    assert.equal(at(found), 'np.yaml:1');
    assert.match(
      found?.message ?? '',
      /shop\/api\[Deployment\], shop\/web\[Deployment\], shop\/worker\[Deployment\] are egress-isolated/,
    );
    assert.match(found?.message ?? '', /no egress rule admits port 53/);
  });
  test('a rule to port 53 over TCP is enough; one whose peers match nothing is not', () => {
    const spec = (peers: string) => `podSelector: {}
policyTypes: [Egress]
egress:
  - ${peers}ports: [{ port: 53, protocol: TCP }]`;
    assert.deepEqual(of(lint(policy('dns', spec(''))), 'PW-LINT-006'), []);
    assert.equal(
      of(
        lint(policy('dns', spec('to: [{ podSelector: { matchLabels: { app: nope } } }]\n    '))),
        'PW-LINT-006',
      ).length,
      1,
    );
  });
});

describe('PW-LINT-007 named port that no pod defines', () => {
  test('ingress: none of the selected pods defines it', () => {
    const problems = lint(
      policy(
        'api',
        `podSelector: { matchLabels: { app: api } }
ingress:
  - ports: [{ port: grpc }]`,
      ),
    );
    const [found, ...rest] = of(problems, 'PW-LINT-007');
    assert.equal(rest.length, 0);
    assert.equal(at(found), 'np.yaml:7');
    assert.match(
      found?.message ?? '',
      /named port "grpc" \(TCP\) .* none of the pods shop\/api selects; they define http \(TCP 8080\)/,
    );
  });
  test('egress: none of the peer pods defines it, even under another protocol', () => {
    const problems = lint(
      policy(
        'web',
        `podSelector: { matchLabels: { app: web } }
policyTypes: [Egress]
egress:
${DNS}
  - to: [{ podSelector: { matchLabels: { app: api } } }]
    ports: [{ port: http, protocol: UDP }]`,
      ),
    );
    const [found] = of(problems, 'PW-LINT-007');
    assert.equal(at(found), 'np.yaml:9');
    assert.match(found?.message ?? '', /peer pods of shop\/web#spec.egress\[1\]; they define it for TCP/);
    assert.match(found?.fix ?? '', /Set protocol: TCP/);
  });
  test('does not fire for a name the pods define', () => {
    const problems = lint(
      policy(
        'api',
        `podSelector: { matchLabels: { app: api } }
ingress:
  - ports: [{ port: http }]`,
      ),
    );
    assert.deepEqual(of(problems, 'PW-LINT-007'), []);
  });
});

describe('PW-LINT-008 ingress port no container declares', () => {
  const ingress = (selector: string, port: string) =>
    lint(
      policy(
        'p',
        `podSelector: { matchLabels: { app: ${selector} } }
ingress:
  - ports: [{ port: ${port} }]`,
      ),
    );
  test('fires when the pods declare ports and not this one', () => {
    const [found, ...rest] = of(ingress('api', '8443'), 'PW-LINT-008');
    assert.equal(rest.length, 0);
    assert.equal(at(found), 'np.yaml:7');
    assert.match(
      found?.message ?? '',
      /admits TCP 8443, which no container of the pods shop\/p selects declares \(they declare TCP 8080,9090\)/,
    );
  });
  test('does not fire for a declared port, nor for pods that declare none', () => {
    assert.deepEqual(of(ingress('api', '8080'), 'PW-LINT-008'), []);
    // An unnamed containerPort is declared too.
    assert.deepEqual(of(ingress('api', '9090'), 'PW-LINT-008'), []);
    assert.deepEqual(of(ingress('worker', '8443'), 'PW-LINT-008'), []);
  });
});

test('a clean set of policies has no problems', () => {
  const problems = lint(
    policy(
      'api',
      `podSelector: { matchLabels: { app: api } }
ingress:
  - from: [{ podSelector: { matchLabels: { app: web } } }]
    ports: [{ port: http }]`,
    ),
  );
  assert.deepEqual(problems, []);
});

describe('PW-LINT-006 and cluster DNS outside the input', () => {
  const dnsEgress = (to: string, ports: string) =>
    policy(
      'dns',
      `podSelector: {}
policyTypes: [Egress]
egress:
  - to: [${to}]
    ports: [${ports}]`,
    );
  const KUBE_DNS =
    '{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } }';
  const OPENSHIFT_DNS =
    '{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: openshift-dns } }, podSelector: { matchLabels: { dns.operator.openshift.io/daemonset-dns: default } } }';
  const PORT_53 = '{ port: 53, protocol: UDP }, { port: 53, protocol: TCP }';

  test('the standard rule to kube-dns in an absent kube-system is DNS egress, and its peer is info', () => {
    const problems = lint(dnsEgress(KUBE_DNS, PORT_53));
    assert.deepEqual(of(problems, 'PW-LINT-006'), []);
    assert.deepEqual(
      of(problems, 'PW-LINT-002'),
      [],
      'not "selects nothing": it selects pods phiwall cannot see',
    );
    const [info, ...rest] = of(problems, 'PW-LINT-013');
    assert.equal(rest.length, 0);
    assert.equal(info?.severity, 'info');
    assert.equal(info?.path, 'shop/dns#spec.egress[0].to[0]');
    assert.match(info?.message ?? '', /selects pods in kube-system, which the input holds no pods of/);
  });

  test('a matchExpressions selector on the namespace name, and "any namespace", count too', () => {
    const byExpression =
      '{ namespaceSelector: { matchExpressions: [{ key: kubernetes.io/metadata.name, operator: In, values: [kube-system] }] }, podSelector: { matchLabels: { k8s-app: kube-dns } } }';
    assert.deepEqual(of(lint(dnsEgress(byExpression, PORT_53)), 'PW-LINT-006'), []);
    const anyNamespace = '{ namespaceSelector: {} }';
    assert.deepEqual(of(lint(dnsEgress(anyNamespace, '{ port: 53, protocol: UDP }')), 'PW-LINT-006'), []);
  });

  test('OpenShift DNS: port 5353 to openshift-dns counts; port 53 alone does not reach its pods', () => {
    const ok = lint(dnsEgress(OPENSHIFT_DNS, '{ port: 5353, protocol: UDP }, { port: 5353, protocol: TCP }'));
    assert.deepEqual(of(ok, 'PW-LINT-006'), []);
    assert.deepEqual(of(ok, 'PW-LINT-002'), []);
    assert.equal(of(ok, 'PW-LINT-013').length, 1);
    const wrongPort = of(lint(dnsEgress(OPENSHIFT_DNS, PORT_53)), 'PW-LINT-006');
    assert.equal(wrongPort.length, 1, 'the DNS pods listen on 5353 behind the Service port 53');
  });

  test('a custom dns: target replaces the well-known ones', () => {
    const snapshot = buildSnapshot([
      { path: 'apps.yaml', text: APPS },
      {
        path: 'np.yaml',
        text: dnsEgress(
          '{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: dns-system } }, podSelector: { matchLabels: { app: unbound } } }',
          '{ port: 8053, protocol: UDP }',
        ),
      },
    ]);
    const custom = [{ namespace: 'dns-system', podLabels: { app: 'unbound' }, ports: [8053] }];
    const problems = lintSnapshot(snapshot, undefined, { dns: custom }).problems;
    assert.deepEqual(of(problems, 'PW-LINT-006'), []);
    assert.match(of(problems, 'PW-LINT-013')[0]?.message ?? '', /dns-system/);
    assert.equal(of(lintSnapshot(snapshot).problems, 'PW-LINT-006').length, 1, 'unknown DNS by default');
    const kubeDns = buildSnapshot([
      { path: 'apps.yaml', text: APPS },
      { path: 'np.yaml', text: dnsEgress(KUBE_DNS, PORT_53) },
    ]);
    assert.equal(
      of(lintSnapshot(kubeDns, undefined, { dns: custom }).problems, 'PW-LINT-006').length,
      1,
      'with dns: configured, kube-dns is not the cluster DNS',
    );
  });

  test('a genuinely missing DNS rule still fires, suggesting the rule for the DNS the input runs', () => {
    const problems = lint(dnsEgress(KUBE_DNS, '{ port: 443 }'));
    const [found, ...rest] = of(problems, 'PW-LINT-006');
    assert.equal(rest.length, 0);
    assert.match(found?.message ?? '', /no egress rule admits port 53/);
    assert.match(
      found?.fix ?? '',
      /kubernetes\.io\/metadata\.name: kube-system.*k8s-app: kube-dns.*port: 53/,
    );
    const wrongPods = lint(
      dnsEgress(
        '{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: metrics } } }',
        PORT_53,
      ),
    );
    assert.equal(of(wrongPods, 'PW-LINT-006').length, 1, 'port 53 to pods that are not the DNS');
  });

  test('a peer naming a namespace the input holds is still checked: a typo stays a warning', () => {
    const problems = lint(
      dnsEgress(
        '{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: shop } }, podSelector: { matchLabels: { app: wbe } } }',
        '{ port: 8080 }',
      ),
    );
    assert.equal(of(problems, 'PW-LINT-002').length, 1);
    assert.deepEqual(of(problems, 'PW-LINT-013'), []);
  });
});
