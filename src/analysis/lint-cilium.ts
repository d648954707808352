import { partitionAddresses } from '../engine/address-partition.ts';
import { CiliumAdapter } from '../engine/cilium/adapter.ts';
import {
  ciliumNodes,
  ciliumSelectorMatches,
  nodeIdentityLabels,
  peerCidrs,
  podIdentityLabels,
} from '../engine/cilium/identity.ts';
import type { Engine, PodClass } from '../engine/engine.ts';
import { contains, type IntervalSet, intersect, subtract, union } from '../engine/intervals.ts';
import type { KindPolicy, KindRule } from '../engine/kind-rules.ts';
import { equalPorts, isEmptyPorts, subtractPorts } from '../engine/ports.ts';
import {
  type CiliumPeer,
  type CiliumPolicy,
  type CiliumRule,
  type CiliumSelector,
  ciliumPolicyId,
  ciliumRuleId,
  POD_NAMESPACE_LABEL,
} from '../model/cilium.ts';
import type { Direction, Snapshot } from '../model/types.ts';
import { where } from '../report/explain.ts';
import type { DnsTarget } from './lint-dns.ts';
import { dnsPatternAllows } from './named-peers.ts';
import { isolatingPolicies, type LintFinding, PodIndex, selectorText } from './policy-hygiene.ts';

const FQDN_DOCS = 'https://docs.cilium.io/en/stable/security/policy/language/#dns-based';

interface Entry {
  policy: CiliumPolicy;
  compiled: KindPolicy;
  index: number;
}

/** A rule as written, with the rule the adapter compiled it to. */
interface Written {
  entry: Entry;
  rule: CiliumRule;
  compiled: KindRule;
}

/**
 * The lint rules about CiliumNetworkPolicies and CiliumClusterwideNetworkPolicies: PW-LINT-030 to
 * PW-LINT-034, and PW-LINT-013 for peers in namespaces the input holds no pods of.
 */
export function lintCiliumPolicies(
  snapshot: Snapshot,
  engine: Engine,
  dns: readonly DnsTarget[],
): LintFinding[] {
  if (snapshot.ciliumPolicies.length === 0) return [];
  let id = 0;
  const adapter = new CiliumAdapter(snapshot, engine.classes);
  const compiled = adapter.compile(() => id++);
  const entries = snapshot.ciliumPolicies.map((policy, index) => ({
    policy,
    compiled: compiled[index] as KindPolicy,
    index,
  }));
  const written = entries.flatMap((entry) =>
    [...entry.policy.ingress, ...entry.policy.egress].map((rule) => ({
      entry,
      rule,
      compiled: entry.compiled.rules[rule.direction].find(
        (r) => r.origin.rule === ciliumRuleId(entry.policy, rule),
      ) as KindRule,
    })),
  );
  const lint = new CiliumLint(snapshot, engine, adapter, entries);
  return [
    ...lint.selectsNothing(),
    ...lint.peersSelectingNothing(written),
    ...lint.coverage(written),
    ...lint.fqdnWithoutDns(written, dns),
  ];
}

/** `CiliumNetworkPolicy/ns/name#spec.egress[0]`: the policy, then the field path inside the object. */
function path(policy: CiliumPolicy, rest: string): string {
  const name = policy.namespace ? `${policy.namespace}/${policy.name}` : policy.name;
  return `${policy.kind}/${name}#${policy.specPath}.${rest}`;
}

function rulePath(policy: CiliumPolicy, rule: CiliumRule): string {
  return path(policy, `${rule.field}[${rule.index}]`);
}

const PEER_FIELDS: Partial<Record<CiliumPeer['kind'], string>> = {
  endpoints: 'Endpoints',
  nodes: 'Nodes',
  cidrGroup: 'CIDRSet',
};

class CiliumLint {
  /** The policies selecting each endpoint class, as a key: classes under the same policies lint alike. */
  private readonly policiesOf = new Map<number, Entry[]>();
  private readonly pods: PodIndex;
  private readonly groupCache = new Map<string, Set<number>>();

