/**
 * Synthetic clusters for the benchmark: a `kubectl get namespaces,deployments,replicasets,pods,
 * networkpolicies -A -o json` style List, and a file of connectivity tests over its workloads.
 *
 * Everything comes from seeded PRNGs, so a size and a seed always give the same bytes: results from
 * different runs, machines and engine versions are comparable. The shape follows what hospitals' clusters
 * tend to look like: namespaces per team and system, a default deny almost everywhere, per-app allow
 * policies between tiers of the same namespace, a few shared platform services called across namespaces,
 * DNS and monitoring carve-outs, and some egress to external address blocks.
 *
 *   tsx bench/generate.ts --size M [--seed 1] [--out bench/.data]
 */
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Random } from './random.ts';

export type Size = 'S' | 'M' | 'L';
export const SIZES: readonly Size[] = ['S', 'M', 'L'];

interface SizeSpec {
  pods: number;
  /** Namespaces in all, the three system ones included. */
  namespaces: number;
  /** Approximate NetworkPolicy count; the generator aims at it in expectation. */
  policies: number;
}

const SPECS: Readonly<Record<Size, SizeSpec>> = {
  S: { pods: 1_000, namespaces: 10, policies: 220 },
  M: { pods: 20_000, namespaces: 200, policies: 4_500 },
  L: { pods: 100_000, namespaces: 1_000, policies: 20_000 },
};

export const TEST_COUNT = 10_000;

export interface Counts {
  namespaces: number;
  deployments: number;
  replicaSets: number;
  pods: number;
  policies: number;
  tests: number;
  bytes: number;
}

export interface GeneratedFiles {
  cluster: string;
  tests: string;
  counts: Counts;
}

