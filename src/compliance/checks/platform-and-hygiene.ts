import { type Connection, peerName } from '../../analysis/connectivity.ts';
import {
  emptyPeers,
  isolatingRules,
  newExternal,
  PodIndex,
  policyId,
  ruleHygiene,
  rulePath,
  selectorText,
} from '../../analysis/policy-hygiene.ts';
import type { AddressPorts } from '../../engine/address-partition.ts';
import { toCidrs } from '../../engine/addresses.ts';
import { subtract } from '../../engine/intervals.ts';
import { formatPorts, isEmptyPorts, NO_PORTS, type PortSet, subtractPorts } from '../../engine/ports.ts';
import type { Direction, KeptObject, LabelSelector, PolicyRule, Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Check, Evidence, FindingDraft } from '../types.ts';
import {
  CILIUM_IMAGE,
  cniEvidence,
  cniPresent,
  containersOf,
  daemonSets,
  detectCni,
  envValue,
  flagValue,
  goBool,
  image,
  KUBE_SYSTEM_HINT,
} from './cni.ts';
import {
  addressSet,
  connectionsOf,
  edgeText,
  isPhi,
  locationOf,
  NON_PUBLIC_ADDRESSES,
  onePodPerClass,
  phiWorkloads,
  ruleEvidence,
} from './support.ts';
import { isIsolated, isolationOf } from './tier-support.ts';

// HIPAA-NP-002 (a NetworkPolicy-enforcing CNI) is cniPresent, in cni.ts with the CNI detection.

// ---------------------------------------------------------------------------------------------------
// HIPAA-NP-003: policy kinds the engine does not model

/**
 * API group → policy kinds that allow or deny traffic besides the kinds phiwall evaluates: networking.k8s.io
 * NetworkPolicies and the policy.networking.k8s.io AdminNetworkPolicy, BaselineAdminNetworkPolicy and
 * ClusterNetworkPolicy (modelled as the Admin and Baseline tiers; that group has no other kind).
 */
const UNMODELLED_POLICY_KINDS: Readonly<Record<string, { kinds: readonly string[]; effect: string }>> = {
  'cilium.io': {
    kinds: ['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy'],
    effect: 'Cilium policies isolate and allow traffic (L3-L7) alongside NetworkPolicies',
  },
  'projectcalico.org': {
    kinds: ['NetworkPolicy', 'GlobalNetworkPolicy'],
    effect: 'Calico policies are ordered, can Deny, and are evaluated together with NetworkPolicies',
  },
  'crd.projectcalico.org': {
    kinds: ['NetworkPolicy', 'GlobalNetworkPolicy'],
    effect: 'Calico policies are ordered, can Deny, and are evaluated together with NetworkPolicies',
  },
  'crd.antrea.io': {
    kinds: ['NetworkPolicy', 'ClusterNetworkPolicy'],
    effect: 'Antrea-native policies are tiered, can Drop or Allow, and take precedence over NetworkPolicies',
  },
  'security.antrea.tanzu.vmware.com': {
    kinds: ['NetworkPolicy', 'ClusterNetworkPolicy'],
    effect: 'Antrea-native policies are tiered, can Drop or Allow, and take precedence over NetworkPolicies',
  },
  'k8s.ovn.org': { kinds: ['EgressFirewall'], effect: 'an OVN-Kubernetes EgressFirewall restricts egress' },
  'network.openshift.io': {
    kinds: ['EgressNetworkPolicy'],
    effect: 'an OpenShift SDN EgressNetworkPolicy restricts egress',
  },
  'networking.gke.io': {
    kinds: ['FQDNNetworkPolicy'],
    effect: 'a GKE FQDNNetworkPolicy allows egress to domain names',
  },
  'k8s.cni.cncf.io': {
    kinds: ['MultiNetworkPolicy'],
    effect: 'a MultiNetworkPolicy governs secondary (Multus) networks',
  },
};

const unmodelledKinds: Check = {
  id: 'HIPAA-NP-003',
  run(context) {
    const drafts: FindingDraft[] = [];
    for (const [label, count] of context.snapshot.skippedKinds) {
      const parsed = /^(.+) \((.+)\)$/.exec(label);
      if (!parsed) continue;
      const [, kind, apiVersion] = parsed as unknown as [string, string, string];
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
      const family = UNMODELLED_POLICY_KINDS[group];
      if (!family?.kinds.includes(kind)) continue;
      drafts.push({
        status: 'fail',
        objects: [label],
        evidence: {
          notes: [
            `${label} ×${count} in the input: ${family.effect}; phiwall evaluates NetworkPolicies, AdminNetworkPolicies, BaselineAdminNetworkPolicies and ClusterNetworkPolicies only, so the reachability it reports may be incomplete`,
          ],
        },
        remediation: {
          text: `Review the ${kind} objects by hand for flows into and out of PHI (or express them as NetworkPolicies), and record the review; the other checks do not see their effect.`,
        },
      });
    }
    return drafts;
  },
};

