import type { Connection } from '../../analysis/connectivity.ts';
import {
  ALL_ADDRESSES,
  clusterPeerAddresses,
  formatAddress,
  ipBlockAddresses,
  parseCidr,
  toCidrs,
} from '../../engine/addresses.ts';
import { clusterPortsOf, portsOf } from '../../engine/compile.ts';
import type { Endpoint } from '../../engine/endpoint.ts';
import { type IntervalSet, intersect, normalize, subtract, union } from '../../engine/intervals.ts';
import { cutsOf } from '../../engine/pod-classes.ts';
import {
  formatPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from '../../engine/ports.ts';
import { selectorMatches } from '../../engine/selectors.ts';
import {
  type ClusterRule,
  clusterPolicyId,
  clusterRuleId,
  type Direction,
  type KeptObject,
  type LabelSelector,
  type NetworkPolicy,
  type Pod,
  type PolicyPeer,
  type PolicyRule,
  PROTOCOLS,
  type Protocol,
  type Workload,
} from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Check, Evidence, FindingDraft, Remediation } from '../types.ts';
import {
  addressSet,
  connectionsOf,
  edgeText,
  locationOf,
  NON_PUBLIC_ADDRESSES,
  onePodPerClass,
  phiWorkloads,
  policyYaml,
} from './support.ts';
import {
  type AllowingRule,
  allowingRules,
  clusterRulesOf,
  isIsolated,
  isolationOf as podIsolation,
  type TierRule,
  tierRuleText,
  uniqueRules,
} from './tier-support.ts';

/** Large clusters can have hundreds of edges per workload; the report shows the first ones and a count. */
const MAX_EDGES = 20;
const METADATA_NAME = 'kubernetes.io/metadata.name';
const PEER_FIELD = { ingress: 'from', egress: 'to' } as const;

