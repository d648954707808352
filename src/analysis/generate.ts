import { formatAddress, ipBlockAddresses, parseAddress, parseCidr, toCidrs } from '../engine/addresses.ts';
import { isOutsidePolicy } from '../engine/endpoint.ts';
import type { Engine } from '../engine/engine.ts';
import { type IntervalSet, intersect, normalize, subtract } from '../engine/intervals.ts';
import {
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  portSetOf,
  subtractPorts,
  unionPorts,
} from '../engine/ports.ts';
import { selectorMatches } from '../engine/selectors.ts';
import { type CalicoPolicy, type CalicoResources, DEFAULT_TIER_DEFINITION } from '../model/calico.ts';
import type { CiliumEntity, CiliumPolicy } from '../model/cilium.ts';
import {
  type LabelSelector,
  type NetworkPolicy,
  type Pod,
  PROTOCOLS,
  type Protocol,
  type Snapshot,
  type Workload,
  workloadId,
} from '../model/types.ts';
import { computeConnectivity } from './connectivity.ts';
import {
  type AddressGroup,
  AddressGroups,
  DEFAULT_GROUPING,
  type ExternalGrouping,
} from './external-peers.ts';
import type { FlowEdge, FlowPeer } from './flows.ts';
import { ciliumAddressPeer, NODES_SORT_KEY } from './generate-cilium.ts';
import { externalPeers, publicEntryPoint } from './generate-external.ts';

/**
 * Generating NetworkPolicies from observed traffic (`phiwall generate --from-flows`).
 *
 * Per namespace it writes a `default-deny` (every pod isolated both ways), an `allow-dns` (egress to
 * cluster DNS for every pod) and one `<workload>-observed` policy per workload with observed traffic,
 * whose rules allow exactly the observed edges: one rule per peer, its observed ports merged and sorted.
 * Workloads are selected by their stable labels, never by pod name or per-revision labels. The
 * generated set is then proved against the engine (`proveGeneration`).
 */

export const NAME_LABEL = 'kubernetes.io/metadata.name';

/** Labels a controller sets per pod, per revision or per run: a selector on them breaks on the next one. */
export const VOLATILE_LABELS: ReadonlySet<string> = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'pod-template-generation',
  'job-name',
  'batch.kubernetes.io/job-name',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'batch.kubernetes.io/job-completion-index',
]);

/** Cluster DNS as kubeadm, EKS, GKE and AKS label it. */
export const CLUSTER_DNS = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } } as const;
const DNS_PORT = 53;

export interface GenerateOptions {
  /** Namespaces left as they are: no policy is generated there, and their policies are kept. */
  excludedNamespaces?: readonly string[];
  /** Also allow observed drops. Off by default: a dropped flow may be an attack the policies stopped. */
  includeDropped?: boolean;
  /** How addresses outside the pods become peers (external-peers.ts). */
  grouping?: ExternalGrouping;
  /** Peers for CiliumNetworkPolicies: names and entities where Cilium knows an address better (generate-cilium.ts). */
  cilium?: boolean;
}

/** A NetworkPolicy peer as written: selectors (namespaceSelector undefined: own namespace) or one IP. */
export type GeneratedPeer =
  | { podSelector?: LabelSelector; namespaceSelector?: LabelSelector }
  | { ipBlock: string; except?: string[] }
  /** Only with the `cilium` option: a toFQDNs name, a Cilium entity. */
  | { fqdn: string }
  | { entity: CiliumEntity };

/** A peer as NetworkPolicy and Calico write it: generation without the `cilium` option makes no other. */
export type SelectorOrBlockPeer = Exclude<GeneratedPeer, { fqdn: string } | { entity: CiliumEntity }>;

export function selectorOrBlock(peer: GeneratedPeer): SelectorOrBlockPeer {
  if ('fqdn' in peer || 'entity' in peer)
    throw new Error(`a Cilium-only peer (${JSON.stringify(peer)}) reached a NetworkPolicy or Calico writer`);
  return peer;
}

export interface GeneratedPort {
  protocol: Protocol;
  port: number;
  endPort?: number;
}

export interface GeneratedRule {
  peers: GeneratedPeer[];
  ports: GeneratedPort[];
  /** What was observed, for the comment above the rule. */
  comments: string[];
}

export type PolicyRole = 'default-deny' | 'allow-dns' | 'dns-from-cluster' | 'workload';

export interface GeneratedPolicy {
  namespace: string;
  name: string;
  role: PolicyRole;
  /** The generation unit the policy is for (role `workload`). */
  workload?: string;
  podSelector: LabelSelector;
  policyTypes: ('Ingress' | 'Egress')[];
  ingress: GeneratedRule[];
  egress: GeneratedRule[];
  comments: string[];
}

export interface GeneratedNamespace {
  namespace: string;
  policies: GeneratedPolicy[];
  /** The input's NetworkPolicies in this namespace, which the generated set replaces. */
  replaces: string[];
  /** With the `cilium` option: the input's CiliumNetworkPolicies in this namespace, replaced too. */
  replacesCilium?: string[];
  /** Workloads left without a policy of their own, and why. */
  notes: string[];
}