// ---------------------------------------------------------------------------------------------------
// HIPAA-NP-025: policies that select no workload

function namesPhiKey(context: AuditContext, selector: LabelSelector): string | undefined {
  const keys = [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((e) => e.key)];
  const phiKeys = new Set(context.config.phi.selectors.map((s) => s.key));
  return keys.find((key) => phiKeys.has(key.includes('/') ? key.slice(key.indexOf('/') + 1) : key));
}

const policySelectsNothing: Check = {
  id: 'HIPAA-NP-025',
  run(context) {
    const pods = new PodIndex(context);
    const drafts: FindingDraft[] = [];
    for (const policy of context.engine.currentPolicies) {
      const own = [policy.namespace];
      if (pods.anyMatch(own, policy.podSelector)) continue;
      const notes = [
        `podSelector ${selectorText(policy.podSelector)} matches no pod in namespace ${policy.namespace}`,
      ];
      if (pods.anyMatch(own, policy.podSelector, true))
        notes.push(
          'it matches only hostNetwork pods, which NetworkPolicy does not govern (--host-network node)',
        );
      const hint = pods.labelHint(policy.namespace);
      notes.push(hint ?? `the input holds no workloads in namespace ${policy.namespace}`);
      const phiKey = namesPhiKey(context, policy.podSelector);
      if (phiKey)
        notes.push(
          `the selector names the PHI label key ${phiKey}: the PHI pods it was meant for are unprotected by it`,
        );
      drafts.push({
        status: 'fail',
        severity: phiKey ? 'medium' : undefined,
        objects: [policyId(policy)],
        evidence: {
          rules: [{ rule: `${policyId(policy)}#spec.podSelector`, at: where(policy.provenance) }],
          notes,
        },
        location: locationOf(policy.provenance),
        remediation: {
          text: `Correct spec.podSelector of ${policyId(policy)} to the labels of the pods it is meant to protect, or delete the policy if those pods are gone.`,
        },
      });
    }
    return drafts;
  },
};

// ---------------------------------------------------------------------------------------------------
// HIPAA-NP-026: rule peers that select nothing

const peerSelectsNothing: Check = {
  id: 'HIPAA-NP-026',
  run(context) {
    const pods = new PodIndex(context);
    const drafts: FindingDraft[] = [];
    for (const policy of context.engine.currentPolicies) {
      const rules: NonNullable<Evidence['rules']> = [];
      const notes: string[] = [];
      let first: PolicyRule | undefined;
      for (const rule of isolatingRules(policy)) {
        for (const { index, why } of emptyPeers(pods, policy, rule)) {
          first ??= rule;
          rules.push({ rule: rulePath(policy, rule, index), at: where(rule.provenance) });
          notes.push(`${rulePath(policy, rule, index)}: ${why}`);
        }
      }
      if (!first) continue;
      drafts.push({
        status: 'fail',
        objects: [policyId(policy)],
        evidence: { rules, notes },
        location: locationOf(first.provenance),
        remediation: {
          text: 'Correct the selector (often a misspelt label key or value) so the peer matches the intended pods; a peer that selects nothing silently denies the flow it was written for.',
        },
      });
    }
    return drafts;
  },
};

// ---------------------------------------------------------------------------------------------------
// HIPAA-NP-027: redundant rules

const redundantRules: Check = {
  id: 'HIPAA-NP-027',
  run(context) {
    return [...ruleHygiene(context)].map((found): FindingDraft => {
      const { policy, rule, direction } = found;
      const notes =
        found.kind === 'ignored'
          ? [
              `${rulePath(policy, rule)} is ignored: the policy's policyTypes do not include ${direction === 'ingress' ? 'Ingress' : 'Egress'}`,
            ]
          : [
              `removing ${rulePath(policy, rule)} leaves what the ${found.pods} pod(s) ${policyId(policy)} selects allow (${direction}, from pods and external addresses) unchanged`,
              ...(found.covering.length > 0
                ? [`what it allows is also allowed by ${found.covering.map((c) => c.rule).join(', ')}`]
                : []),
            ];
      const covering = found.kind === 'redundant' ? found.covering : [];
      return {
        status: 'fail',
        objects: [policyId(policy)],
        evidence: {
          rules: [{ rule: rulePath(policy, rule), at: where(rule.provenance) }, ...covering],
          notes,
        },
        location: locationOf(rule.provenance),
        remediation: {
          text: `Delete ${rulePath(policy, rule)}: it allows nothing the other rules do not, and a reviewer reading it may believe it matters.`,
        },
      };
    });
  },
};

