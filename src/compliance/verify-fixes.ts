import { computeConnectivity, peerName } from '../analysis/connectivity.ts';
import { Engine } from '../engine/engine.ts';
import { intersectPorts, isEmptyPorts, NO_PORTS, subtractPorts } from '../engine/ports.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { NetworkPolicy, Snapshot, Workload } from '../model/types.ts';
import { approvedPorts, namesWorkload } from './checks/approved-flows.ts';
import { CHECKS } from './checks/index.ts';
import { connectionsOfIndexed } from './checks/util-evidence.ts';
import type { RootCause } from './root-causes.ts';
import type { AuditContext, Finding } from './types.ts';

/** What the engine said of a root cause's fix, applied to the input. */
export interface FixVerification {
  status: 'verified' | 'not-verified' | 'breaks-approved-flows' | 'not-checked';
  text: string;
  /** Findings of the root cause that still fail with the fix applied, as `check objects`. */
  stillFailing?: string[];
  /** Findings of the root cause that still need a person's review with the fix applied (012, 020). */
  toReview?: string[];
  /** approvedFlows entries that flow now and would not with the fix applied. */
  brokenFlows?: string[];
}

/**
 * Each verification builds an engine over the whole input again and computes connectivity, so the
 * default budget is this many workloads' worth of engines: a few hundred root causes on a cluster of a
 * few hundred workloads, none on the M benchmark (5,041 workloads), where one more pass would
 * take the audit past three times connectivity's time. The rest say they were not checked and why.
 */
export const VERIFY_BUDGET = 5_000;
/** Up to this many workloads, the fixed input's connectivity is computed whole; above, per workload. */
const WHOLE_CONNECTIVITY = 1_500;
/** Past this many workloads to re-check, one whole connectivity costs less than one per workload. */
const MAX_FOCUS = 25;
/** Checks that follow paths through the whole cluster: per-workload connectivity cannot re-check them. */
const WHOLE_CLUSTER_CHECKS = new Set(['HIPAA-NP-030', 'HIPAA-NP-031']);

