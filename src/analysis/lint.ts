import { portsOf } from '../engine/compile.ts';
import { Engine, type PodClass } from '../engine/engine.ts';
import { PeerMatcher } from '../engine/peer-matcher.ts';
import {
  formatPorts,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  portsKey,
  subtractPorts,
  unionPorts,
} from '../engine/ports.ts';
import { selectorMatches } from '../engine/selectors.ts';
import {
  type Direction,
  type LabelSelector,
  type NetworkPolicy,
  type Pod,
  type PolicyPort,
  type PolicyRule,
  PROTOCOLS,
  type Protocol,
  type Provenance,
  type Snapshot,
  type Workload,
} from '../model/types.ts';
import { where } from '../report/explain.ts';
import { lintCalicoPolicies } from './lint-calico.ts';
import { lintCiliumPolicies } from './lint-cilium.ts';
import { lintClusterPolicies } from './lint-cluster.ts';
import {
  admitsDnsTarget,
  type DnsTarget,
  dnsRuleSuggestion,
  namedNamespaces,
  peersReachDns,
  portsAdmit,
  WELL_KNOWN_DNS,
} from './lint-dns.ts';
import {
  coveredBy,
  emptyPeers,
  isolatingPolicies,
  isolatingRules,
  PodIndex,
  policyId,
  ruleHygiene,
  rulePath,
  selectableClasses,
  selectorText,
} from './policy-hygiene.ts';

/** `info`: worth knowing, not a problem in what the input shows (e.g. peers outside the input). */
export type LintSeverity = 'error' | 'warning' | 'info';

export interface LintRule {
  id: string;
  /** A short camelCase name, as SARIF wants one. */
  name: string;
  severity: LintSeverity;
  title: string;
  help: string;
}

export type { DnsTarget } from './lint-dns.ts';