// ---------------------------------------------------------------------------------------------------
// HIPAA-NP-029: flow logging

interface FlowLogging {
  workload: Workload;
  what: string;
}

function flowLoggingOf(workload: Workload): FlowLogging | undefined {
  const containers = containersOf(workload);
  const found = (what: string): FlowLogging => ({ workload, what });
  const relay = image(containers, /(^|\/)hubble-relay([:@]|$)/);
  if (workload.name === 'hubble-relay' || relay)
    return found(`Hubble Relay (${relay ? `image ${relay.image}` : workload.id})`);
  if (
    workload.kind === 'DaemonSet' &&
    (image(containers, CILIUM_IMAGE) || ['cilium', 'anetd'].includes(workload.name))
  ) {
    const env = envValue(containers, 'CILIUM_ENABLE_HUBBLE');
    if (flagValue(containers, 'enable-hubble') === true || (env !== undefined && goBool(env) === true))
      return found('Hubble enabled on the Cilium agent (enable-hubble)');
  }
  const felix = envValue(containers, 'FELIX_FLOWLOGSFILEENABLED');
  if (felix !== undefined && goBool(felix) === true)
    return found(`Calico flow logs (FELIX_FLOWLOGSFILEENABLED=${felix})`);
  const aggregator = image(containers, /(^|\/)antrea\/flow-aggregator([:@]|$)/);
  if (aggregator) return found(`Antrea Flow Aggregator (image ${aggregator.image})`);
  if (flagValue(containers, 'enable-policy-event-logs') === true)
    return found('AWS network policy agent policy event logs (--enable-policy-event-logs=true)');
  return undefined;
}

function phiNamespaces(context: AuditContext): string[] {
  return [...new Set(phiWorkloads(context).map((w) => w.namespace))].sort();
}

const flowLogging: Check = {
  id: 'HIPAA-NP-029',
  run(context) {
    const logging = context.snapshot.workloads.flatMap((w) => flowLoggingOf(w) ?? []);
    const namespaces = phiNamespaces(context);
    // Flow logs given to the audit are the evidence itself: something records flows.
    if (context.observed) {
      const { files, comparison } = context.observed;
      const window = comparison.window ? ` from ${comparison.window.from} to ${comparison.window.to}` : '';
      return [
        {
          status: 'pass',
          objects: namespaces,
          evidence: {
            notes: [
              `flow logs given: ${files.join(', ')}: ${comparison.mapped.records} records (${comparison.mapped.flows} flows)${window}`,
              ...logging.map((l) => `${l.workload.id}: ${l.what}`),
              'the report compares them with policy for the PHI workloads (Observed traffic vs policy)',
            ],
          },
        },
      ];
    }
    if (logging.length > 0) {
      return [
        {
          status: 'pass',
          objects: namespaces,
          evidence: {
            notes: logging.map((l) => `${l.workload.id}: ${l.what}`),
            rules: logging.map((l) => ({ rule: l.workload.id, at: where(l.workload.provenance) })),
          },
          location: locationOf((logging[0] as FlowLogging).workload.provenance),
        },
      ];
    }
    const cnis = daemonSets(context).flatMap((w) => detectCni(w) ?? []);
    // Agents and their settings live in DaemonSets: without them the input cannot show logging either way.
    const kubeSystem = daemonSets(context).filter((w) => w.namespace === 'kube-system');
    if (cnis.length === 0 && kubeSystem.length === 0) {
      return [
        {
          status: 'not-assessable',
          objects: namespaces,
          evidence: { notes: [`no kube-system DaemonSets in input: ${KUBE_SYSTEM_HINT}`] },
        },
      ];
    }
    const notes = [
      cnis.length > 0
        ? `CNI found: ${cnis.map((m) => `${m.cni} (${m.workload.id})`).join(', ')}, without flow logging`
        : `no CNI recognised among ${kubeSystem.map((w) => w.id).join(', ')}`,
      'looked for: Hubble (hubble-relay, Cilium enable-hubble), Calico flow logs (FELIX_FLOWLOGSFILEENABLED=true), Antrea Flow Aggregator, AWS policy event logs',
    ];
    return [
      {
        status: 'fail',
        objects: namespaces,
        evidence: { notes, rules: cniEvidence(cnis) },
        remediation: {
          text: 'Record flows of PHI namespaces: enable Hubble (Cilium: hubble.enabled=true with hubble-relay) or Calico flow logs (FelixConfiguration flowLogsFileEnabled: true); if another source (VPC flow logs, a service mesh) covers them, attest it and accept this finding.',
        },
      },
    ];
  },
};