/** What a suggested egress policy keeps when it takes the internet away: the private networks. */
const PRIVATE = addressSet(['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);

// ---------------------------------------------------------------------------------------------------
// Shared pieces

function firstAddress(set: IntervalSet<bigint>): string | undefined {
  const first = set[0];
  return first ? toCidrs([[first[0], first[0]]])[0]?.split('/')[0] : undefined;
}

function ruleRef(policy: NetworkPolicy, rule: PolicyRule, peer?: number): string {
  const base = `${policy.namespace}/${policy.name}#spec.${rule.direction}[${rule.index}]`;
  return peer === undefined ? base : `${base}.${PEER_FIELD[rule.direction]}[${peer}]`;
}

function objectId(object: KeptObject): string {
  return `${object.namespace}/${object.name}`;
}

/**
 * A rule behind an allowed edge: a NetworkPolicy rule, or an Admin- or Baseline-tier rule that allowed
 * it (or passed it on to be allowed), with the ports it accounts for.
 */
type Responsible = AllowingRule;
type NetworkPolicyResponsible = Extract<Responsible, { kind: 'networkPolicy' }>;

function isNetworkPolicyRule(r: Responsible): r is NetworkPolicyResponsible {
  return r.kind === 'networkPolicy';
}

interface Isolation {
  /** Isolated by a NetworkPolicy or, failing that, by Admin/Baseline-tier Deny rules (tier-support.ts). */
  isolated: boolean;
  hostNetwork: boolean;
  /** The NetworkPolicies isolating it. */
  policies: NetworkPolicy[];
  /** When no NetworkPolicy isolates a pod of it: the cluster rules that select it, and why they leave it open. */
  tierRules: TierRule[];
  reasons: string[];
  /** The Admin/Baseline Deny rules that isolate pods of it that no NetworkPolicy isolates. */
  byTiers: TierRule[];
}

function isolationOf(context: AuditContext, workload: Workload, direction: Direction): Isolation {
  const policies = new Set<NetworkPolicy>();
  const tierRules: TierRule[] = [];
  const reasons = new Set<string>();
  let hostNetwork = false;
  let open = false;
  const byTiers: TierRule[] = [];
  for (const pod of onePodPerClass(context, workload)) {
    const isolation = podIsolation(context, pod, direction);
    hostNetwork ||= isolation.kind === 'hostNetwork';
    if (isolation.kind === 'networkPolicy') for (const policy of isolation.policies) policies.add(policy);
    if (isolation.kind === 'tiers') byTiers.push(...isolation.rules);
    if (isolation.kind === 'open') {
      tierRules.push(...isolation.rules);
      for (const reason of isolation.reasons) reasons.add(reason);
    }
    if (!isIsolated(isolation)) open = true;
  }
  return {
    isolated: !open,
    hostNetwork,
    policies: [...policies],
    tierRules: uniqueRules(tierRules),
    reasons: [...reasons],
    byTiers: uniqueRules(byTiers),
  };
}

/** External addresses a rule admits: the engine's reading (no peers: all; else its ipBlocks). */
function ruleAddresses(rule: PolicyRule): IntervalSet<bigint> {
  if (rule.peers === undefined) return ALL_ADDRESSES;
  let set: IntervalSet<bigint> = [];
  for (const peer of rule.peers)
    if (peer.kind === 'ipBlock') set = union(set, ipBlockAddresses(peer.ipBlock));
  return set;
}

function clusterRuleAddresses(context: AuditContext, rule: ClusterRule): IntervalSet<bigint> {
  let set: IntervalSet<bigint> = [];
  for (const peer of rule.peers)
    if (peer.kind !== 'pods') set = union(set, clusterPeerAddresses(peer, context.snapshot.nodes));
  return set;
}

function addResponsible(found: Map<unknown, Responsible>, entry: Responsible, ports?: PortSet): void {
  const granted = ports ? intersectPorts(entry.ports, ports) : entry.ports;
  if (isEmptyPorts(granted)) return;
  const previous = found.get(entry.rule);
  found.set(entry.rule, { ...entry, ports: previous ? unionPorts(previous.ports, granted) : granted });
}

/**
 * The rules that admit some of `addresses` on some of `ports`. Named ports resolve on the destination:
 * the workload itself for ingress, nothing for egress. Without Admin/Baseline-tier rules, the rules of
 * the workload's isolating policies, read directly; with them, the engine is asked once per piece of
 * the addresses that every rule involved treats alike, so that only what the tiers let through counts.
 */
function rulesForAddresses(
  context: AuditContext,
  workload: Workload,
  direction: Direction,
  addresses: IntervalSet<bigint>,
  ports?: PortSet,
): Responsible[] {
  const found = new Map<unknown, Responsible>();
  for (const pod of onePodPerClass(context, workload)) {
    const side = context.engine.explainSide(pod, { ip: '0.0.0.0' }, direction);
    const tierRules = clusterRulesOf(context, pod, direction);
    if (tierRules.length > 0) {
      const sets = [
        addresses,
        ...side.isolatedBy.flatMap((policy) => policy[direction].map(ruleAddresses)),
        ...tierRules.map(({ rule }) => clusterRuleAddresses(context, rule)),
      ];
      for (const probe of probesOf(addresses, cutsOf(sets))) {
        const probed = context.engine.explainSide(pod, { ip: formatAddress(probe) }, direction);
        for (const entry of allowingRules(probed)) addResponsible(found, entry, ports);
      }
      continue;
    }
    const destination = direction === 'ingress' ? context.engine.classOf(pod) : undefined;
    for (const policy of side.isolatedBy) {
      for (const rule of policy[direction]) {
        if (intersect(ruleAddresses(rule), addresses).length === 0) continue;
        addResponsible(
          found,
          { kind: 'networkPolicy', policy, rule, ports: portsOf(rule.ports, destination) },
          ports,
        );
      }
    }
  }
  return [...found.values()];
}

/** One address per piece of `addresses` between consecutive cuts: every rule treats a piece alike. */
function probesOf(addresses: IntervalSet<bigint>, cuts: readonly bigint[]): bigint[] {
  const probes: bigint[] = [];
  for (const [lo, hi] of addresses) {
    probes.push(lo);
    for (const cut of cuts) if (cut > lo && cut <= hi) probes.push(cut);
  }
  return probes;
}

/**
 * The rules that admit a workload peer, per the engine's explanation, optionally limited to ports;
 * Admin- and Baseline-tier rules among them where they decided.
 */
function rulesForWorkload(
  context: AuditContext,
  subject: Workload,
  peer: Workload,
  direction: Direction,
  ports?: PortSet,
): Responsible[] {
  const found = new Map<unknown, Responsible>();
  for (const pod of onePodPerClass(context, subject)) {
    for (const other of onePodPerClass(context, peer)) {
      const endpoint: Endpoint = { pod: other };
      for (const entry of allowingRules(context.engine.explainSide(pod, endpoint, direction)))
        addResponsible(found, entry, ports);
    }
  }
  return [...found.values()];
}

/** The responsible rules of one edge, whichever kind of peer it has. */
function rulesForConnection(
  context: AuditContext,
  subject: Workload,
  connection: Connection,
  direction: Direction,
  ports?: PortSet,
): Responsible[] {
  const peer = direction === 'ingress' ? connection.src : connection.dst;
  if ('external' in peer)
    return rulesForAddresses(context, subject, direction, addressSet(peer.external), ports);
  const workload = context.workloadById.get(peer.workload);
  return workload ? rulesForWorkload(context, subject, workload, direction, ports) : [];
}

function responsibleRef(r: Responsible): string {
  return r.kind === 'tier' ? clusterRuleId(r.policy, r.rule) : ruleRef(r.policy, r.rule);
}

function ruleEntries(responsible: readonly Responsible[]): NonNullable<Evidence['rules']> {
  const seen = new Set<string>();
  const out: NonNullable<Evidence['rules']> = [];
  for (const r of responsible) {
    const ref = responsibleRef(r);
    if (seen.has(ref)) continue;
    seen.add(ref);
    out.push({
      rule:
        r.kind === 'tier'
          ? tierRuleText(r.policy, r.rule, r.action, r.ports)
          : `${ref} (${formatPorts(r.ports)})`,
      at: where(r.rule.provenance),
    });
  }
  return out;
}

/** A remediation sentence for the Admin/Baseline-tier rules among the responsible ones, if any. */
function tierRemediation(responsible: readonly Responsible[], alone = false): string {
  const tier = responsible.filter((r) => r.kind === 'tier');
  if (tier.length === 0) return '';
  const refs = (tierName: 'Admin' | 'Baseline') => [
    ...new Set(tier.filter((r) => r.policy.tier === tierName).map(responsibleRef)),
  ];
  const admin = refs('Admin');
  const baseline = refs('Baseline');
  const parts: string[] = [];
  if (admin.length > 0)
    parts.push(
      alone
        ? `The Admin-tier rules that allow it (${admin.join(', ')}) must be narrowed by a cluster administrator: no NetworkPolicy can override an Admin-tier Allow or what a Pass hands on.`
        : `Also narrow the Admin-tier rules (${admin.join(', ')}), a cluster administrator's task: no NetworkPolicy can override an Admin-tier Allow or what a Pass hands on.`,
    );
  if (baseline.length > 0)
    parts.push(
      `Baseline-tier rules allow it too (${baseline.join(', ')}): narrow them, or isolate the workload with a NetworkPolicy, which takes precedence over the Baseline tier.`,
    );
  return ` ${parts.join(' ')}`;
}

/**
 * A remediation with the Admin/Baseline-tier rules among the responsible ones named (NetworkPolicies
 * cannot undo an Admin-tier Allow), and without a manifest when no NetworkPolicy rule was to be rewritten.
 */
function withTiers(responsible: readonly Responsible[], remediation: Remediation): Remediation {
  const yaml = remediation.yaml === '' ? undefined : remediation.yaml;
  const alone = remediation.yaml === '' && responsible.some((r) => r.kind === 'tier');
  const text = alone
    ? tierRemediation(responsible, true).trim()
    : `${remediation.text}${tierRemediation(responsible)}`;
  return yaml === undefined ? { text } : { text, yaml };
}

function cappedEdges(edges: readonly string[]): { edges: string[]; notes: string[] } {
  if (edges.length <= MAX_EDGES) return { edges: [...edges], notes: [] };
  return {
    edges: edges.slice(0, MAX_EDGES),
    notes: [`${edges.length - MAX_EDGES} more edges not shown (see \`phiwall connectivity\`)`],
  };
}

function restrictPorts(connection: Connection, ports: PortSet): Connection {
  return { ...connection, ports: intersectPorts(connection.ports, ports) };
}

function opennessNotes(isolation: Isolation, direction: Direction): string[] {
  if (isolation.hostNetwork)
    return ['a pod of it uses hostNetwork: NetworkPolicy does not govern its traffic (see HIPAA-NP-023)'];
  if (!isolation.isolated) {
    const check = direction === 'ingress' ? 'HIPAA-NP-005' : 'HIPAA-NP-006';
    if (isolation.tierRules.length > 0)
      return [
        `not ${direction}-isolated: no NetworkPolicy selects it for ${direction} and the Admin/Baseline-tier rules that select it (${[
          ...new Set(isolation.tierRules.map((r) => clusterRuleId(r.policy, r.rule))),
        ].join(', ')}) do not deny by default, so what they do not decide is allowed (see ${check})`,
      ];
    return [
      `not ${direction}-isolated: no NetworkPolicy selects it for ${direction}, so all is allowed (see ${check})`,
    ];
  }
  if (direction === 'ingress' && isolation.byTiers.length > 0)
    return [
      `isolated from pods by the Admin/Baseline tier (${isolation.byTiers.map((r) => clusterRuleId(r.policy, r.rule)).join(', ')}), not by a NetworkPolicy: those ingress rules cannot name sources outside the cluster, which are allowed by default`,
    ];
  return [];
}

function findingLocation(
  responsible: readonly Responsible[],
  workload: Workload,
): { file: string; line: number } {
  const first = responsible[0];
  return locationOf(first ? first.rule.provenance : workload.provenance);
}

function allowedEgressOf(context: AuditContext): { cidrs: IntervalSet<bigint>; namespaces: Set<string> } {
  const cidrs: string[] = [];
  const namespaces = new Set<string>();
  for (const entry of context.config.allowedEgress) {
    if (parseCidr(entry)) cidrs.push(entry);
    else namespaces.add(entry);
  }
  return { cidrs: addressSet(cidrs), namespaces };
}

// --- Cluster DNS --------------------------------------------------------------------------------

const DNS_PORTS: PortSet = { TCP: [[53, 53]], UDP: [[53, 53]], SCTP: [] };

/** CoreDNS and kube-dns both carry `k8s-app: kube-dns`; NodeLocal DNSCache carries its own value. */
function isClusterDns(workload: Workload): boolean {
  if (workload.namespace !== 'kube-system') return false;
  if (/^(coredns|kube-dns)$/.test(workload.name)) return true;
  return workload.pods.some((p) => ['kube-dns', 'node-local-dns'].includes(p.labels['k8s-app'] ?? ''));
}

/** ClusterIPs of the DNS Service: traffic to them is DNAT'd to the DNS pods, not sent anywhere else. */
function clusterDnsAddresses(context: AuditContext): IntervalSet<bigint> {
  const ips: string[] = [];
  for (const service of context.snapshot.services) {
    if (service.namespace !== 'kube-system') continue;
    const spec = (service.object.spec ?? {}) as Record<string, unknown>;
    const selector = (spec.selector ?? {}) as Record<string, unknown>;
    if (service.name !== 'kube-dns' && selector['k8s-app'] !== 'kube-dns') continue;
    for (const ip of [spec.clusterIP, ...(Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [])]) {
      if (typeof ip === 'string') ips.push(ip.includes(':') ? `${ip}/128` : `${ip}/32`);
    }
  }
  return addressSet(ips);
}

const DNS_PEER: PolicyPeer = {
  kind: 'pods',
  namespaceSelector: { matchLabels: { [METADATA_NAME]: 'kube-system' }, matchExpressions: [] },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' }, matchExpressions: [] },
};

const DNS_RULE_YAML = `- to:
    - namespaceSelector: {matchLabels: {${METADATA_NAME}: kube-system}}
      podSelector: {matchLabels: {k8s-app: kube-dns}}
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}`;

// --- Manifests for remediations ---------------------------------------------------------------------

function scalar(text: string): string {
  const plain =
    /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(text) && !/^(true|false|yes|no|on|off|null|y|n)$/i.test(text);
  return plain ? text : JSON.stringify(text);
}

function selectorYaml(selector: LabelSelector): string {
  const parts: string[] = [];
  const labels = Object.entries(selector.matchLabels);
  if (labels.length > 0)
    parts.push(`matchLabels: {${labels.map(([k, v]) => `${scalar(k)}: ${scalar(v)}`).join(', ')}}`);
  if (selector.matchExpressions.length > 0) {
    const expressions = selector.matchExpressions.map(({ key, operator, values }) => {
      const list =
        operator === 'In' || operator === 'NotIn' ? `, values: [${values.map(scalar).join(', ')}]` : '';
      return `{key: ${scalar(key)}, operator: ${operator}${list}}`;
    });
    parts.push(`matchExpressions: [${expressions.join(', ')}]`);
  }
  return `{${parts.join(', ')}}`;
}

function peerYaml(peer: PolicyPeer): string {
  if (peer.kind === 'ipBlock') {
    const except = peer.ipBlock.except.length
      ? `, except: [${peer.ipBlock.except.map(scalar).join(', ')}]`
      : '';
    return `{ipBlock: {cidr: ${scalar(peer.ipBlock.cidr)}${except}}}`;
  }
  const parts: string[] = [];
  if (peer.namespaceSelector) parts.push(`namespaceSelector: ${selectorYaml(peer.namespaceSelector)}`);
  if (peer.podSelector) parts.push(`podSelector: ${selectorYaml(peer.podSelector)}`);
  return `{${parts.join(', ')}}`;
}

function ruleYaml(rule: PolicyRule): string {
  const lines: string[] = [];
  if (rule.peers) {
    lines.push(`${PEER_FIELD[rule.direction]}:`, ...rule.peers.map((p) => `  - ${peerYaml(p)}`));
  }
  if (rule.ports) {
    lines.push(
      'ports:',
      ...rule.ports.map((p) => {
        const port =
          p.port === undefined ? '' : `, port: ${typeof p.port === 'number' ? p.port : scalar(p.port)}`;
        const end = p.endPort === undefined ? '' : `, endPort: ${p.endPort}`;
        return `  - {protocol: ${p.protocol}${port}${end}}`;
      }),
    );
  }
  if (lines.length === 0) return '- {}';
  return lines.map((line, i) => `${i === 0 ? '- ' : '  '}${line}`).join('\n');
}

/**
 * A policy written back from its meaning, with some rules rewritten (undefined drops a rule). Policies
 * are additive, so narrowing what one allows means replacing it, not adding another.
 */
function rewrittenPolicy(policy: NetworkPolicy, edit: (rule: PolicyRule) => PolicyRule | undefined): string {
  const types = [policy.isolates.ingress ? 'Ingress' : '', policy.isolates.egress ? 'Egress' : ''].filter(
    Boolean,
  );
  const lines = [`podSelector: ${selectorYaml(policy.podSelector)}`, `policyTypes: [${types.join(', ')}]`];
  for (const direction of ['ingress', 'egress'] as const) {
    if (!policy.isolates[direction]) continue;
    const rules = policy[direction].flatMap((rule) => {
      const edited = edit(rule);
      return edited ? [ruleYaml(edited)] : [];
    });
    lines.push(rules.length ? `${direction}:\n${indent(rules.join('\n'))}` : `${direction}: []`);
  }
  return policyYaml(policy.namespace, policy.name, lines.join('\n'));
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** A pod selector for the workload alone, when its pods carry labels that can name it. */
function workloadSelector(workload: Workload): LabelSelector | undefined {
  const labels = workload.pods[0]?.labels ?? {};
  const own = Object.fromEntries(Object.entries(labels).filter(([key]) => key !== 'pod-template-hash'));
  return Object.keys(own).length ? { matchLabels: own, matchExpressions: [] } : undefined;
}

/**
 * Narrows a rule's external addresses to `keep` minus `holes`, leaving its pod peers alone. A rule
 * without peers becomes "every pod, plus the kept addresses". Each ipBlock becomes the CIDRs of `keep`
 * inside it, with the holes (and its own excepts) as excepts, so the result stays short and readable;
 * a block left with nothing is dropped, and so is a rule left without peers.
 */
function keepAddresses(
  rule: PolicyRule,
  keep: IntervalSet<bigint>,
  holes: IntervalSet<bigint>,
): PolicyRule | undefined {
  const everything: PolicyPeer[] = [
    { kind: 'pods', namespaceSelector: { matchLabels: {}, matchExpressions: [] } },
    { kind: 'ipBlock', ipBlock: { cidr: '0.0.0.0/0', except: [] } },
    { kind: 'ipBlock', ipBlock: { cidr: '::/0', except: [] } },
  ];
  const peers = (rule.peers ?? everything).flatMap((peer): PolicyPeer[] => {
    if (peer.kind !== 'ipBlock') return [peer];
    const cidr = parseCidr(peer.ipBlock.cidr);
    if (!cidr) return [peer];
    const excluded = union(holes, addressSet(peer.ipBlock.except));
    const whole: IntervalSet<bigint> = [[cidr.lo, cidr.hi]];
    // The original block stays as written when all of it is kept: only its excepts change.
    const blocks = subtract(whole, keep).length === 0 ? [peer.ipBlock.cidr] : toCidrs(intersect(whole, keep));
    return blocks.flatMap((block): PolicyPeer[] => {
      const range = addressSet([block]);
      const except = intersect(range, excluded);
      if (subtract(range, except).length === 0) return [];
      return [{ kind: 'ipBlock', ipBlock: { cidr: block, except: toCidrs(except) } }];
    });
  });
  // An empty peer list would mean "every peer": the opposite of what is wanted.
  return peers.length ? { ...rule, peers } : undefined;
}

/** NetworkPolicies rewritten; Admin/Baseline-tier rules among `responsible` are left to `tierRemediation`. */
function rewriteRules(
  responsible: readonly Responsible[],
  edit: (rule: PolicyRule) => PolicyRule | undefined,
): string {
  const own = responsible.filter(isNetworkPolicyRule);
  const targets = new Set(own.map((r) => r.rule));
  const policies = [...new Set(own.map((r) => r.policy))];
  return policies
    .map((policy) => rewrittenPolicy(policy, (rule) => (targets.has(rule) ? edit(rule) : rule)))
    .join('---\n');
}

// --- Services -----------------------------------------------------------------------------------

type Fields = Record<string, unknown>;

function specOf(object: KeptObject): Fields {
  const spec = object.object.spec;
  return spec && typeof spec === 'object' ? (spec as Fields) : {};
}

/** A Service with a non-empty selector selects the pods of its namespace carrying every pair. */
function serviceSelects(service: KeptObject, pod: Pod): boolean {
  if (service.namespace !== pod.namespace) return false;
  const selector = specOf(service).selector;
  if (!selector || typeof selector !== 'object') return false;
  const pairs = Object.entries(selector as Fields);
  return pairs.length > 0 && pairs.every(([key, value]) => pod.labels[key] === String(value));
}

function phiWorkloadsOfService(context: AuditContext, service: KeptObject): Workload[] {
  return phiWorkloads(context).filter((w) => w.pods.some((pod) => serviceSelects(service, pod)));
}

const TLS_APP_PROTOCOLS = new Set(['https', 'kubernetes.io/wss', 'tls']);

/** Pod ports that a Service selecting the workload marks as carrying TLS (appProtocol https …). */
function tlsServicePorts(context: AuditContext, workload: Workload): { ports: PortSet; services: string[] } {
  let ports = NO_PORTS;
  const services: string[] = [];
  for (const service of context.snapshot.services) {
    const pods = workload.pods.filter((pod) => serviceSelects(service, pod));
    if (pods.length === 0) continue;
    const entries = Array.isArray(specOf(service).ports) ? (specOf(service).ports as Fields[]) : [];
    for (const entry of entries) {
      const appProtocol = typeof entry.appProtocol === 'string' ? entry.appProtocol.toLowerCase() : '';
      if (!TLS_APP_PROTOCOLS.has(appProtocol)) continue;
      const protocol = (PROTOCOLS as readonly unknown[]).includes(entry.protocol)
        ? (entry.protocol as Protocol)
        : 'TCP';
      const target = entry.targetPort ?? entry.port;
      const numbers =
        typeof target === 'number'
          ? [target]
          : pods.flatMap((pod) =>
              pod.namedPorts.filter((p) => p.name === target && p.protocol === protocol).map((p) => p.port),
            );
      for (const port of numbers) {
        ports = unionPorts(ports, { ...NO_PORTS, [protocol]: [[port, port]] });
        services.push(
          `Service ${objectId(service)} port ${String(entry.port)} -> ${port} appProtocol ${appProtocol}`,
        );
      }
    }
  }
  return { ports, services };
}

// ---------------------------------------------------------------------------------------------------
// Checks

/** HIPAA-NP-013: namespace peers into PHI should pin names, since anyone who can label a namespace can widen them. */
const check013: Check = {
  id: 'HIPAA-NP-013',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const rules: NonNullable<Evidence['rules']> = [];
      const notes: string[] = [];
      const edges: string[] = [];
      const offending: { policy: NetworkPolicy; rule: PolicyRule; peer: number }[] = [];
      const incoming = connectionsOf(context, workload.id, 'ingress');
      for (const policy of isolationOf(context, workload, 'ingress').policies) {
        for (const rule of policy.ingress) {
          const admitsSubject = workload.pods.some(
            (pod) => !isEmptyPorts(portsOf(rule.ports, context.engine.classOf(pod))),
          );
          if (!admitsSubject) continue;
          rule.peers?.forEach((peer, index) => {
            if (peer.kind !== 'pods' || !peer.namespaceSelector) return;
            const custom = mutableKeys(peer.namespaceSelector);
            if (custom.length === 0) return;
            offending.push({ policy, rule, peer: index });
            rules.push({ rule: ruleRef(policy, rule, index), at: where(rule.provenance) });
            const matched = matchedNamespaces(context, peer.namespaceSelector);
            notes.push(
              `${ruleRef(policy, rule, index)}: namespaceSelector ${selectorYaml(peer.namespaceSelector)} selects by ${custom.join(', ')}; ` +
                `now matches ${matched.length ? matched.join(', ') : 'no namespace'}, and any namespace labelled so later gains access`,
            );
            for (const connection of incoming) {
              if (!('workload' in connection.src)) continue;
              const source = context.workloadById.get(connection.src.workload);
              if (source && peerAdmits(context, peer, source)) edges.push(edgeText(connection));
            }
          });
        }
      }
      // Admin- and Baseline-tier Allow rules admitting by namespace label: an Admin-tier one no
      // NetworkPolicy can undo. Baseline-tier ones count only where no NetworkPolicy isolates the pod.
      const tierOffending: TierRule[] = [];
      for (const pod of onePodPerClass(context, workload)) {
        const isolated = podIsolation(context, pod, 'ingress').kind === 'networkPolicy';
        for (const entry of clusterRulesOf(context, pod, 'ingress')) {
          const { policy, rule } = entry;
          if (rule.action !== 'Allow' || (policy.tier === 'Baseline' && isolated)) continue;
          if (isEmptyPorts(clusterPortsOf(rule.ports, context.engine.classOf(pod)))) continue;
          rule.peers.forEach((peer, index) => {
            if (peer.kind !== 'pods') return;
            const custom = mutableKeys(peer.namespaceSelector);
            const ref = `${clusterRuleId(policy, rule)} from[${index}]`;
            if (custom.length === 0 || rules.some((r) => r.rule === ref)) return;
            tierOffending.push(entry);
            rules.push({ rule: ref, at: where(rule.provenance) });
            const matched = matchedNamespaces(context, peer.namespaceSelector);
            notes.push(
              `${ref}: namespaces ${selectorYaml(peer.namespaceSelector)} selects by ${custom.join(', ')}; now matches ${matched.length ? matched.join(', ') : 'no namespace'}, and any namespace labelled so later gains access${policy.tier === 'Admin' ? ' that no NetworkPolicy can take away' : ''}`,
            );
            for (const connection of incoming) {
              if (!('workload' in connection.src)) continue;
              const source = context.workloadById.get(connection.src.workload);
              if (source && peerAdmits(context, peer, source)) edges.push(edgeText(connection));
            }
          });
        }
      }
      if (offending.length === 0 && tierOffending.length === 0) continue;
      const capped = cappedEdges([...new Set(edges)]);
      const firstRule = offending[0]?.rule ?? (tierOffending[0] as TierRule).rule;
      const tierText =
        tierOffending.length > 0
          ? ` In the Admin/Baseline-tier rules cited (${[...new Set(tierOffending.map((t) => clusterRuleId(t.policy, t.rule)))].join(', ')}), a cluster administrator must do the same: select namespaces by kubernetes.io/metadata.name.`
          : '';
      const remediation: Remediation =
        offending.length > 0
          ? remediation013(context, offending)
          : {
              text: 'Select namespaces by their immutable name (kubernetes.io/metadata.name, set by the API server) instead of a label any namespace editor can add.',
            };
      findings.push({
        status: 'fail',
        objects: [
          workload.id,
          ...new Set(offending.map((o) => `${o.policy.namespace}/${o.policy.name}`)),
          ...new Set(tierOffending.map((t) => clusterPolicyId(t.policy))),
        ],
        evidence: { edges: capped.edges, rules, notes: [...notes, ...capped.notes] },
        remediation: { ...remediation, text: `${remediation.text}${tierText}` },
        location: locationOf(firstRule.provenance),
      });
    }
    return findings;
  },
};

/** Keys other than the immutable name, unless the name is pinned too (then a custom key only narrows). */
function mutableKeys(selector: LabelSelector): string[] {
  const pinned =
    Object.hasOwn(selector.matchLabels, METADATA_NAME) ||
    selector.matchExpressions.some((e) => e.key === METADATA_NAME && e.operator === 'In');
  if (pinned) return [];
  const keys = [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((e) => e.key)];
  return [...new Set(keys.filter((key) => key !== METADATA_NAME))];
}

function matchedNamespaces(context: AuditContext, selector: LabelSelector): string[] {
  return [...context.snapshot.namespaces.values()]
    .filter((ns) => selectorMatches(selector, ns.labels))
    .map((ns) => ns.name)
    .sort();
}

function peerAdmits(context: AuditContext, peer: PolicyPeer & { kind: 'pods' }, source: Workload): boolean {
  const labels = context.snapshot.namespaces.get(source.namespace)?.labels ?? {};
  if (peer.namespaceSelector && !selectorMatches(peer.namespaceSelector, labels)) return false;
  return source.pods.some((pod) => !peer.podSelector || selectorMatches(peer.podSelector, pod.labels));
}

function remediation013(
  context: AuditContext,
  offending: readonly { policy: NetworkPolicy; rule: PolicyRule; peer: number }[],
): Remediation {
  const pinned = (rule: PolicyRule): PolicyRule | undefined => {
    const indexes = new Set(offending.filter((o) => o.rule === rule).map((o) => o.peer));
    const peers = (rule.peers ?? []).flatMap((peer, index): PolicyPeer[] => {
      if (!indexes.has(index) || peer.kind !== 'pods' || !peer.namespaceSelector) return [peer];
      const names = matchedNamespaces(context, peer.namespaceSelector);
      if (names.length === 0) return [];
      const namespaceSelector: LabelSelector = {
        matchLabels: {},
        matchExpressions: [{ key: METADATA_NAME, operator: 'In', values: names }],
      };
      return [{ ...peer, namespaceSelector }];
    });
    return peers.length ? { ...rule, peers } : undefined;
  };
  const responsible = offending.map(
    ({ policy, rule }): Responsible => ({ kind: 'networkPolicy', policy, rule, ports: NO_PORTS }),
  );
  return {
    text:
      'Select namespaces by their immutable name (kubernetes.io/metadata.name, set by the API server) ' +
      'instead of a label any namespace editor can add. The policy below pins the namespaces the label ' +
      'matches today (review the list) and drops peers that match none.',
    yaml: rewriteRules(responsible, pinned),
  };
}

/** HIPAA-NP-014: a service listens on a few ports; all ports or a wide range admits whatever else runs. */
const check014: Check = {
  id: 'HIPAA-NP-014',
  run(context) {
    const limit = context.config.maxPortRange;
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const edges: string[] = [];
      const responsible: Responsible[] = [];
      const reasons = new Set<string>();
      for (const connection of connectionsOf(context, workload.id, 'ingress')) {
        let wide = NO_PORTS;
        for (const protocol of PROTOCOLS) {
          for (const [lo, hi] of connection.ports[protocol]) {
            if (lo === 1 && hi === 65535) reasons.add(`all ${protocol} ports`);
            else if (hi - lo + 1 > limit) reasons.add(`${protocol} ${lo}-${hi} (${hi - lo + 1} ports)`);
            else continue;
            wide = unionPorts(wide, { ...NO_PORTS, [protocol]: [[lo, hi]] });
          }
        }
        if (isEmptyPorts(wide)) continue;
        edges.push(edgeText(connection));
        responsible.push(...rulesForConnection(context, workload, connection, 'ingress', wide));
      }
      if (edges.length === 0) continue;
      const isolation = isolationOf(context, workload, 'ingress');
      const capped = cappedEdges(edges);
      const rules = ruleEntries(responsible);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: {
          edges: capped.edges,
          rules,
          notes: [
            `ingress allowed on ${[...reasons].join('; ')} (maxPortRange ${limit})`,
            ...opennessNotes(isolation, 'ingress'),
            ...capped.notes,
          ],
        },
        remediation: {
          text:
            `List the ports ${workload.id} serves in the rules that admit it${rules.length ? ` (${[...new Set(responsible.map(responsibleRef))].join(', ')})` : ''}` +
            `, each as {protocol, port}, and drop port-less entries and endPort ranges wider than ${limit}.` +
            (isolation.isolated
              ? ''
              : ' It is not ingress-isolated: first apply a default-deny (HIPAA-NP-005).') +
            tierRemediation(responsible),
        },
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};

/** HIPAA-NP-015: a wide ipBlock admits networks nobody enumerated; /16 and /48 are the catalogue's bound. */
const check015: Check = {
  id: 'HIPAA-NP-015',
  run(context) {
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const rules: NonNullable<Evidence['rules']> = [];
      const notes: string[] = [];
      const edges = new Set<string>();
      let location: { file: string; line: number } | undefined;
      const external = connectionsOf(context, workload.id, 'ingress').filter((c) => 'external' in c.src);
      const admitting = rulesForAddresses(context, workload, 'ingress', ALL_ADDRESSES);
      for (const { policy, rule, ports } of admitting.filter(isNetworkPolicyRule)) {
        rule.peers?.forEach((peer, index) => {
          if (peer.kind !== 'ipBlock') return;
          const cidr = parseCidr(peer.ipBlock.cidr);
          if (!cidr || cidr.prefix >= (cidr.family === 4 ? 16 : 48)) return;
          location ??= locationOf(rule.provenance);
          rules.push({ rule: ruleRef(policy, rule, index), at: where(rule.provenance) });
          const except = peer.ipBlock.except.length ? ` except ${peer.ipBlock.except.join(', ')}` : '';
          notes.push(
            `ipBlock ${peer.ipBlock.cidr}${except} is a /${cidr.prefix}, broader than /${cidr.family === 4 ? 16 : 48}; admits ${formatPorts(ports)}`,
          );
          const block = ipBlockAddresses(peer.ipBlock);
          for (const connection of external) {
            if (
              'external' in connection.src &&
              intersect(addressSet(connection.src.external), block).length > 0
            )
              edges.add(edgeText(connection));
          }
        });
      }
      if (rules.length === 0) continue;
      const capped = cappedEdges([...edges]);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: { edges: capped.edges, rules, notes: [...notes, ...capped.notes] },
        remediation: {
          text:
            'Replace each broad ipBlock with the specific networks that must reach this PHI workload ' +
            '(a load balancer or partner range, /16 or narrower for IPv4, /48 or narrower for IPv6).',
        },
        location: location ?? locationOf(workload.provenance),
      });
    }
    return findings;
  },
};

