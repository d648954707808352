import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterPolicy, LabelSelector, Snapshot } from '../model/types.ts';
import { yaml } from '../testing/yaml.ts';
import { selectorsDisjoint } from './cluster-network-policy.ts';
import { formatDiagnostic, InputError } from './diagnostics.ts';
import { buildSnapshot, type LoadOptions } from './snapshot.ts';

const ANP = 'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy';
const BANP = 'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy';
const CNP = 'apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy';
const CNP_BETA = 'apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy';

/**
 * One object: two header lines (apiVersion, kind), metadata, `spec:`, then the spec indented by two.
 * Spec line n is file line n + 4, and columns shift by 2.
 */
function manifest(header: string, spec: string, name = 'p'): string {
  const body = spec
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
  return `${header}\nmetadata: {name: ${name}}\nspec:\n${body}`;
}

function load(text: string, options?: LoadOptions): Snapshot {
  return buildSnapshot([{ path: 'p.yaml', text }], options);
}

function readOne(header: string, spec: string, name = header === BANP ? 'default' : 'p'): ClusterPolicy {
  const snapshot = load(manifest(header, spec, name));
  assert.equal(snapshot.clusterPolicies.length, 1);
  return snapshot.clusterPolicies[0] as ClusterPolicy;
}

/** Every diagnostic of an input that must be rejected, as `file:line:column: field: message`. */
function errorsOf(text: string): string[] {
  try {
    load(text);
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return assert.fail('expected an InputError');
}

function errorsIn(header: string, spec: string, name = header === BANP ? 'default' : 'p'): string[] {
  return errorsOf(manifest(header, spec, name));
}

/** Only `field: message`. */
function problemsIn(header: string, spec: string): string[] {
  return errorsIn(header, spec).map((line) => line.replace(/^p\.yaml:\d+:\d+: /, ''));
}

function warningsOf(snapshot: Snapshot): string[] {
  return snapshot.warnings.map(formatDiagnostic);
}

function labels(matchLabels: Record<string, string>): LabelSelector {
  return { matchLabels, matchExpressions: [] };
}
const ALL = labels({});

test('an AdminNetworkPolicy reads into its meaning: Admin tier, its priority, rules in order', () => {
  const policy = readOne(
    ANP,
    yaml`
      priority: 30
      subject:
        namespaces: {matchLabels: {team: shop}}
      ingress:
        - name: from-web
          action: Allow
          from:
            - pods:
                namespaceSelector: {matchLabels: {team: web}}
                podSelector: {matchLabels: {app: web}}
            - namespaces: {}
          ports:
            - portNumber: {port: 8080}
            - portNumber: {protocol: UDP, port: 53}
            - portRange: {protocol: SCTP, start: 3000, end: 3010}
            - portRange: {start: 20, end: 20}
            - namedPort: http
        - action: Pass
          from: [{namespaces: {matchLabels: {team: ops}}}]
      egress:
        - name: to-nodes-and-networks
          action: Deny
          to:
            - nodes: {matchLabels: {role: control-plane}}
            - networks: [10.0.0.0/8, "fd00::/8"]
    `,
  );
  assert.deepEqual(
    { ...policy, ingress: undefined, egress: undefined, provenance: undefined },
    {
      kind: 'AdminNetworkPolicy',
      name: 'p',
      tier: 'Admin',
      priority: 30,
      subject: { namespaceSelector: labels({ team: 'shop' }) },
      ingress: undefined,
      egress: undefined,
      provenance: undefined,
    },
  );
  assert.deepEqual(policy.provenance.locate(), { line: 1, column: 1 });
  const [first, second] = policy.ingress;
  assert.deepEqual(
    { ...first, provenance: undefined },
    {
      direction: 'ingress',
      index: 0,
      name: 'from-web',
      action: 'Allow',
      peers: [
        { kind: 'pods', namespaceSelector: labels({ team: 'web' }), podSelector: labels({ app: 'web' }) },
        { kind: 'pods', namespaceSelector: ALL },
      ],
      ports: [
        { kind: 'number', protocol: 'TCP', port: 8080 },
        { kind: 'number', protocol: 'UDP', port: 53 },
        { kind: 'number', protocol: 'SCTP', port: 3000, endPort: 3010 },
        { kind: 'number', protocol: 'TCP', port: 20, endPort: 20 },
        { kind: 'named', name: 'http' },
      ],
      provenance: undefined,
    },
  );
  assert.deepEqual(first?.provenance.locate(), { line: 9, column: 7 });
  assert.equal(first?.provenance.file, 'p.yaml');
  assert.deepEqual([second?.index, second?.name, second?.action, second?.ports], [1, '', 'Pass', undefined]);
  assert.deepEqual(
    policy.egress.map((r) => ({ ...r, provenance: r.provenance.locate() })),
    [
      {
        direction: 'egress',
        index: 0,
        name: 'to-nodes-and-networks',
        action: 'Deny',
        peers: [
          { kind: 'nodes', nodeSelector: labels({ role: 'control-plane' }) },
          { kind: 'networks', cidrs: ['10.0.0.0/8', 'fd00::/8'] },
        ],
        ports: undefined,
        provenance: { line: 25, column: 7 },
      },
    ],
  );
});

test('a BaselineAdminNetworkPolicy is Baseline tier without a priority; its actions are Allow and Deny', () => {
  const policy = readOne(
    BANP,
    yaml`
      subject:
        pods:
          namespaceSelector: {matchLabels: {team: shop}}
          podSelector: {matchExpressions: [{key: app, operator: Exists}]}
      ingress:
        - {action: Deny, from: [{namespaces: {}}]}
      egress:
        - action: Allow
          to: [{networks: [0.0.0.0/0]}]
          ports: [{portNumber: {protocol: UDP, port: 53}}]
    `,
  );
  assert.equal(policy.kind, 'BaselineAdminNetworkPolicy');
  assert.equal(policy.tier, 'Baseline');
  assert.equal(policy.priority, undefined);
  assert.deepEqual(policy.subject, {
    namespaceSelector: labels({ team: 'shop' }),
    podSelector: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'Exists', values: [] }] },
  });
  assert.deepEqual(
    [...policy.ingress, ...policy.egress].map((r) => [r.direction, r.action, r.peers, r.ports]),
    [
      ['ingress', 'Deny', [{ kind: 'pods', namespaceSelector: ALL }], undefined],
      [
        'egress',
        'Allow',
        [{ kind: 'networks', cidrs: ['0.0.0.0/0'] }],
        [{ kind: 'number', protocol: 'UDP', port: 53 }],
      ],
    ],
  );
});