// ---------------------------------------------------------------------------------------------------
// HIPAA-NP-030: new reachability since the baseline

function externalGrants(
  connections: readonly Connection[],
  workloadId: string,
  direction: Direction,
): AddressPorts[] {
  return connections.flatMap((c) => {
    const [self, other] = direction === 'ingress' ? [c.dst, c.src] : [c.src, c.dst];
    if (!('workload' in self) || self.workload !== workloadId || !('external' in other)) return [];
    return [{ addresses: addressSet(other.external), ports: c.ports }];
  });
}

const pairKey = (c: Connection) => `${peerName(c.src)}\0${peerName(c.dst)}`;

const newReachability: Check = {
  id: 'HIPAA-NP-030',
  run(context) {
    const { baseline } = context;
    if (!baseline) {
      return [
        {
          status: 'not-assessable',
          objects: [],
          evidence: {
            notes: ['no approved baseline snapshot given: run with `--baseline PATH` to compare against one'],
          },
        },
      ];
    }
    const before = new Map<string, PortSet>();
    for (const c of baseline) {
      if ('workload' in c.src && 'workload' in c.dst) before.set(pairKey(c), c.ports);
    }
    const byPhi = new Map<string, { edges: string[]; rules: NonNullable<Evidence['rules']> }>();
    const entry = (id: string) => {
      let found = byPhi.get(id);
      if (!found) {
        found = { edges: [], rules: [] };
        byPhi.set(id, found);
      }
      return found;
    };
    for (const c of context.connections) {
      if (!('workload' in c.src && 'workload' in c.dst)) continue;
      const src = c.src.workload;
      const dst = c.dst.workload;
      if (!isPhi(context, src) && !isPhi(context, dst)) continue;
      const added = subtractPorts(c.ports, before.get(pairKey(c)) ?? NO_PORTS);
      if (isEmptyPorts(added)) continue;
      const target = entry(isPhi(context, dst) ? dst : src);
      target.edges.push(`${src} -> ${dst} ${formatPorts(added)}`);
      const srcWorkload = context.workloadById.get(src);
      const dstWorkload = context.workloadById.get(dst);
      if (srcWorkload?.pods[0] && dstWorkload?.pods[0]) {
        target.rules.push(
          ...(ruleEvidence(context, dstWorkload, { pod: srcWorkload.pods[0] }, 'ingress') ?? []),
          ...(ruleEvidence(context, srcWorkload, { pod: dstWorkload.pods[0] }, 'egress') ?? []),
        );
      }
    }
    for (const workload of phiWorkloads(context)) {
      for (const direction of ['ingress', 'egress'] as Direction[]) {
        const added = newExternal(
          externalGrants(context.connections, workload.id, direction),
          externalGrants(baseline, workload.id, direction),
        );
        for (const { addresses, ports } of added) {
          const cidrs = toCidrs(addresses).join(',');
          entry(workload.id).edges.push(
            direction === 'ingress'
              ? `${cidrs} -> ${workload.id} ${formatPorts(ports)}`
              : `${workload.id} -> ${cidrs} ${formatPorts(ports)}`,
          );
        }
      }
    }
    return [...byPhi].map(([id, { edges, rules }]) => {
      const unique = [...new Map(rules.map((r) => [`${r.rule} ${r.at}`, r])).values()];
      const workload = context.workloadById.get(id);
      return {
        status: 'fail' as const,
        objects: [id],
        evidence: {
          edges,
          rules: unique,
          notes: [`${edges.length} flow(s) into or out of ${id} that the approved baseline did not allow`],
        },
        location: workload ? locationOf(workload.provenance) : undefined,
        remediation: {
          text: 'Review each new flow: approve it by taking a new baseline after sign-off, or narrow the policies that admit it (the rules listed).',
        },
      };
    });
  },
};