export const LINT_RULES: readonly LintRule[] = [
  {
    id: 'PW-LINT-001',
    name: 'policySelectsNothing',
    severity: 'warning',
    title: 'Policy selects no workload',
    help: 'spec.podSelector matches no pod of the policy’s namespace in the input: the policy protects nothing, often because of a misspelt label.',
  },
  {
    id: 'PW-LINT-002',
    name: 'peerSelectsNothing',
    severity: 'warning',
    title: 'Rule peer selects nothing',
    help: 'A from/to peer matches no pod (or its namespaceSelector no namespace): the flow it was written for is silently denied.',
  },
  {
    id: 'PW-LINT-003',
    name: 'redundant',
    severity: 'warning',
    title: 'Redundant rule or policy',
    help: 'Removing the rule (or the whole policy) leaves what the selected pods allow unchanged, as computed from the policies’ meaning, not their text.',
  },
  {
    id: 'PW-LINT-004',
    name: 'ignoredRules',
    severity: 'error',
    title: 'Rules ignored because of policyTypes',
    help: 'The policy has rules for a direction its spec.policyTypes leave out; the API server ignores them, so they allow nothing.',
  },
  {
    id: 'PW-LINT-005',
    name: 'halfOpenFlow',
    severity: 'error',
    title: 'Half-open flow',
    help: 'One side’s rule names the other workload but the other side, being isolated, does not admit it on those ports: the connection is denied, almost always by mistake.',
  },
  {
    id: 'PW-LINT-006',
    name: 'noDnsEgress',
    severity: 'warning',
    title: 'Egress-isolated pods without DNS egress',
    help: 'Pods isolated for egress with no rule admitting port 53 (UDP or TCP) cannot resolve names.',
  },
  {
    id: 'PW-LINT-007',
    name: 'unknownNamedPort',
    severity: 'warning',
    title: 'Named port no pod defines',
    help: 'A named port matches only pods that define a container port of that name and protocol: for ingress the selected pods, for egress the peer pods. None does, so the rule admits nothing on it.',
  },
  {
    id: 'PW-LINT-008',
    name: 'undeclaredPort',
    severity: 'warning',
    title: 'Ingress port no container declares',
    help: 'An ingress rule admits a numeric port that no container of the selected pods declares, although they declare ports: often a stale or mistyped port.',
  },
  {
    id: 'PW-LINT-009',
    name: 'clusterPolicySelectsNothing',
    severity: 'warning',
    title: 'Cluster policy selects no workload',
    help: 'The spec.subject of an AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy matches no pod in the input: the guardrail governs nothing.',
  },
  {
    id: 'PW-LINT-010',
    name: 'clusterPeerSelectsNothing',
    severity: 'warning',
    title: 'Cluster policy peer selects nothing',
    help: 'A namespaces, pods or nodes peer of a cluster policy rule matches nothing in the input, so the rule never applies to the traffic it was written for.',
  },
  {
    id: 'PW-LINT-011',
    name: 'clusterRuleNeverDecides',
    severity: 'warning',
    title: 'Cluster policy rule never decides',
    help: 'Every connection the rule matches is decided before it: by higher-precedence rules of its tier (lower priority numbers, earlier rules) or, for the Baseline tier, by NetworkPolicies that isolate its subjects. The rule is dead.',
  },
  {
    id: 'PW-LINT-012',
    name: 'samePriority',
    severity: 'warning',
    title: 'Same-priority cluster policies overlap',
    help: 'Two policies of one tier with the same priority select the same pods in the same direction; the API leaves their order undefined, so the CNI may apply either.',
  },
  {
    id: 'PW-LINT-013',
    name: 'peerOutsideInput',
    severity: 'info',
    title: 'Rule peer selects pods outside the input',
    help: 'A from/to peer names a namespace the input holds no pods of (kube-system or openshift-dns in an application repository, say): it selects pods phiwall cannot see, so what it admits is not checked.',
  },
  {
    id: 'PW-LINT-020',
    name: 'calicoPolicySelectsNothing',
    severity: 'warning',
    title: 'Calico policy selects no workload',
    help: 'The selector, namespaceSelector, serviceAccountSelector and types of a Calico NetworkPolicy or GlobalNetworkPolicy match no pod in the input: the policy governs nothing, often because of a misspelt label.',
  },
  {
    id: 'PW-LINT-021',
    name: 'calicoRuleMatchesNothing',
    severity: 'warning',
    title: 'Calico rule matches no connection',
    help: 'The rule’s source or destination match no pod, network set or address in the input (or it matches on source ports or a protocol phiwall does not analyse), so it never applies.',
  },
  {
    id: 'PW-LINT-022',
    name: 'calicoPassToNoTier',
    severity: 'warning',
    title: 'Calico Pass with no later tier deciding',
    help: 'A Pass hands a connection to the next tier that applies to the endpoint; when none does, the endpoint’s profiles decide, and the namespace profile Calico generates allows everything.',
  },
  {
    id: 'PW-LINT-023',
    name: 'calicoShadowedRule',
    severity: 'warning',
    title: 'Calico rule shadowed by an earlier one',
    help: 'An earlier rule of the same tier and order matches every connection this rule matches, for every pod it applies to, so this rule never decides anything.',
  },
  {
    id: 'PW-LINT-030',
    name: 'ciliumPolicySelectsNothing',
    severity: 'warning',
    title: 'Cilium policy selects no endpoint',
    help: 'The endpointSelector of a CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy (with the namespace Cilium adds to a namespaced one) matches no pod in the input: the policy governs nothing, often because of a misspelt label or a missing k8s: source.',
  },
  {
    id: 'PW-LINT-031',
    name: 'ciliumPeerSelectsNothing',
    severity: 'warning',
    title: 'Cilium rule peer selects nothing',
    help: 'A fromEndpoints/toEndpoints selector matches no pod, a fromNodes/toNodes selector no Cilium node, or a cidrGroupRef/cidrGroupSelector no CiliumCIDRGroup in the input: the flow it was written for is not matched.',
  },
  {
    id: 'PW-LINT-032',
    name: 'ciliumAllowShadowedByDeny',
    severity: 'warning',
    title: 'Cilium allow taken entirely by a deny',
    help: 'Deny rules (ingressDeny, egressDeny, or fromRequires/toRequires) of policies selecting the same endpoints match every connection this allow rule matches; in Cilium a deny wins over every allow, so the allow never takes effect.',
  },
  {
    id: 'PW-LINT-033',
    name: 'ciliumRedundantRule',
    severity: 'warning',
    title: 'Redundant Cilium rule',
    help: 'Other CNP/CCNP rules selecting the same endpoints allow or deny every connection this rule matches, and the endpoints stay isolated without it: removing it changes nothing.',
  },
  {
    id: 'PW-LINT-034',
    name: 'ciliumFqdnWithoutDnsRule',
    severity: 'error',
    title: 'toFQDNs without the DNS rule Cilium needs',
    help: 'Cilium learns the addresses behind a toFQDNs name only from DNS answers its DNS proxy intercepts, and it intercepts only lookups an egress rule with rules.dns (to the cluster DNS on port 53) lets through: without one, or when its DNS patterns refuse the name, the toFQDNs rule allows nothing.',
  },
];

const RULE_BY_ID = new Map(LINT_RULES.map((r) => [r.id, r]));

export interface LintProblem {
  rule: string;
  severity: LintSeverity;
  file: string;
  line: number;
  /** `ns/policy`, or `Kind/name` for a cluster policy. */
  policy: string;
  /** The field it is about, e.g. `ns/policy#spec.ingress[0].from[1]`. */
  path: string;
  message: string;
  fix: string;
}