export function dataFiles(dir: string, size: Size): { cluster: string; tests: string; meta: string } {
  return {
    cluster: join(dir, `cluster-${size}.json`),
    tests: join(dir, `tests-${size}.json`),
    meta: join(dir, `meta-${size}.json`),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The cluster's shape, before it is written out

type Role = 'frontend' | 'api' | 'worker' | 'db' | 'cache' | 'batch';

interface ContainerPort {
  name: string;
  containerPort: number;
  protocol: 'TCP' | 'UDP';
}

/** How a policy names the port a workload serves on: by name (resolved per pod) or by number. */
type ServicePort = { port: string | number; protocol: 'TCP' | 'UDP'; endPort?: number };

interface Deployment {
  namespace: NamespaceInfo;
  name: string;
  role: Role;
  replicas: number;
  labels: Record<string, string>;
  ports: ContainerPort[];
  /** What callers are allowed to reach. */
  servicePorts: ServicePort[];
  image: string;
  hash: string;
  oldHash?: string;
  createdAt: number;
  /** Same-namespace workloads this one calls. */
  calls: Deployment[];
  /** Shared services in other namespaces this one calls. */
  crossCalls: Deployment[];
  /** Workloads that call this one. */
  callers: Deployment[];
}

interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  kind: 'system' | 'shared' | 'app';
  defaultDeny: boolean;
  deployments: Deployment[];
}

const ROLE_WEIGHTS: readonly [Role, number][] = [
  ['frontend', 0.12],
  ['api', 0.38],
  ['worker', 0.2],
  ['db', 0.1],
  ['cache', 0.1],
  ['batch', 0.1],
];

/** Which roles a role calls inside its namespace, as in a typical three-tier service. */
const CALLS: Readonly<Record<Role, readonly Role[]>> = {
  frontend: ['api'],
  api: ['api', 'db', 'cache'],
  worker: ['api', 'db', 'cache'],
  batch: ['api', 'db'],
  db: [],
  cache: [],
};

const TEAMS = [
  'cardiology',
  'oncology',
  'radiology',
  'pharmacy',
  'billing',
  'claims',
  'scheduling',
  'patient',
  'lab',
  'imaging',
  'identity',
  'payments',
  'analytics',
  'research',
  'telehealth',
  'records',
  'pediatrics',
  'emergency',
  'nursing',
  'insurance',
];
const PHI_TEAMS = new Set(['cardiology', 'oncology', 'radiology', 'pharmacy', 'patient', 'lab', 'records']);
const SYSTEMS = [
  'portal',
  'records',
  'orders',
  'results',
  'intake',
  'notify',
  'search',
  'audit',
  'reports',
  'sync',
  'ingest',
  'export',
];
const NOUNS = [
  'patient',
  'appointment',
  'invoice',
  'claim',
  'order',
  'result',
  'image',
  'report',
  'consent',
  'provider',
  'referral',
  'message',
  'document',
  'device',
  'encounter',
  'medication',
  'allergy',
  'vital',
  'schedule',
  'eligibility',
  'note',
  'visit',
  'coverage',
  'specimen',
];
const ROLE_SUFFIXES: Readonly<Record<Role, readonly string[]>> = {
  frontend: ['web', 'ui', 'portal'],
  api: ['api', 'service', 'gateway'],
  worker: ['worker', 'consumer', 'processor'],
  db: ['db', 'postgres'],
  cache: ['cache', 'redis'],
  batch: ['exporter', 'sync', 'reconciler'],
};
const SHARED_SERVICES = ['auth', 'audit', 'fhir', 'consent', 'notify', 'terminology', 'mpi', 'files'];

/** External egress destinations seen in such clusters: a partner API, the internet minus private ranges, a broker. */
const EXTERNAL_EGRESS: readonly { cidr: string; except: string[]; ports: ServicePort[] }[] = [
  { cidr: '203.0.113.0/24', except: [], ports: [{ port: 443, protocol: 'TCP' }] },
  {
    cidr: '0.0.0.0/0',
    except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
    ports: [{ port: 443, protocol: 'TCP' }],
  },
  { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'], ports: [{ port: 443, protocol: 'TCP' }] },
  {
    cidr: '198.51.100.0/24',
    except: ['198.51.100.128/25'],
    ports: [{ port: 5671, endPort: 5672, protocol: 'TCP' }],
  },
  { cidr: '192.0.2.0/24', except: [], ports: [{ port: 8000, endPort: 8999, protocol: 'TCP' }] },
];

/**
 * ipBlocks that cover part of the pod CIDR (a legacy scanner, a node-local agent range). They split pods
 * of one workload into different classes, which is the hard case for the engine, so only a few exist.
 */
const POD_CIDR_BLOCKS: readonly { cidr: string; except: string[]; port: number }[] = [
  { cidr: '10.0.0.0/16', except: ['10.0.0.0/24'], port: 8080 },
  { cidr: '10.0.64.0/18', except: [], port: 9000 },
  { cidr: '10.1.0.0/16', except: ['10.1.128.0/17'], port: 9090 },
];

const BASE_TIME = Date.UTC(2025, 0, 1);
const PODS_PER_NODE = 40;

function rolePorts(role: Role, rng: Random): { ports: ContainerPort[]; servicePorts: ServicePort[] } {
  const metrics = (port: number): ContainerPort => ({
    name: 'metrics',
    containerPort: port,
    protocol: 'TCP',
  });
  switch (role) {
    case 'frontend':
      return {
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, metrics(9090)],
        servicePorts: [{ port: 'http', protocol: 'TCP' }],
      };
    case 'api': {
      const https = rng.chance(0.3);
      const grpc = rng.chance(0.4);
      return {
        ports: [
          { name: https ? 'https' : 'http', containerPort: https ? 8443 : 8080, protocol: 'TCP' },
          ...(grpc ? [{ name: 'grpc', containerPort: 9000, protocol: 'TCP' } as const] : []),
          metrics(9090),
        ],
        servicePorts: [
          // Some teams write numbers, most write names.
          rng.chance(0.25)
            ? { port: https ? 8443 : 8080, protocol: 'TCP' }
            : { port: https ? 'https' : 'http', protocol: 'TCP' },
          ...(grpc ? [{ port: 'grpc', protocol: 'TCP' } as const] : []),
        ],
      };
    }
    case 'worker':
    case 'batch':
      return {
        ports: [
          metrics(9090),
          ...(rng.chance(0.3) ? [{ name: 'http', containerPort: 8080, protocol: 'TCP' } as const] : []),
        ],
        servicePorts: [{ port: 8080, protocol: 'TCP' }],
      };
    case 'db':
      return {
        ports: [{ name: 'postgres', containerPort: 5432, protocol: 'TCP' }, metrics(9187)],
        servicePorts: [
          rng.chance(0.5) ? { port: 5432, protocol: 'TCP' } : { port: 'postgres', protocol: 'TCP' },
        ],
      };
    case 'cache':
      return {
        ports: [{ name: 'redis', containerPort: 6379, protocol: 'TCP' }, metrics(9121)],
        servicePorts: [{ port: 6379, protocol: 'TCP' }],
      };
  }
}

function roleImage(role: Role, team: string, name: string, rng: Random): string {
  if (role === 'db') return `docker.io/library/postgres:${rng.pick(['14.11', '15.6', '16.2'])}`;
  if (role === 'cache') return `docker.io/library/redis:${rng.pick(['6.2.14', '7.2.4'])}`;
  return `registry.example.com/${team}/${name}:${rng.int(1, 4)}.${rng.int(0, 30)}.${rng.int(0, 12)}`;
}

function pickRole(rng: Random): Role {
  let x = rng.float();
  for (const [role, weight] of ROLE_WEIGHTS) {
    x -= weight;
    if (x < 0) return role;
  }
  return 'api';
}

class Cluster {
  readonly namespaces: NamespaceInfo[] = [];
  private readonly rng: Random;

  constructor(
    readonly spec: SizeSpec,
    seed: number,
  ) {
    this.rng = new Random(seed);
    this.build();
  }

  get deployments(): Deployment[] {
    return this.namespaces.flatMap((ns) => ns.deployments);
  }

  private build(): void {
    const rng = this.rng;
    const system = (name: string, labels: Record<string, string>): NamespaceInfo => ({
      name,
      labels: { 'kubernetes.io/metadata.name': name, ...labels },
      kind: 'system',
      defaultDeny: false,
      deployments: [],
    });
    const kubeSystem = system('kube-system', {});
    const monitoring = system('monitoring', { team: 'platform', env: 'prod' });
    const ingressNginx = system('ingress-nginx', { team: 'platform', env: 'prod' });
    this.namespaces.push(kubeSystem, monitoring, ingressNginx);
    this.addDeployment(kubeSystem, 'coredns', 'api', 2, {
      labels: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', containerPort: 53, protocol: 'UDP' },
        { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
        { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
      ],
      image: 'registry.k8s.io/coredns/coredns:v1.11.1',
    });
    for (const [name, port] of [
      ['prometheus', 9090],
      ['alertmanager', 9093],
      ['grafana', 3000],
    ] as const) {
      this.addDeployment(monitoring, name, 'api', 2, {
        labels: { 'app.kubernetes.io/name': name },
        ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
        image: `quay.io/prometheus/${name}:v2.51.0`,
      });
    }
    this.addDeployment(ingressNginx, 'ingress-nginx-controller', 'frontend', 3, {
      labels: { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' },
      ports: [
        { name: 'http', containerPort: 80, protocol: 'TCP' },
        { name: 'https', containerPort: 443, protocol: 'TCP' },
        { name: 'metrics', containerPort: 10254, protocol: 'TCP' },
      ],
      image: 'registry.k8s.io/ingress-nginx/controller:v1.10.0',
    });

    const appCount = this.spec.namespaces - this.namespaces.length;
    const sharedCount = Math.max(1, Math.round(appCount * 0.03));
    const usedNames = new Set(this.namespaces.map((n) => n.name));
    for (let i = 0; i < appCount; i++) {
      const shared = i < sharedCount;
      const team = shared ? 'platform' : rng.pick(TEAMS);
      const env = rng.float();
      const envLabel = env < 0.5 ? 'prod' : env < 0.75 ? 'staging' : env < 0.95 ? 'dev' : undefined;
      let name = shared
        ? `platform-${SHARED_SERVICES[i % SHARED_SERVICES.length]}`
        : `${team}-${rng.pick(SYSTEMS)}${envLabel ? `-${envLabel}` : ''}`;
      for (let n = 2; usedNames.has(name); n++) name = `${name.replace(/-\d+$/, '')}-${n}`;
      usedNames.add(name);
      const labels: Record<string, string> = { 'kubernetes.io/metadata.name': name, team };
      if (envLabel) labels.env = envLabel;
      else labels.env = 'sandbox';
      // Some sandboxes carry no env label at all: what DoesNotExist and NotIn selectors are for.
      if (!envLabel && rng.chance(0.5)) delete labels.env;
      if (shared || PHI_TEAMS.has(team) ? rng.chance(0.7) : rng.chance(0.1)) labels.phi = 'true';
      if (rng.chance(0.4)) labels['istio-injection'] = 'enabled';
      if (rng.chance(0.02)) labels.quarantine = 'true';
      labels['cost-center'] = `cc-${rng.int(1000, 1099)}`;
      this.namespaces.push({
        name,
        labels,
        kind: shared ? 'shared' : 'app',
        defaultDeny: rng.chance(0.95),
        deployments: [],
      });
    }

    this.fillPods();
    this.wireCalls();
  }

  private addDeployment(
    namespace: NamespaceInfo,
    name: string,
    role: Role,
    replicas: number,
    overrides?: { labels: Record<string, string>; ports: ContainerPort[]; image: string },
  ): Deployment {
    const rng = this.rng;
    const team = namespace.labels.team ?? 'platform';
    const { ports, servicePorts } = overrides
      ? { ports: overrides.ports, servicePorts: [] }
      : rolePorts(role, rng);
    const labels: Record<string, string> = overrides
      ? { ...overrides.labels }
      : {
          app: name,
          'app.kubernetes.io/name': name,
          'app.kubernetes.io/part-of': namespace.name.replace(/-(prod|staging|dev)(-\d+)?$/, ''),
          tier: role,
          version: rng.pick(['v1', 'v1', 'v2']),
        };
    if (!overrides && rng.chance(0.15)) labels['phi-access'] = 'true';
    const deployment: Deployment = {
      namespace,
      name,
      role,
      replicas,
      labels,
      ports,
      servicePorts,
      image: overrides?.image ?? roleImage(role, team, name, rng),
      hash: rng.kubeSuffix(10),
      ...(rng.chance(0.3) ? { oldHash: rng.kubeSuffix(10) } : {}),
      createdAt: BASE_TIME - rng.int(3_600, 400 * 86_400) * 1000,
      calls: [],
      crossCalls: [],
      callers: [],
    };
    namespace.deployments.push(deployment);
    return deployment;
  }

  /** Spreads the pod budget over app namespaces of uneven size, in deployments of 2–6 replicas. */
  private fillPods(): void {
    const rng = this.rng;
    const apps = this.namespaces.filter((n) => n.kind !== 'system');
    const systemPods = this.namespaces
      .filter((n) => n.kind === 'system')
      .reduce((sum, n) => sum + n.deployments.reduce((s, d) => s + d.replicas, 0), 0);
    const weights = apps.map(() => 0.4 + rng.float() * 1.2);
    const total = weights.reduce((a, b) => a + b, 0);
    let remaining = this.spec.pods - systemPods;
    apps.forEach((ns, i) => {
      const budget =
        i === apps.length - 1
          ? remaining
          : Math.min(remaining, Math.round(((weights[i] as number) / total) * (this.spec.pods - systemPods)));
      remaining -= budget;
      let left = budget;
      const names = new Set<string>();
      while (left > 0) {
        let replicas = Math.min(left, rng.int(2, 6));
        // A single leftover pod joins the last deployment instead of making a one-replica one.
        if (left - replicas === 1) replicas++;
        const role = pickRole(rng);
        let name = `${rng.pick(NOUNS)}-${rng.pick(ROLE_SUFFIXES[role])}`;
        for (let n = 2; names.has(name); n++) name = `${name.replace(/-\d+$/, '')}-${n}`;
        names.add(name);
        this.addDeployment(ns, name, role, replicas);
        left -= replicas;
      }
    });
  }

  private wireCalls(): void {
    const rng = this.rng;
    const shared = this.namespaces
      .filter((n) => n.kind === 'shared')
      .flatMap((n) => n.deployments.filter((d) => d.role === 'api'));
    for (const ns of this.namespaces) {
      if (ns.kind === 'system') continue;
      for (const d of ns.deployments) {
        const targets = ns.deployments.filter((t) => t !== d && CALLS[d.role].includes(t.role));
        for (const t of rng.sample(targets, rng.int(1, 3))) {
          d.calls.push(t);
          t.callers.push(d);
        }
      }
      if (ns.kind === 'app' && shared.length > 0 && rng.chance(0.6)) {
        const callers = ns.deployments.filter((d) => d.role === 'api' || d.role === 'worker');
        for (const caller of rng.sample(callers, rng.int(1, 3))) {
          for (const service of rng.sample(shared, rng.int(1, 2))) {
            caller.crossCalls.push(service);
            service.callers.push(caller);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Kubernetes objects

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

class ObjectWriter {
  private resourceVersion = 1_000_000;
  private readonly nodes: { name: string; ip: string; subnet: number; used: number }[] = [];

  constructor(
    private readonly rng: Random,
    podCount: number,
  ) {
    // Node pod ranges are /24s handed out in order from the pod CIDR, as the node IPAM controller does.
    const nodeCount = Math.max(3, Math.ceil(podCount / PODS_PER_NODE));
    if (nodeCount > 4096) throw new Error('too many nodes for a /12 pod CIDR');
    for (let i = 0; i < nodeCount; i++) {
      this.nodes.push({
        name: `node-${String(i).padStart(4, '0')}`,
        ip: `192.168.${Math.floor(i / 250)}.${(i % 250) + 4}`,
        subnet: i,
        used: 0,
      });
    }
  }

  private metadata(
    name: string,
    namespace: string | undefined,
    createdAt: number,
    labels: Record<string, string>,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> {
    return {
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      creationTimestamp: iso(createdAt),
      ...(extra.generateName ? { generateName: extra.generateName } : {}),
      ...(extra.generation ? { generation: extra.generation } : {}),
      labels,
      name,
      ...(namespace ? { namespace } : {}),
      ...(extra.ownerReferences ? { ownerReferences: extra.ownerReferences } : {}),
      resourceVersion: String(this.resourceVersion++),
      uid: this.rng.uid(),
    };
  }

  namespace(ns: NamespaceInfo): object {
    return {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: this.metadata(ns.name, undefined, BASE_TIME - 500 * 86_400_000, ns.labels),
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
  }

  private podSpec(d: Deployment, image: string): Record<string, unknown> {
    const heavy = d.role === 'db' || d.role === 'cache';
    return {
      containers: [
        {
          image,
          imagePullPolicy: 'IfNotPresent',
          name: d.role === 'db' ? 'postgres' : d.role === 'cache' ? 'redis' : 'app',
          ports: d.ports.map((p) => ({ containerPort: p.containerPort, name: p.name, protocol: p.protocol })),
          resources: {
            limits: { cpu: heavy ? '2' : '1', memory: heavy ? '4Gi' : '1Gi' },
            requests: { cpu: heavy ? '500m' : '100m', memory: heavy ? '2Gi' : '256Mi' },
          },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      serviceAccountName: d.role === 'db' || d.role === 'cache' ? 'default' : d.name,
      terminationGracePeriodSeconds: 30,
    };
  }

  private template(d: Deployment, hash: string, image: string): object {
    return {
      metadata: { creationTimestamp: null, labels: { ...d.labels, 'pod-template-hash': hash } },
      spec: this.podSpec(d, image),
    };
  }

  deployment(d: Deployment): object {
    const selector = { matchLabels: d.labels.app ? { app: d.labels.app } : { ...d.labels } };
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: this.metadata(d.name, d.namespace.name, d.createdAt, d.labels, {
        annotations: { 'deployment.kubernetes.io/revision': d.oldHash ? '2' : '1' },
        generation: d.oldHash ? 2 : 1,
      }),
      spec: {
        progressDeadlineSeconds: 600,
        replicas: d.replicas,
        revisionHistoryLimit: 10,
        selector,
        strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
        template: { metadata: { creationTimestamp: null, labels: d.labels }, spec: this.podSpec(d, d.image) },
      },
      status: {
        availableReplicas: d.replicas,
        observedGeneration: d.oldHash ? 2 : 1,
        readyReplicas: d.replicas,
        replicas: d.replicas,
        updatedReplicas: d.replicas,
      },
    };
  }

  /** The current ReplicaSet, or a scaled-down older revision that `kubectl get rs` still lists. */
  replicaSet(d: Deployment, deploymentUid: string, old: boolean): object {
    const hash = old ? (d.oldHash as string) : d.hash;
    const replicas = old ? 0 : d.replicas;
    const image = old ? d.image.replace(/:[^:]+$/, ':0.9.0') : d.image;
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: this.metadata(
        `${d.name}-${hash}`,
        d.namespace.name,
        d.createdAt + (old ? 0 : 60_000),
        { ...d.labels, 'pod-template-hash': hash },
        {
          annotations: {
            'deployment.kubernetes.io/desired-replicas': String(d.replicas),
            'deployment.kubernetes.io/max-replicas': String(d.replicas + 1),
            'deployment.kubernetes.io/revision': old ? '1' : d.oldHash ? '2' : '1',
          },
          generation: 1,
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              blockOwnerDeletion: true,
              controller: true,
              kind: 'Deployment',
              name: d.name,
              uid: deploymentUid,
            },
          ],
        },
      ),
      spec: {
        replicas,
        selector: {
          matchLabels: { ...(d.labels.app ? { app: d.labels.app } : d.labels), 'pod-template-hash': hash },
        },
        template: this.template(d, hash, image),
      },
      status: old
        ? { observedGeneration: 1, replicas: 0 }
        : {
            availableReplicas: replicas,
            fullyLabeledReplicas: replicas,
            observedGeneration: 1,
            readyReplicas: replicas,
            replicas,
          },
    };
  }

  pod(d: Deployment, replicaSetUid: string, index: number): object {
    const rng = this.rng;
    const rsName = `${d.name}-${d.hash}`;
    const node = this.placePod();
    const ip = `10.${node.subnet >> 8}.${node.subnet & 255}.${node.used + 2}`;
    node.used++;
    const labels: Record<string, string> = { ...d.labels, 'pod-template-hash': d.hash };
    // Someone labelled one pod by hand while debugging: most pods of a deployment share labels, not all.
    if (index === 0 && rng.chance(0.03)) labels.debug = 'true';
    const started = d.createdAt + 60_000 + rng.int(1, 86_400) * 1000;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: this.metadata(`${rsName}-${rng.kubeSuffix(5)}`, d.namespace.name, started, labels, {
        generateName: `${rsName}-`,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            blockOwnerDeletion: true,
            controller: true,
            kind: 'ReplicaSet',
            name: rsName,
            uid: replicaSetUid,
          },
        ],
      }),
      spec: { ...this.podSpec(d, d.image), nodeName: node.name },
      status: {
        conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
          lastProbeTime: null,
          lastTransitionTime: iso(started + 5_000),
          status: 'True',
          type,
        })),
        hostIP: node.ip,
        hostIPs: [{ ip: node.ip }],
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        qosClass: 'Burstable',
        startTime: iso(started),
      },
    };
  }

  private placePod(): { name: string; ip: string; subnet: number; used: number } {
    for (;;) {
      const node = this.rng.pick(this.nodes);
      if (node.used < 250) return node;
    }
  }

  policy(
    namespace: string,
    name: string,
    spec: Record<string, unknown>,
    createdAt: number,
    labels: Record<string, string> = {},
  ): object {
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: this.metadata(name, namespace, createdAt, labels, { generation: 1 }),
      spec,
    };
  }
}

// ---------------------------------------------------------------------------------------------------------
// NetworkPolicies

type Peer = Record<string, unknown>;

function appPeer(d: Deployment): Peer {
  return { podSelector: { matchLabels: { app: d.name } } };
}

function portsJson(ports: readonly ServicePort[]): object[] {
  return ports.map((p) => ({
    port: p.port,
    protocol: p.protocol,
    ...(p.endPort ? { endPort: p.endPort } : {}),
  }));
}

/** A namespaceSelector for a shared service's consumers, in one of the styles platform teams write. */
function sharedIngressPeer(rng: Random, style: number): Peer {
  switch (style % 4) {
    case 0:
      return {
        namespaceSelector: {
          matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }],
        },
        podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/part-of', operator: 'Exists' }] },
      };
    case 1:
      return {
        namespaceSelector: { matchLabels: { phi: 'true' } },
        podSelector: { matchLabels: { 'phi-access': 'true' } },
      };
    case 2:
      return {
        namespaceSelector: {
          matchExpressions: [
            { key: 'env', operator: 'NotIn', values: ['dev', 'sandbox'] },
            { key: 'quarantine', operator: 'DoesNotExist' },
          ],
        },
      };
    default:
      return {
        namespaceSelector: {
          matchExpressions: [{ key: 'team', operator: 'In', values: rng.sample(TEAMS, 6) }],
        },
        podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api', 'worker'] }] },
      };
  }
}

