import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL_OPTIONS } from '../testing/random-cluster.ts';
import { type Case, cluster, dedent, expectVerdicts, namespace, pod, policy } from '../testing/verdicts.ts';
import { Engine } from './engine.ts';
import { isEmptyPorts } from './ports.ts';

/** A projectcalico.org/v3 object whose spec is written as an indented YAML block. */
function calico(kind: string, name: string, spec: string, ns?: string, labels?: string): string {
  const body = dedent(spec)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  const metadata = [
    `name: ${name}`,
    ...(ns ? [`namespace: ${ns}`] : []),
    ...(labels ? [`labels: ${labels}`] : []),
  ];
  return [
    'apiVersion: projectcalico.org/v3',
    `kind: ${kind}`,
    `metadata: { ${metadata.join(', ')} }`,
    'spec:',
    body,
  ].join('\n');
}
const gnp = (name: string, spec: string) => calico('GlobalNetworkPolicy', name, spec);
const cnp = (name: string, ns: string, spec: string) => calico('NetworkPolicy', name, spec, ns);
const tier = (name: string, spec: string) => calico('Tier', name, spec);

const EXTERNAL = '192.0.2.10';
const PARTNER = '203.0.113.5';

const base = [
  namespace('phi', { phi: 'true' }),
  namespace('web', { team: 'web' }),
  pod({
    name: 'db',
    namespace: 'phi',
    labels: { app: 'db' },
    ips: ['10.0.0.1'],
    ports: [{ name: 'pg', containerPort: 5432 }],
  }),
  pod({ name: 'api', namespace: 'phi', labels: { app: 'api', tier: 'backend' }, ips: ['10.0.0.2'] }),
  pod({ name: 'frontend', namespace: 'web', labels: { app: 'frontend' }, ips: ['10.0.1.1'] }),
];

function check(cases: readonly Case[], ...documents: string[]): void {
  const snapshot = cluster(...base, ...documents);
  for (const options of ALL_OPTIONS) {
    expectVerdicts(snapshot, cases, options);
    listsEveryAllowedPair(new Engine(snapshot, options));
  }
}

/** allowedClassPairs visits only candidates: it must still find what Pass rules hand on to later tiers. */
function listsEveryAllowedPair(engine: Engine): void {
  const listed = new Set([...engine.allowedClassPairs()].map((p) => `${p.src.id}:${p.dst.id}`));
  for (const a of engine.classes) {
    for (const b of engine.classes) {
      const allowed = !isEmptyPorts(engine.classPorts(a, b).ports);
      assert.equal(listed.has(`${a.id}:${b.id}`), allowed, `allowedClassPairs ${a.id} → ${b.id}`);
    }
  }
}

