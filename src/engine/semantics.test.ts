import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeConnectivity } from '../analysis/connectivity.ts';
import { PROTOCOLS, type Snapshot } from '../model/types.ts';
import {
  type Case,
  cluster,
  clusterWarning,
  expectVerdicts,
  namespace,
  pod,
  policy,
} from '../testing/verdicts.ts';
import { DEFAULT_OPTIONS, type EngineOptions } from './endpoint.ts';
import { Engine } from './engine.ts';
import { portsKey } from './ports.ts';
import { referenceAllows } from './reference.ts';

const BOTH = [true, false] as const;
const ALL_OPTIONS: EngineOptions[] = BOTH.flatMap((ipBlockMatchesPods) =>
  (['node', 'pod'] as const).map((hostNetwork) => ({ ipBlockMatchesPods, hostNetwork })),
);

const EXTERNAL = '192.0.2.10';
const EXTERNAL6 = '2001:db8::10';

const client = pod({ name: 'client', labels: { app: 'client' }, ips: ['10.0.0.1'] });
const server = pod({
  name: 'server',
  labels: { app: 'server' },
  ips: ['10.0.0.2'],
  ports: [{ name: 'http', containerPort: 8080 }],
});
const bystander = pod({ name: 'bystander', labels: { app: 'bystander' }, ips: ['10.0.0.3'] });
const foreigner = pod({
  name: 'foreigner',
  namespace: 'other',
  labels: { app: 'client' },
  ips: ['10.0.1.1'],
});
const base = [client, server, bystander, foreigner];