const POLICY_RULE = /^([^/#\s]+)\/([^/#\s]+)#spec\.(ingress|egress)\[(\d+)\]$/;

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/**
 * The input with the fix applied: its policies replace those of the same name (rewritten rules) or are
 * added; the rule a rule root cause is about is removed, as its remediation says to. A reason instead
 * when the manifest holds objects the engine does not decide traffic by (an Ingress, a Service).
 */
function applyFix(snapshot: Snapshot, cause: RootCause): Snapshot | string {
  const yaml = cause.remediation?.yaml ?? '';
  let fix: Snapshot;
  try {
    fix = buildSnapshot([{ path: '<remediation>', text: yaml }]);
  } catch {
    return 'its manifest does not read as Kubernetes objects';
  }
  const other = fix.workloads.length + fix.ciliumPolicies.length + fix.services.length + fix.ingresses.length;
  if (fix.policies.length + fix.clusterPolicies.length === 0 || other > 0 || fix.calico)
    return 'its manifest holds objects other than NetworkPolicies and Admin/Baseline policies';
  const tiers = new Map(fix.clusterPolicies.map((p) => [`${p.kind}/${p.name}`, p]));
  const clusterPolicies = [
    ...snapshot.clusterPolicies.filter((p) => !tiers.has(`${p.kind}/${p.name}`)),
    ...tiers.values(),
  ];
  const added = new Map(fix.policies.map((p) => [key(p.namespace, p.name), p]));
  // A folded root cause's manifest is its first member's: that member's rule is the one it replaces.
  const id = cause.folded?.[0] ?? cause.id;
  const [, namespace, name, direction, index] = POLICY_RULE.exec(id.replace(/^rule:/, '')) ?? [];
  const cited = id.startsWith('rule:') && namespace && name ? key(namespace, name) : undefined;
  const policies: NetworkPolicy[] = snapshot.policies.map((policy) => {
    const policyKey = key(policy.namespace, policy.name);
    const replaced = added.get(policyKey);
    if (replaced) {
      added.delete(policyKey);
      return replaced;
    }
    if (policyKey !== cited || !direction) return policy;
    const side = direction as 'ingress' | 'egress';
    return { ...policy, [side]: policy[side].filter((rule) => rule.index !== Number(index)) };
  });
  return { ...snapshot, policies: [...policies, ...added.values()], clusterPolicies };
}

function findingKey(f: Pick<Finding, 'check' | 'objects'>): string {
  return `${f.check} ${[...f.objects].sort().join(', ')}`;
}

/** approvedFlows entries with the workloads they name. */
function approvedFlowsOf(context: AuditContext): { src: Workload; dst: Workload }[] {
  const flows = context.config.approvedFlows;
  if (flows.length === 0) return [];
  const workloads = [...context.workloadById.values()];
  return flows.flatMap((flow) => {
    const src = workloads.find((w) => namesWorkload(flow.from, w));
    const dst = workloads.find((w) => namesWorkload(flow.to, w));
    return src && dst ? [{ src, dst }] : [];
  });
}

function verifyOne(
  context: AuditContext,
  cause: RootCause,
  findings: readonly Finding[],
  approved: readonly { src: Workload; dst: Workload }[],
): FixVerification {
  const fixed = applyFix(context.snapshot, cause);
  if (typeof fixed === 'string')
    return { status: 'not-checked', text: `not checked by the engine: ${fixed}` };
  const engine = new Engine(fixed, context.engine.options);
  const own = (cause.remediationCovers ?? cause.findings).map((i) => findings[i] as Finding);
  const workloads = [...new Set(own.flatMap((f) => f.objects))].filter((id) => context.workloadById.has(id));
  const focus = [...new Set([...workloads, ...approved.map((a) => a.dst.id)])];
  const whole = fixed.workloads.length <= WHOLE_CONNECTIVITY || focus.length > MAX_FOCUS;
  // Per workload, an edge between two focused workloads comes twice: keep it once.
  const connections = whole
    ? computeConnectivity(engine)
    : [
        ...new Map(
          focus
            .flatMap((id) => computeConnectivity(engine, { focus: id }))
            .map((c) => [`${peerName(c.src)}\0${peerName(c.dst)}`, c]),
        ).values(),
      ];
  const after: AuditContext = { ...context, snapshot: fixed, engine, connections };
  const checks = new Set(own.map((f) => f.check));
  const skipped = whole ? [] : [...checks].filter((c) => WHOLE_CLUSTER_CHECKS.has(c));
  const statusAfter = new Map(
    CHECKS.filter((check) => checks.has(check.id) && !skipped.includes(check.id)).flatMap((check) =>
      check.run(after).map((d) => [findingKey({ check: check.id, objects: d.objects }), d.status] as const),
    ),
  );
  const left = (status: Finding['status']) =>
    own.filter((f) => statusAfter.get(findingKey(f)) === status).map(findingKey);
  const stillFailing = left('fail');
  // A policy cannot show that a port carries TLS or that a flow is intended: what a person must judge
  // before the fix is still for a person to judge after it.
  const toReview = left('needs-review');
  const brokenFlows = approved.flatMap(({ src, dst }) => {
    const portsIn = (c: AuditContext) =>
      connectionsOfIndexed(c, dst.id, 'ingress').find((x) => 'workload' in x.src && x.src.workload === src.id)
        ?.ports ?? NO_PORTS;
    const flowing = intersectPorts(portsIn(context), approvedPorts(context.config, src, dst));
    return isEmptyPorts(subtractPorts(flowing, portsIn(after))) ? [] : [`${src.id} -> ${dst.id}`];
  });
  const unchecked = skipped.length
    ? ` (${skipped.join(', ')} not re-checked: they follow paths through the whole cluster)`
    : '';
  if (brokenFlows.length > 0)
    return {
      status: 'breaks-approved-flows',
      text: `the engine finds that this fix, applied as written, stops approved flows: ${brokenFlows.join('; ')}; add rules for them before applying${unchecked}`,
      brokenFlows,
      ...(stillFailing.length ? { stillFailing } : {}),
    };
  if (stillFailing.length > 0)
    return {
      status: 'not-verified',
      text: `not verified: with the fix applied the engine still finds ${stillFailing.join('; ')}${unchecked}`,
      stillFailing,
    };
  const review = toReview.length ? `; left for a person to review: ${toReview.join('; ')}` : '';
  return {
    status: 'verified',
    text: `fix verified by the engine: applied to the input, ${own.length - toReview.length} of its ${own.length} finding(s)${cause.folded ? ` (those of ${cause.folded[0]}, whose manifest it is)` : ''} pass${approved.length ? ' and the approved flows still flow' : ''}${review}${unchecked}`,
    ...(toReview.length ? { toReview } : {}),
  };
}

/**
 * Applies each root cause's fix to the input and re-runs the engine and the checks it answers: the
 * findings pass, and approved flows that flow now still do. Root causes without a manifest, or whose
 * fix is a change to phiwall.yaml, say so; on large clusters the most severe ones are checked first.
 */
export function verifyFixes(
  context: AuditContext,
  causes: readonly RootCause[],
  findings: readonly Finding[],
  budget: number,
): void {
  const approved = approvedFlowsOf(context);
  let left = budget;
  for (const cause of causes) {
    if (!cause.remediation) continue;
    if (!cause.remediation.yaml || cause.id.startsWith('review:')) {
      cause.verification = {
        status: 'not-checked',
        text: `not checked by the engine: the fix is ${cause.id.startsWith('review:') ? 'a decision recorded in phiwall.yaml' : 'advice without a manifest'}`,
      };
      continue;
    }
    const cost = Math.max(1, context.snapshot.workloads.length);
    if (left < cost) {
      cause.verification = {
        status: 'not-checked',
        text: `not checked by the engine: each check re-runs it on all ${cost} workloads, and the ${budget} workloads' worth this audit allows are spent (--verify-fixes all checks every one)`,
      };
      continue;
    }
    left -= cost;
    try {
      cause.verification = verifyOne(context, cause, findings, approved);
    } catch (error) {
      // The check is evidence beside the audit, not the audit: a failure in it is reported where its
      // answer would be, and the findings stand.
      cause.verification = {
        status: 'not-checked',
        text: `not checked: the engine failed on the fixed input (a bug in phiwall, please report it): ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
}