export interface Generation {
  namespaces: GeneratedNamespace[];
  /** The observed edges the policies allow: the proof checks exactly these. */
  edges: FlowEdge[];
  /** Edges left out: dropped ones (without includeDropped), and edges with both ends not generated. */
  leftOut: { dropped: number; notGenerated: number };
  /** Edges to cluster DNS on port 53, allowed by the namespaces' allow-dns policies. */
  dnsEdges: number;
  /** Workloads with no observed traffic: default-deny isolates them entirely. */
  isolated: string[];
  warnings: string[];
  /** Workload id → the unit policies are generated for (a ReplicaSet's Deployment …). */
  unitOf: ReadonlyMap<string, string>;
  /** Address blocks allowed into a unit for a group of observed clients: the proof counts them as observed. */
  widened: WidenedBlock[];
}

/** Addresses an ingress rule allows because a group of them was observed (more than the addresses seen). */
export interface WidenedBlock {
  unit: string;
  peers: { ipBlock: string; except?: string[] }[];
  ports: PortSet;
}

/**
 * What one policy is generated for: a workload, or the workloads of one controller that the snapshot
 * shows as several (a Deployment's ReplicaSets during a rollout, a CronJob's Jobs). Naming a policy
 * after `web-7d9f8c` would name it after one revision.
 */
interface Unit {
  id: string;
  namespace: string;
  name: string;
  workloads: Workload[];
  /** Pods NetworkPolicy applies to (hostNetwork ones are outside it under `--host-network node`). */
  pods: Pod[];
  outsidePolicy: Pod[];
}

interface UnitSelector {
  selector: LabelSelector;
  /** Other workloads of the namespace whose pods the selector still selects. */
  catches: string[];
}

/** `web-7d9f8c[ReplicaSet]` of Deployment `web`; `invoicing-28391234[Job]` of CronJob `invoicing`. */
function unitIdOf(workload: Workload): { id: string; name: string } {
  const hash = workload.pods[0]?.labels['pod-template-hash'];
  if (
    workload.kind === 'ReplicaSet' &&
    hash &&
    workload.name.endsWith(`-${hash}`) &&
    workload.pods.every((p) => p.labels['pod-template-hash'] === hash)
  ) {
    const name = workload.name.slice(0, -hash.length - 1);
    return { id: workloadId(workload.namespace, name, 'Deployment'), name };
  }
  // A CronJob names its Jobs `<cronjob>-<scheduled minute>`.
  const scheduled = /^(.+)-\d{8,}$/.exec(workload.name);
  if (workload.kind === 'Job' && scheduled) {
    const name = scheduled[1] as string;
    return { id: workloadId(workload.namespace, name, 'CronJob'), name };
  }
  return { id: workload.id, name: workload.name };
}

function selectorText(selector: LabelSelector): string {
  const parts = [
    ...Object.entries(selector.matchLabels).map(([k, v]) => `${k}=${v}`),
    ...selector.matchExpressions.map((e) =>
      e.operator === 'DoesNotExist'
        ? `!${e.key}`
        : e.operator === 'Exists'
          ? e.key
          : `${e.key} ${e.operator.toLowerCase()} (${e.values.join(',')})`,
    ),
  ];
  return parts.length > 0 ? parts.join(',') : 'every pod';
}

/**
 * The labels every pod of the unit has, minus volatile ones; then, while the selector still selects
 * other workloads' pods of the namespace, a `DoesNotExist` on a label those pods have and the unit's
 * never have (the one that excludes most, stable keys first). What cannot be told apart is reported.
 */
function unitSelector(unit: Unit, namespacePods: readonly Pod[], ownPods: ReadonlySet<Pod>): UnitSelector {
  const [first, ...rest] = unit.pods;
  const matchLabels: Record<string, string> = {};
  if (first) {
    for (const key of Object.keys(first.labels).sort()) {
      const value = first.labels[key] as string;
      if (!VOLATILE_LABELS.has(key) && rest.every((p) => p.labels[key] === value)) matchLabels[key] = value;
    }
  }
  const selector: LabelSelector = { matchLabels, matchExpressions: [] };
  let others = namespacePods.filter((p) => !ownPods.has(p) && selectorMatches(selector, p.labels));
  const ownKeys = new Set(unit.pods.flatMap((p) => Object.keys(p.labels)));
  const absent: string[] = [];
  while (others.length > 0) {
    const excluded = new Map<string, number>();
    for (const pod of others) {
      for (const key of Object.keys(pod.labels)) {
        if (!ownKeys.has(key)) excluded.set(key, (excluded.get(key) ?? 0) + 1);
      }
    }
    const best = [...excluded].sort(
      ([a, n], [b, m]) =>
        m - n || Number(VOLATILE_LABELS.has(a)) - Number(VOLATILE_LABELS.has(b)) || (a < b ? -1 : 1),
    )[0];
    if (!best) break;
    absent.push(best[0]);
    others = others.filter((p) => !Object.hasOwn(p.labels, best[0]));
  }
  return {
    selector: {
      matchLabels,
      matchExpressions: absent.sort().map((key) => ({ key, operator: 'DoesNotExist', values: [] })),
    },
    catches: [...new Set(others.map((p) => p.workload))].sort(),
  };
}