test('a ClusterNetworkPolicy reads its tier and priority; Accept means Allow', () => {
  const policy = readOne(
    CNP,
    yaml`
      tier: Baseline
      priority: 0
      subject:
        pods:
          podSelector: {matchLabels: {app: db}}
      ingress:
        - name: accept
          action: Accept
          from:
            - namespaces: {matchLabels: {team: web}}
            - pods:
                namespaceSelector: {matchLabels: {team: ops}}
                podSelector: {}
          protocols:
            - tcp: {destinationPort: {number: 5432}}
            - udp: {destinationPort: {range: {start: 5000, end: 6000}}}
            - sctp: {destinationPort: {number: 9}}
            - destinationNamedPort: metrics
        - {name: deny, action: Deny, from: [{pods: {podSelector: {}}}]}
        - {name: pass, action: Pass, from: [{namespaces: {}}]}
      egress:
        - action: Accept
          to:
            - nodes: {}
            - networks: ["2001:db8::/32"]
    `,
  );
  assert.deepEqual([policy.kind, policy.tier, policy.priority], ['ClusterNetworkPolicy', 'Baseline', 0]);
  // v1alpha2 makes the namespaceSelector of `pods` optional: absent, it selects every namespace.
  assert.deepEqual(policy.subject, { namespaceSelector: ALL, podSelector: labels({ app: 'db' }) });
  assert.deepEqual(
    policy.ingress.map((r) => [r.name, r.action]),
    [
      ['accept', 'Allow'],
      ['deny', 'Deny'],
      ['pass', 'Pass'],
    ],
  );
  assert.deepEqual(policy.ingress[0]?.peers, [
    { kind: 'pods', namespaceSelector: labels({ team: 'web' }) },
    { kind: 'pods', namespaceSelector: labels({ team: 'ops' }), podSelector: ALL },
  ]);
  assert.deepEqual(policy.ingress[0]?.ports, [
    { kind: 'number', protocol: 'TCP', port: 5432 },
    { kind: 'number', protocol: 'UDP', port: 5000, endPort: 6000 },
    { kind: 'number', protocol: 'SCTP', port: 9 },
    { kind: 'named', name: 'metrics' },
  ]);
  assert.deepEqual(policy.ingress[1]?.peers, [{ kind: 'pods', namespaceSelector: ALL, podSelector: ALL }]);
  assert.deepEqual(policy.egress[0]?.peers, [
    { kind: 'nodes', nodeSelector: ALL },
    { kind: 'networks', cidrs: ['2001:db8::/32'] },
  ]);
  assert.deepEqual(
    load(manifest(CNP, 'tier: Admin\npriority: 1000\nsubject: {namespaces: {}}\n')).warnings,
    [],
  );
  assert.equal(readOne(CNP, 'tier: Admin\npriority: 1000\nsubject: {namespaces: {}}\n').tier, 'Admin');
});

test('a v1beta1 ClusterNetworkPolicy has the v1alpha2 schema', () => {
  const policy = readOne(
    CNP_BETA,
    yaml`
      tier: Admin
      priority: 7
      subject: {namespaces: {}}
      egress:
        - action: Deny
          to: [{networks: [192.168.0.0/16]}]
          protocols: [{tcp: {destinationPort: {number: 22}}}]
    `,
  );
  assert.deepEqual(
    [policy.tier, policy.priority, policy.egress[0]?.peers, policy.egress[0]?.ports],
    [
      'Admin',
      7,
      [{ kind: 'networks', cidrs: ['192.168.0.0/16'] }],
      [{ kind: 'number', protocol: 'TCP', port: 22 }],
    ],
  );
});

test('cluster policy kinds are read only in the versions phiwall knows', () => {
  const text = [
    manifest(
      'apiVersion: policy.networking.k8s.io/v1beta1\nkind: AdminNetworkPolicy',
      'priority: 1\nsubject: {namespaces: {}}\n',
      'a',
    ),
    manifest(
      'apiVersion: policy.networking.k8s.io/v1alpha1\nkind: ClusterNetworkPolicy',
      'tier: Admin\npriority: 1\nsubject: {namespaces: {}}\n',
      'b',
    ),
  ].join('---\n');
  assert.deepEqual(errorsOf(text), [
    'p.yaml:1:13: apiVersion: unsupported version "policy.networking.k8s.io/v1beta1" of AdminNetworkPolicy: phiwall reads policy.networking.k8s.io/v1alpha1',
    'p.yaml:8:13: apiVersion: unsupported version "policy.networking.k8s.io/v1alpha1" of ClusterNetworkPolicy: phiwall reads policy.networking.k8s.io/v1alpha2 or policy.networking.k8s.io/v1beta1',
  ]);
});

test('kinds of the same name in another API group are skipped, like any other kind', () => {
  const snapshot = load(
    manifest('apiVersion: example.com/v1\nkind: AdminNetworkPolicy', 'whatever: 1\n', 'x'),
  );
  assert.deepEqual(snapshot.clusterPolicies, []);
  assert.deepEqual([...snapshot.skippedKinds], [['AdminNetworkPolicy (example.com/v1)', 1]]);
});