describe('Calico policy semantics', () => {
  test('rules are evaluated in order: the first Allow or Deny decides, Log goes on', () => {
    check(
      [
        ['phi/api', 'phi/db', 'TCP/5432', false],
        ['web/frontend', 'phi/db', 'TCP/5432', true],
        ['web/frontend', 'phi/db', 'TCP/80', false],
        [EXTERNAL, 'phi/db', 'TCP/5432', true],
      ],
      cnp(
        'db',
        'phi',
        `
        selector: app == 'db'
        ingress:
        - action: Log
        - action: Deny
          source: {selector: app == 'api'}
        - action: Allow
          protocol: TCP
          destination: {ports: [pg]}
        `,
      ),
    );
  });

  test('a tier that applies but decides nothing denies; a Pass goes to the next tier', () => {
    check(
      [
        // security passes traffic from phi namespaces, and the default tier's policy allows 5432 only.
        ['phi/api', 'phi/db', 'TCP/5432', true],
        ['phi/api', 'phi/db', 'TCP/80', false],
        // Not passed: the security tier ends in Deny for db.
        ['web/frontend', 'phi/db', 'TCP/5432', false],
        // api is not selected by any policy: its profile allows.
        ['web/frontend', 'phi/api', 'TCP/80', true],
      ],
      tier('security', 'order: 100'),
      gnp(
        'security.guard',
        `
        tier: security
        selector: app == 'db'
        ingress:
        - action: Pass
          source: {namespaceSelector: phi == 'true'}
        `,
      ),
      cnp(
        'db-5432',
        'phi',
        `
        selector: app == 'db'
        ingress:
        - action: Allow
          protocol: TCP
          destination: {ports: [5432]}
        `,
      ),
    );
  });

  test('a tier with defaultAction Pass hands on what it leaves; Pass with no later tier reaches the profile', () => {
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/80', true],
        ['phi/api', 'phi/db', 'TCP/80', false],
      ],
      tier('security', 'order: 100\ndefaultAction: Pass'),
      gnp(
        'security.guard',
        `
        tier: security
        order: 1
        selector: app == 'db'
        ingress:
        - action: Deny
          source: {selector: app == 'api'}
        `,
      ),
    );
  });

  test('a tier that passes everything hands the connection on, and the listing still finds it', () => {
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/5432', true],
        ['web/frontend', 'phi/db', 'TCP/80', false],
        ['phi/db', 'web/frontend', 'TCP/80', true],
      ],
      tier('security', 'order: 100'),
      gnp(
        'security.pass',
        'tier: security\nselector: all()\ntypes: [Ingress, Egress]\ningress: [{action: Pass}]\negress: [{action: Pass}]',
      ),
      cnp(
        'db',
        'phi',
        "selector: app == 'db'\ningress: [{action: Allow, protocol: TCP, destination: {ports: [5432]}}]",
      ),
    );
  });

  test('policies in a tier go by order, then by name; unordered last', () => {
    check(
      [['web/frontend', 'phi/db', 'TCP/80', false]],
      gnp('b-allow', 'order: 10\nselector: all()\ningress: [{action: Allow}]'),
      gnp('a-deny', 'order: 10\nselector: all()\ningress: [{action: Deny}]'),
      gnp('z-allow', 'selector: all()\ningress: [{action: Allow}]'),
    );
    check(
      [['web/frontend', 'phi/db', 'TCP/80', true]],
      gnp('later', 'order: 20\nselector: all()\ningress: [{action: Deny}]'),
      gnp('first', 'order: 5\nselector: all()\ningress: [{action: Allow}]'),
    );
  });

  test('Kubernetes NetworkPolicies sit in the default tier at order 1000', () => {
    const allowWeb = policy(
      'allow-web',
      `
      podSelector: {matchLabels: {app: db}}
      ingress: [{from: [{namespaceSelector: {matchLabels: {team: web}}}]}]
      `,
      'phi',
    );
    // Before it (order 999): the Calico Deny wins; after it (order 1001): the Kubernetes allow wins.
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/80', false],
        ['phi/api', 'phi/db', 'TCP/80', false],
      ],
      allowWeb,
      gnp(
        'deny-first',
        'order: 999\nselector: all()\ningress: [{action: Deny, source: {namespaceSelector: team == "web"}}]',
      ),
    );
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/80', true],
        ['phi/api', 'phi/db', 'TCP/80', false],
      ],
      allowWeb,
      gnp(
        'deny-after',
        'order: 1001\nselector: all()\ningress: [{action: Deny, source: {namespaceSelector: team == "web"}}]',
      ),
    );
  });

  test('types default from the rules; a policy with types and no rules denies that direction', () => {
    check(
      [
        ['phi/db', 'web/frontend', 'TCP/80', false],
        ['web/frontend', 'phi/db', 'TCP/80', true],
        ['phi/api', 'phi/db', 'TCP/80', true],
      ],
      cnp('isolate-egress', 'phi', "selector: app == 'db'\ntypes: [Egress]"),
    );
    check(
      [
        ['phi/db', 'web/frontend', 'TCP/80', true],
        ['web/frontend', 'phi/db', 'TCP/80', false],
      ],
      cnp('ingress-default', 'phi', "selector: app == 'db'"),
    );
  });

  test('protocols by name and number, notProtocol, and ICMP rules never allow TCP or UDP', () => {
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/80', true],
        ['web/frontend', 'phi/db', 'UDP/53', false],
        ['web/frontend', 'phi/db', 'SCTP/9', true],
        ['phi/api', 'phi/db', 'TCP/80', true],
        ['phi/api', 'phi/db', 'SCTP/9', false],
        ['phi/api', 'phi/db', 'UDP/53', true],
      ],
      cnp(
        'db',
        'phi',
        `
        selector: app == 'db'
        ingress:
        - action: Allow
          protocol: ICMP
        - action: Allow
          protocol: 6
          source: {namespaceSelector: all()}
          notProtocol: UDP
        - action: Allow
          protocol: 17
          source: {selector: app == 'api'}
        - action: Allow
          notProtocol: UDP
          source: {namespaceSelector: team == 'web'}
        `,
      ),
    );
  });

  test('ports, ranges, named ports and notPorts', () => {
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/5432', true],
        ['web/frontend', 'phi/db', 'TCP/8000', true],
        ['web/frontend', 'phi/db', 'TCP/8005', false],
        ['web/frontend', 'phi/db', 'TCP/8011', false],
        ['web/frontend', 'phi/db', 'UDP/5432', false],
      ],
      cnp(
        'db',
        'phi',
        `
        selector: app == 'db'
        ingress:
        - action: Allow
          protocol: TCP
          source: {namespaceSelector: all()}
          destination: {ports: [pg, "8000:8010"], notPorts: [8005]}
        `,
      ),
    );
  });

  test('nets and notNets match addresses, and pods by address where the CNI matches pod IPs', () => {
    const snapshot = cluster(
      ...base,
      cnp(
        'db',
        'phi',
        `
        selector: app == 'db'
        ingress:
        - action: Allow
          source: {nets: [10.0.1.0/24, 192.0.2.0/24], notNets: [192.0.2.128/25]}
        `,
      ),
    );
    const both: Case[] = [
      [EXTERNAL, 'phi/db', 'TCP/80', true],
      ['192.0.2.200', 'phi/db', 'TCP/80', false],
      ['phi/api', 'phi/db', 'TCP/80', false],
    ];
    expectVerdicts(snapshot, [...both, ['web/frontend', 'phi/db', 'TCP/80', true]], {
      ipBlockMatchesPods: true,
    });
    expectVerdicts(snapshot, [...both, ['web/frontend', 'phi/db', 'TCP/80', false]], {
      ipBlockMatchesPods: false,
    });
  });

  test('NetworkSets are matched by selector through their nets; GlobalNetworkSets only from global scope', () => {
    check(
      [
        [PARTNER, 'phi/db', 'TCP/443', true],
        ['198.51.100.1', 'phi/db', 'TCP/443', true],
        [EXTERNAL, 'phi/db', 'TCP/443', false],
        ['phi/db', PARTNER, 'TCP/443', false],
        ['phi/db', '198.51.100.1', 'TCP/443', true],
      ],
      calico('GlobalNetworkSet', 'partners', 'nets: [203.0.113.0/24]', undefined, '{role: partner}'),
      calico('NetworkSet', 'lab', 'nets: [198.51.100.0/24]', 'phi', '{role: partner}'),
      cnp(
        'db',
        'phi',
        `
        selector: app == 'db'
        types: [Ingress, Egress]
        ingress:
        - action: Allow
          source: {selector: role == 'partner', namespaceSelector: global() || projectcalico.org/name == 'phi'}
        egress:
        - action: Allow
          destination: {selector: role == 'partner'}
        `,
      ),
    );
  });

  test('selector and notSelector are scoped to the policy namespace unless a namespaceSelector widens them', () => {
    check(
      [
        ['phi/api', 'phi/db', 'TCP/80', false],
        ['web/frontend', 'phi/db', 'TCP/80', false],
        [EXTERNAL, 'phi/db', 'TCP/80', false],
      ],
      cnp(
        'db',
        'phi',
        "selector: app == 'db'\ningress: [{action: Allow, source: {notSelector: app == 'api'}}]",
      ),
    );
    // In a GlobalNetworkPolicy a notSelector alone matches everything else, addresses included.
    check(
      [
        ['phi/api', 'phi/db', 'TCP/80', false],
        ['web/frontend', 'phi/db', 'TCP/80', true],
        [EXTERNAL, 'phi/db', 'TCP/80', true],
      ],
      gnp('db', "selector: app == 'db'\ningress: [{action: Allow, source: {notSelector: app == 'api'}}]"),
    );
  });

  test('serviceAccounts and serviceAccountSelector match pods by service account', () => {
    const accounts = [
      pod({ name: 'billing', namespace: 'web', labels: { app: 'billing' }, ips: ['10.0.1.2'] }).replace(
        'spec:\n',
        'spec:\n  serviceAccountName: billing\n',
      ),
    ];
    const snapshot = cluster(
      ...base,
      ...accounts,
      gnp(
        'db',
        `
        selector: app == 'db'
        ingress:
        - action: Allow
          source: {serviceAccounts: {names: [billing]}}
        `,
      ),
      gnp(
        'deny-default-sa',
        "serviceAccountSelector: projectcalico.org/name == 'default'\nselector: app == 'frontend'\ntypes: [Egress]",
      ),
    );
    for (const options of ALL_OPTIONS) {
      expectVerdicts(
        snapshot,
        [
          ['web/billing', 'phi/db', 'TCP/80', true],
          ['web/frontend', 'phi/db', 'TCP/80', false],
          ['web/frontend', 'phi/api', 'TCP/80', false],
          ['web/billing', 'phi/api', 'TCP/80', true],
        ],
        options,
      );
    }
  });

  test('a declared namespace profile replaces the allow-all Calico generates', () => {
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/80', false],
        ['web/frontend', 'phi/db', 'TCP/443', true],
        ['phi/db', 'web/frontend', 'TCP/80', false],
        ['phi/api', 'web/frontend', 'TCP/80', true],
      ],
      calico(
        'Profile',
        'kns.phi',
        `
        ingress: [{action: Allow, protocol: TCP, destination: {ports: [443]}}]
        egress: [{action: Allow, source: {selector: app == 'api'}}]
        `,
      ),
    );
  });

  test('AdminNetworkPolicy and BaselineAdminNetworkPolicy tiers sit around the Calico tiers', () => {
    const anp = dedent(`
      apiVersion: policy.networking.k8s.io/v1alpha1
      kind: AdminNetworkPolicy
      metadata: {name: allow-web}
      spec:
        priority: 1
        subject: {namespaces: {matchLabels: {phi: "true"}}}
        ingress: [{action: Allow, from: [{namespaces: {matchLabels: {team: web}}}]}]
    `);
    check(
      // The Admin tier (order 1000) comes before a Calico tier of order 2000 that denies.
      [
        ['web/frontend', 'phi/db', 'TCP/80', true],
        ['phi/api', 'phi/db', 'TCP/80', false],
      ],
      anp,
      tier('late', 'order: 2000'),
      gnp('late.deny', 'tier: late\nselector: all()\ningress: [{action: Deny}]'),
    );
  });
});