export interface LintResult {
  problems: LintProblem[];
  errors: number;
  warnings: number;
  infos: number;
}

export interface LintOptions {
  /** Where the cluster DNS runs (phiwall.yaml `dns:`); default: the well-known kube-dns and OpenShift DNS. */
  dns?: readonly DnsTarget[];
}

/** Problems in the policies themselves, sorted by file, line and rule. */
export function lintSnapshot(
  snapshot: Snapshot,
  engine: Engine = new Engine(snapshot),
  options: LintOptions = {},
): LintResult {
  const dns = options.dns && options.dns.length > 0 ? options.dns : WELL_KNOWN_DNS;
  const linter = new Linter(snapshot, engine, dns);
  const problems = linter.run();
  problems.sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.rule.localeCompare(b.rule) ||
      a.path.localeCompare(b.path) ||
      a.message.localeCompare(b.message),
  );
  return {
    problems,
    errors: problems.filter((p) => p.severity === 'error').length,
    warnings: problems.filter((p) => p.severity === 'warning').length,
    infos: problems.filter((p) => p.severity === 'info').length,
  };
}

const DIRECTION_TYPE = { ingress: 'Ingress', egress: 'Egress' } as const;

class Linter {
  private readonly problems: LintProblem[] = [];
  private readonly matcher: PeerMatcher;
  private readonly classesIn: Map<string, PodClass[]>;
  private readonly pods: PodIndex;
  /** Namespaces the input holds pods of: peers elsewhere select pods phiwall cannot see. */
  private readonly populated: ReadonlySet<string>;
  private readonly peerClassCache = new WeakMap<PolicyRule, ReadonlySet<number>>();
  /** isolatingPolicies' answers per direction and class id. */
  private readonly isolators: Record<Direction, Map<number, readonly NetworkPolicy[]>> = {
    ingress: new Map(),
    egress: new Map(),
  };

  constructor(
    private readonly snapshot: Snapshot,
    private readonly engine: Engine,
    private readonly dnsTargets: readonly DnsTarget[],
  ) {
    this.populated = new Set(snapshot.pods.map((p) => p.namespace));
    this.matcher = new PeerMatcher(snapshot.namespaces, engine.classes, snapshot.nodes);
    this.classesIn = selectableClasses(engine);
    this.pods = new PodIndex({ snapshot, engine });
  }

  run(): LintProblem[] {
    const empty = new Set(this.engine.currentPolicies.filter((p) => this.subjectsOf(p).length === 0));
    this.selectsNothing(empty);
    this.peersSelectNothing();
    this.redundancy(empty);
    this.halfOpen();
    this.dns();
    this.namedPorts(empty);
    this.undeclaredPorts(empty);
    const context = { snapshot: this.snapshot, engine: this.engine, matcher: this.matcher, pods: this.pods };
    for (const found of [
      ...lintClusterPolicies(context),
      ...lintCalicoPolicies(this.snapshot, this.engine),
      ...lintCiliumPolicies(this.snapshot, this.engine, this.dnsTargets),
    ]) {
      this.problems.push({
        rule: found.rule,
        severity: (RULE_BY_ID.get(found.rule) as LintRule).severity,
        file: found.at.file,
        line: found.at.locate().line,
        policy: found.policy,
        path: found.path,
        message: found.message,
        fix: found.fix,
      });
    }
    return this.problems;
  }

  private add(
    id: string,
    at: Provenance,
    policy: NetworkPolicy,
    path: string,
    message: string,
    fix: string,
  ): void {
    const rule = RULE_BY_ID.get(id) as LintRule;
    this.problems.push({
      rule: id,
      severity: rule.severity,
      file: at.file,
      line: at.locate().line,
      policy: policyId(policy),
      path,
      message,
      fix,
    });
  }

  private subjectsOf(policy: NetworkPolicy): PodClass[] {
    return (this.classesIn.get(policy.namespace) ?? []).filter((c) =>
      selectorMatches(policy.podSelector, c.labels),
    );
  }

  /** Pod classes a rule's peers admit (every class for a rule without peers). */
  private peerClasses(policy: NetworkPolicy, rule: PolicyRule): PodClass[] {
    const { classes, options } = this.engine;
    if (rule.peers === undefined) return classes.filter((c) => !c.hostNetwork);
    return [...this.matcher.peers(policy.namespace, rule.peers, options).classes].map(
      (id) => classes[id] as PodClass,
    );
  }

