import type { Connection } from '../../analysis/connectivity.ts';
import type { Endpoint } from '../../engine/endpoint.ts';
import type { Direction, Workload } from '../../model/types.ts';
import type { AuditContext, Evidence } from '../types.ts';
import { edgeText, ruleEvidence } from './support.ts';

/** Evidence lists stay readable on large clusters; the count of what was left out is always given. */
const MAX_EDGES = 25;
/** Policies in one remediation: past this, more of the same shape help no one apply them. */
export const MAX_REMEDIATIONS = 10;

export function edgesOf(connections: readonly Connection[]): Pick<Evidence, 'edges' | 'notes'> {
  const edges = connections.slice(0, MAX_EDGES).map(edgeText);
  const more = connections.length - edges.length;
  return more > 0 ? { edges, notes: [`${more} more edge(s) not listed`] } : { edges };
}

export type RuleRef = { rule: string; at: string };

const ruleCache = new WeakMap<AuditContext, Map<string, RuleRef[]>>();

/**
 * `ruleEvidence`, remembered per pod-class pair: the answer depends only on the classes, and large
 * clusters ask it for tens of thousands of edges between a few hundred classes.
 */
export function rulesOf(
  context: AuditContext,
  subject: Workload,
  peer: Endpoint,
  direction: Direction,
): RuleRef[] {
  const pod = subject.pods[0];
  if (!pod) return [];
  let cache = ruleCache.get(context);
  if (!cache) {
    cache = new Map();
    ruleCache.set(context, cache);
  }
  const peerKey = 'pod' in peer ? `c${context.engine.classOf(peer.pod).id}` : `i${peer.ip}`;
  const key = `${direction}:${context.engine.classOf(pod).id}:${peerKey}`;
  let rules = cache.get(key);
  if (!rules) {
    rules = ruleEvidence(context, subject, peer, direction) ?? [];
    cache.set(key, rules);
  }
  // A copy, so that no two findings share an array a reporter might sort or extend.
  return [...rules];
}

export function mergeEvidence(...parts: Evidence[]): Evidence {
  const evidence: Evidence = {};
  const rules: RuleRef[] = [];
  const seen = new Set<string>();
  for (const part of parts) {
    if (part.edges?.length) evidence.edges = [...(evidence.edges ?? []), ...part.edges];
    for (const rule of part.rules ?? []) {
      if (seen.has(rule.rule)) continue;
      seen.add(rule.rule);
      rules.push(rule);
    }
    if (part.notes?.length) evidence.notes = [...(evidence.notes ?? []), ...part.notes];
  }
  if (rules.length > 0) evidence.rules = rules;
  return evidence;
}