  constructor(
    private readonly snapshot: Snapshot,
    private readonly engine: Engine,
    private readonly adapter: CiliumAdapter,
    private readonly entries: readonly Entry[],
  ) {
    for (const entry of entries) {
      for (const subject of entry.compiled.subjects) {
        const list = this.policiesOf.get(subject);
        if (list) list.push(entry);
        else this.policiesOf.set(subject, [entry]);
      }
    }
    this.pods = new PodIndex({ snapshot, engine });
  }

  // PW-LINT-030
  *selectsNothing(): Generator<LintFinding> {
    for (const { policy, compiled } of this.entries) {
      if (compiled.subjects.size > 0) continue;
      const hint = policy.namespace ? this.pods.labelHint(policy.namespace) : undefined;
      yield {
        rule: 'PW-LINT-030',
        at: policy.provenance,
        policy: ciliumPolicyId(policy),
        path: path(policy, 'endpointSelector'),
        message: `${ciliumPolicyId(policy)} selects no endpoint: its endpointSelector ${selectorText(policy.endpointSelector)} matches no pod in the input${hint ? `; ${hint}` : ''}`,
        fix: `Correct the endpointSelector of ${ciliumPolicyId(policy)} to the pods it is meant to govern, or delete it.`,
      };
    }
  }

  // PW-LINT-031, and PW-LINT-013 for endpoint peers in namespaces the input holds no pods of.
  *peersSelectingNothing(written: readonly Written[]): Generator<LintFinding> {
    const populated = new Set(this.snapshot.pods.map((p) => p.namespace));
    const hasNodes = this.snapshot.nodes.length > 0;
    for (const { entry, rule } of written) {
      const { policy } = entry;
      const seen = new Map<string, number>();
      const prefix = rule.direction === 'ingress' ? 'from' : 'to';
      for (const peer of rule.peers ?? []) {
        const kind = PEER_FIELDS[peer.kind];
        if (!kind) continue;
        const index = seen.get(kind) ?? 0;
        seen.set(kind, index + 1);
        const field = `${rule.field}[${rule.index}].${prefix}${kind}`;
        const at = `${ciliumRuleId(policy, rule)} ${prefix}${kind}`;
        let why: string | undefined;
        let outside: string[] | undefined;
        if (peer.kind === 'endpoints') {
          const matched = this.adapter.selector(peer.selector);
          if (matched.classes.size > 0 || matched.addresses.length > 0) continue;
          const namespaces = pinnedNamespaces(peer.selector);
          if (namespaces?.every((ns) => !populated.has(ns))) outside = namespaces;
          why = `selector ${selectorText(peer.selector)} matches no pod in the input`;
        } else if (peer.kind === 'nodes') {
          // Without Node objects the input says nothing about nodes.
          if (!hasNodes) continue;
          const nodes = ciliumNodes(this.snapshot.nodes);
          if (nodes.some((n) => ciliumSelectorMatches(peer.selector, nodeIdentityLabels(n)))) continue;
          why = `selector ${selectorText(peer.selector)} matches no Cilium node in the input`;
        } else if (peer.kind === 'cidrGroup') {
          if (peerCidrs(peer, this.snapshot.ciliumCidrGroups).length > 0) continue;
          why = `${peer.ref !== undefined ? `cidrGroupRef ${peer.ref}` : `cidrGroupSelector ${selectorText(peer.selector ?? { matchLabels: {}, matchExpressions: [] })}`} names no CiliumCIDRGroup in the input (or only groups without CIDRs)`;
        }
        if (!why) continue;
        const indexed = peer.kind === 'cidrGroup' ? field : `${field}[${index}]`;
        yield outside
          ? {
              rule: 'PW-LINT-013',
              at: rule.provenance,
              policy: ciliumPolicyId(policy),
              path: path(policy, indexed),
              message: `${at}[${index}] selects pods in ${outside.join(', ')}, which the input holds no pods of: what it admits is not checked`,
              fix: `Add the manifests of ${outside.join(', ')} to the input to check this peer, or ignore this note.`,
            }
          : {
              rule: 'PW-LINT-031',
              at: rule.provenance,
              policy: ciliumPolicyId(policy),
              path: path(policy, indexed),
              message: `${at}${peer.kind === 'cidrGroup' ? '' : `[${index}]`} matches nothing: its ${why}, so the rule never applies to the traffic it was written for`,
              fix: 'Correct the peer to the pods, nodes or CIDR groups it is meant to name, or delete it.',
            };
      }
    }
  }