  // PW-LINT-001
  private selectsNothing(empty: ReadonlySet<NetworkPolicy>): void {
    for (const policy of empty) {
      const own = [policy.namespace];
      const why = [
        `podSelector ${selectorText(policy.podSelector)} matches no pod in namespace ${policy.namespace}`,
      ];
      if (this.pods.anyMatch(own, policy.podSelector, true))
        why.push('only hostNetwork pods match, and NetworkPolicy does not govern them (--host-network node)');
      why.push(this.pods.labelHint(policy.namespace) ?? `the input holds no pods in ${policy.namespace}`);
      this.add(
        'PW-LINT-001',
        policy.provenance,
        policy,
        `${policyId(policy)}#spec.podSelector`,
        `policy ${policyId(policy)} selects no workload: ${why.join('; ')}`,
        `Correct spec.podSelector to the labels of the pods ${policyId(policy)} is meant to protect, or delete the policy if they are gone.`,
      );
    }
  }

  // PW-LINT-002 and PW-LINT-013
  private peersSelectNothing(): void {
    for (const policy of this.engine.currentPolicies) {
      for (const rule of isolatingRules(policy)) {
        for (const { index, why } of emptyPeers(this.pods, policy, rule)) {
          const path = rulePath(policy, rule, index);
          const outside = this.outsideInput(policy, rule, index);
          if (outside) {
            this.add(
              'PW-LINT-013',
              rule.provenance,
              policy,
              path,
              `${path} selects pods in ${outside.join(', ')}, which the input holds no pods of: phiwall cannot see what it admits`,
              `Nothing to fix if ${outside.join(', ')} exists in the cluster; add its manifests (or lint a snapshot of the cluster) to have the peer checked.`,
            );
            continue;
          }
          this.add(
            'PW-LINT-002',
            rule.provenance,
            policy,
            path,
            `${path} selects nothing: ${why}`,
            'Correct the selector (often a misspelt label key or value) so the peer matches the intended pods, or remove the peer.',
          );
        }
      }
    }
  }

  /**
   * The namespaces outside the input that a peer selects pods in: those its namespaceSelector names by
   * `kubernetes.io/metadata.name`, or the cluster DNS namespace when it selects the DNS pods.
   */
  private outsideInput(policy: NetworkPolicy, rule: PolicyRule, index: number): string[] | undefined {
    const peer = rule.peers?.[index];
    if (!peer) return undefined;
    const named = namedNamespaces(peer);
    if (named?.every((ns) => !this.populated.has(ns))) return named;
    const dns = this.dnsTargets.filter(
      (t) =>
        !this.populated.has(t.namespace) &&
        peersReachDns(this.snapshot, policy, { ...rule, peers: [peer] }, t),
    );
    return dns.length > 0 ? dns.map((t) => t.namespace) : undefined;
  }

  // PW-LINT-003 (rules and whole policies) and PW-LINT-004
  private redundancy(empty: ReadonlySet<NetworkPolicy>): void {
    const redundantPolicies = this.redundantPolicies(empty);
    const ignored = new Set<string>();
    for (const found of ruleHygiene({ snapshot: this.snapshot, engine: this.engine })) {
      const { policy, rule, direction } = found;
      if (found.kind === 'ignored') {
        // One problem per policy and direction: the fix (policyTypes) is one edit.
        const key = `${policyId(policy)}\0${direction}`;
        if (ignored.has(key)) continue;
        ignored.add(key);
        const count = policy[direction].length;
        const present = (['ingress', 'egress'] as const).filter((d) => policy.isolates[d]);
        this.add(
          'PW-LINT-004',
          rule.provenance,
          policy,
          `${policyId(policy)}#spec.${direction}`,
          `${policyId(policy)} has ${count} ${direction} rule(s) but spec.policyTypes is [${present.map((d) => DIRECTION_TYPE[d]).join(', ')}]: the ${direction} rules are ignored`,
          `Add ${DIRECTION_TYPE[direction]} to spec.policyTypes of ${policyId(policy)} so its ${direction} rules take effect (this also isolates the selected pods for ${direction}), or delete the rules.`,
        );
        continue;
      }
      if (redundantPolicies.has(policy)) continue;
      const path = rulePath(policy, rule);
      const others = found.covering.map((c) => `${c.rule} (${c.at})`);
      this.add(
        'PW-LINT-003',
        rule.provenance,
        policy,
        path,
        `${path} is redundant: removing it leaves what the ${found.pods} pod(s) ${policyId(policy)} selects allow (${direction}) unchanged${others.length > 0 ? `; already allowed by ${others.join(', ')}` : ''}`,
        `Delete ${path}, or narrow the rules that cover it if this one states the intent.`,
      );
    }
    for (const [policy, pods] of redundantPolicies) {
      this.add(
        'PW-LINT-003',
        policy.provenance,
        policy,
        policyId(policy),
        `policy ${policyId(policy)} is redundant: removing it leaves every connection of the ${pods} pod(s) it selects (to and from pods and external addresses) unchanged`,
        `Delete ${policyId(policy)}, or fold what it states into the policies that already allow it.`,
      );
    }
  }