describe('isolation and policyTypes', () => {
  test('a pod no policy selects reaches and is reached by everything', () => {
    const snapshot = cluster(
      ...base,
      policy('elsewhere', 'podSelector: {}\npolicyTypes: [Ingress, Egress]', 'other-empty'),
      policy('nobody', 'podSelector: { matchLabels: { app: nobody } }\npolicyTypes: [Ingress, Egress]'),
    );
    expectVerdicts(snapshot, [
      ['default/client', 'default/server', 'TCP/80', true],
      ['default/client', 'default/server', 'UDP/53', true],
      ['default/server', 'default/client', 'SCTP/65535', true],
      ['other/foreigner', 'default/server', 'TCP/1', true],
      [EXTERNAL, 'default/server', 'TCP/443', true],
      ['default/server', EXTERNAL6, 'UDP/123', true],
    ]);
  });

  test('omitted policyTypes with only ingress rules isolate ingress alone', () => {
    const snapshot = cluster(
      ...base,
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ podSelector: { matchLabels: { app: client } } }]
            ports: [{ port: 80 }]
        `,
      ),
    );
    expectVerdicts(snapshot, [
      ['default/client', 'default/server', 'TCP/80', true],
      ['default/client', 'default/server', 'TCP/81', false],
      ['default/bystander', 'default/server', 'TCP/80', false],
      [EXTERNAL, 'default/server', 'TCP/80', false],
      ['default/server', 'default/bystander', 'TCP/5432', true],
      ['default/server', EXTERNAL, 'UDP/53', true],
    ]);
  });

  test('omitted policyTypes with egress rules isolate both directions', () => {
    const snapshot = cluster(
      ...base,
      policy(
        'client',
        `
        podSelector: { matchLabels: { app: client } }
        egress:
          - to: [{ podSelector: { matchLabels: { app: server } } }]
            ports: [{ port: 80 }]
        `,
      ),
    );
    expectVerdicts(snapshot, [
      ['default/client', 'default/server', 'TCP/80', true],
      ['default/client', 'default/server', 'TCP/81', false],
      ['default/client', 'default/bystander', 'TCP/80', false],
      ['default/client', EXTERNAL, 'TCP/80', false],
      // No ingress rules under the defaulted Ingress type: nothing gets in.
      ['default/server', 'default/client', 'TCP/80', false],
      [EXTERNAL, 'default/client', 'UDP/53', false],
    ]);
  });

  test('policyTypes [Egress] ignores ingress rules', () => {
    const snapshot = cluster(
      ...base,
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        policyTypes: [Egress]
        ingress:
          - from: [{ podSelector: { matchLabels: { app: client } } }]
            ports: [{ port: 80 }]
        `,
      ),
    );
    expectVerdicts(snapshot, [
      ['default/bystander', 'default/server', 'TCP/9999', true],
      ['default/client', 'default/server', 'UDP/53', true],
      [EXTERNAL, 'default/server', 'SCTP/1', true],
      ['default/server', 'default/client', 'TCP/80', false],
      ['default/server', EXTERNAL, 'TCP/443', false],
    ]);
  });

  test('policyTypes [Ingress] ignores egress rules', () => {
    const snapshot = cluster(
      ...base,
      policy(
        'client',
        `
        podSelector: { matchLabels: { app: client } }
        policyTypes: [Ingress]
        egress:
          - to: [{ podSelector: { matchLabels: { app: server } } }]
            ports: [{ port: 80 }]
        `,
      ),
    );
    expectVerdicts(snapshot, [
      ['default/client', 'default/bystander', 'TCP/1234', true],
      ['default/client', EXTERNAL, 'UDP/53', true],
      ['default/server', 'default/client', 'TCP/80', false],
      [EXTERNAL, 'default/client', 'TCP/80', false],
    ]);
  });

  test('a connection needs both the egress and the ingress side to allow it', () => {
    const snapshot = cluster(
      ...base,
      policy(
        'client-out',
        `
        podSelector: { matchLabels: { app: client } }
        policyTypes: [Egress]
        egress:
          - to: [{ podSelector: {} }]
            ports: [{ port: 80, endPort: 90 }]
        `,
      ),
      policy(
        'server-in',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ podSelector: { matchLabels: { app: client } } }]
            ports: [{ port: 85, endPort: 100 }]
        `,
      ),
    );
    expectVerdicts(snapshot, [
      ['default/client', 'default/server', 'TCP/84', false],
      ['default/client', 'default/server', 'TCP/85', true],
      ['default/client', 'default/server', 'TCP/90', true],
      ['default/client', 'default/server', 'TCP/91', false],
      ['default/client', 'default/bystander', 'TCP/80', true],
      ['default/client', 'default/bystander', 'TCP/91', false],
    ]);
  });

  test('policies are additive and their order never matters', () => {
    const policies = [
      policy('deny-server', 'podSelector: { matchLabels: { app: server } }\npolicyTypes: [Ingress]'),
      policy(
        'allow-client',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ podSelector: { matchLabels: { app: client } } }]
            ports: [{ port: 80 }]
        `,
      ),
      policy(
        'allow-bystander',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ podSelector: { matchLabels: { app: bystander } } }]
            ports: [{ protocol: UDP, port: 53 }, { port: http }]
        `,
      ),
      policy(
        'client-out',
        `
        podSelector: { matchLabels: { app: client } }
        egress:
          - to: [{ ipBlock: { cidr: 10.0.0.0/24 } }]
            ports: [{ port: 80 }]
          - to: [{ namespaceSelector: {} }]
            ports: [{ port: 8080 }]
        `,
      ),
    ];
    expectVerdicts(cluster(...base, ...policies), [
      ['default/client', 'default/server', 'TCP/80', true],
      ['default/client', 'default/server', 'TCP/8080', false],
      ['default/bystander', 'default/server', 'UDP/53', true],
      ['default/bystander', 'default/server', 'TCP/8080', true],
      ['default/bystander', 'default/server', 'TCP/80', false],
      ['other/foreigner', 'default/server', 'TCP/80', false],
    ]);
    const fingerprints = permutations(policies).map((order) => fingerprint(cluster(...base, ...order)));
    for (const other of fingerprints.slice(1)) assert.deepEqual(other, fingerprints[0]);
  });
});

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** Everything both evaluators say about a snapshot, keyed by pod name so snapshots can be compared. */
function fingerprint(snapshot: Snapshot): string[] {
  const out: string[] = [];
  for (const options of ALL_OPTIONS) {
    const engine = new Engine(snapshot, options);
    for (const a of snapshot.pods) {
      for (const direction of ['ingress', 'egress'] as const) {
        const groups = engine
          .externalPorts(engine.classOf(a), direction)
          .map((g) => `${g.addresses.map(([lo, hi]) => `${lo}-${hi}`).join(',')}:${portsKey(g.ports)}`)
          .sort();
        out.push(`${a.name} ${direction} ${groups.join(' ')}`);
      }
      for (const b of snapshot.pods) {
        out.push(`${a.name}→${b.name} ${portsKey(engine.portsBetween(a, b))}`);
        for (const protocol of PROTOCOLS) {
          for (const port of [53, 79, 80, 81, 8080]) {
            const verdict = referenceAllows(snapshot, { pod: a }, { pod: b }, protocol, port, options);
            out.push(`${a.name}→${b.name} ${protocol}/${port} ${verdict}`);
          }
        }
      }
    }
  }
  return out;
}

describe('empty and missing rule parts', () => {
  test('ingress: [{}] admits every peer on every port, external addresses too', () => {
    const snapshot = cluster(
      ...base,
      policy('deny', 'podSelector: {}\npolicyTypes: [Ingress]'),
      policy('open', 'podSelector: { matchLabels: { app: server } }\ningress: [{}]'),
    );
    expectVerdicts(snapshot, [
      ['default/client', 'default/server', 'TCP/1', true],
      ['default/client', 'default/server', 'UDP/65535', true],
      ['other/foreigner', 'default/server', 'SCTP/9999', true],
      [EXTERNAL, 'default/server', 'TCP/22', true],
      [EXTERNAL6, 'default/server', 'UDP/53', true],
      ['default/server', 'default/client', 'TCP/80', false],
    ]);
  });

  test('egress: [{}] admits every peer on every port, external addresses too', () => {
    const snapshot = cluster(
      ...base,
      policy('open', 'podSelector: { matchLabels: { app: client } }\npolicyTypes: [Egress]\negress: [{}]'),
    );
    expectVerdicts(snapshot, [
      ['default/client', 'default/server', 'SCTP/1', true],
      ['default/client', 'other/foreigner', 'TCP/65535', true],
      ['default/client', EXTERNAL, 'UDP/53', true],
      ['default/client', EXTERNAL6, 'TCP/443', true],
    ]);
  });

  test('a rule without from or to admits every peer, external addresses too', () => {
    const snapshot = cluster(
      ...base,
      policy('server', 'podSelector: { matchLabels: { app: server } }\ningress: [{ ports: [{ port: 80 }] }]'),
      policy(
        'client',
        'podSelector: { matchLabels: { app: client } }\npolicyTypes: [Egress]\negress: [{ ports: [{ port: 443 }] }]',
      ),
    );
    expectVerdicts(snapshot, [
      ['other/foreigner', 'default/server', 'TCP/80', true],
      [EXTERNAL, 'default/server', 'TCP/80', true],
      [EXTERNAL6, 'default/server', 'TCP/80', true],
      [EXTERNAL, 'default/server', 'TCP/81', false],
      [EXTERNAL, 'default/server', 'UDP/80', false],
      ['default/client', EXTERNAL, 'TCP/443', true],
      ['default/client', EXTERNAL6, 'TCP/443', true],
      ['default/client', 'default/bystander', 'TCP/443', true],
      ['default/client', EXTERNAL, 'TCP/80', false],
    ]);
  });

  test('a rule without ports admits every port of every protocol', () => {
    const snapshot = cluster(
      ...base,
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ podSelector: { matchLabels: { app: client } } }]
        `,
      ),
    );
    const cases: Case[] = PROTOCOLS.flatMap((protocol) =>
      [1, 80, 65535].flatMap((port): Case[] => [
        ['default/client', 'default/server', `${protocol}/${port}`, true],
        ['default/bystander', 'default/server', `${protocol}/${port}`, false],
      ]),
    );
    expectVerdicts(snapshot, cases);
  });

  test('ingress: [] or no ingress under an Ingress type admits nothing', () => {
    const variants = [
      'podSelector: { matchLabels: { app: server } }\ningress: []',
      'podSelector: { matchLabels: { app: server } }\npolicyTypes: [Ingress]',
      'podSelector: { matchLabels: { app: server } }\npolicyTypes: [Ingress]\ningress: []',
    ];
    for (const spec of variants) {
      const snapshot = cluster(...base, policy('deny', spec));
      const cases: Case[] = PROTOCOLS.flatMap((protocol): Case[] => [
        ['default/client', 'default/server', `${protocol}/80`, false],
        [EXTERNAL, 'default/server', `${protocol}/1`, false],
        [EXTERNAL6, 'default/server', `${protocol}/65535`, false],
        ['default/server', 'default/client', `${protocol}/80`, true],
      ]);
      expectVerdicts(snapshot, cases);
    }
  });

  test('egress: [] or no egress under an Egress type admits nothing', () => {
    for (const spec of ['policyTypes: [Egress]', 'policyTypes: [Egress]\negress: []']) {
      const snapshot = cluster(
        ...base,
        policy('deny', `podSelector: { matchLabels: { app: client } }\n${spec}`),
      );
      const cases: Case[] = PROTOCOLS.flatMap((protocol): Case[] => [
        ['default/client', 'default/server', `${protocol}/80`, false],
        ['default/client', EXTERNAL, `${protocol}/53`, false],
        ['default/server', 'default/client', `${protocol}/80`, true],
      ]);
      expectVerdicts(snapshot, cases);
    }
  });
});

