import type {
  CalicoNetworkSet,
  CalicoPolicy,
  CalicoPort,
  CalicoRule,
  EntityRule,
} from '../../model/calico.ts';
import { type CalicoSelector, calicoMatches } from '../../model/calico-selector.ts';
import type { Direction, Labels, Pod, Snapshot } from '../../model/types.ts';
import { parseAddress, parseCidr } from '../addresses.ts';
import { type Endpoint, type EngineOptions, isOutsidePolicy } from '../endpoint.ts';
import type { Transport } from '../ports.ts';

/**
 * What Calico's rules see of pods, namespaces and network sets, per Calico's documentation
 * (reference/resources/networkpolicy "Selectors", network-policy/get-started/calico-policy/calico-labels).
 * Shared by the reference evaluator and the fast engine, which evaluates it once per pod class.
 */

/** The labels Calico adds to every workload endpoint. */
export function calicoPodLabels(pod: Pod): Labels {
  return {
    ...pod.labels,
    'projectcalico.org/namespace': pod.namespace,
    'projectcalico.org/orchestrator': 'k8s',
    'projectcalico.org/serviceaccount': serviceAccountOf(pod),
  };
}

export function serviceAccountOf(pod: Pod): string {
  return pod.serviceAccount ?? 'default';
}

/** Namespace labels as Calico's namespaceSelector sees them, with `projectcalico.org/name`. */
export function calicoNamespaceLabels(snapshot: Snapshot, namespace: string): Labels {
  const labels = snapshot.namespaces.get(namespace)?.labels ?? { 'kubernetes.io/metadata.name': namespace };
  return { ...labels, 'projectcalico.org/name': namespace };
}

/** Labels of a service account: only the name Calico adds (ServiceAccount objects are not read). */
function serviceAccountLabels(pod: Pod): Labels {
  return { 'projectcalico.org/name': serviceAccountOf(pod) };
}

/** Whether a policy applies to a pod in a direction: its selectors pick the pod and `types` names the direction. */
export function calicoPolicyApplies(
  snapshot: Snapshot,
  policy: CalicoPolicy,
  pod: Pod,
  direction: Direction,
  options: EngineOptions,
): boolean {
  if (!policy.types[direction] || isOutsidePolicy(pod, options)) return false;
  if (policy.kind === 'NetworkPolicy' && pod.namespace !== policy.namespace) return false;
  if (
    policy.namespaceSelector &&
    !namespaceSelected(policy.namespaceSelector, calicoNamespaceLabels(snapshot, pod.namespace))
  ) {
    return false;
  }
  if (
    policy.serviceAccountSelector &&
    !calicoMatches(policy.serviceAccountSelector.expr, serviceAccountLabels(pod))
  ) {
    return false;
  }
  return calicoMatches(policy.selector.expr, calicoPodLabels(pod));
}

/** A namespace selector on a namespace: `global()` matches no namespace. */
function namespaceSelected(selector: CalicoSelector, labels: Labels): boolean {
  return calicoMatches(selector.expr, labels, false);
}

/** Where a rule's selectors look: a policy's namespace (NetworkPolicy), or everywhere (GlobalNetworkPolicy, Profile). */
export interface RuleScope {
  namespace?: string;
}

/** A labelled thing an address belongs to: the pod that holds it, or a network set that contains it. */
type Identity = { kind: 'pod'; pod: Pod } | { kind: 'set'; set: CalicoNetworkSet };

function identitiesOf(snapshot: Snapshot, endpoint: Endpoint, options: EngineOptions): Identity[] {
  const identities: Identity[] = [];
  if ('pod' in endpoint && !isOutsidePolicy(endpoint.pod, options))
    identities.push({ kind: 'pod', pod: endpoint.pod });
  const ips = addressesOf(endpoint, options);
  for (const set of snapshot.calico?.networkSets ?? []) {
    if (ips.some((ip) => set.nets.some((net) => inNet(ip, net)))) identities.push({ kind: 'set', set });
  }
  return identities;
}

/** The addresses `nets` are matched against: a pod's own only where the CNI matches pod IPs by address. */
function addressesOf(endpoint: Endpoint, options: EngineOptions): readonly string[] {
  if ('ip' in endpoint) return [endpoint.ip];
  return options.ipBlockMatchesPods ? endpoint.pod.ips : [];
}