test('priority is required, an integer, between 0 and 1000', () => {
  const text = ['', 'priority: "5"', 'priority: 2.5', 'priority: -1', 'priority: 1001', 'priority: 0']
    .map((line, i) => manifest(ANP, `${line}\nsubject: {namespaces: {}}\n`, `p${i}`))
    .join('---\n');
  assert.deepEqual(errorsOf(text), [
    'p.yaml:4:1: spec.priority: required value: an AdminNetworkPolicy needs a priority between 0 and 1000',
    'p.yaml:12:13: spec.priority: string "5" is not a valid priority: must be an integer between 0 and 1000',
    'p.yaml:19:13: spec.priority: number 2.5 is not a valid priority: must be an integer between 0 and 1000',
    'p.yaml:26:13: spec.priority: priority -1 is out of range: must be between 0 and 1000',
    'p.yaml:33:13: spec.priority: priority 1001 is out of range: must be between 0 and 1000',
  ]);
  assert.deepEqual(problemsIn(CNP, 'tier: Baseline\npriority: 5000\nsubject: {namespaces: {}}\n'), [
    'spec.priority: priority 5000 is out of range: must be between 0 and 1000',
  ]);
  assert.deepEqual(problemsIn(CNP, 'tier: Baseline\nsubject: {namespaces: {}}\n'), [
    'spec.priority: required value: a ClusterNetworkPolicy needs a priority between 0 and 1000',
  ]);
});

test('a BaselineAdminNetworkPolicy must be named default and has no priority', () => {
  assert.deepEqual(errorsIn(BANP, 'subject: {namespaces: {}}\npriority: 3\n', 'baseline'), [
    'p.yaml:3:18: metadata.name: Only one baseline admin network policy with metadata.name="default" can be created in the cluster (this one is named "baseline")',
    'p.yaml:6:13: spec.priority: unknown field "priority"',
  ]);
  const two = [1, 2].map(() => manifest(BANP, 'subject: {namespaces: {}}\n', 'default')).join('---\n');
  assert.deepEqual(errorsOf(two), [
    'p.yaml:9:18: metadata.name: duplicate BaselineAdminNetworkPolicy "default" (first defined at p.yaml:1)',
  ]);
});

test('cluster-scoped objects have no namespace: duplicates are keyed by name, no namespace is implied', () => {
  const text = [
    `${ANP}\nmetadata: {name: same, namespace: a}\nspec: {priority: 1, subject: {namespaces: {}}}\n`,
    `${ANP}\nmetadata: {name: same, namespace: b}\nspec: {priority: 2, subject: {namespaces: {}}}\n`,
  ].join('---\n');
  assert.deepEqual(errorsOf(text), [
    'p.yaml:8:18: metadata.name: duplicate AdminNetworkPolicy "same" (first defined at p.yaml:1)',
  ]);
  const snapshot = load(
    [
      manifest(ANP, 'priority: 1\nsubject: {namespaces: {}}\n', 'same'),
      manifest(CNP, 'tier: Admin\npriority: 2\nsubject: {namespaces: {}}\n', 'same'),
      'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n',
    ].join('---\n'),
  );
  assert.deepEqual(
    snapshot.clusterPolicies.map((p) => `${p.kind}/${p.name}`),
    ['AdminNetworkPolicy/same', 'ClusterNetworkPolicy/same'],
  );
  assert.deepEqual([...snapshot.namespaces.keys()], []);
});

test('the subject is required and names exactly one of namespaces and pods', () => {
  const text = [
    'priority: 1\n',
    'priority: 1\nsubject: {}\n',
    'priority: 1\nsubject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}\n',
    'priority: 1\nsubject:\n  namespaces:\n',
    'priority: 1\nsubject: {namespace: {}}\n',
  ]
    .map((spec, i) => manifest(ANP, spec, `p${i}`))
    .join('---\n');
  assert.deepEqual(errorsOf(text), [
    'p.yaml:4:1: spec.subject: required value: the subject selects the pods the policy applies to (namespaces or pods)',
    'p.yaml:12:12: spec.subject: must specify exactly one of namespaces or pods',
    'p.yaml:19:12: spec.subject: must specify exactly one of namespaces or pods, not namespaces and pods',
    'p.yaml:26:3: spec.subject: must specify exactly one of namespaces or pods (namespaces has no value: an empty selector is written namespaces: {})',
    'p.yaml:34:24: spec.subject.namespace: unknown field "namespace"',
    'p.yaml:34:12: spec.subject: must specify exactly one of namespaces or pods',
  ]);
});

test('a v1alpha1 pods selector left out reads as {}, with a warning that the API server requires it', () => {
  const snapshot = load(
    manifest(
      ANP,
      yaml`
        priority: 1
        subject: {pods: {namespaceSelector: {matchLabels: {team: a}}}}
        ingress:
          - action: Allow
            from: [{pods: {podSelector: {matchLabels: {app: b}}}}]
      `,
    ),
  );
  const [policy] = snapshot.clusterPolicies;
  assert.deepEqual(policy?.subject, { namespaceSelector: labels({ team: 'a' }), podSelector: undefined });
  assert.deepEqual(policy?.ingress[0]?.peers, [
    { kind: 'pods', namespaceSelector: ALL, podSelector: labels({ app: 'b' }) },
  ]);
  assert.deepEqual(warningsOf(snapshot), [
    'p.yaml:6:19: warning: spec.subject.pods: podSelector is missing, which the API server rejects (AdminNetworkPolicy requires it): read as podSelector: {} (every pod); write it out',
    'p.yaml:9:21: warning: spec.ingress[0].from[0].pods: namespaceSelector is missing, which the API server rejects (AdminNetworkPolicy requires it): read as namespaceSelector: {} (every namespace); write it out',
  ]);
});

