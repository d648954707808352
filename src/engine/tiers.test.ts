import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeConnectivity } from '../analysis/connectivity.ts';
import { ALL_OPTIONS } from '../testing/random-cluster.ts';
import {
  type Case,
  cluster,
  clusterWarning,
  dedent,
  expectVerdicts,
  namespace,
  pod,
  policy,
} from '../testing/verdicts.ts';
import { Engine } from './engine.ts';
import { formatPorts } from './ports.ts';

/** A cluster-scoped policy.networking.k8s.io object whose spec is written as an indented YAML block. */
function clusterPolicy(kind: string, name: string, spec: string): string {
  const apiVersion = kind === 'ClusterNetworkPolicy' ? 'v1alpha2' : 'v1alpha1';
  const body = dedent(spec)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return [
    `apiVersion: policy.networking.k8s.io/${apiVersion}`,
    `kind: ${kind}`,
    `metadata: { name: ${name} }`,
    'spec:',
    body,
  ].join('\n');
}

const anp = (name: string, spec: string) => clusterPolicy('AdminNetworkPolicy', name, spec);
const banp = (spec: string) => clusterPolicy('BaselineAdminNetworkPolicy', 'default', spec);
const cnp = (name: string, spec: string) => clusterPolicy('ClusterNetworkPolicy', name, spec);

const EXTERNAL = '192.0.2.10';

// PHI in its own namespace; a web tier and an ops namespace next to it.
const base = [
  namespace('phi', { phi: 'true' }),
  namespace('web', { team: 'web' }),
  namespace('ops', { team: 'ops' }),
  pod({
    name: 'db',
    namespace: 'phi',
    labels: { app: 'db' },
    ips: ['10.0.0.1'],
    ports: [{ name: 'pg', containerPort: 5432 }],
  }),
  pod({ name: 'api', namespace: 'phi', labels: { app: 'api' }, ips: ['10.0.0.2'] }),
  pod({ name: 'frontend', namespace: 'web', labels: { app: 'frontend' }, ips: ['10.0.1.1'] }),
  pod({ name: 'monitor', namespace: 'ops', labels: { app: 'monitor' }, ips: ['10.0.2.1'] }),
];

/** Admin tier: everything outside PHI is denied ingress to PHI pods. */
const guardrail = anp(
  'phi-guardrail',
  `
  priority: 10
  subject: { namespaces: { matchLabels: { phi: "true" } } }
  ingress:
  - name: allow-phi
    action: Allow
    from: [{ namespaces: { matchLabels: { phi: "true" } } }]
  - name: deny-rest
    action: Deny
    from: [{ namespaces: {} }]
  `,
);

/** A namespace owner's NetworkPolicy that tries to open the database to everyone. */
const openDb = policy(
  'open-db',
  `
  podSelector: { matchLabels: { app: db } }
  ingress: [{}]
  `,
  'phi',
);

function check(cases: readonly Case[], ...documents: string[]): void {
  const snapshot = cluster(...base, ...documents);
  for (const options of ALL_OPTIONS) expectVerdicts(snapshot, cases, options);
}