  /**
   * PW-LINT-032 (an allow every connection of which a deny takes) and PW-LINT-033 (a rule whose removal
   * changes nothing: other rules allow or deny all it matches, for every endpoint it applies to).
   * Rules found redundant no longer count as covering later ones, so of two twins one is reported.
   */
  *coverage(written: readonly Written[]): Generator<LintFinding> {
    const redundant = new Set<KindRule>();
    for (const { entry, rule, compiled } of written) {
      const { policy } = entry;
      if (entry.compiled.subjects.size === 0) continue;
      // toServices and L7 rules allow what phiwall cannot see in full; an isolation-only rule `{}` matches nothing.
      if (compiled.origin.note || rule.peers?.some((p) => p.kind === 'service')) continue;
      const fqdn = rule.peers?.some((p) => p.kind === 'fqdn') ?? false;
      // toFQDNs names resolve to some external addresses: only a rule taking all of them takes theirs.
      const addresses = fqdn ? union(compiled.addresses, this.adapter.worldAddresses) : compiled.addresses;
      if (compiled.classes.size === 0 && addresses.length === 0) continue;
      const groups = this.subjectGroups(entry, rule.direction);
      const others = (subject: number, action: 'Allow' | 'Deny') =>
        (this.policiesOf.get(subject) ?? []).flatMap((e) =>
          e.compiled.rules[rule.direction].filter(
            (r) => r !== compiled && r.action === action && !r.origin.note && !redundant.has(r),
          ),
        );
      const check = (covering: (subject: number) => KindRule[]) => {
        const used = new Set<KindRule>();
        for (const subject of groups) {
          const byClass = this.covered(compiled, addresses, covering(subject), subject, rule.direction);
          if (!byClass) return undefined;
          for (const r of byClass) used.add(r);
        }
        // Covered by nothing: the rule matches no connection at all (a named port no pod defines).
        return used.size > 0 ? [...used] : undefined;
      };
      const id = ciliumRuleId(policy, rule);
      const list = (rules: KindRule[]) =>
        rules.map((r) => `${r.origin.rule} (${where(r.origin.provenance)})`).join(', ');
      const denies = rule.deny ? undefined : check((s) => others(s, 'Deny'));
      if (denies) {
        yield {
          rule: 'PW-LINT-032',
          at: rule.provenance,
          policy: ciliumPolicyId(policy),
          path: rulePath(policy, rule),
          message: `${id} allows nothing: ${list(denies)} ${denies.length === 1 ? 'denies' : 'deny'} every connection it matches, for every endpoint it applies to (a deny wins over every allow)`,
          fix: `Narrow ${denies.map((r) => r.origin.rule).join(', ')} if this traffic is meant to be allowed; otherwise delete ${id}.`,
        };
        continue;
      }
      const action = rule.deny ? 'Deny' : 'Allow';
      const staysIsolated = [...groups].every((s) => this.isolatedWithout(s, entry, rule.direction));
      if (!rule.deny && !staysIsolated) continue;
      const covering = check((s) => [...others(s, action), ...(rule.deny ? [] : others(s, 'Deny'))]);
      if (!covering) continue;
      redundant.add(compiled);
      yield {
        rule: 'PW-LINT-033',
        at: rule.provenance,
        policy: ciliumPolicyId(policy),
        path: rulePath(policy, rule),
        message: `${id} is redundant: ${list(covering)} already ${rule.deny ? 'deny' : 'decide'} every connection it matches, for every endpoint it applies to`,
        fix: `Delete ${id}, or narrow the other rules if they were not meant to cover it.`,
      };
    }
  }

