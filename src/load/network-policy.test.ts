import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetworkPolicy } from '../model/types.ts';
import { yaml } from '../testing/yaml.ts';
import { formatDiagnostic, InputError } from './diagnostics.ts';
import { buildSnapshot } from './snapshot.ts';

/** The spec goes under a four-line header: spec line n is file line n + 4, and columns shift by 2. */
function manifest(spec: string): string {
  const body = spec
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n${body}`;
}

function readPolicy(spec: string): NetworkPolicy {
  const snapshot = buildSnapshot([{ path: 'np.yaml', text: manifest(spec) }]);
  assert.equal(snapshot.policies.length, 1);
  return snapshot.policies[0] as NetworkPolicy;
}

/** Every diagnostic as `file:line:column: field: message`. */
function errorsIn(spec: string): string[] {
  try {
    buildSnapshot([{ path: 'np.yaml', text: manifest(spec) }]);
  } catch (error) {
    if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
    throw error;
  }
  return assert.fail('expected an InputError');
}

/** Only `field: message`, for tests about what is rejected rather than where. */
function problemsIn(spec: string): string[] {
  return errorsIn(spec).map((line) => line.replace(/^np\.yaml:\d+:\d+: /, ''));
}

test('a valid policy reads into its meaning', () => {
  const policy = readPolicy(yaml`
    podSelector:
      matchLabels: {app: api}
      matchExpressions:
        - {key: tier, operator: In, values: [web, api]}
        - {key: canary, operator: DoesNotExist}
    ingress:
      - from:
          - podSelector: {matchLabels: {app: web}}
            namespaceSelector: {matchLabels: {team: shop}}
          - namespaceSelector: {}
          - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
        ports:
          - {port: 8443}
          - {protocol: UDP, port: 53}
          - {protocol: SCTP, port: 3000, endPort: 3010}
          - {port: https}
    egress:
      - to: [{ipBlock: {cidr: "fd00::/8"}}]
  `);
  assert.deepEqual(
    { ...policy, ingress: undefined, egress: undefined, provenance: undefined },
    {
      namespace: 'shop',
      name: 'p',
      podSelector: {
        matchLabels: { app: 'api' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'api'] },
          { key: 'canary', operator: 'DoesNotExist', values: [] },
        ],
      },
      isolates: { ingress: true, egress: true },
      ingress: undefined,
      egress: undefined,
      provenance: undefined,
    },
  );
  const [rule] = policy.ingress;
  assert.equal(rule?.direction, 'ingress');
  assert.equal(rule?.index, 0);
  assert.deepEqual(rule?.peers, [
    {
      kind: 'pods',
      podSelector: { matchLabels: { app: 'web' }, matchExpressions: [] },
      namespaceSelector: { matchLabels: { team: 'shop' }, matchExpressions: [] },
    },
    { kind: 'pods', podSelector: undefined, namespaceSelector: { matchLabels: {}, matchExpressions: [] } },
    { kind: 'ipBlock', ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
  ]);
  assert.deepEqual(rule?.ports, [
    { protocol: 'TCP', port: 8443, endPort: undefined },
    { protocol: 'UDP', port: 53, endPort: undefined },
    { protocol: 'SCTP', port: 3000, endPort: 3010 },
    { protocol: 'TCP', port: 'https', endPort: undefined },
  ]);
  assert.deepEqual(rule?.provenance.locate(), { line: 11, column: 7 });
  assert.deepEqual(policy.egress[0]?.peers, [{ kind: 'ipBlock', ipBlock: { cidr: 'fd00::/8', except: [] } }]);
  assert.deepEqual(policy.provenance.locate(), { line: 1, column: 1 });
});

test('a policy without podSelector selects every pod of its namespace', () => {
  assert.deepEqual(readPolicy('ingress: [{}]\n').podSelector, { matchLabels: {}, matchExpressions: [] });
});

test('an invalid CIDR is reported at its value, with the full field path', () => {
  assert.deepEqual(
    errorsIn(yaml`
      podSelector: {}
      ingress:
        - from:
            - podSelector: {}
            - ipBlock:
                cidr: 10.0.0.0/33
    `),
    ['np.yaml:10:19: spec.ingress[0].from[1].ipBlock.cidr: "10.0.0.0/33" is not a valid CIDR'],
  );
});

test('CIDRs must have a prefix, and a missing cidr is required', () => {
  assert.deepEqual(
    problemsIn(yaml`
      egress:
        - to:
            - ipBlock: {cidr: 10.0.0.1}
            - ipBlock: {cidr: "fd00::/129"}
            - ipBlock: {except: [10.0.0.0/24]}
            - ipBlock: {cidr: 10.0.0.0/8x}
    `),
    [
      'spec.egress[0].to[0].ipBlock.cidr: "10.0.0.1" is not a valid CIDR',
      'spec.egress[0].to[1].ipBlock.cidr: "fd00::/129" is not a valid CIDR',
      'spec.egress[0].to[2].ipBlock.cidr: required value',
      'spec.egress[0].to[3].ipBlock.cidr: "10.0.0.0/8x" is not a valid CIDR',
    ],
  );
});

test('host bits in a CIDR are accepted, as the API server accepts them', () => {
  const policy = readPolicy('egress: [{to: [{ipBlock: {cidr: 10.0.0.7/8}}]}]\n');
  assert.deepEqual(policy.egress[0]?.peers, [
    { kind: 'ipBlock', ipBlock: { cidr: '10.0.0.7/8', except: [] } },
  ]);
});

test('every except must be a valid CIDR strictly inside the cidr, of the same family', () => {
  assert.deepEqual(
    errorsIn(yaml`
      ingress:
        - from:
            - ipBlock:
                cidr: 10.0.0.0/16
                except:
                  - 10.0.1.0/24
                  - 10.1.0.0/24
                  - 10.0.0.0/16
                  - 10.0.0.0/8
                  - "fd00::/64"
                  - 10.0.0.0/40
    `),
    [
      'np.yaml:11:17: spec.ingress[0].from[0].ipBlock.except[1]: "10.1.0.0/24" must be a strict subset of cidr "10.0.0.0/16"',
      'np.yaml:12:17: spec.ingress[0].from[0].ipBlock.except[2]: "10.0.0.0/16" must be a strict subset of cidr "10.0.0.0/16"',
      'np.yaml:13:17: spec.ingress[0].from[0].ipBlock.except[3]: "10.0.0.0/8" must be a strict subset of cidr "10.0.0.0/16"',
      'np.yaml:14:17: spec.ingress[0].from[0].ipBlock.except[4]: "fd00::/64" must be a strict subset of cidr "10.0.0.0/16"',
      'np.yaml:15:17: spec.ingress[0].from[0].ipBlock.except[5]: "10.0.0.0/40" is not a valid CIDR',
    ],
  );
});

test('a peer must name exactly one kind of peer: an ipBlock or selectors', () => {
  assert.deepEqual(
    errorsIn(yaml`
      ingress:
        - from:
            - {}
            -
            - ipBlock: {cidr: 10.0.0.0/8}
              podSelector: {}
            - ipBlock: {cidr: 10.0.0.0/8}
              namespaceSelector: {}
            - podSelector: null
    `),
    [
      'np.yaml:7:11: spec.ingress[0].from[0]: must specify a peer: ipBlock, podSelector or namespaceSelector',
      'np.yaml:8:10: spec.ingress[0].from[1]: must specify a peer: ipBlock, podSelector or namespaceSelector',
      'np.yaml:9:11: spec.ingress[0].from[2]: may not specify more than 1 peer type: ipBlock cannot be combined with a selector',
      'np.yaml:11:11: spec.ingress[0].from[3]: may not specify more than 1 peer type: ipBlock cannot be combined with a selector',
      'np.yaml:13:11: spec.ingress[0].from[4]: must specify a peer: ipBlock, podSelector or namespaceSelector',
    ],
  );
});

test('selector label keys and values are validated like metadata.labels', () => {
  assert.deepEqual(
    problemsIn(yaml`
      podSelector:
        matchLabels: {"app name": web, tier: "-web", version: 2}
      ingress:
        - from:
            - namespaceSelector:
                matchExpressions: [{key: "a/b/c", operator: Exists}]
    `),
    [
      'spec.podSelector.matchLabels.app name: invalid label key "app name": a label key name must consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric',
      'spec.podSelector.matchLabels.tier: invalid label value "-web": a label value must be empty or consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric',
      'spec.podSelector.matchLabels.version: label value must be a string, not 2 (quote it)',
      'spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].key: invalid label key "a/b/c": a label key may contain at most one "/"',
    ],
  );
});

test('selector operators and their values follow the API server’s rules', () => {
  assert.deepEqual(
    errorsIn(yaml`
      podSelector:
        matchExpressions:
          - {key: a, operator: Equals, values: [x]}
          - {key: b, operator: In}
          - {key: c, operator: NotIn, values: []}
          - {key: d, operator: Exists, values: [x]}
          - {key: e, operator: DoesNotExist, values: [x]}
          - {key: f, operator: In, values: [ok, "not ok", 3]}
          - {key: g, operator: in, values: [x]}
    `),
    [
      'np.yaml:7:28: spec.podSelector.matchExpressions[0].operator: unsupported operator "Equals": use In, NotIn, Exists, DoesNotExist',
      'np.yaml:8:9: spec.podSelector.matchExpressions[1].values: must be specified when operator is In',
      'np.yaml:9:43: spec.podSelector.matchExpressions[2].values: must be specified when operator is NotIn',
      'np.yaml:10:44: spec.podSelector.matchExpressions[3].values: may not be specified when operator is Exists',
      'np.yaml:11:50: spec.podSelector.matchExpressions[4].values: may not be specified when operator is DoesNotExist',
      'np.yaml:12:45: spec.podSelector.matchExpressions[5].values[1]: invalid label value "not ok": a label value must be empty or consist of alphanumerics, "-", "_" or "." and start and end with an alphanumeric',
      'np.yaml:12:55: spec.podSelector.matchExpressions[5].values[2]: must be a string, not 3',
      'np.yaml:13:28: spec.podSelector.matchExpressions[6].operator: unsupported operator "in": use In, NotIn, Exists, DoesNotExist',
    ],
  );
});

test('port numbers must be 1-65535, and named ports valid service names', () => {
  assert.deepEqual(
    problemsIn(yaml`
      ingress:
        - ports:
            - {port: 0}
            - {port: 65536}
            - {port: 80.5}
            - {port: "80"}
            - {port: HTTPS}
            - {port: a-very-long-port-name}
            - {port: 65535}
            - {port: 1}
    `),
    [
      'spec.ingress[0].ports[0].port: number 0 is not a valid port: must be between 1 and 65535',
      'spec.ingress[0].ports[1].port: number 65536 is not a valid port: must be between 1 and 65535',
      'spec.ingress[0].ports[2].port: number 80.5 is not a valid port: must be between 1 and 65535',
      'spec.ingress[0].ports[3].port: invalid named port "80": a port name must contain at least one letter',
      'spec.ingress[0].ports[4].port: invalid named port "HTTPS": a port name must be lowercase alphanumerics and "-", start and end with an alphanumeric, without "--"',
      'spec.ingress[0].ports[5].port: invalid named port "a-very-long-port-name": a port name must be no more than 15 characters',
    ],
  );
});

test('endPort needs a numeric port no greater than itself', () => {
  assert.deepEqual(
    errorsIn(yaml`
      egress:
        - ports:
            - {port: http, endPort: 90}
            - {endPort: 90}
            - {port: 100, endPort: 90}
            - {port: 80, endPort: 70000}
            - {port: 80, endPort: 80}
    `),
    [
      'np.yaml:7:33: spec.egress[0].ports[0].endPort: may not be specified when port is a named port',
      'np.yaml:8:21: spec.egress[0].ports[1].endPort: may not be specified when port is not',
      'np.yaml:9:32: spec.egress[0].ports[2].endPort: 90 must be greater than or equal to port 100',
      'np.yaml:10:31: spec.egress[0].ports[3].endPort: number 70000 is not a valid port: must be between 1 and 65535',
    ],
  );
});

test('protocols are TCP, UDP or SCTP, spelt as the API spells them', () => {
  assert.deepEqual(
    errorsIn(yaml`
      ingress:
        - ports:
            - {protocol: ICMP}
            - {protocol: tcp, port: 80}
    `),
    [
      'np.yaml:7:22: spec.ingress[0].ports[0].protocol: unsupported protocol "ICMP": use TCP, UDP or SCTP',
      'np.yaml:8:22: spec.ingress[0].ports[1].protocol: unsupported protocol "tcp": use TCP, UDP or SCTP',
    ],
  );
});

test('unknown fields anywhere in a policy are errors, positioned at the misspelt key', () => {
  assert.deepEqual(
    errorsIn(yaml`
      podSelector:
        matchLabel: {app: web}
      ingres:
        - from: [{podSelector: {}}]
      egress:
        - too: [{podSelector: {}}]
          ports: [{port: 53, protcol: UDP}]
        - to:
            - ipBlock: {cidr: 10.0.0.0/8, exept: [10.1.0.0/16]}
              podselector: {}
            - podSelector:
                matchExpressions: [{key: a, operator: Exists, value: [x]}]
    `),
    [
      // A block value starts on the next line, so this one points at the key; the others are on one line.
      'np.yaml:7:3: spec.ingres: unknown field "ingres"',
      'np.yaml:6:17: spec.podSelector.matchLabel: unknown field "matchLabel"',
      'np.yaml:10:12: spec.egress[0].too: unknown field "too"',
      'np.yaml:11:35: spec.egress[0].ports[0].protcol: unknown field "protcol"',
      'np.yaml:14:24: spec.egress[1].to[0].podselector: unknown field "podselector"',
      'np.yaml:13:46: spec.egress[1].to[0].ipBlock.exept: unknown field "exept"',
      'np.yaml:16:66: spec.egress[1].to[1].podSelector.matchExpressions[0].value: unknown field "value"',
    ],
  );
});

test('fields of the wrong type are errors, not silently ignored', () => {
  assert.deepEqual(
    problemsIn(yaml`
      podSelector: app=web
      policyTypes: Ingress
      ingress:
        from: []
      egress:
        - to: {podSelector: {}}
          ports: 53
    `),
    [
      'spec.podSelector: must be a mapping, not string "app=web"',
      'spec.ingress: must be a list, not a mapping',
      'spec.egress[0].to: must be a list, not a mapping',
      'spec.egress[0].ports: must be a list, not number 53',
      'spec.policyTypes: must be a list, not string "Ingress"',
    ],
  );
});

test('omitted policyTypes mean Ingress, plus Egress when there are egress rules', () => {
  assert.deepEqual(readPolicy('podSelector: {}\n').isolates, { ingress: true, egress: false });
  assert.deepEqual(readPolicy('egress: [{}]\n').isolates, { ingress: true, egress: true });
  assert.deepEqual(readPolicy('egress: []\n').isolates, { ingress: true, egress: false });
  assert.deepEqual(readPolicy('egress:\n  -\n').isolates, { ingress: true, egress: true });
});

test('an empty policyTypes list is defaulted like an omitted one, as the API server does', () => {
  assert.deepEqual(readPolicy('policyTypes: []\n').isolates, { ingress: true, egress: false });
  assert.deepEqual(readPolicy('policyTypes: []\negress: [{}]\n').isolates, { ingress: true, egress: true });
});

test('explicit policyTypes are taken as given, ignoring the other direction’s rules', () => {
  const egressOnly = readPolicy('policyTypes: [Egress]\ningress: [{}]\n');
  assert.deepEqual(egressOnly.isolates, { ingress: false, egress: true });
  assert.equal(egressOnly.ingress.length, 1);
  assert.deepEqual(readPolicy('policyTypes: [Ingress, Egress]\n').isolates, { ingress: true, egress: true });
});

test('policyTypes values must be Ingress or Egress, at most two of them (repeats are accepted)', () => {
  assert.deepEqual(errorsIn('policyTypes: [Ingress, ingress, Ingress]\n'), [
    'np.yaml:5:16: spec.policyTypes: may not specify more than two policyTypes',
    'np.yaml:5:26: spec.policyTypes[1]: unsupported value "ingress": use Ingress or Egress',
  ]);
  assert.deepEqual(readPolicy('policyTypes: [Ingress, Ingress]\n').isolates, {
    ingress: true,
    egress: false,
  });
});

test('empty peer and port lists mean the same as absent ones: everything', () => {
  const policy = readPolicy(yaml`
    ingress:
      - from: []
        ports: []
      - {}
      -
      - ports: [{port: 80}]
  `);
  assert.deepEqual(
    policy.ingress.map((r) => [r.index, r.peers, r.ports]),
    [
      [0, undefined, undefined],
      [1, undefined, undefined],
      [2, undefined, undefined],
      [3, undefined, [{ protocol: 'TCP', port: 80, endPort: undefined }]],
    ],
  );
});

test('an empty ingress list isolates without admitting anything', () => {
  const policy = readPolicy('podSelector: {}\ningress: []\n');
  assert.deepEqual(policy.ingress, []);
  assert.deepEqual(policy.isolates, { ingress: true, egress: false });
});

test('a rule that is not a mapping is an error', () => {
  assert.deepEqual(errorsIn('ingress: [from]\n'), [
    'np.yaml:5:13: spec.ingress[0]: must be a mapping, not string "from"',
  ]);
});

test('a named port in an egress rule to an ipBlock is accepted with a positioned warning', () => {
  const text = manifest(yaml`
    egress:
      - to: [{ipBlock: {cidr: 10.0.0.0/8}}]
        ports: [{port: https}, {port: 443}]
  `);
  const snapshot = buildSnapshot([{ path: 'np.yaml', text }]);
  assert.equal(snapshot.policies.length, 1);
  const warnings = snapshot.warnings.map(formatDiagnostic);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] as string,
    /^np\.yaml:\d+:\d+: warning: spec\.egress\[0\]\.ports\[0\]\.port: named port "https" matches no external address/,
  );
});

test('a named port in an egress rule to pods draws no warning', () => {
  const text = manifest(yaml`
    egress:
      - to: [{podSelector: {}}]
        ports: [{port: https}]
  `);
  assert.deepEqual(buildSnapshot([{ path: 'np.yaml', text }]).warnings, []);
});