describe('tier order', () => {
  test('an Admin-tier Deny overrides a NetworkPolicy that allows', () => {
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/5432', false],
        ['ops/monitor', 'phi/db', 'UDP/53', false],
        ['phi/api', 'phi/db', 'TCP/5432', true],
        // The guardrail governs ingress only: PHI pods may still send anywhere.
        ['phi/db', 'web/frontend', 'TCP/80', true],
        [EXTERNAL, 'phi/db', 'TCP/5432', true],
      ],
      guardrail,
      openDb,
    );
  });

  test('an Admin-tier Allow overrides a NetworkPolicy that isolates and denies', () => {
    const denyAll = policy('deny-all', 'podSelector: {}\npolicyTypes: [Ingress]', 'phi');
    const allowMonitoring = anp(
      'allow-monitoring',
      `
      priority: 5
      subject: { namespaces: {} }
      ingress:
      - action: Allow
        from: [{ pods: { namespaceSelector: { matchLabels: { team: ops } }, podSelector: {} } }]
        ports: [{ portNumber: { port: 9090 } }]
      `,
    );
    check(
      [
        ['ops/monitor', 'phi/db', 'TCP/9090', true],
        ['ops/monitor', 'phi/db', 'UDP/9090', false],
        ['ops/monitor', 'phi/db', 'TCP/9091', false],
        ['web/frontend', 'phi/db', 'TCP/9090', false],
      ],
      denyAll,
      allowMonitoring,
    );
  });

  test('NetworkPolicy decides for the pods it isolates: the Baseline tier applies only to the rest', () => {
    const baselineDeny = banp(`
      subject: { namespaces: {} }
      ingress:
      - action: Deny
        from: [{ namespaces: {} }]
      - action: Allow
        from: [{ pods: { namespaceSelector: {}, podSelector: {} } }]
    `);
    check(
      [
        // db is isolated by open-db, which allows everything: the Baseline Deny never applies.
        ['web/frontend', 'phi/db', 'TCP/5432', true],
        // api is isolated by nobody: the Baseline tier decides, first matching rule first.
        ['web/frontend', 'phi/api', 'TCP/80', false],
        ['phi/db', 'phi/api', 'TCP/80', false],
        // The Baseline rules name pods only: an external source falls through to the default.
        [EXTERNAL, 'phi/api', 'TCP/80', true],
      ],
      baselineDeny,
      openDb,
    );
  });

  test('a NetworkPolicy that isolates and admits nothing is not overridden by a Baseline Allow', () => {
    const denyAll = policy('deny-all', 'podSelector: {}\npolicyTypes: [Ingress]', 'phi');
    const baselineAllow = banp(`
      subject: { namespaces: {} }
      ingress:
      - action: Allow
        from: [{ namespaces: {} }]
    `);
    check([['web/frontend', 'phi/db', 'TCP/5432', false]], denyAll, baselineAllow);
  });

  test('lower priority numbers are evaluated first, and within a policy the first matching rule wins', () => {
    const allowAt = (priority: number) =>
      anp(
        `allow-${priority}`,
        `
        priority: ${priority}
        subject: { namespaces: { matchLabels: { phi: "true" } } }
        ingress: [{ action: Allow, from: [{ namespaces: { matchLabels: { team: web } } }] }]
        `,
      );
    const denyAt = (priority: number) =>
      anp(
        `deny-${priority}`,
        `
        priority: ${priority}
        subject: { namespaces: { matchLabels: { phi: "true" } } }
        ingress: [{ action: Deny, from: [{ namespaces: {} }] }]
        `,
      );
    check([['web/frontend', 'phi/db', 'TCP/80', true]], allowAt(5), denyAt(10));
    check([['web/frontend', 'phi/db', 'TCP/80', false]], allowAt(10), denyAt(5));
    // Listed in the other order, the priorities still decide.
    check([['web/frontend', 'phi/db', 'TCP/80', false]], denyAt(5), allowAt(10));
    // The guardrail's rules: allow-phi before deny-rest; swapped, PHI's own traffic is denied too.
    const swapped = anp(
      'swapped',
      `
      priority: 10
      subject: { namespaces: { matchLabels: { phi: "true" } } }
      ingress:
      - action: Deny
        from: [{ namespaces: {} }]
      - action: Allow
        from: [{ namespaces: { matchLabels: { phi: "true" } } }]
      `,
    );
    check([['phi/api', 'phi/db', 'TCP/80', false]], swapped);
  });

  test('the tiers split by port: each port goes to the first rule that matches it', () => {
    const denyHttp = anp(
      'deny-http',
      `
      priority: 1
      subject: { namespaces: { matchLabels: { phi: "true" } } }
      ingress:
      - action: Deny
        from: [{ namespaces: {} }]
        ports: [{ portNumber: { protocol: TCP, port: 80 } }, { portRange: { protocol: UDP, start: 1000, end: 2000 } }]
      - action: Allow
        from: [{ namespaces: { matchLabels: { team: web } } }]
        ports: [{ portRange: { start: 1, end: 1024 } }]
      `,
    );
    const denyAll = policy('deny-all', 'podSelector: {}\npolicyTypes: [Ingress]', 'phi');
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/80', false],
        ['web/frontend', 'phi/db', 'TCP/79', true],
        ['web/frontend', 'phi/db', 'TCP/1024', true],
        // Past the Admin tier's ports, the NetworkPolicy isolates and denies.
        ['web/frontend', 'phi/db', 'TCP/1025', false],
        ['web/frontend', 'phi/db', 'UDP/1500', false],
        ['ops/monitor', 'phi/db', 'TCP/79', false],
      ],
      denyHttp,
      denyAll,
    );
  });
});