// ---------------------------------------------------------------------------------------------------
// HIPAA-NP-031: transitive exposure from outside the cluster

function selectorOf(service: KeptObject): Record<string, string> | undefined {
  const spec = service.object.spec as Record<string, unknown> | undefined;
  const selector = spec?.selector;
  if (!selector || typeof selector !== 'object') return undefined;
  const entries = Object.entries(selector as Record<string, unknown>).filter(
    (e): e is [string, string] => typeof e[1] === 'string',
  );
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function serviceWorkloads(context: AuditContext, service: KeptObject): Workload[] {
  const selector = selectorOf(service);
  if (!selector) return [];
  return context.snapshot.workloads.filter(
    (w) =>
      w.namespace === service.namespace &&
      w.pods.some((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v)),
  );
}

function ingressServiceNames(ingress: KeptObject): string[] {
  const spec = ingress.object.spec as Record<string, unknown> | undefined;
  const names = new Set<string>();
  const backend = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    const b = value as { service?: { name?: unknown }; serviceName?: unknown };
    const name = b.service?.name ?? b.serviceName;
    if (typeof name === 'string') names.add(name);
  };
  backend(spec?.defaultBackend);
  backend(spec?.backend);
  for (const rule of Array.isArray(spec?.rules) ? spec.rules : []) {
    const paths = (rule as { http?: { paths?: unknown } })?.http?.paths;
    for (const path of Array.isArray(paths) ? paths : []) backend((path as { backend?: unknown })?.backend);
  }
  return [...names];
}

/** Workloads reachable from outside the cluster, each with how. */
function entryPoints(context: AuditContext): Map<string, string[]> {
  const entries = new Map<string, string[]>();
  const add = (id: string, why: string) => entries.set(id, [...(entries.get(id) ?? []), why]);
  for (const c of context.connections) {
    if (!('external' in c.src) || !('workload' in c.dst)) continue;
    const outside = subtract(addressSet(c.src.external), NON_PUBLIC_ADDRESSES);
    if (outside.length > 0) add(c.dst.workload, `ingress from public addresses: ${edgeText(c)}`);
  }
  for (const service of context.snapshot.services) {
    const spec = service.object.spec as { type?: unknown; externalIPs?: unknown } | undefined;
    const externalIPs = Array.isArray(spec?.externalIPs) && spec.externalIPs.length > 0;
    if (spec?.type !== 'NodePort' && spec?.type !== 'LoadBalancer' && !externalIPs) continue;
    const how =
      externalIPs && spec?.type !== 'NodePort' && spec?.type !== 'LoadBalancer'
        ? 'externalIPs'
        : String(spec?.type);
    for (const w of serviceWorkloads(context, service))
      add(w.id, `Service ${service.namespace}/${service.name} (${how}) at ${where(service.provenance)}`);
  }
  for (const ingress of context.snapshot.ingresses) {
    for (const name of ingressServiceNames(ingress)) {
      const service = context.snapshot.services.find(
        (s) => s.namespace === ingress.namespace && s.name === name,
      );
      if (!service) continue;
      for (const w of serviceWorkloads(context, service))
        add(
          w.id,
          `backend of Ingress ${ingress.namespace}/${ingress.name} (Service ${name}) at ${where(ingress.provenance)}`,
        );
    }
  }
  return entries;
}

/** Shortest paths from a set of sources, as predecessor links (sources map to undefined). */
function breadthFirst(
  adjacency: ReadonlyMap<string, Connection[]>,
  sources: Iterable<string>,
): Map<string, Connection | undefined> {
  const reached = new Map<string, Connection | undefined>();
  const queue: string[] = [];
  for (const source of sources) {
    reached.set(source, undefined);
    queue.push(source);
  }
  for (let head = 0; head < queue.length; head++) {
    for (const c of adjacency.get(queue[head] as string) ?? []) {
      const next = peerName(c.dst);
      if (reached.has(next)) continue;
      reached.set(next, c);
      queue.push(next);
    }
  }
  return reached;
}

