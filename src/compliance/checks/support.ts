import { type Connection, peerName } from '../../analysis/connectivity.ts';
import { l7Text } from '../../analysis/l7.ts';
import { parseCidr } from '../../engine/addresses.ts';
import type { Endpoint } from '../../engine/endpoint.ts';
import { type IntervalSet, normalize } from '../../engine/intervals.ts';
import { isKindRule } from '../../engine/kind-rules.ts';
import { formatPorts } from '../../engine/ports.ts';
import type { Direction, Pod, Provenance, Workload } from '../../model/types.ts';
import { where } from '../../report/explain.ts';
import type { AuditContext, Evidence } from '../types.ts';
import { allowingRules, tierRuleEvidence } from './tier-support.ts';

/** `src -> dst TCP 443`, the edge notation of the catalogue. */
/** A finding's location: the file and line of an object or field. */
export function locationOf(provenance: Provenance): { file: string; line: number } {
  return { file: provenance.file, line: provenance.locate().line };
}

/** The label the API server sets on every namespace: the one selector a namespace owner cannot forge. */
export const NAME_LABEL = 'kubernetes.io/metadata.name';

export function edgeText(connection: Connection): string {
  const l7 = connection.l7Filtered ? ` [${l7Text(connection.l7Filtered)}]` : '';
  return `${peerName(connection.src)} -> ${peerName(connection.dst)} ${formatPorts(connection.ports)}${l7}`;
}

export function phiWorkloads(context: AuditContext): Workload[] {
  return context.snapshot.workloads.filter((w) => context.phi.phi.has(w.id));
}

export function isPhi(context: AuditContext, workloadId: string): boolean {
  return context.phi.phi.has(workloadId);
}

/** Connections into (or out of) a workload, from the audit's connectivity. */
const connectionIndex = new WeakMap<readonly Connection[], Map<string, Connection[]>>();

/**
 * The connections into (ingress) or out of (egress) a workload, indexed once per audit: checks ask it
 * for every workload (or every PHI workload), and a scan of every connection per question grew with
 * the square of the cluster (an L audit did not finish in 8 minutes). The lists are shared: read only.
 */
export function connectionsOf(
  context: AuditContext,
  workloadId: string,
  direction: Direction,
): readonly Connection[] {
  let index = connectionIndex.get(context.connections);
  if (!index) {
    index = new Map();
    for (const connection of context.connections) {
      for (const [side, key] of [
        [connection.dst, 'ingress'],
        [connection.src, 'egress'],
      ] as const) {
        if (!('workload' in side)) continue;
        const id = `${key}\0${side.workload}`;
        const list = index.get(id);
        if (list) list.push(connection);
        else index.set(id, [connection]);
      }
    }
    connectionIndex.set(context.connections, index);
  }
  return index.get(`${direction}\0${workloadId}`) ?? [];
}

/**
 * The rules that admit one direction of a connection, as `ns/policy#spec.ingress[1]` at `file:line`:
 * the evidence an auditor follows back to the YAML. Where Admin- or Baseline-tier policies take part,
 * their rules that allowed it (or passed it on to be allowed) come in evaluation order, as
 * `AdminNetworkPolicy/x ingress[0] "allow-monitoring" (Allow)`, and NetworkPolicy rules only for the
 * ports the NetworkPolicy tier decided.
 */
export function ruleEvidence(
  context: AuditContext,
  subject: Workload,
  peer: Endpoint,
  direction: Direction,
): Evidence['rules'] {
  const pod = subject.pods[0];
  if (!pod) return [];
  const side = context.engine.explainSide(pod, peer, direction);
  // Rules of other kinds (Calico, Cilium) that allowed ports, with their note (`L7-filtered (http)`).
  const kindRules = side.chain.flatMap(({ rule, action }) =>
    action === 'Allow' && isKindRule(rule)
      ? [
          {
            rule: `${rule.origin.rule} (Allow${rule.origin.note ? `, ${rule.origin.note}` : ''})`,
            at: where(rule.origin.provenance),
          },
        ]
      : [],
  );
  return [
    ...allowingRules(side).map((entry) =>
      entry.kind === 'tier'
        ? tierRuleEvidence(entry, entry.action)
        : {
            rule: `${entry.policy.namespace}/${entry.policy.name}#spec.${direction}[${entry.rule.index}]`,
            at: where(entry.rule.provenance),
          },
    ),
    ...kindRules,
  ];
}

export function addressSet(cidrs: readonly string[]): IntervalSet<bigint> {
  return normalize(
    cidrs.flatMap((text) => {
      const cidr = parseCidr(text);
      return cidr ? [[cidr.lo, cidr.hi] as const] : [];
    }),
  );
}

/**
 * Addresses no packet to or from the internet uses: private (RFC 1918, ULA), shared (CGNAT), loopback,
 * link-local, benchmarking, multicast and reserved blocks. Documentation blocks (192.0.2.0/24,
 * 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) count as public: examples use them for internet hosts.
 */
export const NON_PUBLIC_ADDRESSES = addressSet([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/127',
  '::ffff:0:0/96',
  '100::/64',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
]);

/** One pod per pod class: pods of a class share every answer, so asking once per class is exact. */
export function onePodPerClass(context: AuditContext, workload: Workload): Pod[] {
  const seen = new Set<unknown>();
  return workload.pods.filter((pod) => {
    const podClass = context.engine.classOf(pod);
    if (seen.has(podClass)) return false;
    seen.add(podClass);
    return true;
  });
}