  /**
   * Policies whose removal changes nothing on their subjects' side: for each direction the policy
   * isolates, every subject stays isolated by another policy whose rules grant all that this one's do.
   * (A subject it alone isolates would be opened up: only a rule admitting everything, with no cluster
   * policy around, makes that a no-op.) Policies without rules are left out: a default-deny that another
   * policy's isolation makes moot still guards the pods when that policy changes.
   */
  private redundantPolicies(empty: ReadonlySet<NetworkPolicy>): Map<NetworkPolicy, number> {
    const found = new Map<NetworkPolicy, number>();
    const context = { snapshot: this.snapshot, engine: this.engine };
    for (const policy of this.engine.currentPolicies) {
      if (empty.has(policy) || isolatingRules(policy).length === 0) continue;
      const subjects = this.subjectsOf(policy);
      const redundant = (['ingress', 'egress'] as const).every(
        (direction) =>
          !policy.isolates[direction] ||
          subjects.every((subject) => {
            const isolatedBy = isolatingPolicies(this.engine, subject, direction);
            const others = isolatedBy
              .filter((p) => p !== policy)
              .flatMap((p) => p[direction].map((rule) => ({ policy: p, rule })));
            if (others.length === 0 && isolatedBy.length === 1)
              return (
                !hasTieredPolicies(this.snapshot) &&
                policy[direction].some((r) => r.peers === undefined && r.ports === undefined)
              );
            const scratch = new Map<string, string>();
            return policy[direction].every((rule) =>
              coveredBy(context, this.matcher, subject, { policy, rule }, others, scratch),
            );
          }),
      );
      if (redundant)
        found.set(
          policy,
          subjects.reduce((n, c) => n + c.pods.length, 0),
        );
    }
    return found;
  }

  // PW-LINT-005
  /**
   * For each rule, its subjects against the workloads it names. The other side's answer is assembled
   * from per-policy grants towards the subject, computed once per subject and policy, so a rule naming
   * thousands of workloads costs a lookup per workload, not an explanation. Workloads stand for their
   * first pod (pods of a workload share a template). Peers with the same grant, loss and answer are
   * reported together.
   */
  private halfOpen(): void {
    const { classes } = this.engine;
    const byClass = new Map<PodClass, Workload[]>();
    const classOf = new Map<Workload, PodClass>();
    for (const w of this.snapshot.workloads) {
      const pod = w.pods[0];
      if (!pod) continue;
      const c = this.engine.classOf(pod);
      classOf.set(w, c);
      const list = byClass.get(c);
      if (list) list.push(w);
      else byClass.set(c, [w]);
    }
    const workloadsIn = (ids: Iterable<number>) =>
      [...ids].flatMap((id) => byClass.get(classes[id] as PodClass) ?? []);
    const index = new Map(this.snapshot.workloads.map((w, i) => [w, i]));
    const count = this.snapshot.workloads.length;
    const seen: Record<Direction, Set<number>> = { ingress: new Set(), egress: new Set() };
    for (const policy of this.engine.currentPolicies) {
      const subjects = workloadsIn(this.matcher.selectedBy(policy));
      if (subjects.length === 0) continue;
      for (const rule of isolatingRules(policy)) {
        const named = workloadsIn(this.namedClasses(policy, rule));
        if (named.length === 0) continue;
        const otherDirection: Direction = rule.direction === 'egress' ? 'ingress' : 'egress';
        // Ports named on the destination: the subject's for ingress, each peer's for egress.
        const grantedTo = this.grantsOf(rule);
        for (const subject of subjects) {
          const selfClass = classOf.get(subject) as PodClass;
          const answer = this.answerTowards(selfClass, otherDirection);
          const lossOf = lossesOf();
          const groups = new Map<
            string,
            { peers: Workload[]; granted: PortSet; lost: PortSet; theirs: PeerAnswer }
          >();
          for (const peer of named) {
            if (peer === subject) continue;
            const other = peer.pods[0] as Pod;
            const peerClass = classOf.get(peer) as PodClass;
            const isolatedBy = this.isolatingPolicies(peerClass, otherDirection);
            if (isolatedBy.length === 0) continue;
            const granted = grantedTo(rule.direction === 'egress' ? peerClass : selfClass);
            if (isEmptyPorts(granted)) continue;
            const theirs = answer(other, peerClass, isolatedBy);
            const loss = lossOf(granted, theirs.ports);
            if (!loss) continue;
            const pair = (index.get(subject) as number) * count + (index.get(peer) as number);
            if (seen[rule.direction].has(pair)) continue;
            seen[rule.direction].add(pair);
            const group = groups.get(loss.key);
            if (group) group.peers.push(peer);
            else groups.set(loss.key, { peers: [peer], granted, lost: loss.lost, theirs });
          }
          for (const { peers, granted, lost, theirs } of groups.values())
            this.reportHalfOpen(policy, rule, subject, peers, granted, lost, theirs);
        }
      }
    }
  }