describe('peers', () => {
  const peerPods = [
    namespace('blue', { team: 'blue' }),
    namespace('red', { team: 'red' }),
    server,
    client,
    pod({ name: 'client', namespace: 'blue', labels: { app: 'client' }, ips: ['10.1.0.1'] }),
    pod({ name: 'db', namespace: 'blue', labels: { app: 'db' }, ips: ['10.1.0.2'] }),
    pod({ name: 'client', namespace: 'red', labels: { app: 'client' }, ips: ['10.2.0.1'] }),
    pod({ name: 'db', namespace: 'red', labels: { app: 'db' }, ips: ['10.2.0.2'] }),
  ];
  const serverFrom = (from: string) =>
    cluster(
      ...peerPods,
      policy('server', `podSelector: { matchLabels: { app: server } }\ningress: [{ from: ${from} }]`),
    );

  test('a podSelector alone selects pods of the policy namespace only', () => {
    expectVerdicts(serverFrom('[{ podSelector: { matchLabels: { app: client } } }]'), [
      ['default/client', 'default/server', 'TCP/80', true],
      ['blue/client', 'default/server', 'TCP/80', false],
      ['red/client', 'default/server', 'TCP/80', false],
    ]);
  });

  test('a namespaceSelector alone selects every pod of the matching namespaces', () => {
    expectVerdicts(serverFrom('[{ namespaceSelector: { matchLabels: { team: blue } } }]'), [
      ['blue/client', 'default/server', 'TCP/80', true],
      ['blue/db', 'default/server', 'UDP/53', true],
      ['red/client', 'default/server', 'TCP/80', false],
      ['default/client', 'default/server', 'TCP/80', false],
    ]);
  });

  test('both selectors in one element are ANDed', () => {
    const from =
      '[{ namespaceSelector: { matchLabels: { team: blue } }, podSelector: { matchLabels: { app: client } } }]';
    expectVerdicts(serverFrom(from), [
      ['blue/client', 'default/server', 'TCP/80', true],
      ['blue/db', 'default/server', 'TCP/80', false],
      ['red/client', 'default/server', 'TCP/80', false],
      ['default/client', 'default/server', 'TCP/80', false],
    ]);
  });

  test('selectors in separate elements are ORed', () => {
    const from =
      '[{ namespaceSelector: { matchLabels: { team: blue } } }, { podSelector: { matchLabels: { app: client } } }]';
    expectVerdicts(serverFrom(from), [
      ['blue/client', 'default/server', 'TCP/80', true],
      ['blue/db', 'default/server', 'TCP/80', true],
      ['default/client', 'default/server', 'TCP/80', true],
      ['red/client', 'default/server', 'TCP/80', false],
      ['red/db', 'default/server', 'TCP/80', false],
    ]);
  });

  test('an empty podSelector selects the whole policy namespace, an empty namespaceSelector every pod', () => {
    expectVerdicts(serverFrom('[{ podSelector: {} }]'), [
      ['default/client', 'default/server', 'TCP/80', true],
      ['blue/client', 'default/server', 'TCP/80', false],
      [EXTERNAL, 'default/server', 'TCP/80', false],
    ]);
    expectVerdicts(serverFrom('[{ namespaceSelector: {} }]'), [
      ['default/client', 'default/server', 'TCP/80', true],
      ['blue/db', 'default/server', 'TCP/80', true],
      ['red/client', 'default/server', 'TCP/80', true],
      [EXTERNAL, 'default/server', 'TCP/80', false],
    ]);
    expectVerdicts(serverFrom('[{ namespaceSelector: {}, podSelector: { matchLabels: { app: db } } }]'), [
      ['blue/db', 'default/server', 'TCP/80', true],
      ['red/db', 'default/server', 'TCP/80', true],
      ['blue/client', 'default/server', 'TCP/80', false],
    ]);
  });

  test('namespaces always carry kubernetes.io/metadata.name, declared or not', () => {
    const snapshot = cluster(
      ...peerPods,
      pod({ name: 'client', namespace: 'undeclared', labels: { app: 'client' }, ips: ['10.3.0.1'] }),
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: blue } } }]
            ports: [{ port: 80 }]
          - from:
              - namespaceSelector:
                  matchExpressions: [{ key: kubernetes.io/metadata.name, operator: In, values: [undeclared] }]
            ports: [{ port: 81 }]
        `,
      ),
    );
    expectVerdicts(snapshot, [
      ['blue/client', 'default/server', 'TCP/80', true],
      ['red/client', 'default/server', 'TCP/80', false],
      ['undeclared/client', 'default/server', 'TCP/80', false],
      ['undeclared/client', 'default/server', 'TCP/81', true],
      ['blue/client', 'default/server', 'TCP/81', false],
    ]);
  });

  const tiers = [
    server,
    pod({ name: 'front', labels: { app: 'client', tier: 'front' }, ips: ['10.0.2.1'] }),
    pod({ name: 'back', labels: { app: 'client', tier: 'back' }, ips: ['10.0.2.2'] }),
    pod({ name: 'plain', labels: { app: 'client' }, ips: ['10.0.2.3'] }),
    pod({ name: 'intruder', labels: { app: 'other', tier: 'front' }, ips: ['10.0.2.4'] }),
  ];
  const expressionCases = [
    { expression: '{ key: tier, operator: In, values: [front, middle] }', admits: ['front'] },
    { expression: '{ key: tier, operator: NotIn, values: [front] }', admits: ['back', 'plain'] },
    { expression: '{ key: tier, operator: Exists }', admits: ['front', 'back'] },
    { expression: '{ key: tier, operator: DoesNotExist }', admits: ['plain'] },
  ];
  for (const { expression, admits } of expressionCases) {
    test(`matchLabels ANDed with ${expression}`, () => {
      const snapshot = cluster(
        ...tiers,
        policy(
          'server',
          `
          podSelector: { matchLabels: { app: server } }
          ingress:
            - from: [{ podSelector: { matchLabels: { app: client }, matchExpressions: [${expression}] } }]
          `,
        ),
      );
      expectVerdicts(
        snapshot,
        ['front', 'back', 'plain', 'intruder'].map(
          (name): Case => [`default/${name}`, 'default/server', 'TCP/80', admits.includes(name)],
        ),
      );
    });
  }

  test('the policy podSelector matches the same way, NotIn taking pods without the key', () => {
    const snapshot = cluster(
      ...tiers,
      policy(
        'deny',
        `
        podSelector:
          matchLabels: { app: client }
          matchExpressions: [{ key: tier, operator: NotIn, values: [front] }]
        policyTypes: [Ingress]
        `,
      ),
    );
    expectVerdicts(snapshot, [
      ['default/server', 'default/front', 'TCP/80', true],
      ['default/server', 'default/back', 'TCP/80', false],
      ['default/server', 'default/plain', 'TCP/80', false],
      ['default/server', 'default/intruder', 'TCP/80', true],
    ]);
  });
});

describe('ports', () => {
  const serverWith = (ports: string) =>
    cluster(
      ...base,
      policy('server', `podSelector: { matchLabels: { app: server } }\ningress: [{ ports: ${ports} }]`),
    );

  test('protocol defaults to TCP', () => {
    expectVerdicts(serverWith('[{ port: 53 }, { protocol: UDP, port: 123 }]'), [
      ['default/client', 'default/server', 'TCP/53', true],
      ['default/client', 'default/server', 'UDP/53', false],
      ['default/client', 'default/server', 'SCTP/53', false],
      ['default/client', 'default/server', 'UDP/123', true],
      ['default/client', 'default/server', 'TCP/123', false],
    ]);
  });

  test('a port without a number admits every port of its protocol', () => {
    expectVerdicts(serverWith('[{ protocol: SCTP }]'), [
      ['default/client', 'default/server', 'SCTP/1', true],
      ['default/client', 'default/server', 'SCTP/65535', true],
      ['default/client', 'default/server', 'TCP/1', false],
    ]);
  });

  test('endPort makes an inclusive range', () => {
    const snapshot = serverWith('[{ port: 8000, endPort: 8010 }, { protocol: SCTP, port: 1, endPort: 2 }]');
    expectVerdicts(snapshot, [
      ['default/client', 'default/server', 'TCP/7999', false],
      ['default/client', 'default/server', 'TCP/8000', true],
      ['default/client', 'default/server', 'TCP/8005', true],
      ['default/client', 'default/server', 'TCP/8010', true],
      ['default/client', 'default/server', 'TCP/8011', false],
      ['default/client', 'default/server', 'UDP/8005', false],
      ['default/client', 'default/server', 'SCTP/2', true],
      ['default/client', 'default/server', 'SCTP/3', false],
    ]);
  });

  const namedServers = [
    client,
    pod({
      name: 'server-a',
      labels: { app: 'server' },
      ips: ['10.0.3.1'],
      ports: [
        { name: 'http', containerPort: 8080 },
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
      ],
    }),
    pod({
      name: 'server-b',
      labels: { app: 'server' },
      ips: ['10.0.3.2'],
      ports: [
        { name: 'http', containerPort: 9090 },
        { name: 'dns', containerPort: 5353, protocol: 'TCP' },
      ],
    }),
  ];

  test('an ingress named port resolves on the selected pod, by name and protocol', () => {
    const snapshot = cluster(
      ...namedServers,
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        ingress: [{ ports: [{ port: http }, { protocol: UDP, port: dns }] }]
        `,
      ),
    );
    expectVerdicts(snapshot, [
      ['default/client', 'default/server-a', 'TCP/8080', true],
      ['default/client', 'default/server-a', 'TCP/9090', false],
      ['default/client', 'default/server-a', 'UDP/53', true],
      ['default/client', 'default/server-a', 'TCP/53', false],
      ['default/client', 'default/server-b', 'TCP/9090', true],
      ['default/client', 'default/server-b', 'TCP/8080', false],
      // server-b's dns is TCP, the rule asks for UDP.
      ['default/client', 'default/server-b', 'TCP/5353', false],
      ['default/client', 'default/server-b', 'UDP/5353', false],
      [EXTERNAL, 'default/server-a', 'TCP/8080', true],
      [EXTERNAL, 'default/server-b', 'TCP/9090', true],
    ]);
  });

  test('a named port the destination does not define matches nothing there', () => {
    const snapshot = cluster(
      ...namedServers,
      policy(
        'server',
        'podSelector: { matchLabels: { app: server } }\ningress: [{ ports: [{ port: metrics }] }]',
      ),
    );
    const cases: Case[] = PROTOCOLS.flatMap((protocol) =>
      [1, 53, 8080, 9090, 65535].map(
        (port): Case => ['default/client', 'default/server-a', `${protocol}/${port}`, false],
      ),
    );
    expectVerdicts(snapshot, cases);
  });

  test('an egress named port resolves on the peer pod, and matches no external address', () => {
    const snapshot = clusterWarning(
      /named port "dns" matches no external address/,
      ...namedServers.slice(1),
      pod({
        name: 'client',
        labels: { app: 'client' },
        ips: ['10.0.0.1'],
        ports: [{ name: 'http', containerPort: 7000 }],
      }),
      policy(
        'client',
        `
        podSelector: { matchLabels: { app: client } }
        policyTypes: [Egress]
        egress:
          - ports: [{ port: http }]
          - to: [{ ipBlock: { cidr: 0.0.0.0/0 } }]
            ports: [{ port: dns, protocol: UDP }, { port: 443 }]
        `,
      ),
    );
    for (const ipBlockMatchesPods of BOTH) {
      expectVerdicts(
        snapshot,
        [
          ['default/client', 'default/server-a', 'TCP/8080', true],
          ['default/client', 'default/server-a', 'TCP/9090', false],
          ['default/client', 'default/server-a', 'TCP/7000', false],
          ['default/client', 'default/server-b', 'TCP/9090', true],
          ['default/client', 'default/server-b', 'TCP/8080', false],
          // Through the ipBlock, dns resolves on server-a only when the block matches the pod.
          ['default/client', 'default/server-a', 'UDP/53', ipBlockMatchesPods],
          ['default/client', EXTERNAL, 'TCP/8080', false],
          ['default/client', EXTERNAL, 'TCP/7000', false],
          ['default/client', EXTERNAL, 'UDP/53', false],
          ['default/client', EXTERNAL, 'TCP/443', true],
        ],
        { ipBlockMatchesPods },
      );
    }
  });
});

