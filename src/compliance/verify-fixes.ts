import {
  type Connection,
  computeConnectivity,
  peerName,
  updateConnectivity,
} from '../analysis/connectivity.ts';
import { applyPolicyChanges } from '../analysis/policy-changes.ts';
import { Engine } from '../engine/engine.ts';
import { intersectPorts, isEmptyPorts, NO_PORTS, subtractPorts } from '../engine/ports.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { NetworkPolicy, Snapshot, Workload } from '../model/types.ts';
import { approvedPorts, namesWorkload } from './checks/approved-flows.ts';
import { CHECKS } from './checks/index.ts';
import { connectionsOf } from './checks/support.ts';
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
 * `in-place`: a fix of NetworkPolicies alone is applied to the audit's engine and reverted after;
 * `rebuild`: every fix gets an engine of its own (the slower path, which tests compare it with).
 */
export type FixCheckMode = 'in-place' | 'rebuild';

/**
 * What fix checks may cost by default, in workloads' worth of engine work. A fix of NetworkPolicies
 * alone is applied to the audit's engine in place and costs the workloads and workload pairs whose
 * connections it changes, plus the class pairs replacePolicy weighs (PAIRS_PER_WORKLOAD to a
 * workload's worth); one that needs a new engine (Admin/Baseline policies, ipBlocks that may split
 * pod classes) costs every workload of the input. Most severe root causes first; the rest say they
 * were not checked and why. On the M benchmark this checks the most severe fixes and keeps the audit
 * within three times connectivity's time (bench/phi-tier.md).
 */
export const VERIFY_BUDGET = 2_500;
/**
 * Class pairs replacePolicy weighs per workload's worth: measured on the M benchmark, where a
 * workload's worth of in-place work took about as long as a hundred class pairs (bench/phi-tier.md).
 */
const PAIRS_PER_WORKLOAD = 100;
/** Up to this many workloads, the fixed input's connectivity is computed whole; above, per workload. */
const WHOLE_CONNECTIVITY = 1_500;
/** Past this many workloads to re-check, one whole connectivity costs less than one per workload. */
const MAX_FOCUS = 25;
/** Checks that follow paths through the whole cluster: per-workload connectivity cannot re-check them. */
const WHOLE_CLUSTER_CHECKS = new Set(['HIPAA-NP-030', 'HIPAA-NP-031']);