  /**
   * How peers' side of a connection answers a subject: with no cluster policies, the union of what each
   * isolating policy grants the subject, cached per policy (and named-ports shape); with them, the
   * engine's own explanation, since tiers decide before and after NetworkPolicy.
   */
  private answerTowards(
    subject: PodClass,
    direction: Direction,
  ): (peer: Pod, peerClass: PodClass, isolatedBy: readonly NetworkPolicy[]) => PeerAnswer {
    const self = subject.pods[0] as Pod;
    if (hasTieredPolicies(this.snapshot))
      return (peer) => this.engine.explainSide(peer, { pod: self }, direction);
    const grants = new Map<NetworkPolicy, PortSet[]>();
    const grantOf = (policy: NetworkPolicy, destination: PodClass) => {
      let byShape = grants.get(policy);
      if (!byShape) {
        byShape = [];
        grants.set(policy, byShape);
      }
      let grant = byShape[destination.namedPortsId];
      if (!grant) {
        grant = NO_PORTS;
        for (const rule of policy[direction]) {
          const peers = this.ruleClasses(policy, rule);
          if (peers && !peers.has(subject.id)) continue;
          grant = unionPorts(grant, portsOf(rule.ports, destination));
        }
        byShape[destination.namedPortsId] = grant;
      }
      return grant;
    };
    return (_peer, peerClass, isolatedBy) => {
      // Named ports resolve on the destination: the peer for ingress, the subject for egress.
      const destination = direction === 'ingress' ? peerClass : subject;
      let ports = NO_PORTS;
      for (const policy of isolatedBy) ports = unionPorts(ports, grantOf(policy, destination));
      return { isolatedBy, ports };
    };
  }

  /** A rule's ports at a destination, once per named-ports shape. */
  private grantsOf(rule: PolicyRule): (destination: PodClass) => PortSet {
    const byShape: PortSet[] = [];
    return (destination) => {
      let ports = byShape[destination.namedPortsId];
      if (!ports) {
        ports = portsOf(rule.ports, destination);
        byShape[destination.namedPortsId] = ports;
      }
      return ports;
    };
  }

  /** A rule's peer classes as the engine compiles them; undefined for a rule without peers (all). */
  private ruleClasses(policy: NetworkPolicy, rule: PolicyRule): ReadonlySet<number> | undefined {
    if (!rule.peers) return undefined;
    let classes = this.peerClassCache.get(rule);
    if (!classes) {
      classes = this.matcher.peers(policy.namespace, rule.peers, this.engine.options).classes;
      this.peerClassCache.set(rule, classes);
    }
    return classes;
  }

  /** The policies that isolate a class in one direction (none for a hostNetwork class outside policy). */
  private isolatingPolicies(peer: PodClass, direction: Direction): readonly NetworkPolicy[] {
    const cache = this.isolators[direction];
    let found = cache.get(peer.id);
    if (!found) {
      const side = this.engine.explainSide(peer.pods[0] as Pod, { ip: '0.0.0.0' }, direction);
      found = side.hostNetwork ? [] : side.isolatedBy;
      cache.set(peer.id, found);
    }
    return found;
  }

  /**
   * Classes a rule names itself: peers with a non-empty podSelector. Rules that admit whole namespaces
   * or everything express no intent about one workload, and would flood the report with flows nobody
   * asked for.
   */
  private namedClasses(policy: NetworkPolicy, rule: PolicyRule): Set<number> {
    const named = new Set<number>();
    for (const peer of rule.peers ?? []) {
      if (peer.kind !== 'pods' || !peer.podSelector || isMatchAll(peer.podSelector)) continue;
      for (const id of this.matcher.podPeer(policy.namespace, peer.podSelector, peer.namespaceSelector))
        named.add(id);
    }
    return named;
  }