/** Why an edge into `target` has no rule behind it: nothing isolates it, or it fell to the default. */
function unadmittedNote(context: AuditContext, target: Workload): string {
  const isolations = onePodPerClass(context, target).map((pod) => isolationOf(context, pod, 'ingress'));
  if (isolations.some((i) => i.kind === 'open' && i.rules.length > 0))
    return `${target.id} is not ingress-isolated: no NetworkPolicy selects it and the Admin/Baseline-tier rules that select it do not deny by default, so any workload that reaches it may connect`;
  if (isolations.every(isIsolated))
    return `no rule admits the last hop by name: it falls through the Admin/Baseline tiers to the default allow`;
  return `${target.id} is not ingress-isolated: any workload that reaches it may connect`;
}

const transitiveExposure: Check = {
  id: 'HIPAA-NP-031',
  run(context) {
    const entries = entryPoints(context);
    if (entries.size === 0) return [];
    const adjacency = new Map<string, Connection[]>();
    for (const c of context.connections) {
      if (!('workload' in c.src && 'workload' in c.dst)) continue;
      const list = adjacency.get(c.src.workload);
      if (list) list.push(c);
      else adjacency.set(c.src.workload, [c]);
    }
    const fromAll = breadthFirst(adjacency, entries.keys());
    const drafts: FindingDraft[] = [];
    for (const target of phiWorkloads(context)) {
      // A PHI entry point is directly exposed (009, 021, 022); here only paths of one hop or more count.
      const reached = entries.has(target.id)
        ? breadthFirst(
            adjacency,
            [...entries.keys()].filter((id) => id !== target.id),
          )
        : fromAll;
      if (!reached.has(target.id)) continue;
      const hops: Connection[] = [];
      for (let at = reached.get(target.id); at; at = reached.get(peerName(at.src))) hops.unshift(at);
      const first = hops[0];
      if (!first) continue;
      const entry = peerName(first.src);
      const path = ['outside', entry, ...hops.map((h) => peerName(h.dst))].join(' -> ');
      const last = hops[hops.length - 1] as Connection;
      const previous = context.workloadById.get(peerName(last.src));
      const rules =
        previous?.pods[0] !== undefined
          ? (ruleEvidence(context, target, { pod: previous.pods[0] }, 'ingress') ?? [])
          : [];
      drafts.push({
        status: 'fail',
        objects: [target.id, entry],
        evidence: {
          edges: hops.map(edgeText),
          rules,
          notes: [
            path,
            ...(entries.get(entry) ?? []).map((why) => `${entry} is reachable from outside: ${why}`),
            ...(rules.length === 0 ? [unadmittedNote(context, target)] : []),
          ],
        },
        location: locationOf(target.provenance),
        remediation: {
          text: `Break the path at its last hop: admit into ${target.id} only the workloads that must reach it, and keep ${entry} from reaching PHI except through an approved flow (approvedFlows); accept the finding when the entry point is the sanctioned one.`,
        },
      });
    }
    return drafts;
  },
};

// ---------------------------------------------------------------------------------------------------
// HIPAA-NP-032: ePHI flow map

const flowMap: Check = {
  id: 'HIPAA-NP-032',
  run(context) {
    const phi = phiWorkloads(context);
    const seen = new Set<Connection>();
    for (const w of phi) {
      for (const c of [...connectionsOf(context, w.id, 'ingress'), ...connectionsOf(context, w.id, 'egress')])
        seen.add(c);
    }
    // Connectivity is sorted once; keep its order so the map reads the same on every run.
    const edges = context.connections.filter((c) => seen.has(c));
    const count = (test: (c: Connection) => boolean) => edges.filter(test).length;
    const phiEnd = (p: Connection['src']) => 'workload' in p && isPhi(context, p.workload);
    const between = count((c) => phiEnd(c.src) && phiEnd(c.dst));
    const into = count((c) => !phiEnd(c.src) && phiEnd(c.dst));
    const out = count((c) => phiEnd(c.src) && !phiEnd(c.dst));
    return [
      {
        status: 'pass',
        objects: phi.map((w) => w.id),
        evidence: {
          edges: edges.map(edgeText),
          notes: [
            phi.length === 0
              ? 'no PHI workloads: the map is empty'
              : `${phi.length} PHI workload(s): ${phi.map((w) => `${w.id} (${context.phi.phi.get(w.id)})`).join(', ')}`,
            `${into} flow(s) into PHI, ${out} out of PHI, ${between} between PHI workloads`,
          ],
        },
      },
    ];
  },
};

export const platformAndHygieneChecks: readonly Check[] = [
  cniPresent,
  unmodelledKinds,
  policySelectsNothing,
  peerSelectsNothing,
  redundantRules,
  flowLogging,
  newReachability,
  transitiveExposure,
  flowMap,
];