describe('Pass', () => {
  const passWeb = anp(
    'pass-web',
    `
    priority: 1
    subject: { namespaces: { matchLabels: { phi: "true" } } }
    ingress: [{ action: Pass, from: [{ namespaces: { matchLabels: { team: web } } }] }]
    `,
  );

  test('Pass skips the rest of the Admin tier and hands the decision to NetworkPolicy', () => {
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/5432', true],
        ['ops/monitor', 'phi/db', 'TCP/5432', false],
        // api is not isolated: Pass leads to the Baseline tier (none here), then the default allows.
        ['web/frontend', 'phi/api', 'TCP/80', true],
      ],
      passWeb,
      guardrail,
      openDb,
    );
  });

  test('passed traffic reaches the Baseline tier when no NetworkPolicy isolates the pod', () => {
    const baselineDeny = banp(`
      subject: { namespaces: { matchLabels: { phi: "true" } } }
      ingress: [{ action: Deny, from: [{ namespaces: {} }] }]
    `);
    check(
      [
        ['web/frontend', 'phi/api', 'TCP/80', false],
        ['web/frontend', 'phi/db', 'TCP/80', true],
      ],
      passWeb,
      guardrail,
      baselineDeny,
      openDb,
    );
  });

  test('a Baseline-tier Pass hands the decision to the default, which allows', () => {
    const baseline = cnp(
      'baseline-pass',
      `
      tier: Baseline
      priority: 1
      subject: { namespaces: {} }
      ingress:
      - { action: Pass, from: [{ namespaces: { matchLabels: { team: web } } }] }
      - { action: Deny, from: [{ namespaces: {} }] }
      `,
    );
    check(
      [
        ['web/frontend', 'phi/api', 'TCP/80', true],
        ['ops/monitor', 'phi/api', 'TCP/80', false],
      ],
      baseline,
    );
  });
});