function* namespacePolicies(
  ns: NamespaceInfo,
  out: ObjectWriter,
  rng: Random,
  appPolicyChance: number,
  edges: Edge[],
): Generator<object> {
  const created = BASE_TIME - 200 * 86_400_000;
  const managed = { 'app.kubernetes.io/managed-by': 'platform-policies' };
  if (ns.defaultDeny) {
    yield out.policy(
      ns.name,
      'default-deny-all',
      { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      created,
      managed,
    );
    yield out.policy(
      ns.name,
      'allow-dns',
      {
        egress: [
          {
            ports: [
              { port: 53, protocol: 'UDP' },
              { port: 53, protocol: 'TCP' },
            ],
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
          },
        ],
        podSelector: {},
        policyTypes: ['Egress'],
      },
      created,
      managed,
    );
    yield out.policy(
      ns.name,
      'allow-monitoring',
      {
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
                podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
              },
            ],
            ports: [{ port: 'metrics', protocol: 'TCP' }],
          },
        ],
        podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'Exists' }] },
        policyTypes: ['Ingress'],
      },
      created,
      managed,
    );
  }
  for (const [i, d] of ns.deployments.entries()) {
    // Shared services always have a policy: they are what other namespaces are let in to.
    if (ns.kind !== 'shared' && !rng.chance(appPolicyChance)) continue;
    const ingress: object[] = [];
    const sameNs = d.callers.filter((c) => c.namespace === ns);
    if (sameNs.length > 0 && d.servicePorts.length > 0) {
      const from =
        sameNs.length <= 2
          ? sameNs.map(appPeer)
          : [
              {
                podSelector: {
                  matchExpressions: [{ key: 'app', operator: 'In', values: sameNs.map((c) => c.name) }],
                },
              },
            ];
      ingress.push({ from, ports: portsJson(d.servicePorts) });
    }
    if (ns.kind === 'shared') {
      ingress.push({ from: [sharedIngressPeer(rng, i)], ports: portsJson(d.servicePorts) });
    }
    if (d.role === 'frontend') {
      ingress.push({
        from: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
          },
        ],
        ports: portsJson(d.servicePorts),
      });
    }
    if ((d.role === 'worker' || d.role === 'batch') && rng.chance(0.15)) {
      // A callback port range for job runners, written with endPort.
      ingress.push({
        from: [
          { podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api', 'worker'] }] } },
        ],
        ports: [{ endPort: 7010, port: 7000, protocol: 'TCP' }],
      });
    }
    if (rng.chance(0.004)) {
      const block = rng.pick(POD_CIDR_BLOCKS);
      ingress.push({
        from: [{ ipBlock: { cidr: block.cidr, ...(block.except.length ? { except: block.except } : {}) } }],
        ports: [{ port: block.port, protocol: 'TCP' }],
      });
    }

    const egressTypes = rng.chance(0.8);
    const egress: object[] = [];
    if (egressTypes) {
      for (const t of d.calls) {
        if (t.servicePorts.length > 0) egress.push({ ports: portsJson(t.servicePorts), to: [appPeer(t)] });
      }
      for (const t of d.crossCalls) {
        egress.push({
          ports: portsJson(t.servicePorts),
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': t.namespace.name } },
              podSelector: { matchLabels: { app: t.name } },
            },
          ],
        });
      }
      if ((d.role === 'frontend' || d.role === 'worker' || d.role === 'batch') && rng.chance(0.2)) {
        const ext = rng.pick(EXTERNAL_EGRESS);
        egress.push({
          ports: portsJson(ext.ports),
          to: [{ ipBlock: { cidr: ext.cidr, ...(ext.except.length ? { except: ext.except } : {}) } }],
        });
      }
      if (rng.chance(0.003)) {
        const block = rng.pick(POD_CIDR_BLOCKS);
        egress.push({
          ports: [{ port: block.port, protocol: 'TCP' }],
          to: [{ ipBlock: { cidr: block.cidr, ...(block.except.length ? { except: block.except } : {}) } }],
        });
      }
    }
    for (const t of [...d.calls, ...d.crossCalls]) {
      const port = t.servicePorts[0];
      if (port) edges.push({ from: d, to: t, port: port.port });
    }
    yield out.policy(
      ns.name,
      `${d.name}-netpol`,
      {
        ...(egressTypes ? { egress } : {}),
        ingress,
        podSelector: { matchLabels: { app: d.name } },
        policyTypes: egressTypes ? ['Ingress', 'Egress'] : ['Ingress'],
      },
      d.createdAt + 3_600_000,
      { app: d.name },
    );
  }
}