export function inNet(ip: string, net: string): boolean {
  const address = parseAddress(ip);
  const cidr = parseCidr(net);
  return address !== undefined && cidr !== undefined && address >= cidr.lo && address <= cidr.hi;
}

/**
 * Whether an entity rule (a rule's `source` or `destination`, ports aside) matches an endpoint. Every
 * field given must hold. `selector`, `namespaceSelector` and `serviceAccounts` need an identity of the
 * endpoint in scope that they match; `notSelector` excludes endpoints with such an identity. In a
 * namespaced policy the scope is its namespace unless `namespaceSelector` says otherwise.
 */
export function entityMatches(
  snapshot: Snapshot,
  entity: EntityRule,
  endpoint: Endpoint,
  scope: RuleScope,
  options: EngineOptions,
): boolean {
  const ips = addressesOf(endpoint, options);
  if (entity.nets && !ips.some((ip) => entity.nets?.some((net) => inNet(ip, net)))) return false;
  if (entity.notNets && ips.some((ip) => entity.notNets?.some((net) => inNet(ip, net)))) return false;
  if (entity.services && !serviceSelects(snapshot, entity.services, scope, endpoint, options)) return false;
  const scoped = scope.namespace !== undefined || entity.namespaceSelector !== undefined;
  const positive = entity.selector ?? entity.serviceAccounts ?? entity.namespaceSelector;
  const needsIdentity = positive !== undefined || (scoped && entity.notSelector !== undefined);
  if (!needsIdentity && !entity.notSelector) return true;
  const identities = identitiesOf(snapshot, endpoint, options).filter((identity) =>
    inScope(snapshot, identity, entity, scope),
  );
  if (entity.notSelector) {
    const not = entity.notSelector;
    if (identities.some((identity) => identityMatches(identity, not))) return false;
  }
  if (!needsIdentity) return true;
  return identities.some(
    (identity) =>
      (!entity.selector || identityMatches(identity, entity.selector)) &&
      (!entity.serviceAccounts || accountMatches(identity, entity.serviceAccounts)),
  );
}

/** Whether a network set is in the scope of an entity rule's selectors. */
export function networkSetInScope(
  snapshot: Snapshot,
  set: CalicoNetworkSet,
  entity: EntityRule,
  scope: RuleScope,
): boolean {
  return inScope(snapshot, { kind: 'set', set }, entity, scope);
}

/** Whether a network set matches a selector: its labels, and `global()` for a GlobalNetworkSet. */
export function networkSetMatches(set: CalicoNetworkSet, selector: CalicoSelector): boolean {
  return identityMatches({ kind: 'set', set }, selector);
}

function inScope(snapshot: Snapshot, identity: Identity, entity: EntityRule, scope: RuleScope): boolean {
  const namespace = identity.kind === 'pod' ? identity.pod.namespace : identity.set.namespace;
  if (entity.namespaceSelector) {
    // `all()` means every namespace; only `global()` and the like reach non-namespaced network sets.
    if (namespace === undefined) {
      return (
        entity.namespaceSelector.expr.op !== 'all' && calicoMatches(entity.namespaceSelector.expr, {}, true)
      );
    }
    return namespaceSelected(entity.namespaceSelector, calicoNamespaceLabels(snapshot, namespace));
  }
  return scope.namespace === undefined || namespace === scope.namespace;
}

function identityMatches(identity: Identity, selector: CalicoSelector): boolean {
  if (identity.kind === 'pod') return calicoMatches(selector.expr, calicoPodLabels(identity.pod));
  const { set } = identity;
  const labels = set.namespace ? { ...set.labels, 'projectcalico.org/namespace': set.namespace } : set.labels;
  return calicoMatches(selector.expr, labels, set.namespace === undefined);
}

function accountMatches(identity: Identity, accounts: NonNullable<EntityRule['serviceAccounts']>): boolean {
  if (identity.kind !== 'pod') return false;
  const account = serviceAccountOf(identity.pod);
  if (accounts.names.length > 0 && !accounts.names.includes(account)) return false;
  return !accounts.selector || calicoMatches(accounts.selector.expr, serviceAccountLabels(identity.pod));
}