test('a v1alpha2 pods peer needs only its podSelector', () => {
  const snapshot = load(
    manifest(CNP, 'tier: Admin\npriority: 1\nsubject: {pods: {namespaceSelector: {}}}\n'),
  );
  assert.deepEqual(warningsOf(snapshot), [
    'p.yaml:7:19: warning: spec.subject.pods: podSelector is missing, which the API server rejects (ClusterNetworkPolicy requires it): read as podSelector: {} (every pod); write it out',
  ]);
});

test('a peer names exactly one type; ingress peers are only namespaces and pods', () => {
  assert.deepEqual(
    errorsIn(
      ANP,
      yaml`
        priority: 1
        subject: {namespaces: {}}
        ingress:
          - action: Allow
            from:
              - {}
              -
              - {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}
              - {networks: [10.0.0.0/8]}
        egress:
          - action: Allow
            to:
              - {nodes: {}, networks: [10.0.0.0/8]}
              - {namespaces: null}
      `,
    ),
    [
      'p.yaml:10:11: spec.ingress[0].from[0]: must specify exactly one of namespaces or pods',
      'p.yaml:11:10: spec.ingress[0].from[1]: must specify exactly one of namespaces or pods',
      'p.yaml:12:11: spec.ingress[0].from[2]: must specify exactly one of namespaces or pods, not namespaces and pods',
      'p.yaml:13:22: spec.ingress[0].from[3].networks: unknown field "networks"',
      'p.yaml:13:11: spec.ingress[0].from[3]: must specify exactly one of namespaces or pods',
      'p.yaml:17:11: spec.egress[0].to[0]: must specify exactly one of namespaces, pods, networks, nodes or domainNames, not networks and nodes',
      'p.yaml:18:11: spec.egress[0].to[1]: must specify exactly one of namespaces, pods, networks, nodes or domainNames (namespaces has no value: an empty selector is written namespaces: {})',
    ],
  );
});

test('from and to are required and hold at least one peer', () => {
  assert.deepEqual(
    errorsIn(
      ANP,
      yaml`
        priority: 1
        subject: {namespaces: {}}
        ingress:
          - action: Allow
          - action: Allow
            from: []
        egress:
          - action: Allow
            to:
          -
      `,
    ),
    [
      'p.yaml:8:7: spec.ingress[0].from: required value: a rule needs at least one peer in from',
      'p.yaml:10:13: spec.ingress[1].from: must have at least 1 peer',
      'p.yaml:13:10: spec.egress[0].to: required value: a rule needs at least one peer in to',
      'p.yaml:14:6: spec.egress[1].action: required value: use Allow, Deny or Pass',
      'p.yaml:14:6: spec.egress[1].to: required value: a rule needs at least one peer in to',
    ],
  );
});

test('each kind accepts only its own action words', () => {
  const rule = (action: string) => `ingress: [{action: ${action}, from: [{namespaces: {}}]}]\n`;
  assert.deepEqual(problemsIn(ANP, `priority: 1\nsubject: {namespaces: {}}\n${rule('Accept')}`), [
    'spec.ingress[0].action: unsupported value "Accept": AdminNetworkPolicy rule actions are Allow, Deny or Pass',
  ]);
  assert.deepEqual(problemsIn(BANP, `subject: {namespaces: {}}\n${rule('Pass')}`), [
    'spec.ingress[0].action: unsupported value "Pass": BaselineAdminNetworkPolicy rule actions are Allow or Deny',
  ]);
  assert.deepEqual(problemsIn(CNP, `tier: Admin\npriority: 1\nsubject: {namespaces: {}}\n${rule('Allow')}`), [
    'spec.ingress[0].action: unsupported value "Allow": ClusterNetworkPolicy rule actions are Accept, Deny or Pass',
  ]);
  assert.deepEqual(problemsIn(ANP, `priority: 1\nsubject: {namespaces: {}}\n${rule('deny')}`), [
    'spec.ingress[0].action: unsupported value "deny": AdminNetworkPolicy rule actions are Allow, Deny or Pass',
  ]);
});

test('the tier of a ClusterNetworkPolicy is required: Admin or Baseline', () => {
  assert.deepEqual(errorsIn(CNP, 'priority: 1\nsubject: {namespaces: {}}\n'), [
    'p.yaml:4:1: spec.tier: required value: use Admin or Baseline',
  ]);
  assert.deepEqual(errorsIn(CNP, 'tier: admin\npriority: 1\nsubject: {namespaces: {}}\n'), [
    'p.yaml:5:9: spec.tier: unsupported value "admin": use Admin or Baseline',
  ]);
});