interface Edge {
  from: Deployment;
  to: Deployment;
  port: string | number;
}

// ---------------------------------------------------------------------------------------------------------
// Writing

/** Streams the List item by item: an L cluster is hundreds of MB and need not sit in memory as one string. */
class ListFile {
  private readonly fd: number;
  private buffer: string[] = [];
  private buffered = 0;
  private first = true;
  bytes = 0;
  items = 0;

  constructor(private readonly path: string) {
    // Written aside and renamed at the end, so a reader of the previous file never sees a half-written one.
    this.fd = openSync(`${path}.partial`, 'w');
    this.write('{"apiVersion":"v1","kind":"List","items":[\n');
  }

  add(item: object): void {
    this.write(`${this.first ? '' : ',\n'}${JSON.stringify(item)}`);
    this.first = false;
    this.items++;
  }

  close(): void {
    this.write('\n],"metadata":{"resourceVersion":""}}\n');
    this.flush();
    closeSync(this.fd);
    renameSync(`${this.path}.partial`, this.path);
  }

  private write(text: string): void {
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered > 1 << 20) this.flush();
  }

  private flush(): void {
    const chunk = this.buffer.join('');
    this.bytes += Buffer.byteLength(chunk);
    writeSync(this.fd, chunk);
    this.buffer = [];
    this.buffered = 0;
  }
}