const POLICY_RULE = /^([^/#\s]+)\/([^/#\s]+)#spec\.(ingress|egress)\[(\d+)\]$/;

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/** The input with a fix applied, and the NetworkPolicy changes that make it from the input. */
interface FixedInput {
  snapshot: Snapshot;
  /** Replaced policies (rewritten, or a rule removed) in input order, then added ones. */
  changes: { before?: NetworkPolicy; after?: NetworkPolicy }[];
  /** The fix changes Admin/Baseline policies, which the engine cannot swap in place. */
  tiers: boolean;
}

/**
 * The input with the fix applied: its policies replace those of the same name (rewritten rules) or are
 * added; the rule a rule root cause is about is removed, as its remediation says to. A reason instead
 * when the manifest holds objects the engine does not decide traffic by (an Ingress, a Service).
 */
function applyFix(snapshot: Snapshot, cause: RootCause): FixedInput | string {
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
  const changes: FixedInput['changes'] = [];
  const policies: NetworkPolicy[] = snapshot.policies.map((policy) => {
    const policyKey = key(policy.namespace, policy.name);
    const replaced = added.get(policyKey);
    if (replaced) {
      added.delete(policyKey);
      changes.push({ before: policy, after: replaced });
      return replaced;
    }
    if (policyKey !== cited || !direction) return policy;
    const side = direction as 'ingress' | 'egress';
    const narrowed = { ...policy, [side]: policy[side].filter((rule) => rule.index !== Number(index)) };
    changes.push({ before: policy, after: narrowed });
    return narrowed;
  });
  for (const policy of added.values()) changes.push({ after: policy });
  return {
    snapshot: { ...snapshot, policies: [...policies, ...added.values()], clusterPolicies },
    changes,
    tiers: tiers.size > 0,
  };
}

/** The engine over the fixed input and its connectivity; `revert` restores the audit's engine. */
interface FixedEngine {
  engine: Engine;
  connections: Connection[];
  /** What this check cost, in workloads whose connections were computed again. */
  cost: number;
  revert(): void;
}

/**
 * A fix of NetworkPolicies alone is applied to the audit's own engine in place (replacePolicy), and
 * only the connections it touches are computed again; `revert` undoes it. A fix of Admin/Baseline
 * policies, or one whose ipBlocks could split pod classes, gets an engine of its own (undefined).
 * `over` when applying it costs more than `allowance` (it is then reverted, the work stopped there).
 */
function fixedEngine(
  context: AuditContext,
  fixed: FixedInput,
  allowance: number,
): FixedEngine | 'over' | undefined {
  if (fixed.tiers) return undefined;
  const { engine } = context;
  const result = applyPolicyChanges(
    engine,
    fixed.changes,
    (evaluated) => evaluated / PAIRS_PER_WORKLOAD > allowance,
  );
  if ('undone' in result) return result.undone === 'too costly' ? 'over' : undefined;
  const { applied } = result;
  try {
    const update = updateConnectivity(engine, context.connections, applied);
    const cost = update.recomputed + Math.ceil(applied.evaluated / PAIRS_PER_WORKLOAD);
    return { engine, connections: update.connections, cost, revert: applied.revert };
  } catch (error) {
    applied.revert();
    throw error;
  }
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

/**
 * The engine over the fixed input with its connections, on a new engine: the whole connectivity on
 * small inputs, else only that of the focused workloads, which checks following paths through the
 * whole cluster cannot use (`skipped`).
 */
function rebuilt(
  context: AuditContext,
  fixed: Snapshot,
  focus: readonly string[],
): { engine: Engine; connections: Connection[]; whole: boolean } {
  const engine = new Engine(fixed, context.engine.options);
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
  return { engine, connections, whole };
}

function verifyOne(
  context: AuditContext,
  cause: RootCause,
  findings: readonly Finding[],
  approved: readonly { src: Workload; dst: Workload }[],
  inPlace: FixedEngine | undefined,
  fixed: FixedInput,
): FixVerification {
  const own = (cause.remediationCovers ?? cause.findings).map((i) => findings[i] as Finding);
  const workloads = [...new Set(own.flatMap((f) => f.objects))].filter((id) => context.workloadById.has(id));
  const focus = [...new Set([...workloads, ...approved.map((a) => a.dst.id)])];
  const { engine, connections, whole } = inPlace
    ? { ...inPlace, whole: true }
    : rebuilt(context, fixed.snapshot, focus);
  const after: AuditContext = { ...context, snapshot: fixed.snapshot, engine, connections };
  // On a large input the checks that look at one workload at a time see the focused workloads' connections
  // only, which is all they need to answer for them and spares them the rest of the cluster.
  const focusedIds = new Set(focus);
  const touches = (c: Connection) =>
    ('workload' in c.src && focusedIds.has(c.src.workload)) ||
    ('workload' in c.dst && focusedIds.has(c.dst.workload));
  const focused: AuditContext =
    inPlace && fixed.snapshot.workloads.length > WHOLE_CONNECTIVITY
      ? { ...after, connections: connections.filter(touches) }
      : after;
  const checks = new Set(own.map((f) => f.check));
  const skipped = whole ? [] : [...checks].filter((c) => WHOLE_CLUSTER_CHECKS.has(c));
  const statusAfter = new Map(
    CHECKS.filter((check) => checks.has(check.id) && !skipped.includes(check.id)).flatMap((check) =>
      check
        .run(WHOLE_CLUSTER_CHECKS.has(check.id) ? after : focused)
        .map((d) => [findingKey({ check: check.id, objects: d.objects }), d.status] as const),
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
      connectionsOf(c, dst.id, 'ingress').find((x) => 'workload' in x.src && x.src.workload === src.id)
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
  how: FixCheckMode = 'in-place',
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
    const spent = {
      status: 'not-checked' as const,
      text: `not checked by the engine: the ${budget} workloads' worth of engine work this audit allows are spent (--verify-fixes all checks every one)`,
    };
    if (left <= 0) {
      cause.verification = spent;
      continue;
    }
    const fixed = applyFix(context.snapshot, cause);
    if (typeof fixed === 'string') {
      cause.verification = { status: 'not-checked', text: `not checked by the engine: ${fixed}` };
      continue;
    }
    let inPlace: FixedEngine | undefined;
    try {
      const applied = how === 'in-place' ? fixedEngine(context, fixed, left) : undefined;
      if (applied === 'over') {
        cause.verification = {
          ...spent,
          text: `${spent.text}; applying this fix in place weighs more class pairs than the ${left} left allow`,
        };
        continue;
      }
      inPlace = applied;
      // In place, what the change touched; otherwise a new engine, all of the input's workloads.
      const cost = inPlace ? inPlace.cost : Math.max(1, context.snapshot.workloads.length);
      if (!inPlace && left < cost) {
        cause.verification = {
          ...spent,
          text: `${spent.text}; this fix needs a new engine over all ${cost} workloads (${fixed.tiers ? 'it changes Admin/Baseline policies' : 'its ipBlocks may split pod classes'})`,
        };
        continue;
      }
      left -= cost;
      cause.verification = verifyOne(context, cause, findings, approved, inPlace, fixed);
    } catch (error) {
      // The check is evidence beside the audit, not the audit: a failure in it is reported where its
      // answer would be, and the findings stand.
      cause.verification = {
        status: 'not-checked',
        text: `not checked: the engine failed on the fixed input (a bug in phiwall, please report it): ${error instanceof Error ? error.message : String(error)}`,
      };
    } finally {
      inPlace?.revert();
    }
  }
}