test('v1alpha1 ports: exactly one form, valid numbers, start no greater than end, known protocols', () => {
  assert.deepEqual(
    errorsIn(
      ANP,
      yaml`
        priority: 1
        subject: {namespaces: {}}
        ingress:
          - action: Allow
            from: [{namespaces: {}}]
            ports:
              - {}
              - {portNumber: {port: 80}, namedPort: http}
              - portNumber: {port: 0}
              - portNumber: {port: 65536}
              - portNumber: {port: "80"}
              - portNumber: {protocol: ICMP, port: 1}
              - portNumber: {protocol: TCP}
              - portRange: {start: 10, end: 1}
              - portRange: {start: 10}
              - portNumber: {port: 80, endPort: 90}
          - action: Allow
            from: [{namespaces: {}}]
            ports: []
      `,
    ),
    [
      'p.yaml:11:11: spec.ingress[0].ports[0]: must specify exactly one of portNumber, portRange or namedPort',
      'p.yaml:12:11: spec.ingress[0].ports[1]: must specify exactly one of portNumber, portRange or namedPort, not portNumber and namedPort',
      'p.yaml:13:30: spec.ingress[0].ports[2].portNumber.port: number 0 is not a valid port: must be between 1 and 65535',
      'p.yaml:14:30: spec.ingress[0].ports[3].portNumber.port: number 65536 is not a valid port: must be between 1 and 65535',
      'p.yaml:15:30: spec.ingress[0].ports[4].portNumber.port: string "80" is not a valid port: must be between 1 and 65535',
      'p.yaml:16:34: spec.ingress[0].ports[5].portNumber.protocol: unsupported protocol "ICMP": use TCP, UDP or SCTP',
      'p.yaml:17:23: spec.ingress[0].ports[6].portNumber.port: required value: a port number between 1 and 65535',
      'p.yaml:18:22: spec.ingress[0].ports[7].portRange: start 10 is greater than end 1: the range holds no port',
      'p.yaml:19:22: spec.ingress[0].ports[8].portRange.end: required value: a port number between 1 and 65535',
      'p.yaml:20:43: spec.ingress[0].ports[9].portNumber.endPort: unknown field "endPort"',
      'p.yaml:23:14: spec.ingress[1].ports: must have at least 1 item: leave the field out to match every port',
    ],
  );
});

test('v1alpha2 protocols: one protocol each, a destinationPort of one form, start below end', () => {
  assert.deepEqual(
    errorsIn(
      CNP,
      yaml`
        tier: Admin
        priority: 1
        subject: {namespaces: {}}
        ingress:
          - action: Accept
            from: [{namespaces: {}}]
            protocols:
              - {tcp: {destinationPort: {number: 80}}, udp: {destinationPort: {number: 53}}}
              - tcp: {}
              - udp:
              - sctp: {destinationPort: {number: 1, range: {start: 1, end: 2}}}
              - tcp: {destinationPort: {range: {start: 80, end: 80}}}
              - tcp: {destinationPort: {range: {start: 90, end: 80}}}
              - tcp: {destinationPort: {number: 70000}}
              - tcp: {destinationPort: {range: {start: 1}}}
              - icmp: {}
              - {tcp: {destinationPort: {port: 80}}}
              - destinationNamedPort: 8080
      `,
    ),
    [
      'p.yaml:12:11: spec.ingress[0].protocols[0]: must specify exactly one of tcp, udp, sctp or destinationNamedPort, not tcp and udp',
      'p.yaml:13:16: spec.ingress[0].protocols[1].tcp: must specify destinationPort: a number or a range (for every TCP port, range: {start: 1, end: 65535})',
      'p.yaml:14:11: spec.ingress[0].protocols[2]: must specify exactly one of tcp, udp, sctp or destinationNamedPort',
      'p.yaml:15:35: spec.ingress[0].protocols[3].sctp.destinationPort: must specify exactly one of number or range, not number and range',
      'p.yaml:16:42: spec.ingress[0].protocols[4].tcp.destinationPort.range: Start port must be less than End port (start 80, end 80)',
      'p.yaml:17:42: spec.ingress[0].protocols[5].tcp.destinationPort.range: Start port must be less than End port (start 90, end 80)',
      'p.yaml:18:43: spec.ingress[0].protocols[6].tcp.destinationPort.number: number 70000 is not a valid port: must be between 1 and 65535',
      'p.yaml:19:42: spec.ingress[0].protocols[7].tcp.destinationPort.range.end: required value: a port number between 1 and 65535',
      'p.yaml:20:17: spec.ingress[0].protocols[8].icmp: unknown field "icmp"',
      'p.yaml:20:11: spec.ingress[0].protocols[8]: must specify exactly one of tcp, udp, sctp or destinationNamedPort',
      'p.yaml:21:42: spec.ingress[0].protocols[9].tcp.destinationPort.port: unknown field "port"',
      'p.yaml:21:35: spec.ingress[0].protocols[9].tcp.destinationPort: must specify exactly one of number or range',
      'p.yaml:22:33: spec.ingress[0].protocols[10].destinationNamedPort: must be a string, not number 8080',
    ],
  );
});

test('networks must be valid CIDRs, without repeats, 1 to 25 of them', () => {
  const many = Array.from({ length: 26 }, (_, i) => `10.${i}.0.0/16`).join(', ');
  assert.deepEqual(
    problemsIn(
      ANP,
      yaml`
        priority: 1
        subject: {namespaces: {}}
        egress:
          - action: Deny
            to:
              - networks: [zc00::/8, 10.0.0.0/33, 10.0.0.1, 10.0.0.0/8, 10.0.0.0/8, 1]
              - networks: []
              - networks: [${many}]
              - networks: ["0000:0000:0000:0000:0000:0000:0000:0000/0128"]
              - networks: [10.0.0.1/8]
      `,
    ),
    [
      'spec.egress[0].to[0].networks[0]: "zc00::/8" is not a valid CIDR (Invalid CIDR format provided)',
      'spec.egress[0].to[0].networks[1]: "10.0.0.0/33" is not a valid CIDR (Invalid CIDR format provided)',
      'spec.egress[0].to[0].networks[2]: "10.0.0.1" is not a valid CIDR (Invalid CIDR format provided)',
      'spec.egress[0].to[0].networks[4]: duplicate value "10.0.0.0/8": networks is a set',
      'spec.egress[0].to[0].networks[5]: must be a string, not number 1',
      'spec.egress[0].to[1].networks: must have at least 1 CIDR',
      'spec.egress[0].to[2].networks: must have at most 25 CIDRs, not 26',
      'spec.egress[0].to[3].networks[0]: must be no more than 43 characters, not 44',
    ],
  );
});