  /** One subject per group of subjects under the same policies (and, for ingress, the same named ports). */
  private subjectGroups(entry: Entry, direction: Direction): Set<number> {
    const cacheKey = `${entry.index}|${direction}`;
    let groups = this.groupCache.get(cacheKey);
    if (!groups) {
      const seen = new Map<string, number>();
      for (const s of entry.compiled.subjects) {
        const c = this.engine.classes[s] as PodClass;
        const policies = (this.policiesOf.get(s) ?? []).map((e) => e.index).join(',');
        const key = `${policies}|${direction === 'ingress' ? c.namedPortsId : ''}`;
        if (!seen.has(key)) seen.set(key, s);
      }
      groups = new Set(seen.values());
      this.groupCache.set(cacheKey, groups);
    }
    return groups;
  }

  /**
   * The rules of `covering` that together match every connection `rule` matches for `subject` (peer
   * classes and `addresses`, on the rule's ports), or undefined when some connection is left.
   */
  private covered(
    rule: KindRule,
    addresses: IntervalSet<bigint>,
    covering: readonly KindRule[],
    subject: number,
    direction: Direction,
  ): KindRule[] | undefined {
    const classes = this.engine.classes;
    const own = classes[subject] as PodClass;
    const used = new Set<KindRule>();
    for (const peer of rule.classes) {
      const destination = direction === 'egress' ? (classes[peer] as PodClass) : own;
      let left = rule.ports(destination);
      for (const other of covering) {
        if (isEmptyPorts(left)) break;
        if (!other.classes.has(peer)) continue;
        const after = subtractPorts(left, other.ports(destination));
        if (!isEmptyPorts(subtractPorts(left, after))) used.add(other);
        left = after;
      }
      if (!isEmptyPorts(left)) return undefined;
    }
    const destination = direction === 'egress' ? undefined : own;
    const ports = rule.ports(destination);
    // Rules taking every port of the rule cut addresses away whole; the others are weighed per address
    // only for what the first leave, and only when together they reach all of it.
    let rest = addresses;
    const partial: KindRule[] = [];
    for (const other of covering) {
      if (rest.length === 0) break;
      if (other.addresses.length === 0) continue;
      const theirs = other.ports(destination);
      const left = subtractPorts(ports, theirs);
      if (equalPorts(left, ports)) continue;
      if (!isEmptyPorts(left)) partial.push(other);
      else if (intersect(rest, other.addresses).length > 0) {
        used.add(other);
        rest = subtract(rest, other.addresses);
      }
    }
    if (rest.length === 0) return [...used];
    const reach = partial.reduce<IntervalSet<bigint>>((all, r) => union(all, r.addresses), []);
    if (subtract(rest, reach).length > 0) return undefined;
    const open = partitionAddresses([rest, ...partial.map((r) => r.addresses)], (address) => {
      if (!contains(rest, address)) return undefined;
      let left = ports;
      for (const other of partial) {
        if (!contains(other.addresses, address)) continue;
        const after = subtractPorts(left, other.ports(destination));
        if (!isEmptyPorts(subtractPorts(left, after))) used.add(other);
        left = after;
      }
      return left;
    });
    return open.length === 0 ? [...used] : undefined;
  }

  /** Whether the subject stays isolated in the direction with one rule of `entry` gone. */
  private isolatedWithout(subject: number, entry: Entry, direction: Direction): boolean {
    const cilium = (this.policiesOf.get(subject) ?? []).some(
      (e) => e.compiled.isolates[direction] && (e !== entry || e.policy[direction].length > 1),
    );
    const c = this.engine.classes[subject] as PodClass;
    return cilium || isolatingPolicies(this.engine, c, direction).length > 0;
  }