  private reportHalfOpen(
    policy: NetworkPolicy,
    rule: PolicyRule,
    subject: Workload,
    peers: readonly Workload[],
    granted: PortSet,
    lost: PortSet,
    theirs: PeerAnswer,
  ): void {
    const path = rulePath(policy, rule);
    const isolators = theirs.isolatedBy.map((p) => `${policyId(p)} (${where(p.provenance)})`).join(', ');
    const admitted = isEmptyPorts(theirs.ports) ? 'nothing' : formatPorts(theirs.ports);
    const self = subject.id;
    const peer = listOf(peers.map((w) => w.id).sort());
    // Grouped peers share what they admit, not always the policies that isolate them: the first stands.
    const by = peers.length === 1 ? `isolated by ${isolators}` : `e.g. isolated by ${isolators}`;
    const example = policyId(theirs.isolatedBy[0] as NetworkPolicy);
    const [message, fix] =
      rule.direction === 'egress'
        ? [
            `${path} lets ${self} connect to ${peer} on ${formatPorts(granted)}, but the ingress of ${peer} (${by}) admits ${admitted} from it: ${formatPorts(lost)} is lost`,
            `Admit ${self} on ${formatPorts(lost)} in an ingress rule of a policy selecting ${peer} (e.g. ${example}), or drop those ports from ${path} if the flow is not wanted.`,
          ]
        : [
            `${path} admits ${peer} into ${self} on ${formatPorts(granted)}, but the egress of ${peer} (${by}) allows ${admitted} to it: ${formatPorts(lost)} is lost`,
            `Allow egress to ${self} on ${formatPorts(lost)} in a policy selecting ${peer} (e.g. ${example}), or drop those ports from ${path} if the flow is not wanted.`,
          ];
    this.add('PW-LINT-005', rule.provenance, policy, path, message, fix);
  }

  // PW-LINT-006
  private dns(): void {
    const groups = new Map<string, { policies: NetworkPolicy[]; workloads: Workload[] }>();
    for (const workload of this.snapshot.workloads) {
      const pod = workload.pods[0];
      if (!pod) continue;
      const side = this.engine.explainSide(pod, { ip: '0.0.0.0' }, 'egress');
      if (side.hostNetwork || side.isolatedBy.length === 0) continue;
      if (side.isolatedBy.some((p) => p.egress.some((r) => this.admitsDns(p, r)))) continue;
      const key = side.isolatedBy.map(policyId).join('\0');
      const group = groups.get(key) ?? { policies: side.isolatedBy, workloads: [] };
      group.workloads.push(workload);
      groups.set(key, group);
    }
    for (const { policies, workloads } of groups.values()) {
      const first = policies[0] as NetworkPolicy;
      const names = policies.map((p) => `${policyId(p)} (${where(p.provenance)})`).join(', ');
      this.add(
        'PW-LINT-006',
        first.provenance,
        first,
        policyId(first),
        `${workloads
          .map((w) => w.id)
          .sort()
          .join(
            ', ',
          )} ${workloads.length === 1 ? 'is' : 'are'} egress-isolated by ${names} and no egress rule admits port 53 (UDP or TCP): name resolution fails`,
        dnsRuleSuggestion(this.snapshot, this.dnsTargets),
      );
    }
  }

  /**
   * Whether an egress rule lets the subject resolve names: port 53 to anything the input shows (a rule
   * whose peers match nothing reaches no DNS server), or the DNS port to the cluster DNS pods, which
   * usually run outside the input.
   */
  private admitsDns(policy: NetworkPolicy, rule: PolicyRule): boolean {
    if (admitsDnsTarget(this.snapshot, policy, rule, this.dnsTargets)) return true;
    const reachesSomething =
      rule.peers === undefined ||
      rule.peers.some((p) => p.kind === 'ipBlock') ||
      this.peerClasses(policy, rule).length > 0;
    if (!reachesSomething) return false;
    return portsAdmit(rule, [53], (name, protocol) =>
      this.engine.classes.some((c) =>
        c.namedPorts.some((n) => n.name === name && n.protocol === protocol && n.port === 53),
      ),
    );
  }

  // PW-LINT-007
  private namedPorts(empty: ReadonlySet<NetworkPolicy>): void {
    for (const policy of this.engine.currentPolicies) {
      if (empty.has(policy)) continue;
      for (const rule of isolatingRules(policy)) {
        const named = (rule.ports ?? []).filter(
          (p): p is PolicyPort & { port: string } => typeof p.port === 'string',
        );
        if (named.length === 0) continue;
        const ingress = rule.direction === 'ingress';
        const owners = ingress ? this.subjectsOf(policy) : this.peerClasses(policy, rule);
        // Peers that select nothing are PW-LINT-002's; named ports towards ipBlocks, the loader's warning.
        if (owners.length === 0) continue;
        for (const port of named) {
          if (
            owners.some((c) => c.namedPorts.some((n) => n.name === port.port && n.protocol === port.protocol))
          )
            continue;
          const otherProtocol = owners
            .flatMap((c) => c.namedPorts)
            .find((n) => n.name === port.port && n.protocol !== port.protocol);
          const whose = ingress
            ? `the pods ${policyId(policy)} selects`
            : `the peer pods of ${rulePath(policy, rule)}`;
          const defined = [
            ...new Set(owners.flatMap((c) => c.namedPorts.map((n) => `${n.name} (${n.protocol} ${n.port})`))),
          ].sort();
          this.add(
            'PW-LINT-007',
            rule.provenance,
            policy,
            rulePath(policy, rule),
            `named port "${port.port}" (${port.protocol}) in ${rulePath(policy, rule)} is defined by none of ${whose}${otherProtocol ? `; they define it for ${otherProtocol.protocol}` : ''}${defined.length > 0 ? `; they define ${defined.slice(0, 8).join(', ')}` : '; they define no named ports'}: it admits nothing`,
            otherProtocol
              ? `Set protocol: ${otherProtocol.protocol} on the port, or rename it to a port ${whose} define.`
              : `Use the name of a container port ${whose} define (or its number), or name the container port "${port.port}".`,
          );
        }
      }
    }
  }