test('host bits in networks: accepted by v1alpha1, a warning in v1alpha2, an error in v1beta1', () => {
  const rule = 'egress: [{action: Deny, to: [{networks: [10.0.0.1/8]}]}]\n';
  const anp = load(manifest(ANP, `priority: 1\nsubject: {namespaces: {}}\n${rule}`));
  assert.deepEqual(anp.clusterPolicies[0]?.egress[0]?.peers, [{ kind: 'networks', cidrs: ['10.0.0.1/8'] }]);
  assert.deepEqual(anp.warnings, []);
  const cnpSpec = `tier: Admin\npriority: 1\nsubject: {namespaces: {}}\n${rule}`;
  const cnp = load(manifest(CNP, cnpSpec));
  assert.deepEqual(cnp.clusterPolicies[0]?.egress[0]?.peers, [{ kind: 'networks', cidrs: ['10.0.0.1/8'] }]);
  assert.deepEqual(warningsOf(cnp), [
    'p.yaml:8:44: warning: spec.egress[0].to[0].networks[0]: "10.0.0.1/8" has host bits set: read as "10.0.0.0/8"; newer versions of the CRD reject it',
  ]);
  assert.deepEqual(errorsIn(CNP_BETA, cnpSpec), [
    'p.yaml:8:44: spec.egress[0].to[0].networks[0]: "10.0.0.1/8" has host bits set: write "10.0.0.0/8" (Invalid CIDR format provided)',
  ]);
});

test('list limits: 100 rules, peers and ports in v1alpha1; 25 in v1alpha2', () => {
  const repeat = (n: number, item: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => item(i)).join(', ');
  const peers = (n: number) => repeat(n, () => '{namespaces: {}}');
  const spec = (head: string, action: string, max: number, ports: (n: number) => string) =>
    [
      head,
      'subject: {namespaces: {}}',
      'ingress:',
      `  - {action: ${action}, from: [${peers(max + 1)}], ${ports(max + 1)}}`,
      `  - {action: ${action}, from: [${peers(max)}], ${ports(max)}}`,
      `egress: [${repeat(max + 1, () => '{action: Deny, to: [{namespaces: {}}]}')}]`,
      '',
    ].join('\n');
  const v1alpha1 = (n: number) => `ports: [${repeat(n, (i) => `{portNumber: {port: ${i + 1}}}`)}]`;
  assert.deepEqual(problemsIn(ANP, spec('priority: 1', 'Allow', 100, v1alpha1)), [
    'spec.ingress[0].from: must have at most 100 peers, not 101',
    'spec.ingress[0].ports: must have at most 100 items, not 101',
    'spec.egress: must have at most 100 rules, not 101',
  ]);
  const v1alpha2 = (n: number) =>
    `protocols: [${repeat(n, (i) => `{tcp: {destinationPort: {number: ${i + 1}}}}`)}]`;
  assert.deepEqual(problemsIn(CNP, spec('tier: Baseline\npriority: 1', 'Accept', 25, v1alpha2)), [
    'spec.ingress[0].from: must have at most 25 peers, not 26',
    'spec.ingress[0].protocols: must have at most 25 items, not 26',
    'spec.egress: must have at most 25 rules, not 26',
  ]);
});

test('rule names are at most 100 characters', () => {
  const spec = (n: number) =>
    `priority: 1\nsubject: {namespaces: {}}\ningress: [{name: ${'a'.repeat(n)}, action: Allow, from: [{namespaces: {}}]}]\n`;
  assert.equal(readOne(ANP, spec(100)).ingress[0]?.name, 'a'.repeat(100));
  assert.deepEqual(problemsIn(ANP, spec(101)), [
    'spec.ingress[0].name: must be no more than 100 characters, not 101',
  ]);
});