/** Merges ports into sorted protocol-then-port entries, consecutive ports into endPort ranges. */
export function mergePorts(ports: Iterable<{ protocol: Protocol; port: number }>): GeneratedPort[] {
  const byProtocol = new Map<Protocol, Set<number>>();
  for (const { protocol, port } of ports) {
    let set = byProtocol.get(protocol);
    if (!set) {
      set = new Set();
      byProtocol.set(protocol, set);
    }
    set.add(port);
  }
  const out: GeneratedPort[] = [];
  for (const protocol of PROTOCOLS) {
    const sorted = [...(byProtocol.get(protocol) ?? [])].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; ) {
      const start = sorted[i] as number;
      let end = start;
      while (sorted[i + 1] === end + 1) {
        end++;
        i++;
      }
      i++;
      out.push(end > start ? { protocol, port: start, endPort: end } : { protocol, port: start });
    }
  }
  return out;
}

/** One address as a /32 or /128, in canonical form (the log may write IPv6 otherwise). */
function hostCidr(ip: string): string | undefined {
  const address = parseAddress(ip);
  if (address === undefined) return undefined;
  const text = formatAddress(address);
  return `${text}/${text.includes(':') ? 128 : 32}`;
}

/** Observed traffic with one peer, gathered for one rule. */
interface PeerTraffic {
  /** Sort key: workloads by id, then addresses in order. */
  sortKey: string;
  label: string;
  peers: GeneratedPeer[];
  ports: Map<string, { protocol: Protocol; port: number; count: number; dropped: number }>;
  count: number;
  firstSeen?: string;
  lastSeen?: string;
  note?: string;
  /** Addresses outside the pods, of one group: their peers are written once all are seen. */
  external?: { group: AddressGroup; addresses: Set<string> };
}

interface PolicyDraft {
  unit: Unit;
  selector: UnitSelector;
  ingress: Map<string, PeerTraffic>;
  egress: Map<string, PeerTraffic>;
}

const MAX_PORTS_IN_COMMENT = 6;

/** External groups in rules: configured networks, then private addresses, then the internet. */
const GROUP_ORDER: Record<AddressGroup['kind'], number> = { network: 0, private: 1, public: 2 };

function trafficComment(direction: 'ingress' | 'egress', traffic: PeerTraffic): string[] {
  const ports = [...traffic.ports.values()].sort(
    (a, b) => PROTOCOLS.indexOf(a.protocol) - PROTOCOLS.indexOf(b.protocol) || a.port - b.port,
  );
  const shown = ports.slice(0, MAX_PORTS_IN_COMMENT).map((p) => {
    const dropped = p.dropped > 0 ? ` (${p.dropped} dropped)` : '';
    return `${p.protocol} ${p.port} ×${p.count}${dropped}`;
  });
  const more = ports.length - shown.length;
  const portsText = `${shown.join(', ')}${more > 0 ? `, ${more} more port(s)` : ''}`;
  const seen =
    traffic.firstSeen === undefined
      ? ''
      : traffic.firstSeen === traffic.lastSeen
        ? `; seen ${traffic.firstSeen}`
        : `; seen ${traffic.firstSeen} … ${traffic.lastSeen}`;
  const lines = [
    `${direction === 'ingress' ? 'from' : 'to'} ${traffic.label}: ${traffic.count} connection(s): ${portsText}${seen}`,
  ];
  if (traffic.note) lines.push(traffic.note);
  return lines;
}

function toRules(
  direction: 'ingress' | 'egress',
  traffic: ReadonlyMap<string, PeerTraffic>,
): GeneratedRule[] {
  return [...traffic.values()]
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
    .map((t) => ({
      peers: t.peers,
      ports: mergePorts(t.ports.values()),
      comments: trafficComment(direction, t),
    }));
}

const DNS_PODS: LabelSelector = { matchLabels: { ...CLUSTER_DNS.labels }, matchExpressions: [] };
const DNS_PEER: GeneratedPeer = {
  namespaceSelector: { matchLabels: { [NAME_LABEL]: CLUSTER_DNS.namespace }, matchExpressions: [] },
  podSelector: DNS_PODS,
};
const DNS_PORTS: GeneratedPort[] = [
  { protocol: 'TCP', port: DNS_PORT },
  { protocol: 'UDP', port: DNS_PORT },
];
const EVERY_POD: LabelSelector = { matchLabels: {}, matchExpressions: [] };

function isClusterDnsPod(pod: Pod): boolean {
  return (
    pod.namespace === CLUSTER_DNS.namespace &&
    Object.entries(CLUSTER_DNS.labels).every(([k, v]) => pod.labels[k] === v)
  );
}