  // PW-LINT-008
  private undeclaredPorts(empty: ReadonlySet<NetworkPolicy>): void {
    for (const policy of this.engine.currentPolicies) {
      if (empty.has(policy) || !policy.isolates.ingress) continue;
      const subjects = this.subjectsOf(policy);
      // Only pods that list their ports say which they serve; one that lists none may serve any.
      if (subjects.some((c) => declaredPorts(c) === undefined)) continue;
      const declared = subjects.reduce((acc, c) => unionPorts(acc, declaredPorts(c) as PortSet), NO_PORTS);
      for (const rule of policy.ingress) {
        for (const port of rule.ports ?? []) {
          if (typeof port.port !== 'number') continue;
          const wanted = portsOf([port], undefined);
          if (!isEmptyPorts(intersectPorts(wanted, declared))) continue;
          this.add(
            'PW-LINT-008',
            rule.provenance,
            policy,
            rulePath(policy, rule),
            `${rulePath(policy, rule)} admits ${formatPorts(wanted)}, which no container of the pods ${policyId(policy)} selects declares (they declare ${formatPorts(declared)})`,
            `Correct the port to one the pods serve, or add the containerPort to the pod template if the port is real.`,
          );
        }
      }
    }
  }
}

/**
 * The ports a class's containers declare, or undefined when it declares none. The model keeps named
 * container ports only, so unnamed ones are not seen here.
 */
/** The ports a class's containers declare (named or not), or undefined when they declare none. */
function declaredPorts(podClass: PodClass): PortSet | undefined {
  const declared = (podClass.pods[0]?.containers ?? []).flatMap((c) => c.containerPorts);
  if (declared.length === 0) return undefined;
  return declared.reduce<PortSet>(
    (acc, { port, protocol }) =>
      PROTOCOLS.includes(protocol as Protocol)
        ? unionPorts(acc, portsOf([{ protocol: protocol as Protocol, port }], undefined))
        : acc,
    NO_PORTS,
  );
}

/**
 * Whether the input holds policies of a kind other than NetworkPolicy (cluster policies, Cilium's, and
 * any kind added later as a `…Policies` list): their tiers decide around NetworkPolicy, so shortcuts
 * that read NetworkPolicy rules alone do not hold.
 */
function hasTieredPolicies(snapshot: Snapshot): boolean {
  // Calico's tiers count whenever Calico resources are present: a declared profile decides too.
  return (
    snapshot.calico !== undefined ||
    Object.entries(snapshot).some(
      ([key, value]) =>
        key !== 'policies' && key.endsWith('Policies') && Array.isArray(value) && value.length > 0,
    )
  );
}

/** What the peers' side admits, and the policies that isolate it there. */
interface PeerAnswer {
  isolatedBy: readonly NetworkPolicy[];
  ports: PortSet;
}

/**
 * The ports a side grants that the other side does not admit, with a key for grouping by both sides'
 * ports; undefined when none is lost. Once per pair of port sets: most come from caches, and a rule
 * naming many workloads asks for the same few pairs for every one of them.
 */
function lossesOf(): (granted: PortSet, admitted: PortSet) => { lost: PortSet; key: string } | undefined {
  const losses = new Map<PortSet, Map<PortSet, { lost: PortSet; key: string } | undefined>>();
  return (granted, admitted) => {
    let byAdmitted = losses.get(granted);
    if (!byAdmitted) {
      byAdmitted = new Map();
      losses.set(granted, byAdmitted);
    }
    if (byAdmitted.has(admitted)) return byAdmitted.get(admitted);
    const lost = subtractPorts(granted, admitted);
    const loss = isEmptyPorts(lost)
      ? undefined
      : { lost, key: `${keyOf(granted)}/${keyOf(lost)}/${keyOf(admitted)}` };
    byAdmitted.set(admitted, loss);
    return loss;
  };
}

/** portsKey, once per port set: most sets here are a few shared objects. */
const portsKeys = new WeakMap<PortSet, string>();
function keyOf(ports: PortSet): string {
  let key = portsKeys.get(ports);
  if (key === undefined) {
    key = portsKey(ports);
    portsKeys.set(ports, key);
  }
  return key;
}

/** `a, b, c`, or the first five and how many more. */
function listOf(ids: readonly string[]): string {
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more`;
}

function isMatchAll(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}