test('a named port beside networks, nodes or domainNames peers: the CRD rule as a warning, matching pods only', () => {
  const anp = yaml`
    priority: 1
    subject: {namespaces: {}}
    egress:
      - action: Allow
        to: [{networks: [10.0.0.0/8]}, {pods: {namespaceSelector: {}, podSelector: {}}}]
        ports: [{portNumber: {port: 80}}, {namedPort: http}]
      - action: Allow
        to: [{nodes: {}}]
        ports: [{namedPort: http}]
      - action: Allow
        to: [{pods: {namespaceSelector: {}, podSelector: {}}}]
        ports: [{namedPort: http}]
  `;
  const suffix =
    " (the experimental CRDs reject this object): phiwall reads the named port as matching only this rule's pod peers";
  const snapshot = load(manifest(ANP, anp, 'p'));
  assert.deepEqual(warningsOf(snapshot), [
    `p.yaml:10:53: warning: spec.egress[0].ports[1].namedPort: networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames${suffix}`,
    `p.yaml:13:27: warning: spec.egress[1].ports[0].namedPort: networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames${suffix}`,
  ]);
  assert.deepEqual(snapshot.clusterPolicies[0]?.egress[0]?.ports, [
    { kind: 'number', protocol: 'TCP', port: 80 },
    { kind: 'named', name: 'http' },
  ]);
  const banp = load(
    manifest(
      BANP,
      'subject: {namespaces: {}}\negress: [{action: Deny, to: [{nodes: {}}], ports: [{namedPort: dns}]}]\n',
      'default',
    ),
  );
  assert.match(
    warningsOf(banp).join('\n'),
    /networks\/nodes peer cannot be set with namedPorts since there are no namedPorts for networks\/nodes \(the experimental/,
  );
});

test('domainNames are validated, then left out of the model with a warning at their position', () => {
  const snapshot = load(
    manifest(
      CNP,
      yaml`
        tier: Admin
        priority: 1
        subject: {namespaces: {}}
        egress:
          - action: Accept
            to:
              - domainNames: ["*.example.com", example.org.]
              - networks: [192.0.2.0/24]
          - action: Deny
            to: [{domainNames: [bad.example.com]}]
      `,
    ),
  );
  const [policy] = snapshot.clusterPolicies;
  assert.deepEqual(policy?.egress[0]?.peers, [{ kind: 'networks', cidrs: ['192.0.2.0/24'] }]);
  assert.deepEqual(policy?.egress[1]?.peers, []);
  assert.deepEqual(warningsOf(snapshot), [
    'p.yaml:11:24: warning: spec.egress[0].to[0].domainNames: phiwall cannot evaluate domain names: they resolve through DNS when traffic flows, not from manifests, so this peer matches no address here',
    'p.yaml:14:26: warning: spec.egress[1].to[0].domainNames: phiwall cannot evaluate domain names: they resolve through DNS when traffic flows, not from manifests, so this peer matches no address here (the API documents domainNames for Accept rules only)',
  ]);
  assert.deepEqual(
    problemsIn(
      ANP,
      yaml`
        priority: 1
        subject: {namespaces: {}}
        egress:
          - action: Allow
            to:
              - domainNames: [example.com, example.com, localhost, "*", "a.*.com"]
              - domainNames: []
      `,
    ),
    [
      'spec.egress[0].to[0].domainNames[1]: duplicate value "example.com": domainNames is a set',
      'spec.egress[0].to[0].domainNames[2]: "localhost" is not a valid domain name: use dot-separated labels, optionally starting with "*." (e.g. *.example.com)',
      'spec.egress[0].to[0].domainNames[3]: "*" is not a valid domain name: use dot-separated labels, optionally starting with "*." (e.g. *.example.com)',
      'spec.egress[0].to[0].domainNames[4]: "a.*.com" is not a valid domain name: use dot-separated labels, optionally starting with "*." (e.g. *.example.com)',
      'spec.egress[0].to[1].domainNames: must have at least 1 domain name',
    ],
  );
  assert.deepEqual(
    problemsIn(
      BANP,
      'subject: {namespaces: {}}\negress: [{action: Deny, to: [{domainNames: [example.com]}]}]\n',
    ),
    [
      'spec.egress[0].to[0].domainNames: unknown field "domainNames"',
      'spec.egress[0].to[0]: must specify exactly one of namespaces, pods, networks or nodes',
    ],
  );
});

test('unknown fields are errors at the misspelt key, including the other version’s field names', () => {
  assert.deepEqual(
    problemsIn(
      ANP,
      yaml`
        priority: 1
        tier: Admin
        subject: {namespaces: {matchLabel: {a: b}}}
        ingress:
          - action: Allow
            from: [{pods: {namespaceSelector: {}, podSelector: {}, podselector: {}}}]
            protocols: [{tcp: {destinationPort: {number: 80}}}]
      `,
    ),
    [
      'spec.tier: unknown field "tier"',
      'spec.subject.namespaces.matchLabel: unknown field "matchLabel"',
      'spec.ingress[0].protocols: unknown field "protocols"',
      'spec.ingress[0].from[0].pods.podselector: unknown field "podselector"',
    ],
  );
  assert.deepEqual(
    problemsIn(
      CNP,
      'tier: Admin\npriority: 1\nsubject: {namespaces: {}}\ningress: [{action: Accept, from: [{namespaces: {}}], ports: [{portNumber: {port: 80}}]}]\n',
    ),
    ['spec.ingress[0].ports: unknown field "ports"'],
  );
});

test('named ports that no container port can have are warnings', () => {
  const snapshot = load(
    manifest(
      ANP,
      'priority: 1\nsubject: {namespaces: {}}\ningress: [{action: Allow, from: [{namespaces: {}}], ports: [{namedPort: HTTP}]}]\n',
    ),
  );
  assert.deepEqual(snapshot.clusterPolicies[0]?.ingress[0]?.ports, [{ kind: 'named', name: 'HTTP' }]);
  assert.equal(snapshot.warnings.length, 1);
  assert.match(
    formatDiagnostic(snapshot.warnings[0] as never),
    /^p\.yaml:7:75: warning: spec\.ingress\[0\]\.ports\[0\]\.namedPort: named port "HTTP" matches no container port/,
  );
});

test('same-priority Admin-tier policies whose subjects may overlap are warned about at the later one', () => {
  const text = [
    manifest(ANP, 'priority: 50\nsubject: {namespaces: {matchLabels: {team: a}}}\n', 'first'),
    manifest(ANP, 'priority: 50\nsubject: {namespaces: {matchLabels: {team: b}}}\n', 'disjoint'),
    manifest(CNP, 'tier: Admin\npriority: 50\nsubject: {namespaces: {}}\n', 'cnp'),
    manifest(CNP, 'tier: Baseline\npriority: 50\nsubject: {namespaces: {}}\n', 'baseline'),
  ].join('---\n');
  const snapshot = load(text);
  assert.deepEqual(
    snapshot.clusterPolicies.map((p) => p.name),
    ['first', 'disjoint', 'cnp', 'baseline'],
  );
  assert.deepEqual(warningsOf(snapshot), [
    'p.yaml:20:13: warning: spec.priority: same Admin-tier priority 50 as AdminNetworkPolicy "first" (p.yaml:1), AdminNetworkPolicy "disjoint" (p.yaml:8), and their subjects may overlap: the API leaves the order of same-priority policies undefined; phiwall evaluates them in input order, this one after',
  ]);
});

test('same-priority Baseline-tier ClusterNetworkPolicies are warned about too', () => {
  const text = [
    manifest(
      CNP,
      'tier: Baseline\npriority: 3\nsubject: {pods: {podSelector: {matchLabels: {app: x}}}}\n',
      'a',
    ),
    manifest(CNP, 'tier: Baseline\npriority: 3\nsubject: {namespaces: {matchLabels: {team: t}}}\n', 'b'),
  ].join('---\n');
  assert.deepEqual(warningsOf(load(text)), [
    'p.yaml:14:13: warning: spec.priority: same Baseline-tier priority 3 as ClusterNetworkPolicy "a" (p.yaml:1), and their subjects may overlap: the API leaves the order of same-priority policies undefined; phiwall evaluates them in input order, this one after',
  ]);
});

test('a BaselineAdminNetworkPolicy beside Baseline-tier ClusterNetworkPolicies is warned about', () => {
  const text = [
    manifest(CNP, 'tier: Baseline\npriority: 3\nsubject: {namespaces: {}}\n', 'cnp'),
    manifest(BANP, 'subject: {namespaces: {}}\n', 'default'),
    manifest(CNP, 'tier: Admin\npriority: 3\nsubject: {namespaces: {}}\n', 'admin'),
  ].join('---\n');
  assert.deepEqual(warningsOf(load(text)), [
    'p.yaml:11:18: warning: metadata.name: BaselineAdminNetworkPolicy and Baseline-tier ClusterNetworkPolicies (ClusterNetworkPolicy "cnp" (p.yaml:1)) are both present: the API does not define their relative order; phiwall evaluates the ClusterNetworkPolicies first',
  ]);
});

test('selectors are disjoint only when their requirements on some key contradict', () => {
  const expr = (
    key: string,
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist',
    values: string[] = [],
  ) => ({
    matchLabels: {},
    matchExpressions: [{ key, operator, values }],
  });
  assert.equal(selectorsDisjoint(labels({ a: '1' }), labels({ a: '2' })), true);
  assert.equal(selectorsDisjoint(labels({ a: '1' }), labels({ a: '1', b: '2' })), false);
  assert.equal(selectorsDisjoint(labels({ a: '1' }), labels({ b: '1' })), false);
  assert.equal(selectorsDisjoint(labels({ a: '1' }), ALL), false);
  assert.equal(selectorsDisjoint(labels({ a: '1' }), expr('a', 'In', ['2', '3'])), true);
  assert.equal(selectorsDisjoint(labels({ a: '1' }), expr('a', 'In', ['1', '3'])), false);
  assert.equal(selectorsDisjoint(labels({ a: '1' }), expr('a', 'NotIn', ['1'])), true);
  assert.equal(selectorsDisjoint(labels({ a: '1' }), expr('a', 'NotIn', ['2'])), false);
  assert.equal(selectorsDisjoint(labels({ a: '1' }), expr('a', 'DoesNotExist')), true);
  assert.equal(selectorsDisjoint(expr('a', 'Exists'), expr('a', 'DoesNotExist')), true);
  assert.equal(selectorsDisjoint(expr('a', 'NotIn', ['1']), expr('a', 'DoesNotExist')), false);
  assert.equal(selectorsDisjoint(expr('a', 'In', ['1', '2']), expr('a', 'In', ['2', '3'])), false);
});

test('Nodes are read with their labels and InternalIP and ExternalIP addresses', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: Node
    metadata:
      name: node-1
      labels: {node-role.kubernetes.io/control-plane: "", zone: a}
    status:
      addresses:
        - {type: Hostname, address: node-1}
        - {type: InternalIP, address: 10.0.0.1}
        - {type: InternalIP, address: "fd00::1"}
        - {type: ExternalIP, address: 203.0.113.7}
        - {type: InternalDNS, address: node-1.internal}
        - {type: ExternalIP, address: 203.0.113.300}
        - {type: InternalIP, address: 10.0.0.1}
    ---
    apiVersion: v1
    kind: Node
    metadata: {name: node-2}
  `);
  assert.deepEqual(
    snapshot.nodes.map((n) => ({ ...n, provenance: n.provenance.locate() })),
    [
      {
        name: 'node-1',
        labels: { 'node-role.kubernetes.io/control-plane': '', zone: 'a' },
        ips: ['10.0.0.1', 'fd00::1', '203.0.113.7'],
        provenance: { line: 1, column: 1 },
      },
      { name: 'node-2', labels: {}, ips: [], provenance: { line: 16, column: 1 } },
    ],
  );
  assert.deepEqual(warningsOf(snapshot), [
    'p.yaml:13:35: warning: status.addresses[5].address: string "203.0.113.300" is not a valid IP address: left out of the node\'s ExternalIP addresses',
  ]);
  assert.deepEqual([...snapshot.skippedKinds], []);
  assert.deepEqual([...snapshot.namespaces.keys()], []);
});

test('a NodeList from kubectl is read; duplicate nodes are errors', () => {
  const snapshot = load(yaml`
    apiVersion: v1
    kind: NodeList
    items:
      - metadata: {name: a}
        status: {addresses: [{type: InternalIP, address: 10.0.0.1}]}
  `);
  assert.deepEqual(
    snapshot.nodes.map((n) => [n.name, n.ips]),
    [['a', ['10.0.0.1']]],
  );
  assert.deepEqual(
    errorsOf(
      'apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: a}\n',
    ),
    ['p.yaml:7:18: metadata.name: duplicate Node "a" (first defined at p.yaml:1)'],
  );
});

test('with skipInvalid an invalid cluster policy is left out whole, the valid ones kept', () => {
  const text = [
    manifest(ANP, 'priority: 1\nsubject: {namespaces: {}}\n', 'good'),
    manifest(ANP, 'priority: 2000\nsubject: {namespaces: {}}\n', 'bad'),
  ].join('---\n');
  const snapshot = load(text, { skipInvalid: true });
  assert.equal(snapshot.partial, true);
  assert.deepEqual(
    snapshot.clusterPolicies.map((p) => p.name),
    ['good'],
  );
});

test('a cluster policy without a spec is an error', () => {
  assert.deepEqual(errorsOf(`${ANP}\nmetadata: {name: p}\n`), [
    'p.yaml:1:1: spec: required value: an AdminNetworkPolicy needs a spec',
  ]);
});