/** Generated name, unique in its namespace, at most 253 characters (a DNS subdomain). */
function policyName(unit: Unit, taken: Set<string>): string {
  const suffix = '-observed';
  const kind = /\[(.*)\]$/.exec(unit.id)?.[1]?.toLowerCase() ?? 'workload';
  for (const stem of [unit.name, `${unit.name}-${kind}`]) {
    const name = `${stem.slice(0, 253 - suffix.length)}${suffix}`;
    if (!taken.has(name)) {
      taken.add(name);
      return name;
    }
  }
  for (let i = 2; ; i++) {
    const name = `${unit.name.slice(0, 240)}-${i}${suffix}`;
    if (!taken.has(name)) {
      taken.add(name);
      return name;
    }
  }
}

/**
 * Generates the policies for the engine's snapshot from observed edges (see the module comment). The
 * engine's options decide which pods are outside policy (hostNetwork).
 */
export function generatePolicies(
  engine: Engine,
  edges: readonly FlowEdge[],
  options: GenerateOptions = {},
): Generation {
  const snapshot = engine.snapshot;
  const grouping = options.grouping ?? DEFAULT_GROUPING;
  const groups = new AddressGroups(grouping.networks);
  const excluded = new Set(options.excludedNamespaces ?? []);
  const generated = [...snapshot.namespaces.keys()].filter((ns) => !excluded.has(ns)).sort();
  const generatedSet = new Set(generated);
  const warnings: string[] = [];

  // Units, and the pods of each namespace that policies can select.
  const units = new Map<string, Unit>();
  const unitOf = new Map<string, string>();
  const podsIn = new Map<string, Pod[]>();
  for (const workload of snapshot.workloads) {
    const { id, name } = unitIdOf(workload);
    let unit = units.get(id);
    if (!unit) {
      unit = { id, namespace: workload.namespace, name, workloads: [], pods: [], outsidePolicy: [] };
      units.set(id, unit);
    }
    unit.workloads.push(workload);
    unitOf.set(workload.id, id);
    for (const pod of workload.pods) {
      if (isOutsidePolicy(pod, engine.options)) {
        unit.outsidePolicy.push(pod);
        continue;
      }
      unit.pods.push(pod);
      const list = podsIn.get(pod.namespace);
      if (list) list.push(pod);
      else podsIn.set(pod.namespace, [pod]);
    }
  }
  const selectors = new Map<Unit, UnitSelector>();
  const selectorOf = (unit: Unit): UnitSelector => {
    let found = selectors.get(unit);
    if (!found) {
      found = unitSelector(unit, podsIn.get(unit.namespace) ?? [], new Set(unit.pods));
      selectors.set(unit, found);
    }
    return found;
  };
  const unitById = (id: string): Unit | undefined => {
    const unitId = unitOf.get(id);
    return unitId === undefined ? undefined : units.get(unitId);
  };
  /** A unit that gets a policy of its own: in a generated namespace, and subject to NetworkPolicy. */
  const subject = (peer: FlowPeer): Unit | undefined => {
    if (!('workload' in peer)) return undefined;
    const unit = unitById(peer.workload);
    return unit && generatedSet.has(unit.namespace) && unit.pods.length > 0 ? unit : undefined;
  };

  const drafts = new Map<Unit, PolicyDraft>();
  const draftOf = (unit: Unit): PolicyDraft => {
    let draft = drafts.get(unit);
    if (!draft) {
      draft = { unit, selector: selectorOf(unit), ingress: new Map(), egress: new Map() };
      drafts.set(unit, draft);
    }
    return draft;
  };
  const unexpressible = new Set<string>();

  /** How a policy in `namespace` names `peer`, or why no NetworkPolicy peer can. */
  const peerOf = (
    namespace: string,
    peer: FlowPeer,
  ): Omit<PeerTraffic, 'ports' | 'count' | 'firstSeen' | 'lastSeen'> | { unexpressible: string } => {
    if ('ip' in peer) {
      // Addresses are gathered per group, their peers written once all are seen (finishExternal).
      const group = groups.of(peer.ip);
      return {
        sortKey: `1${GROUP_ORDER[group.kind]}${group.label}`,
        label: group.label,
        peers: [],
        external: { group, addresses: new Set() },
      };
    }
    const unit = unitById(peer.workload);
    if (!unit) return { unexpressible: 'the input has no such workload' };
    const sortKey = `0${unit.id}`;
    if (unit.pods.length === 0 && options.cilium) {
      // Cilium gives hostNetwork pods their node's identity, which no CIDR rule matches.
      return {
        sortKey: NODES_SORT_KEY,
        label: 'the nodes (hostNetwork workloads and node addresses)',
        peers: [{ entity: 'host' }, { entity: 'remote-node' }],
        note: `hostNetwork pods (${unit.id} …) are their node to Cilium: the host and remote-node identities`,
      };
    }
    if (unit.pods.length === 0) {
      // hostNetwork pods send from their node's address: only an ipBlock can name them.
      const cidrs = [
        ...new Set(unit.outsidePolicy.flatMap((p) => p.ips.map(hostCidr).filter((c) => c !== undefined))),
      ].sort();
      if (cidrs.length === 0) {
        return {
          unexpressible: 'a hostNetwork workload sends from its node address, which the input does not give',
        };
      }
      return {
        sortKey,
        label: unit.id,
        peers: cidrs.map((ipBlock) => ({ ipBlock })),
        note: `${unit.id} is hostNetwork: matched by its node address(es), as NetworkPolicy sees its traffic`,
      };
    }
    const { selector, catches } = selectorOf(unit);
    const note =
      catches.length > 0
        ? `WARNING: this peer's selector also selects the pods of ${catches.join(', ')}`
        : undefined;
    const peerSelector = { podSelector: selector };
    return {
      sortKey,
      label: unit.id,
      peers: [
        unit.namespace === namespace
          ? peerSelector
          : {
              namespaceSelector: { matchLabels: { [NAME_LABEL]: unit.namespace }, matchExpressions: [] },
              ...peerSelector,
            },
      ],
      ...(note ? { note } : {}),
    };
  };

  const add = (draft: PolicyDraft, direction: 'ingress' | 'egress', peer: FlowPeer, edge: FlowEdge): void => {
    const described =
      (options.cilium && 'ip' in peer ? ciliumAddressPeer(snapshot, edge, peer.ip, direction) : undefined) ??
      peerOf(draft.unit.namespace, peer);
    if ('unexpressible' in described) {
      const what = 'workload' in peer ? peer.workload : peer.ip;
      const key = `${draft.unit.id} ${direction} ${what}`;
      if (!unexpressible.has(key)) {
        unexpressible.add(key);
        warnings.push(
          `${draft.unit.id}: the observed ${direction} ${direction === 'ingress' ? 'from' : 'to'} ${what} cannot be written as a NetworkPolicy peer (${described.unexpressible}): not allowed`,
        );
      }
      return;
    }
    const map = draft[direction];
    let traffic = map.get(described.sortKey);
    if (!traffic) {
      traffic = { ...described, ports: new Map(), count: 0 };
      map.set(described.sortKey, traffic);
    }
    if ('ip' in peer) traffic.external?.addresses.add(peer.ip);
    const portKey = `${edge.protocol}/${edge.port}`;
    let port = traffic.ports.get(portKey);
    if (!port) {
      port = { protocol: edge.protocol, port: edge.port, count: 0, dropped: 0 };
      traffic.ports.set(portKey, port);
    }
    port.count += edge.count;
    if (edge.observed === 'dropped') port.dropped += edge.count;
    traffic.count += edge.count;
    if (edge.firstSeen && (!traffic.firstSeen || edge.firstSeen < traffic.firstSeen))
      traffic.firstSeen = edge.firstSeen;
    if (edge.lastSeen && (!traffic.lastSeen || edge.lastSeen > traffic.lastSeen))
      traffic.lastSeen = edge.lastSeen;
  };

  const used: FlowEdge[] = [];
  const leftOut = { dropped: 0, notGenerated: 0 };
  const dnsSources = new Map<string, Set<string>>();
  let dnsEdges = 0;
  for (const edge of edges) {
    if (edge.observed === 'dropped' && !options.includeDropped) {
      leftOut.dropped++;
      continue;
    }
    const src = subject(edge.src);
    const dst = subject(edge.dst);
    const dstUnit = 'workload' in edge.dst ? unitById(edge.dst.workload) : undefined;
    const toClusterDns =
      src !== undefined &&
      edge.port === DNS_PORT &&
      (edge.protocol === 'UDP' || edge.protocol === 'TCP') &&
      dstUnit !== undefined &&
      dstUnit.pods.length > 0 &&
      dstUnit.pods.every(isClusterDnsPod);
    if (toClusterDns) {
      // The namespace's allow-dns policy allows it, and dns-from-cluster when kube-system is generated.
      dnsEdges++;
      used.push(edge);
      const sources = dnsSources.get(src.namespace) ?? new Set();
      sources.add(src.id);
      dnsSources.set(src.namespace, sources);
      continue;
    }
    if (!src && !dst) {
      leftOut.notGenerated++;
      continue;
    }
    used.push(edge);
    if (src) add(draftOf(src), 'egress', edge.dst, edge);
    if (dst) add(draftOf(dst), 'ingress', edge.src, edge);
  }

  // Each group of external addresses becomes its peers, now that all of them are seen.
  const widened: WidenedBlock[] = [];
  for (const draft of drafts.values()) {
    for (const direction of ['ingress', 'egress'] as const) {
      for (const [key, traffic] of draft[direction]) {
        if (!traffic.external) continue;
        const entry =
          direction === 'ingress' && traffic.external.group.kind === 'public'
            ? publicEntryPoint(snapshot, draft.unit.name, draft.unit.pods)
            : undefined;
        const external = externalPeers(traffic.external.group, traffic.external.addresses, entry, grouping);
        if (external.peers.length === 0) {
          draft[direction].delete(key);
          continue;
        }
        traffic.peers = external.peers;
        traffic.label = external.label;
        if (external.note) traffic.note = external.note;
        if (direction === 'ingress') {
          const ports = [...traffic.ports.values()].map((p) => portSetOf(p.protocol, [[p.port, p.port]]));
          widened.push({
            unit: draft.unit.id,
            peers: external.peers,
            ports: ports.reduce(unionPorts, NO_PORTS),
          });
        }
      }
    }
  }

  const unitsIn = groupBy([...units.values()], (u) => u.namespace);
  const existingIn = new Map(
    [...groupBy(snapshot.policies, (p) => p.namespace)].map(([ns, list]) => [ns, list.map((p) => p.name)]),
  );
  const isolated: string[] = [];
  const namespaces: GeneratedNamespace[] = generated.map((namespace) => {
    const policies: GeneratedPolicy[] = [
      {
        namespace,
        name: 'default-deny',
        role: 'default-deny',
        podSelector: EVERY_POD,
        policyTypes: ['Ingress', 'Egress'],
        ingress: [],
        egress: [],
        comments: [
          `Isolates every pod of ${namespace} both ways: what the policies below do not allow is denied.`,
        ],
      },
      {
        namespace,
        name: 'allow-dns',
        role: 'allow-dns',
        podSelector: EVERY_POD,
        policyTypes: ['Egress'],
        ingress: [],
        egress: [{ peers: [DNS_PEER], ports: DNS_PORTS, comments: [] }],
        comments: [
          `Every pod of ${namespace} may query cluster DNS (pods ${selectorText(DNS_PODS)} in ${CLUSTER_DNS.namespace}) on port 53.`,
          ...dnsComment(dnsSources.get(namespace)),
        ],
      },
    ];
    const unitsHere = [...(unitsIn.get(namespace) ?? [])].sort((a, b) => (a.id < b.id ? -1 : 1));
    if (unitsHere.some((u) => u.pods.some(isClusterDnsPod))) {
      policies.push({
        namespace,
        name: 'dns-from-cluster',
        role: 'dns-from-cluster',
        podSelector: DNS_PODS,
        policyTypes: ['Ingress'],
        ingress: [
          {
            peers: [{ namespaceSelector: EVERY_POD }],
            ports: DNS_PORTS,
            comments: ['from every namespace: the allow-dns policies send every pod here'],
          },
        ],
        egress: [],
        comments: ['Cluster DNS answers every pod of the cluster on port 53.'],
      });
    }
    const notes: string[] = [];
    const taken = new Set(policies.map((p) => p.name));
    const workloadPolicies: GeneratedPolicy[] = [];
    for (const unit of unitsHere) {
      if (unit.pods.length === 0) {
        notes.push(
          `${unit.id} is hostNetwork: NetworkPolicy does not apply to it, so it has no policy here.`,
        );
        continue;
      }
      const draft = drafts.get(unit);
      if (!draft) {
        isolated.push(unit.id);
        notes.push(`${unit.id} had no observed traffic: default-deny isolates it (DNS aside).`);
        continue;
      }
      const { selector, catches } = draft.selector;
      const comments = [
        `${unit.id}: exactly its observed traffic. Selects ${selectorText(selector)} (${unit.pods.length} pod(s)).`,
      ];
      if (unit.workloads.length > 1 || unit.workloads[0]?.id !== unit.id) {
        comments.push(`Stands for ${unit.workloads.map((w) => w.id).join(', ')}.`);
      }
      if (catches.length > 0) {
        comments.push(
          `WARNING: no label tells its pods from those of ${catches.join(', ')}, which this policy selects too: label the workloads apart.`,
        );
        warnings.push(
          `${unit.id}: its selector (${selectorText(selector)}) also selects the pods of ${catches.join(', ')}`,
        );
      }
      if (Object.keys(selector.matchLabels).length === 0) {
        comments.push('It has no stable label of its own: label it and select by that label.');
      }
      workloadPolicies.push({
        namespace,
        name: policyName(unit, taken),
        role: 'workload',
        workload: unit.id,
        podSelector: selector,
        // Both ways, so that the policy isolates the workload even without default-deny.
        policyTypes: ['Ingress', 'Egress'],
        ingress: toRules('ingress', draft.ingress),
        egress: toRules('egress', draft.egress),
        comments,
      });
    }
    policies.push(...workloadPolicies.sort((a, b) => (a.name < b.name ? -1 : 1)));
    const replaces = (existingIn.get(namespace) ?? []).sort();
    const cilium = options.cilium
      ? [
          ...new Set(snapshot.ciliumPolicies.filter((p) => p.namespace === namespace).map((p) => p.name)),
        ].sort()
      : [];
    return { namespace, policies, replaces, ...(cilium.length > 0 && { replacesCilium: cilium }), notes };
  });
  return { namespaces, edges: used, leftOut, dnsEdges, isolated, warnings, unitOf, widened };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(key(item));
    if (list) list.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

function dnsComment(sources: ReadonlySet<string> | undefined): string[] {
  if (!sources || sources.size === 0) return [];
  const list = [...sources].sort();
  const shown = list.slice(0, 5).join(', ');
  return [`Observed DNS queries from ${shown}${list.length > 5 ? ` and ${list.length - 5} more` : ''}.`];
}

/**
 * The input with the generated policies in force: they replace the input's NetworkPolicies in the
 * generated namespaces (as applying them after deleting the old ones would), or with `keepExisting`
 * are added to them (as a plain `kubectl apply` would: a generated policy replaces only the existing
 * one of the same name). Cluster-scoped policies stay as they are.
 */
export function withGeneratedPolicies(
  input: Snapshot,
  generated: readonly NetworkPolicy[],
  namespaces: ReadonlySet<string>,
  keepExisting = false,
  /** The same policies written as Calico NetworkPolicies (`generate --flavor calico`). */
  generatedCalico: readonly CalicoPolicy[] = [],
  /** The same policies written as CiliumNetworkPolicies (`generate --flavor cilium`): they replace CNPs too. */
  generatedCilium: readonly CiliumPolicy[] = [],
): Snapshot {
  const calico: CalicoResources | undefined =
    generatedCalico.length > 0
      ? {
          ...(input.calico ?? {
            tiers: [DEFAULT_TIER_DEFINITION],
            networkSets: [],
            profiles: [],
            policies: [],
          }),
          policies: [
            ...(input.calico?.policies ?? []).filter(
              (p) =>
                p.namespace === undefined ||
                (keepExisting
                  ? !generatedCalico.some((g) => g.namespace === p.namespace && g.name === p.name)
                  : !namespaces.has(p.namespace)),
            ),
            ...generatedCalico,
          ],
        }
      : input.calico;
  // Applying a policy of the same name replaces the existing one, kept or not.
  const overwritten = new Set(generated.map((p) => `${p.namespace}/${p.name}`));
  return {
    namespaces: input.namespaces,
    workloads: input.workloads,
    pods: input.pods,
    policies: [
      ...input.policies.filter((p) =>
        keepExisting ? !overwritten.has(`${p.namespace}/${p.name}`) : !namespaces.has(p.namespace),
      ),
      ...generated,
    ],
    clusterPolicies: input.clusterPolicies,
    ...(calico && { calico }),
    ciliumPolicies:
      generatedCilium.length > 0
        ? [
            ...input.ciliumPolicies.filter(
              (p) =>
                p.namespace === '' ||
                (keepExisting
                  ? !generatedCilium.some((g) => g.namespace === p.namespace && g.name === p.name)
                  : !namespaces.has(p.namespace)),
            ),
            ...generatedCilium,
          ]
        : input.ciliumPolicies,
    ciliumCidrGroups: input.ciliumCidrGroups,
    nodes: input.nodes,
    services: input.services,
    ingresses: input.ingresses,
    get inputs() {
      return input.inputs;
    },
    warnings: input.warnings,
    skippedKinds: input.skippedKinds,
    partial: input.partial,
  };
}

export interface UnobservedConnection {
  src: string;
  dst: string;
  ports: PortSet;
}

export interface Proof {
  /** Observed edges checked. */
  edges: number;
  /** Observed edges the generated policies do not allow, with the ports they do allow. */
  notAllowed: { edge: FlowEdge; allowed: PortSet }[];
  /**
   * Observed edges allowed by a toFQDNs name or an entity the engine cannot place offline (the
   * addresses behind a name, the API server's): checked by the name the rule and the flow log give.
   */
  allowedByName?: number;
  /** PHI workloads of the input (none: only the observed edges are proved). */
  phiWorkloads: number;
  /** Connections into PHI workloads the engine finds with the generated policies. */
  phiConnections: number;
  /** What of them was never observed: each is a path into PHI the generation opened or left open. */
  unobserved: UnobservedConnection[];
  ok: boolean;
}

/** Distinct pods of a workload per pod class: pods of a class share every answer. */
function podsPerClass(engine: Engine, workload: Workload): Pod[] {
  const seen = new Map<unknown, Pod>();
  for (const pod of workload.pods) {
    const podClass = engine.classOf(pod);
    if (!seen.has(podClass)) seen.set(podClass, pod);
  }
  return [...seen.values()];
}

function allowsPort(ports: PortSet, protocol: Protocol, port: number): boolean {
  return ports[protocol].some(([lo, hi]) => port >= lo && port <= hi);
}

/**
 * Checks the generated policies on an engine built over them: (a) every observed edge is allowed, for
 * every pod of its ends, and (b) every connection into a PHI workload is observed, ports included.
 * Workloads are compared as generation units (`unitOf`): a Deployment's ReplicaSets are one workload.
 */
export function proveGeneration(
  engine: Engine,
  edges: readonly FlowEdge[],
  phi: ReadonlySet<string>,
  unitOf: ReadonlyMap<string, string> = new Map(),
  widened: readonly WidenedBlock[] = [],
  /** Whether the policies allow a pod's edge to an address by a name or entity the engine cannot place. */
  byName?: (pod: Pod, edge: FlowEdge, direction: 'ingress' | 'egress') => boolean,
): Proof {
  const workloads = new Map(engine.snapshot.workloads.map((w) => [w.id, w]));
  const unit = (id: string) => unitOf.get(id) ?? id;

  const notAllowed: Proof['notAllowed'] = [];
  let allowedByName = 0;
  for (const edge of edges) {
    const src = 'workload' in edge.src ? workloads.get(edge.src.workload) : undefined;
    const dst = 'workload' in edge.dst ? workloads.get(edge.dst.workload) : undefined;
    let allowed: PortSet | undefined;
    let named = false;
    const narrow = (ports: PortSet, side?: { pod: Pod; direction: 'ingress' | 'egress' }) => {
      let effective = ports;
      if (side && !allowsPort(ports, edge.protocol, edge.port) && byName?.(side.pod, edge, side.direction)) {
        effective = unionPorts(ports, portSetOf(edge.protocol, [[edge.port, edge.port]]));
        named = true;
      }
      if (!allowed || !allowsPort(effective, edge.protocol, edge.port)) allowed = effective;
    };
    if (src && dst) {
      const srcPods = podsPerClass(engine, src);
      const dstPods = podsPerClass(engine, dst);
      for (const a of srcPods) {
        for (const b of dstPods) {
          // Two pods of one class stand for each other; a one-pod workload talks to itself freely.
          const other =
            a === b ? (dst.pods.find((p) => p !== a && engine.classOf(p) === engine.classOf(a)) ?? b) : b;
          narrow(engine.portsBetween(a, other));
        }
      }
    } else if (src && 'ip' in edge.dst) {
      for (const pod of podsPerClass(engine, src))
        narrow(engine.explainSide(pod, edge.dst, 'egress').ports, { pod, direction: 'egress' });
    } else if (dst && 'ip' in edge.src) {
      for (const pod of podsPerClass(engine, dst))
        narrow(engine.explainSide(pod, edge.src, 'ingress').ports, { pod, direction: 'ingress' });
    }
    if (allowed && !allowsPort(allowed, edge.protocol, edge.port)) notAllowed.push({ edge, allowed });
    else if (named) allowedByName++;
  }

  // Observed ports into each PHI unit, per source unit and per source address.
  const phiUnits = new Set([...phi].map(unit));
  const fromUnit = new Map<string, PortSet>();
  const fromAddress = new Map<string, Map<bigint, PortSet>>();
  for (const edge of edges) {
    if (!('workload' in edge.dst) || !phiUnits.has(unit(edge.dst.workload))) continue;
    const dst = unit(edge.dst.workload);
    const ports = portSetOf(edge.protocol, [[edge.port, edge.port]]);
    if ('workload' in edge.src) {
      const key = `${unit(edge.src.workload)}\0${dst}`;
      fromUnit.set(key, unionPorts(fromUnit.get(key) ?? NO_PORTS, ports));
    } else {
      const address = parseAddress(edge.src.ip);
      if (address === undefined) continue;
      const byAddress = fromAddress.get(dst) ?? new Map<bigint, PortSet>();
      byAddress.set(address, unionPorts(byAddress.get(address) ?? NO_PORTS, ports));
      fromAddress.set(dst, byAddress);
    }
  }

  const unobserved: UnobservedConnection[] = [];
  let phiConnections = 0;
  for (const connection of computeConnectivity(engine)) {
    if (!('workload' in connection.dst) || !phi.has(connection.dst.workload)) continue;
    phiConnections++;
    const dst = unit(connection.dst.workload);
    if ('workload' in connection.src) {
      const src = unit(connection.src.workload);
      if (src === dst) continue;
      const extra = subtractPorts(connection.ports, fromUnit.get(`${src}\0${dst}`) ?? NO_PORTS);
      if (!isEmptyPorts(extra))
        unobserved.push({ src: connection.src.workload, dst: connection.dst.workload, ports: extra });
      continue;
    }
    let rest: IntervalSet<bigint> = normalize(
      connection.src.external.flatMap((text) => {
        const cidr = parseCidr(text);
        return cidr ? [[cidr.lo, cidr.hi] as const] : [];
      }),
    );
    for (const [address, observed] of fromAddress.get(dst) ?? []) {
      if (!rest.some(([lo, hi]) => address >= lo && address <= hi)) continue;
      rest = subtract(rest, [[address, address]]);
      const extra = subtractPorts(connection.ports, observed);
      if (!isEmptyPorts(extra)) {
        unobserved.push({ src: formatAddress(address), dst: connection.dst.workload, ports: extra });
      }
    }
    // Addresses allowed for a group of observed clients count as observed, on the ports the group used.
    for (const block of widened) {
      if (unit(block.unit) !== dst) continue;
      for (const peer of block.peers) {
        const overlap = intersect(rest, ipBlockAddresses({ cidr: peer.ipBlock, except: peer.except ?? [] }));
        if (overlap.length === 0) continue;
        rest = subtract(rest, overlap);
        const extra = subtractPorts(connection.ports, block.ports);
        if (!isEmptyPorts(extra)) {
          unobserved.push({ src: toCidrs(overlap).join(','), dst: connection.dst.workload, ports: extra });
        }
      }
    }
    if (rest.length > 0) {
      unobserved.push({
        src: toCidrs(rest).join(','),
        dst: connection.dst.workload,
        ports: connection.ports,
      });
    }
  }
  return {
    edges: edges.length,
    notAllowed,
    ...(allowedByName > 0 && { allowedByName }),
    phiWorkloads: phi.size,
    phiConnections,
    unobserved,
    ok: notAllowed.length === 0 && unobserved.length === 0,
  };
}