export function generate(size: Size, seed: number, dir: string): GeneratedFiles {
  const spec = SPECS[size];
  mkdirSync(dir, { recursive: true });
  const files = dataFiles(dir, size);
  const cluster = new Cluster(spec, seed);
  // A second stream for the objects, so adding a field to them does not reshuffle the cluster's shape.
  const rng = new Random(seed ^ 0x5bd1e995);
  const out = new ObjectWriter(rng, spec.pods);
  const list = new ListFile(files.cluster);
  const counts: Counts = {
    namespaces: 0,
    deployments: 0,
    replicaSets: 0,
    pods: 0,
    policies: 0,
    tests: 0,
    bytes: 0,
  };

  for (const ns of cluster.namespaces) {
    list.add(out.namespace(ns));
    counts.namespaces++;
  }
  const workloads: { deployment: Deployment; id: string }[] = [];
  for (const d of cluster.deployments) {
    const deployment = out.deployment(d) as { metadata: { uid: string } };
    list.add(deployment);
    counts.deployments++;
    if (d.oldHash) {
      list.add(out.replicaSet(d, deployment.metadata.uid, true));
      counts.replicaSets++;
    }
    const replicaSet = out.replicaSet(d, deployment.metadata.uid, false) as { metadata: { uid: string } };
    list.add(replicaSet);
    counts.replicaSets++;
    for (let i = 0; i < d.replicas; i++) {
      list.add(out.pod(d, replicaSet.metadata.uid, i));
      counts.pods++;
    }
    workloads.push({ deployment: d, id: `${d.namespace.name}/${d.name}-${d.hash}[ReplicaSet]` });
  }

  const appDeployments = cluster.namespaces
    .filter((n) => n.kind === 'app')
    .reduce((sum, n) => sum + n.deployments.length, 0);
  const sharedPolicies = cluster.namespaces
    .filter((n) => n.kind === 'shared')
    .reduce((sum, n) => sum + n.deployments.length, 0);
  const namespaceWide = cluster.namespaces.filter((n) => n.defaultDeny).length * 3;
  const appPolicyChance = Math.min(
    1,
    Math.max(0, (spec.policies - namespaceWide - sharedPolicies) / appDeployments),
  );
  const edges: Edge[] = [];
  for (const ns of cluster.namespaces) {
    for (const policy of namespacePolicies(ns, out, rng, appPolicyChance, edges)) {
      list.add(policy);
      counts.policies++;
    }
  }
  list.close();
  counts.bytes = list.bytes;

  counts.tests = writeTests(files.tests, rng, workloads, edges);
  return { cluster: files.cluster, tests: files.tests, counts };
}