describe('peers and ports', () => {
  test('networks peers match external addresses and the pods that hold them', () => {
    const egress = anp(
      'egress',
      `
      priority: 3
      subject: { pods: { namespaceSelector: { matchLabels: { phi: "true" } }, podSelector: { matchLabels: { app: api } } } }
      egress:
      - { action: Allow, to: [{ networks: [10.0.1.0/24] }] }
      - { action: Deny, to: [{ networks: [0.0.0.0/0] }] }
      `,
    );
    check(
      [
        ['phi/api', 'web/frontend', 'TCP/443', true],
        ['phi/api', 'ops/monitor', 'TCP/443', false],
        ['phi/api', EXTERNAL, 'TCP/443', false],
        ['phi/api', '10.0.1.200', 'TCP/443', true],
        // Only api is the subject.
        ['phi/db', EXTERNAL, 'TCP/443', true],
        // IPv6 is outside 0.0.0.0/0.
        ['phi/api', '2001:db8::1', 'TCP/443', true],
      ],
      egress,
    );
  });

  test('nodes peers match the addresses of the Node objects whose labels match, hostNetwork pods included', () => {
    const node = (name: string, role: string, ip: string) =>
      [
        'apiVersion: v1',
        'kind: Node',
        `metadata: { name: ${name}, labels: { role: ${role} } }`,
        `status: { addresses: [{ type: InternalIP, address: ${ip} }, { type: Hostname, address: ${name} }] }`,
      ].join('\n');
    const agent = pod({
      name: 'agent',
      namespace: 'ops',
      labels: { app: 'agent' },
      ips: ['10.1.0.1'],
      hostNetwork: true,
    });
    const denyInfra = anp(
      'deny-infra-nodes',
      `
      priority: 3
      subject: { namespaces: { matchLabels: { phi: "true" } } }
      egress: [{ action: Deny, to: [{ nodes: { matchLabels: { role: infra } } }] }]
      `,
    );
    const snapshot = cluster(
      ...base,
      agent,
      node('infra-1', 'infra', '10.1.0.1'),
      node('worker-1', 'worker', '10.1.0.2'),
      denyInfra,
    );
    for (const options of ALL_OPTIONS) {
      expectVerdicts(
        snapshot,
        [
          ['phi/db', '10.1.0.1', 'TCP/10250', false],
          ['phi/db', '10.1.0.2', 'TCP/10250', true],
          ['phi/db', 'ops/agent', 'TCP/10250', false],
          ['phi/db', 'ops/monitor', 'TCP/10250', true],
        ],
        options,
      );
    }
  });

  test('a named port matches the destination container port of that name, on its protocol', () => {
    const allowPg = anp(
      'allow-pg',
      `
      priority: 2
      subject: { namespaces: { matchLabels: { phi: "true" } } }
      ingress:
      - { action: Allow, from: [{ namespaces: { matchLabels: { team: web } } }], ports: [{ namedPort: pg }] }
      - { action: Deny, from: [{ namespaces: { matchLabels: { team: web } } }] }
      `,
    );
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/5432', true],
        ['web/frontend', 'phi/db', 'UDP/5432', false],
        // api declares no port called pg.
        ['web/frontend', 'phi/api', 'TCP/5432', false],
      ],
      allowPg,
    );
  });

  test('hostNetwork pods are neither subjects nor pod peers', () => {
    const agent = pod({
      name: 'agent',
      namespace: 'phi',
      labels: { app: 'agent' },
      ips: ['10.1.0.1'],
      hostNetwork: true,
    });
    const snapshot = cluster(...base, agent, guardrail);
    expectVerdicts(snapshot, [['web/frontend', 'phi/agent', 'TCP/80', true]], { hostNetwork: 'node' });
    // When the CNI polices them like pods (--host-network pod) they are selected like any pod.
    expectVerdicts(snapshot, [['web/frontend', 'phi/agent', 'TCP/80', false]], { hostNetwork: 'pod' });
  });
});