/** The pods behind a Service: those its `spec.selector` picks in its namespace. */
function serviceSelects(
  snapshot: Snapshot,
  services: NonNullable<EntityRule['services']>,
  scope: RuleScope,
  endpoint: Endpoint,
  options: EngineOptions,
): boolean {
  if (!('pod' in endpoint) || isOutsidePolicy(endpoint.pod, options)) return false;
  const namespace = services.namespace ?? scope.namespace;
  const service = snapshot.services.find((s) => s.name === services.name && s.namespace === namespace);
  const selector = (service?.object.spec as { selector?: unknown } | undefined)?.selector;
  if (!selector || typeof selector !== 'object') return false;
  const { pod } = endpoint;
  return (
    pod.namespace === namespace &&
    Object.entries(selector as Record<string, unknown>).every(([key, value]) => pod.labels[key] === value)
  );
}

/**
 * Whether a rule's `protocol`/`notProtocol` admit a transport in a family: the engine's ICMP axis is
 * ICMP over IPv4 and ICMPv6 over IPv6. Rules name protocols by name (numbers were read as names).
 */
export function protocolMatches(rule: CalicoRule, transport: Transport, family: 4 | 6): boolean {
  const name = transport === 'ICMP' ? (family === 4 ? 'ICMP' : 'ICMPv6') : transport;
  if (rule.protocol !== undefined && rule.protocol !== name) return false;
  return rule.notProtocol === undefined || rule.notProtocol !== name;
}

/** The ICMP types a rule matches (`icmp`, less `notICMP`); codes are not modelled (the loader says so). */
export function icmpTypeMatches(rule: CalicoRule, type: number): boolean {
  const wanted = rule.icmp?.type;
  if (typeof wanted === 'number' && wanted !== type) return false;
  const excluded = rule.notICMP?.type;
  return !(typeof excluded === 'number' && excluded === type);
}

/** Whether a destination port is in `ports` (if given) and not in `notPorts`; names resolve on `destination`. */
export function portMatches(
  entity: EntityRule,
  protocol: Transport,
  port: number,
  destination: Pod | undefined,
): boolean {
  const hit = (p: CalicoPort) =>
    p.kind === 'range'
      ? port >= p.from && port <= p.to
      : (destination?.namedPorts.some(
          (n) => n.name === p.name && n.protocol === protocol && n.port === port,
        ) ?? false);
  if (entity.ports && !entity.ports.some(hit)) return false;
  return !entity.notPorts?.some(hit);
}

/** A pod's family for connections between pods: IPv4 when it has an IPv4 address (dual-stack pods too). */
export function podFamily(pod: Pod): 4 | 6 | undefined {
  if (pod.ips.some((ip) => !ip.includes(':'))) return 4;
  return pod.ips.length > 0 ? 6 : undefined;
}

/**
 * The IP family of a connection: that of an address end; between pods, the destination's family,
 * else the source's, else IPv4.
 */
export function connectionFamily(src: Endpoint, dst: Endpoint): 4 | 6 {
  if ('ip' in src) return src.ip.includes(':') ? 6 : 4;
  if ('ip' in dst) return dst.ip.includes(':') ? 6 : 4;
  return podFamily(dst.pod) ?? podFamily(src.pod) ?? 4;
}

/**
 * Whether a rule matches a connection (for ICMP, `port` is the ICMP type). The source port of a
 * connection is an ephemeral port phiwall does not know, so a rule that matches on source ports matches
 * nothing (the loader says so).
 */
export function calicoRuleMatches(
  snapshot: Snapshot,
  rule: CalicoRule,
  scope: RuleScope,
  src: Endpoint,
  dst: Endpoint,
  protocol: Transport,
  port: number,
  options: EngineOptions,
): boolean {
  const family = connectionFamily(src, dst);
  if (!protocolMatches(rule, protocol, family)) return false;
  if (rule.ipVersion !== undefined && rule.ipVersion !== family) return false;
  if (protocol === 'ICMP' && !icmpTypeMatches(rule, port)) return false;
  if (rule.source.ports || rule.source.notPorts) return false;
  const destination = 'pod' in dst ? dst.pod : undefined;
  return (
    portMatches(rule.destination, protocol, port, destination) &&
    entityMatches(snapshot, rule.source, src, scope, options) &&
    entityMatches(snapshot, rule.destination, dst, scope, options)
  );
}