/**
 * Half the tests follow calls the policies were written for (expected allowed), half pick random pairs
 * (expected denied); both verdicts turn up either way, which is all a timing run needs.
 */
function writeTests(
  path: string,
  rng: Random,
  workloads: readonly { deployment: Deployment; id: string }[],
  edges: readonly Edge[],
): number {
  const idOf = new Map(workloads.map((w) => [w.deployment, w.id]));
  const appWorkloads = workloads.filter((w) => w.deployment.namespace.kind !== 'system');
  const coredns = workloads.find((w) => w.deployment.name === 'coredns');
  const tests: object[] = [];
  while (tests.length < TEST_COUNT) {
    const roll = rng.float();
    if (roll < 0.45 && edges.length > 0) {
      const edge = rng.pick(edges);
      tests.push({ from: idOf.get(edge.from), to: idOf.get(edge.to), port: edge.port, expect: 'allow' });
    } else if (roll < 0.5 && coredns) {
      tests.push({
        from: rng.pick(appWorkloads).id,
        to: coredns.id,
        port: 53,
        protocol: 'UDP',
        expect: 'allow',
      });
    } else {
      const from = rng.pick(appWorkloads);
      const to = rng.pick(appWorkloads);
      // Only a port the destination names: an unknown named port is an input error, not a failed test.
      const named = to.deployment.ports.filter((p) => p.protocol === 'TCP').map((p) => p.name);
      const port = rng.chance(0.3)
        ? rng.pick(named)
        : rng.pick([80, 443, 5432, 6379, 8080, 8443, 9000, 9090]);
      tests.push({ from: from.id, to: to.id, port, protocol: 'TCP', expect: 'deny' });
    }
  }
  // One test per line, so a failing test is easy to find in the file.
  writeFileSync(`${path}.partial`, `{"tests":[\n${tests.map((t) => JSON.stringify(t)).join(',\n')}\n]}\n`);
  renameSync(`${path}.partial`, path);
  return tests.length;
}

// ---------------------------------------------------------------------------------------------------------

function main(): void {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'S' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: 'bench/.data' },
    },
  });
  const size = values.size as Size;
  if (!SIZES.includes(size)) throw new Error(`--size must be one of ${SIZES.join(', ')}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const { cluster, tests, counts } = generate(size, seed, values.out);
  process.stdout.write(`${JSON.stringify({ cluster, tests, counts })}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