describe('ClusterNetworkPolicy v1alpha2', () => {
  test('each field: tier, priority, subject, peers, protocols and Accept/Deny/Pass', () => {
    const admin = cnp(
      'admin',
      `
      tier: Admin
      priority: 10
      subject: { pods: { namespaceSelector: { matchLabels: { phi: "true" } }, podSelector: { matchLabels: { app: db } } } }
      ingress:
      - name: accept-web-pg
        action: Accept
        from: [{ pods: { namespaceSelector: { matchLabels: { team: web } }, podSelector: { matchLabels: { app: frontend } } } }]
        protocols: [{ destinationNamedPort: pg }]
      - name: pass-ops-udp
        action: Pass
        from: [{ namespaces: { matchLabels: { team: ops } } }]
        protocols: [{ udp: { destinationPort: { range: { start: 1000, end: 2000 } } } }]
      - name: deny-rest
        action: Deny
        from: [{ namespaces: {} }]
        protocols: [{ tcp: { destinationPort: { number: 5432 } } }, { sctp: { destinationPort: { number: 9 } } }]
      egress:
      - { name: deny-internet, action: Deny, to: [{ networks: [0.0.0.0/0] }] }
      `,
    );
    const baseline = cnp(
      'baseline',
      `
      tier: Baseline
      priority: 0
      subject: { namespaces: {} }
      ingress:
      - { action: Deny, from: [{ namespaces: { matchLabels: { team: ops } } }] }
      `,
    );
    check(
      [
        ['web/frontend', 'phi/db', 'TCP/5432', true],
        ['ops/monitor', 'phi/db', 'TCP/5432', false],
        ['ops/monitor', 'phi/db', 'SCTP/9', false],
        // Passed to NetworkPolicy (none), then the Baseline tier denies ops.
        ['ops/monitor', 'phi/db', 'UDP/1500', false],
        ['ops/monitor', 'phi/db', 'UDP/2001', false],
        ['web/frontend', 'phi/db', 'UDP/2001', true],
        ['phi/db', EXTERNAL, 'TCP/443', false],
        ['phi/db', 'web/frontend', 'TCP/443', false],
        ['phi/db', '2001:db8::1', 'TCP/443', true],
        ['ops/monitor', 'web/frontend', 'TCP/80', false],
      ],
      admin,
      baseline,
    );
  });

  test('v1alpha1 and v1alpha2 objects of the same meaning give the same connectivity', () => {
    const v1alpha1 = [
      guardrail,
      anp(
        'egress',
        `
        priority: 20
        subject: { pods: { namespaceSelector: { matchLabels: { phi: "true" } }, podSelector: {} } }
        egress:
        - { action: Pass, to: [{ namespaces: { matchLabels: { team: ops } } }], ports: [{ portRange: { protocol: UDP, start: 500, end: 600 } }] }
        - { action: Allow, to: [{ networks: [10.0.0.0/16] }], ports: [{ portNumber: { protocol: TCP, port: 443 } }] }
        - { action: Deny, to: [{ networks: [0.0.0.0/0] }] }
        `,
      ),
      banp(`
        subject: { namespaces: {} }
        ingress: [{ action: Deny, from: [{ namespaces: { matchLabels: { team: web } } }], ports: [{ namedPort: pg }] }]
      `),
    ];
    const v1alpha2 = [
      cnp(
        'phi-guardrail',
        `
        tier: Admin
        priority: 10
        subject: { namespaces: { matchLabels: { phi: "true" } } }
        ingress:
        - { name: allow-phi, action: Accept, from: [{ namespaces: { matchLabels: { phi: "true" } } }] }
        - { name: deny-rest, action: Deny, from: [{ namespaces: {} }] }
        `,
      ),
      cnp(
        'egress',
        `
        tier: Admin
        priority: 20
        subject: { pods: { namespaceSelector: { matchLabels: { phi: "true" } }, podSelector: {} } }
        egress:
        - { action: Pass, to: [{ namespaces: { matchLabels: { team: ops } } }], protocols: [{ udp: { destinationPort: { range: { start: 500, end: 600 } } } }] }
        - { action: Accept, to: [{ networks: [10.0.0.0/16] }], protocols: [{ tcp: { destinationPort: { number: 443 } } }] }
        - { action: Deny, to: [{ networks: [0.0.0.0/0] }] }
        `,
      ),
      cnp(
        'default',
        `
        tier: Baseline
        priority: 0
        subject: { namespaces: {} }
        ingress: [{ action: Deny, from: [{ namespaces: { matchLabels: { team: web } } }], protocols: [{ destinationNamedPort: pg }] }]
        `,
      ),
    ];
    const listing = (documents: string[]) => {
      const snapshot = cluster(...base, openDb, ...documents);
      return computeConnectivity(new Engine(snapshot)).map(
        (c) => `${JSON.stringify(c.src)} -> ${JSON.stringify(c.dst)}: ${formatPorts(c.ports)}`,
      );
    };
    const first = listing(v1alpha1);
    assert.deepEqual(listing(v1alpha2), first);
    // The policies do restrict something: the listing differs from the one without them.
    assert.notDeepEqual(listing([]), first);
  });
});

test('same-priority Admin policies: a warning, and evaluation in input order', () => {
  const at = (name: string, action: string) =>
    anp(
      name,
      `
      priority: 7
      subject: { namespaces: { matchLabels: { phi: "true" } } }
      ingress: [{ action: ${action}, from: [{ namespaces: { matchLabels: { team: web } } }] }]
      `,
    );
  const denyFirst = clusterWarning(/priority/, ...base, at('deny', 'Deny'), at('allow', 'Allow'));
  expectVerdicts(denyFirst, [['web/frontend', 'phi/db', 'TCP/80', false]]);
  const allowFirst = clusterWarning(/priority/, ...base, at('allow', 'Allow'), at('deny', 'Deny'));
  expectVerdicts(allowFirst, [['web/frontend', 'phi/db', 'TCP/80', true]]);
});