describe('ipBlock, hostNetwork and self', () => {
  const serverFromBlock = (block: string) =>
    cluster(
      ...base,
      policy(
        'server',
        `podSelector: { matchLabels: { app: server } }\ningress: [{ from: [{ ipBlock: ${block} }] }]`,
      ),
      policy(
        'client',
        `podSelector: { matchLabels: { app: client } }\npolicyTypes: [Egress]\negress: [{ to: [{ ipBlock: ${block} }] }]`,
      ),
    );

  test('an IPv4 ipBlock admits its CIDR minus its excepts', () => {
    const snapshot = serverFromBlock('{ cidr: 192.0.2.0/24, except: [192.0.2.64/26, 192.0.2.128/32] }');
    const inside = ['192.0.2.0', '192.0.2.63', '192.0.2.129', '192.0.2.255'];
    const outside = ['192.0.1.255', '192.0.2.64', '192.0.2.127', '192.0.2.128', '192.0.3.0', '2001:db8::1'];
    const cases = [...inside.map((ip) => [ip, true] as const), ...outside.map((ip) => [ip, false] as const)];
    expectVerdicts(
      snapshot,
      cases.flatMap(([ip, allowed]): Case[] => [
        [ip, 'default/server', 'UDP/53', allowed],
        ['default/client', ip, 'TCP/443', allowed],
      ]),
    );
  });

  test('an IPv6 ipBlock admits its CIDR minus its excepts, and families never mix', () => {
    const snapshot = serverFromBlock('{ cidr: "2001:db8::/64", except: ["2001:db8::/120"] }');
    const inside = ['2001:db8::100', '2001:db8::ffff:ffff:ffff:ffff'];
    const outside = [
      '2001:db8::ff',
      '2001:db8::',
      '2001:db8:0:1::',
      '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff',
      EXTERNAL,
    ];
    const cases = [...inside.map((ip) => [ip, true] as const), ...outside.map((ip) => [ip, false] as const)];
    expectVerdicts(
      snapshot,
      cases.flatMap(([ip, allowed]): Case[] => [
        [ip, 'default/server', 'TCP/80', allowed],
        ['default/client', ip, 'TCP/80', allowed],
      ]),
    );
    expectVerdicts(serverFromBlock('{ cidr: "::/0" }'), [
      [EXTERNAL6, 'default/server', 'TCP/80', true],
      [EXTERNAL, 'default/server', 'TCP/80', false],
    ]);
    expectVerdicts(serverFromBlock('{ cidr: 0.0.0.0/0 }'), [
      [EXTERNAL, 'default/server', 'TCP/80', true],
      [EXTERNAL6, 'default/server', 'TCP/80', false],
    ]);
  });

  test('an ipBlock covering a pod IP matches that pod only with ipBlockMatchesPods', () => {
    const snapshot = cluster(
      ...base,
      pod({ name: 'excepted', labels: { app: 'x' }, ips: ['10.0.0.7'] }),
      pod({ name: 'dual', labels: { app: 'x' }, ips: ['10.9.0.1', 'fd00::5'] }),
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from:
              - ipBlock: { cidr: 10.0.0.0/24, except: [10.0.0.7/32] }
              - ipBlock: { cidr: "fd00::/64" }
        `,
      ),
      policy(
        'client',
        `
        podSelector: { matchLabels: { app: client } }
        policyTypes: [Egress]
        egress: [{ to: [{ ipBlock: { cidr: 10.0.0.2/32 } }] }]
        `,
      ),
    );
    for (const ipBlockMatchesPods of BOTH) {
      expectVerdicts(
        snapshot,
        [
          ['default/client', 'default/server', 'TCP/80', ipBlockMatchesPods],
          ['default/bystander', 'default/server', 'TCP/80', ipBlockMatchesPods],
          ['default/dual', 'default/server', 'TCP/80', ipBlockMatchesPods],
          ['default/excepted', 'default/server', 'TCP/80', false],
          ['other/foreigner', 'default/server', 'TCP/80', false],
          ['default/client', 'default/bystander', 'TCP/80', false],
          ['10.0.0.1', 'default/server', 'TCP/80', true],
          ['default/client', '10.0.0.2', 'TCP/80', true],
        ],
        { ipBlockMatchesPods },
      );
    }
  });

  test('hostNetwork pods: outside policy with hostNetwork node, like any pod with hostNetwork pod', () => {
    const snapshot = cluster(
      ...base,
      pod({ name: 'host', labels: { app: 'client' }, ips: ['10.0.0.9'], hostNetwork: true }),
      policy('deny-in', 'podSelector: {}\npolicyTypes: [Ingress]'),
      policy(
        'deny-client-out',
        'podSelector: { matchLabels: { app: client } }\npolicyTypes: [Egress]\negress: [{ ports: [{ port: 80 }, { port: 81 }, { port: 82 }] }]',
      ),
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ podSelector: { matchLabels: { app: client } } }]
            ports: [{ port: 80 }]
          - from: [{ namespaceSelector: {} }]
            ports: [{ port: 81 }]
          - from: [{ ipBlock: { cidr: 10.0.0.9/32 } }]
            ports: [{ port: 82 }]
        `,
      ),
    );
    for (const ipBlockMatchesPods of BOTH) {
      expectVerdicts(
        snapshot,
        [
          // Not isolated: policies selecting app=client do not apply to it.
          ['default/client', 'default/host', 'TCP/80', true],
          ['default/server', 'default/host', 'TCP/5432', true],
          [EXTERNAL, 'default/host', 'TCP/22', true],
          ['default/host', EXTERNAL, 'TCP/443', true],
          // Not selected by pod or namespace selectors, only by ipBlocks.
          ['default/host', 'default/server', 'TCP/80', false],
          ['default/host', 'default/server', 'TCP/81', false],
          ['default/host', 'default/server', 'TCP/82', ipBlockMatchesPods],
          ['default/client', 'default/server', 'TCP/80', true],
        ],
        { ipBlockMatchesPods, hostNetwork: 'node' },
      );
      expectVerdicts(
        snapshot,
        [
          ['default/client', 'default/host', 'TCP/80', false],
          ['default/server', 'default/host', 'TCP/5432', false],
          [EXTERNAL, 'default/host', 'TCP/22', false],
          ['default/host', EXTERNAL, 'TCP/443', false],
          ['default/host', EXTERNAL, 'TCP/80', true],
          ['default/host', 'default/server', 'TCP/80', true],
          ['default/host', 'default/server', 'TCP/81', true],
          ['default/host', 'default/server', 'TCP/82', ipBlockMatchesPods],
          ['default/host', 'default/server', 'TCP/83', false],
        ],
        { ipBlockMatchesPods, hostNetwork: 'pod' },
      );
    }
  });

  test('a pod always reaches itself, but not its twin', () => {
    const snapshot = cluster(
      server,
      pod({
        name: 'twin',
        labels: { app: 'server' },
        ips: ['10.0.0.4'],
        ports: [{ name: 'http', containerPort: 8080 }],
      }),
      pod({ name: 'host', labels: { app: 'server' }, ips: ['10.0.0.9'], hostNetwork: true }),
      policy('deny', 'podSelector: {}\npolicyTypes: [Ingress, Egress]'),
    );
    for (const options of ALL_OPTIONS) {
      const cases: Case[] = PROTOCOLS.flatMap((protocol) =>
        [1, 8080, 65535].flatMap((port): Case[] => [
          ['default/server', 'default/server', `${protocol}/${port}`, true],
          ['default/host', 'default/host', `${protocol}/${port}`, true],
          ['default/server', 'default/twin', `${protocol}/${port}`, false],
        ]),
      );
      expectVerdicts(snapshot, cases, options);
    }
  });
});

