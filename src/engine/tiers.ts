import type { TierAction } from './kind-rules.ts';
import {
  ALL_PORTS,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from './ports.ts';

/** One rule as it applies to one peer: its action, on the ports it matches. No rule: NetworkPolicy's grant. */
export interface TierMatch<Rule> {
  rule?: Rule;
  action: TierAction;
  ports: PortSet;
}

export type TierName = 'Admin' | 'NetworkPolicy' | 'Baseline' | 'Default' | (string & {});

/** Which tier decided which ports of one direction of a connection, and through which rule. */
export interface TierStep<Rule> {
  tier: TierName;
  /** The rule that matched first for these ports; none for NetworkPolicy's grant and a level's isolation. */
  rule?: Rule;
  action: TierAction;
  /** The ports this step decided (for Pass: handed on to the next tier). */
  ports: PortSet;
  /**
   * For a Deny: the Allow rules of the same tier that match the peer on some of these ports too and lose
   * to it (no rule: NetworkPolicy's grant), each with those ports.
   */
  overrides?: { rule?: Rule; ports: PortSet }[];
}

/** One level of the walk: its matches in evaluation order, and whether it denies what they leave. */
export interface TierLevel<Rule> {
  tier: TierName;
  matches: Iterable<TierMatch<Rule>>;
  /** A level that isolates the subject denies the ports no match decided; others hand them on. */
  isolates: boolean;
}

/**
 * Evaluates the levels for one direction over whole port sets at once: each port goes to the first
 * matching rule of the first level (Allow and Deny decide, Pass hands it to the next level); a level
 * that isolates the subject denies what its rules left; what every level left is allowed by default.
 * `steps`, when given, receives every decision with the ports it covered.
 */
export function walkTiers<Rule>(levels: Iterable<TierLevel<Rule>>, steps?: TierStep<Rule>[]): PortSet {
  let allowed = NO_PORTS;
  let undecided = ALL_PORTS;
  for (const level of levels) {
    let passed = NO_PORTS;
    const denials: TierStep<Rule>[] = [];
    for (const { rule, action, ports } of level.matches) {
      // An explanation reads on past the last decision, for the allows a deny overrode.
      if (isEmptyPorts(undecided) && denials.length === 0) break;
      if (action === 'Allow') noteOverrides(denials, rule, ports);
      const decided = intersectPorts(ports, undecided);
      if (isEmptyPorts(decided)) continue;
      undecided = subtractPorts(undecided, decided);
      if (action === 'Allow') allowed = unionPorts(allowed, decided);
      else if (action === 'Pass') passed = unionPorts(passed, decided);
      const step = { tier: level.tier, ...(rule === undefined ? {} : { rule }), action, ports: decided };
      steps?.push(step);
      if (steps && action === 'Deny') denials.push(step);
    }
    if (level.isolates) {
      if (!isEmptyPorts(undecided)) steps?.push({ tier: level.tier, action: 'Deny', ports: undecided });
      undecided = NO_PORTS;
    }
    undecided = unionPorts(undecided, passed);
    if (isEmptyPorts(undecided)) return allowed;
  }
  steps?.push({ tier: 'Default', action: 'Allow', ports: undecided });
  return unionPorts(allowed, undecided);
}

function noteOverrides<Rule>(denials: readonly TierStep<Rule>[], rule: Rule | undefined, ports: PortSet) {
  for (const denial of denials) {
    const lost = intersectPorts(ports, denial.ports);
    if (isEmptyPorts(lost)) continue;
    denial.overrides ??= [];
    denial.overrides.push({ ...(rule === undefined ? {} : { rule }), ports: lost });
  }
}