/** HIPAA-NP-016: internet egress from PHI is the exfiltration path that segmentation exists to close. */
const check016: Check = {
  id: 'HIPAA-NP-016',
  run(context) {
    const allowed = allowedEgressOf(context);
    const internet = subtract(
      subtract(subtract(ALL_ADDRESSES, NON_PUBLIC_ADDRESSES), allowed.cidrs),
      clusterDnsAddresses(context),
    );
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const edges: string[] = [];
      let reached: IntervalSet<bigint> = [];
      for (const connection of connectionsOf(context, workload.id, 'egress')) {
        if (!('external' in connection.dst)) continue;
        const publicPart = intersect(addressSet(connection.dst.external), internet);
        if (publicPart.length === 0) continue;
        reached = union(reached, publicPart);
        // The block as the engine reports it: the public remainder as CIDRs would run to hundreds.
        edges.push(edgeText(connection));
      }
      if (reached.length === 0) continue;
      const isolation = isolationOf(context, workload, 'egress');
      const responsible = rulesForAddresses(context, workload, 'egress', reached);
      const capped = cappedEdges(edges);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: {
          edges: capped.edges,
          rules: ruleEntries(responsible),
          notes: [
            `the blocks above include internet addresses, e.g. ${firstAddress(reached)}; private and special-purpose ranges${allowed.cidrs.length ? ', allowedEgress' : ''} and cluster DNS are not counted`,
            ...opennessNotes(isolation, 'egress'),
            ...capped.notes,
          ],
        },
        remediation: withTiers(
          responsible,
          remediation016Own(context, workload, isolation, responsible, allowed.cidrs),
        ),
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};

function remediation016Own(
  context: AuditContext,
  workload: Workload,
  isolation: Isolation,
  responsible: readonly Responsible[],
  allowedCidrs: IntervalSet<bigint>,
): Remediation {
  const allowedList = toCidrs(allowedCidrs);
  if (isolation.hostNetwork)
    return { text: 'Run the workload without hostNetwork (HIPAA-NP-023); policies cannot limit its egress.' };
  if (!isolation.isolated) {
    const selector = workloadSelector(workload);
    const text =
      `Isolate ${workload.id} for egress: the policy below allows cluster DNS, pods of its own namespace and ` +
      'allowedEgress only; add rules for the other in-cluster services it calls before applying.';
    if (!selector) return { text: `${text} Its pods carry no labels to select them by: label them first.` };
    const extra = allowedList.map((cidr) => `\n- to:\n    - {ipBlock: {cidr: ${scalar(cidr)}}}`).join('');
    const spec = `podSelector: ${selectorYaml(selector)}\npolicyTypes: [Egress]\negress:\n${indent(`${DNS_RULE_YAML}\n- to:\n    - {podSelector: {}}${extra}`)}`;
    return { text, yaml: policyYaml(workload.namespace, `${workload.name}-egress`, spec) };
  }
  const keep = union(union(PRIVATE, allowedCidrs), clusterDnsAddresses(context));
  const metadata = addressSet(context.config.metadataCIDRs);
  return {
    text:
      'Narrow the rules that admit internet addresses to private ranges and allowedEgress; the rewritten ' +
      'policies below keep every pod peer and add the internet as ipBlock excepts (replace, do not add: ' +
      'policies are additive).',
    yaml: rewriteRules(responsible, (rule) => keepAddresses(rule, keep, metadata)),
  };
}

/** HIPAA-NP-017: DNS to any host tunnels data out through queries; only cluster DNS pods should answer. */
const check017: Check = {
  id: 'HIPAA-NP-017',
  run(context) {
    const dnsAddresses = clusterDnsAddresses(context);
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const edges: string[] = [];
      const responsible: Responsible[] = [];
      for (const connection of connectionsOf(context, workload.id, 'egress')) {
        const dns = intersectPorts(connection.ports, DNS_PORTS);
        if (isEmptyPorts(dns)) continue;
        const dst = connection.dst;
        if ('external' in dst) {
          const other = subtract(addressSet(dst.external), dnsAddresses);
          if (other.length === 0) continue;
          edges.push(edgeText(restrictPorts(connection, DNS_PORTS)));
          responsible.push(...rulesForAddresses(context, workload, 'egress', other, DNS_PORTS));
        } else {
          const target = context.workloadById.get(dst.workload);
          if (!target || isClusterDns(target)) continue;
          edges.push(edgeText(restrictPorts(connection, DNS_PORTS)));
          responsible.push(...rulesForWorkload(context, workload, target, 'egress', DNS_PORTS));
        }
      }
      if (edges.length === 0) continue;
      const isolation = isolationOf(context, workload, 'egress');
      const capped = cappedEdges(edges);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: {
          edges: capped.edges,
          rules: ruleEntries(responsible),
          notes: [
            'port 53 is reachable on hosts other than the cluster DNS pods (kube-system, k8s-app: kube-dns)',
            ...opennessNotes(isolation, 'egress'),
            ...capped.notes,
          ],
        },
        remediation: withTiers(responsible, remediation017Own(workload, isolation, responsible)),
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};

function remediation017Own(
  workload: Workload,
  isolation: Isolation,
  responsible: readonly Responsible[],
): Remediation {
  if (isolation.hostNetwork)
    return { text: 'Run the workload without hostNetwork (HIPAA-NP-023); policies cannot limit its DNS.' };
  // A rule that exists only for DNS can be scoped in place; one that also carries other ports needs a person.
  const dnsOnly = responsible
    .filter(isNetworkPolicyRule)
    .filter(
      ({ rule }) =>
        rule.ports !== undefined && isEmptyPorts(subtractPorts(portsOf(rule.ports, undefined), DNS_PORTS)),
    );
  const mixed = responsible
    .filter((r) => !dnsOnly.includes(r as NetworkPolicyResponsible))
    .map(responsibleRef);
  const mixedText = mixed.length ? ` Remove port 53 (or the any-host peers) from ${mixed.join(', ')}.` : '';
  if (dnsOnly.length > 0) {
    return {
      text: `Scope the DNS rules to the cluster DNS pods on 53/UDP,TCP (rewritten policies below).${mixedText}`,
      yaml: rewriteRules(dnsOnly, (rule) => ({ ...rule, peers: [DNS_PEER] })),
    };
  }
  const selector = workloadSelector(workload);
  const spec = `podSelector: ${selector ? selectorYaml(selector) : '{}'}\npolicyTypes: [Egress]\negress:\n${indent(DNS_RULE_YAML)}`;
  return {
    text:
      `Allow DNS only to the cluster DNS pods with the policy below.${mixedText}` +
      (isolation.isolated
        ? ''
        : ` ${workload.id} is not egress-isolated: the policy isolates it, so add rules for what else it calls.`),
    yaml: policyYaml(workload.namespace, `${workload.name}-dns-egress`, spec),
  };
}

/** HIPAA-NP-018: the metadata service hands out node credentials; PHI pods never need it. */
const check018: Check = {
  id: 'HIPAA-NP-018',
  run(context) {
    const metadata = addressSet(context.config.metadataCIDRs);
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const edges: string[] = [];
      let reached: IntervalSet<bigint> = [];
      for (const connection of connectionsOf(context, workload.id, 'egress')) {
        if (!('external' in connection.dst)) continue;
        const hit = intersect(addressSet(connection.dst.external), metadata);
        if (hit.length === 0) continue;
        reached = union(reached, hit);
        edges.push(edgeText({ ...connection, dst: { external: toCidrs(hit) } }));
      }
      if (reached.length === 0) continue;
      const isolation = isolationOf(context, workload, 'egress');
      const responsible = rulesForAddresses(context, workload, 'egress', reached);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: {
          edges,
          rules: ruleEntries(responsible),
          notes: [
            `metadata addresses reachable: ${toCidrs(reached).join(', ')}`,
            ...opennessNotes(isolation, 'egress'),
          ],
        },
        remediation: withTiers(responsible, remediation018Own(workload, isolation, responsible, metadata)),
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};

function remediation018Own(
  workload: Workload,
  isolation: Isolation,
  responsible: readonly Responsible[],
  metadata: IntervalSet<bigint>,
): Remediation {
  if (isolation.hostNetwork)
    return { text: "Run the workload without hostNetwork (HIPAA-NP-023); its traffic is the node's." };
  if (!isolation.isolated) {
    const selector = workloadSelector(workload);
    const text =
      `Isolate ${workload.id} for egress with the policy below: it allows every destination except the ` +
      'metadata addresses (narrow it further for HIPAA-NP-016).';
    if (!selector) return { text: `${text} Its pods carry no labels to select them by: label them first.` };
    const rule = keepAddresses(
      { direction: 'egress', index: 0, provenance: workload.provenance },
      ALL_ADDRESSES,
      metadata,
    ) as PolicyRule;
    const spec = `podSelector: ${selectorYaml(selector)}\npolicyTypes: [Egress]\negress:\n${indent(ruleYaml(rule))}`;
    return { text, yaml: policyYaml(workload.namespace, `${workload.name}-no-metadata`, spec) };
  }
  return {
    text:
      'Except the metadata addresses from the rules that reach them (rewritten policies below; replace the ' +
      'originals, as policies are additive).',
    yaml: rewriteRules(responsible, (rule) => keepAddresses(rule, ALL_ADDRESSES, metadata)),
  };
}

/** HIPAA-NP-019: PHI calling into other namespaces is ePHI movement the organisation must have approved. */
const check019: Check = {
  id: 'HIPAA-NP-019',
  run(context) {
    const allowed = allowedEgressOf(context).namespaces;
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const edges: string[] = [];
      const responsible: Responsible[] = [];
      const namespaces = new Set<string>();
      for (const connection of connectionsOf(context, workload.id, 'egress')) {
        if (!('workload' in connection.dst)) continue;
        const target = context.workloadById.get(connection.dst.workload);
        if (!target || target.namespace === workload.namespace || allowed.has(target.namespace)) continue;
        // A flow between PHI workloads stays inside the ePHI boundary; 011 and 012 govern its ingress side.
        if (context.phi.phi.has(target.id)) continue;
        // DNS to the cluster DNS pods is how every pod resolves names, not a flow of ePHI.
        const ports = isClusterDns(target) ? subtractPorts(connection.ports, DNS_PORTS) : connection.ports;
        if (isEmptyPorts(ports)) continue;
        namespaces.add(target.namespace);
        edges.push(edgeText({ ...connection, ports }));
        responsible.push(...rulesForWorkload(context, workload, target, 'egress', ports));
      }
      if (edges.length === 0) continue;
      const isolation = isolationOf(context, workload, 'egress');
      const capped = cappedEdges(edges);
      findings.push({
        status: 'fail',
        objects: [workload.id],
        evidence: {
          edges: capped.edges,
          rules: ruleEntries(responsible),
          notes: [
            `reaches namespaces outside allowedEgress: ${[...namespaces].sort().join(', ')}`,
            ...opennessNotes(isolation, 'egress'),
            ...capped.notes,
          ],
        },
        remediation: {
          text:
            `Narrow the rules listed to the namespaces and pods ${workload.id} must call, selecting namespaces ` +
            'by kubernetes.io/metadata.name; add approved destinations to allowedEgress in phiwall.yaml.' +
            tierRemediation(responsible),
        },
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};

/** HIPAA-NP-020: a policy shows which ports are open, not whether they carry TLS; a person must judge. */
const check020: Check = {
  id: 'HIPAA-NP-020',
  run(context) {
    const tls: PortSet = {
      TCP: normalize(context.config.tlsPorts.map((p) => [p, p] as const)),
      UDP: normalize(context.config.tlsPorts.map((p) => [p, p] as const)),
      SCTP: normalize(context.config.tlsPorts.map((p) => [p, p] as const)),
    };
    const findings: FindingDraft[] = [];
    for (const workload of phiWorkloads(context)) {
      const marked = tlsServicePorts(context, workload);
      const trusted = unionPorts(tls, marked.ports);
      const edges: string[] = [];
      const responsible: Responsible[] = [];
      let plain = NO_PORTS;
      for (const connection of connectionsOf(context, workload.id, 'ingress')) {
        const ports = subtractPorts(connection.ports, trusted);
        if (isEmptyPorts(ports)) continue;
        plain = unionPorts(plain, ports);
        edges.push(edgeText({ ...connection, ports }));
        responsible.push(...rulesForConnection(context, workload, connection, 'ingress', ports));
      }
      if (edges.length === 0) continue;
      const capped = cappedEdges(edges);
      const notes = [
        `ingress allowed on ${formatPorts(plain)}, outside tlsPorts [${context.config.tlsPorts.join(', ')}]`,
        ...(marked.services.length ? [`TLS marked by ${marked.services.join('; ')}`] : []),
        ...(context.snapshot.services.length === 0
          ? ['no Services in input: add them so ports marked appProtocol: https can pass']
          : []),
        ...opennessNotes(isolationOf(context, workload, 'ingress'), 'ingress'),
        ...capped.notes,
      ];
      findings.push({
        status: 'needs-review',
        objects: [workload.id],
        evidence: { edges: capped.edges, rules: ruleEntries(responsible), notes },
        remediation: {
          text:
            'Confirm these ports carry TLS. Where the pod terminates TLS, set appProtocol: https on the ' +
            'Service port that targets it; otherwise serve on a TLS port, or accept the finding with a reason ' +
            '(e.g. mTLS by a service mesh).' +
            tierRemediation(responsible),
        },
        location: findingLocation(responsible, workload),
      });
    }
    return findings;
  },
};

/** HIPAA-NP-021: an Ingress without TLS carries ePHI in cleartext from clients to the cluster edge. */
const check021: Check = {
  id: 'HIPAA-NP-021',
  run(context) {
    const { ingresses, services } = context.snapshot;
    if (ingresses.length === 0 || services.length === 0) {
      const missing = [ingresses.length === 0 ? 'Ingress' : '', services.length === 0 ? 'Service' : '']
        .filter(Boolean)
        .join(' and ');
      return [
        {
          status: 'not-assessable',
          objects: [],
          evidence: {
            notes: [
              `no ${missing} objects in input: add the Ingress and Service manifests to assess routes to PHI`,
            ],
          },
        },
      ];
    }
    const findings: FindingDraft[] = [];
    for (const ingress of ingresses) {
      const spec = specOf(ingress);
      const tls = Array.isArray(spec.tls) ? (spec.tls as Fields[]) : [];
      const covered = (host: string | undefined): boolean =>
        tls.some((entry) => {
          const hosts = Array.isArray(entry.hosts) ? (entry.hosts as unknown[]).map(String) : [];
          // A TLS entry without hosts applies to every host the controller serves.
          if (hosts.length === 0) return true;
          if (host === undefined) return false;
          return hosts.some((h) => hostMatches(h, host));
        });
      const plainRoutes: { host?: string; path: string; service: string; at: string }[] = [];
      for (const route of routesOf(ingress)) if (!covered(route.host)) plainRoutes.push(route);
      const phiServices = new Map<string, Workload[]>();
      const missing = new Set<string>();
      const notes: string[] = [];
      for (const route of plainRoutes) {
        const service = services.find((s) => s.namespace === ingress.namespace && s.name === route.service);
        if (!service) {
          missing.add(route.service);
          continue;
        }
        const workloads = phiWorkloadsOfService(context, service);
        if (workloads.length === 0) continue;
        phiServices.set(objectId(service), workloads);
        notes.push(
          `${route.host ?? '(any host)'}${route.path} -> Service ${objectId(service)} (selects ${workloads.map((w) => w.id).join(', ')}) at ${route.at}: no spec.tls entry covers the host`,
        );
      }
      if (phiServices.size > 0) {
        const hosts = [
          ...new Set(plainRoutes.map((r) => r.host).filter((h): h is string => h !== undefined)),
        ];
        findings.push({
          status: 'fail',
          objects: [
            objectId(ingress),
            ...phiServices.keys(),
            ...[...phiServices.values()].flat().map((w) => w.id),
          ],
          evidence: { notes },
          remediation: {
            text:
              `Serve these hosts over TLS: add a spec.tls entry (kubectl patch ingress ${ingress.name} -n ${ingress.namespace} ` +
              '--type merge --patch-file tls.yaml, with the certificate in the named Secret) and redirect HTTP to HTTPS.',
            yaml: `spec:\n  tls:\n    - hosts: [${hosts.map(scalar).join(', ')}]\n      secretName: ${ingress.name}-tls\n`,
          },
          location: locationOf(ingress.provenance),
        });
      } else if (missing.size > 0) {
        findings.push({
          status: 'not-assessable',
          objects: [objectId(ingress)],
          evidence: {
            notes: [
              `routes without TLS lead to Services not in input: ${[...missing].map((s) => `${ingress.namespace}/${s}`).join(', ')}; add them to assess whether they select PHI`,
            ],
          },
          location: locationOf(ingress.provenance),
        });
      }
    }
    return findings;
  },
};

/** `*.example.com` covers exactly one more label, as TLS certificates do. */
function hostMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1);
  const label = host.slice(0, host.length - suffix.length);
  return host.endsWith(suffix) && label.length > 0 && !label.includes('.');
}

/** Backends of an Ingress, networking.k8s.io/v1 and the older extensions/v1beta1 shape. */
function routesOf(ingress: KeptObject): { host?: string; path: string; service: string; at: string }[] {
  const spec = specOf(ingress);
  const at = where(ingress.provenance);
  const serviceOf = (backend: unknown): string | undefined => {
    if (!backend || typeof backend !== 'object') return undefined;
    const fields = backend as Fields;
    const service = fields.service as Fields | undefined;
    const name = service?.name ?? fields.serviceName;
    return typeof name === 'string' ? name : undefined;
  };
  const routes: { host?: string; path: string; service: string; at: string }[] = [];
  const fallback = serviceOf(spec.defaultBackend ?? spec.backend);
  if (fallback) routes.push({ path: ' (default backend)', service: fallback, at });
  for (const rule of Array.isArray(spec.rules) ? (spec.rules as Fields[]) : []) {
    const host = typeof rule.host === 'string' ? rule.host : undefined;
    const http = (rule.http ?? {}) as Fields;
    for (const path of Array.isArray(http.paths) ? (http.paths as Fields[]) : []) {
      const service = serviceOf(path.backend);
      if (service) routes.push({ host, path: typeof path.path === 'string' ? path.path : '/', service, at });
    }
  }
  return routes;
}

/** HIPAA-NP-022: node-level exposure SNATs clients to node addresses, so `from` rules no longer see them. */
const check022: Check = {
  id: 'HIPAA-NP-022',
  run(context) {
    if (context.snapshot.services.length === 0) {
      return [
        {
          status: 'not-assessable',
          objects: [],
          evidence: {
            notes: ['no Service objects in input: add the Service manifests to assess PHI exposure'],
          },
        },
      ];
    }
    const findings: FindingDraft[] = [];
    for (const service of context.snapshot.services) {
      const spec = specOf(service);
      const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP';
      const externalIPs = Array.isArray(spec.externalIPs) ? (spec.externalIPs as unknown[]).map(String) : [];
      const exposure = [
        ...(type === 'NodePort' || type === 'LoadBalancer' ? [`type ${type}`] : []),
        ...(externalIPs.length ? [`externalIPs ${externalIPs.join(', ')}`] : []),
      ];
      if (exposure.length === 0) continue;
      const workloads = phiWorkloadsOfService(context, service);
      if (workloads.length === 0) continue;
      const ports = (Array.isArray(spec.ports) ? (spec.ports as Fields[]) : []).map(
        (p) =>
          `${String(p.protocol ?? 'TCP')} ${String(p.port)}${p.nodePort ? ` (nodePort ${String(p.nodePort)})` : ''}`,
      );
      const edges = workloads.flatMap((w) =>
        connectionsOf(context, w.id, 'ingress')
          .filter((c) => 'external' in c.src)
          .map(edgeText),
      );
      const capped = cappedEdges(edges);
      findings.push({
        status: 'fail',
        objects: [objectId(service), ...workloads.map((w) => w.id)],
        evidence: {
          edges: capped.edges,
          notes: [
            `Service ${objectId(service)} is exposed by ${exposure.join(' and ')} on ${ports.join(', ') || 'no ports'} and selects PHI: ${workloads.map((w) => w.id).join(', ')}`,
            ...(spec.externalTrafficPolicy === 'Local'
              ? []
              : ["externalTrafficPolicy is not Local: client addresses are SNAT'd to node addresses"]),
            ...capped.notes,
          ],
        },
        remediation: {
          text:
            'Make the Service type ClusterIP and publish PHI through an Ingress or gateway with TLS and ' +
            'authentication. If node-level exposure is required, set externalTrafficPolicy: Local and ' +
            'loadBalancerSourceRanges, and restrict ingress by ipBlock to those ranges.',
        },
        location: locationOf(service.provenance),
      });
    }
    return findings;
  },
};

/** HIPAA-NP-023: a hostNetwork pod shares the node's network namespace, where pod policies do not apply. */
const check023: Check = {
  id: 'HIPAA-NP-023',
  run(context) {
    return phiWorkloads(context).flatMap((workload): FindingDraft[] => {
      const pods = workload.pods.filter((p) => p.hostNetwork);
      if (pods.length === 0) return [];
      return [
        {
          status: 'fail',
          objects: [workload.id],
          evidence: {
            notes: [
              `spec.hostNetwork: true on ${pods.map((p) => `${p.namespace}/${p.name}`).join(', ')} (${context.phi.phi.get(workload.id)})`,
              `its traffic is the node's: ${context.engine.options.hostNetwork === 'node' ? 'policies neither isolate nor select it' : 'the engine polices it as a pod (--host-network pod), as only some CNIs do'}`,
            ],
          },
          remediation: {
            text: `Remove hostNetwork from ${workload.id}'s pod spec and expose it through a Service; keep it off PHI nodes otherwise.`,
          },
          location: locationOf(workload.provenance),
        },
      ];
    });
  },
};

/** HIPAA-NP-024: a hostPort opens the pod on the node's address, beside the pod network policies guard. */
const check024: Check = {
  id: 'HIPAA-NP-024',
  run(context) {
    return phiWorkloads(context).flatMap((workload): FindingDraft[] => {
      const declared = new Set<string>();
      for (const pod of workload.pods) {
        for (const container of pod.containers) {
          for (const port of container.hostPorts)
            declared.add(`container ${container.name} hostPort ${port}`);
        }
      }
      if (declared.size === 0) return [];
      return [
        {
          status: 'fail',
          objects: [workload.id],
          evidence: {
            notes: [
              ...declared,
              "traffic to a hostPort arrives via the node and is SNAT'd on many CNIs, so `from` rules may not see the client",
            ],
          },
          remediation: {
            text: `Remove hostPort from ${workload.id}'s containers and reach it through a ClusterIP Service.`,
          },
          location: locationOf(workload.provenance),
        },
      ];
    });
  },
};

export const exposureChecks: readonly Check[] = [
  check013,
  check014,
  check015,
  check016,
  check017,
  check018,
  check019,
  check020,
  check021,
  check022,
  check023,
  check024,
];