  /**
   * PW-LINT-034: Cilium learns the addresses of a toFQDNs name only from DNS answers its DNS proxy
   * intercepts, and it intercepts only lookups an L7 DNS rule (`rules: dns`) of the endpoint sends
   * through it; a name the DNS rules refuse is never looked up ({@link FQDN_DOCS}, "DNS Proxy").
   */
  *fqdnWithoutDns(written: readonly Written[], targets: readonly DnsTarget[]): Generator<LintFinding> {
    for (const { entry, rule } of written) {
      const { policy } = entry;
      if (rule.direction !== 'egress' || rule.deny) continue;
      const names = (rule.peers ?? []).flatMap((p) => (p.kind === 'fqdn' ? [p.pattern] : []));
      if (names.length === 0 || entry.compiled.subjects.size === 0) continue;
      const lacking: { subject: number; refused?: string[] }[] = [];
      for (const subject of this.subjectGroups(entry, 'egress')) {
        const dnsRules = (this.policiesOf.get(subject) ?? []).flatMap((e) =>
          e.policy.egress.filter(
            (r) => !r.deny && r.dns !== undefined && reachesDns(this.snapshot, r, targets),
          ),
        );
        const patterns = dnsRules.flatMap((r) => r.dns ?? []);
        const refused = names.filter((name) => !patterns.some((p) => dnsPatternAllows(p, name)));
        if (dnsRules.length === 0) lacking.push({ subject });
        else if (refused.length > 0) lacking.push({ subject, refused });
      }
      const first = lacking.find((l) => !l.refused) ?? lacking[0];
      if (!first) continue;
      const pod = (this.engine.classes[first.subject] as PodClass).pods[0];
      const endpoints = `the endpoints it applies to${pod ? ` (e.g. ${pod.namespace}/${pod.name})` : ''}`;
      const why = first.refused
        ? `the DNS rules (rules.dns) of ${endpoints} refuse lookups of ${first.refused.join(', ')}`
        : `${endpoints} have no egress rule to the cluster DNS on port 53 with rules.dns`;
      yield {
        rule: 'PW-LINT-034',
        at: rule.provenance,
        policy: ciliumPolicyId(policy),
        path: rulePath(policy, rule),
        message: `${ciliumRuleId(policy, rule)} allows toFQDNs ${names.join(', ')}, but ${why}: Cilium learns the addresses of these names only from lookups its DNS proxy lets through, so the rule allows nothing (${FQDN_DOCS})`,
        fix: `Add an egress rule for these endpoints: toEndpoints [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s:k8s-app: kube-dns}}], toPorts [{ports: [{port: "53", protocol: ANY}], rules: {dns: [{matchPattern: "*"}]}}] (or dns entries naming ${names.join(', ')}).`,
      };
    }
  }
}

/** The namespaces an endpoint selector pins down by `io.kubernetes.pod.namespace`, or undefined. */
function pinnedNamespaces(selector: CiliumSelector): string[] | undefined {
  const keys = [`k8s:${POD_NAMESPACE_LABEL}`, `any:${POD_NAMESPACE_LABEL}`];
  for (const key of keys) {
    const value = selector.matchLabels[key];
    if (value !== undefined) return [value];
  }
  const expression = selector.matchExpressions.find((e) => keys.includes(e.key) && e.operator === 'In');
  return expression ? [...expression.values] : undefined;
}

/** Whether a rule's peers and ports reach one of the DNS targets, wherever their pods run. */
function reachesDns(snapshot: Snapshot, rule: CiliumRule, targets: readonly DnsTarget[]): boolean {
  return targets.some((target) => {
    const namespaceLabels = snapshot.namespaces.get(target.namespace)?.labels ?? {
      'kubernetes.io/metadata.name': target.namespace,
    };
    const identity = podIdentityLabels(
      { namespace: target.namespace, labels: target.podLabels },
      namespaceLabels,
    );
    const peers =
      rule.peers === undefined ||
      rule.peers.some(
        (peer) =>
          (peer.kind === 'endpoints' && ciliumSelectorMatches(peer.selector, identity)) ||
          (peer.kind === 'entity' && (peer.entity === 'cluster' || peer.entity === 'all')),
      );
    const ports = (rule.ports ?? []).some(
      (p) =>
        p.protocols.some((protocol) => protocol === 'UDP' || protocol === 'TCP') &&
        (p.port === undefined ||
          (typeof p.port === 'string'
            ? p.port === 'dns' || p.port === 'dns-tcp'
            : target.ports.some((t) => (p.port as number) <= t && t <= (p.endPort ?? (p.port as number))))),
    );
    return peers && ports;
  });
}