describe('computeConnectivity', () => {
  test("leaves a workload's connection to itself out", () => {
    const snapshot = cluster(
      pod({ name: 'web-1', labels: { app: 'web' }, ips: ['10.0.0.1'], owner: 'web' }),
      pod({ name: 'web-2', labels: { app: 'web' }, ips: ['10.0.0.2'], owner: 'web' }),
      pod({ name: 'db', labels: { app: 'db' }, ips: ['10.0.0.3'] }),
    );
    expectVerdicts(snapshot, [['default/web-1', 'default/web-2', 'TCP/80', true]]);
    const connections = computeConnectivity(new Engine(snapshot));
    const between = connections.flatMap((c) =>
      'workload' in c.src && 'workload' in c.dst ? [`${c.src.workload} → ${c.dst.workload}`] : [],
    );
    assert.deepEqual(between.sort(), [
      'default/db[Pod] → default/web[ReplicaSet]',
      'default/web[ReplicaSet] → default/db[Pod]',
    ]);
  });

  test('does not report ipblock-matches-pods when a selector already grants the same ports', () => {
    const snapshot = cluster(
      ...base,
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ podSelector: { matchLabels: { app: client } } }]
          - from: [{ ipBlock: { cidr: 10.0.0.1/32 } }]
            ports: [{ port: 80 }]
        `,
      ),
    );
    const engine = new Engine(snapshot, DEFAULT_OPTIONS);
    const found = computeConnectivity(engine).find(
      (c) =>
        'workload' in c.src &&
        c.src.workload === 'default/client[Pod]' &&
        'workload' in c.dst &&
        c.dst.workload === 'default/server[Pod]',
    );
    assert.deepEqual(found?.dependsOn, []);
  });

  test('reports ipblock-matches-pods when an answer rests on it', () => {
    const snapshot = cluster(
      ...base,
      policy(
        'server',
        `
        podSelector: { matchLabels: { app: server } }
        ingress:
          - from: [{ ipBlock: { cidr: 10.0.0.1/32 } }]
            ports: [{ port: 80 }]
          - from: [{ podSelector: { matchLabels: { app: bystander } } }]
            ports: [{ port: 80 }]
        `,
      ),
    );
    const dependsOn = (ipBlockMatchesPods: boolean, from: string) => {
      const engine = new Engine(snapshot, { ...DEFAULT_OPTIONS, ipBlockMatchesPods });
      const found = computeConnectivity(engine).find(
        (c) =>
          'workload' in c.src &&
          c.src.workload === `default/${from}[Pod]` &&
          'workload' in c.dst &&
          c.dst.workload === 'default/server[Pod]',
      );
      return found?.dependsOn;
    };
    expectVerdicts(snapshot, [['default/client', 'default/server', 'TCP/80', true]]);
    assert.deepEqual(dependsOn(true, 'client'), ['ipblock-matches-pods']);
    assert.deepEqual(dependsOn(true, 'bystander'), []);
    expectVerdicts(snapshot, [['default/client', 'default/server', 'TCP/80', false]], {
      ipBlockMatchesPods: false,
    });
    assert.equal(dependsOn(false, 'client'), undefined);
    assert.deepEqual(dependsOn(false, 'bystander'), []);
  });
});
