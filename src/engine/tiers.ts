import type { ClusterAction } from '../model/types.ts';
import {
  ALL_PORTS,
  intersectPorts,
  isEmptyPorts,
  NO_PORTS,
  type PortSet,
  subtractPorts,
  unionPorts,
} from './ports.ts';

/** One rule of the Admin or Baseline tier as it applies to one peer: its action, on the ports it matches. */
export interface TierMatch<Rule> {
  rule: Rule;
  action: ClusterAction;
  ports: PortSet;
}

/** Which tier decided which ports of one direction of a connection, and through which rule. */
export interface TierStep<Rule> {
  tier: 'Admin' | 'NetworkPolicy' | 'Baseline' | 'Default';
  /** Admin and Baseline steps: the rule that matched first for these ports. */
  rule?: Rule;
  action: ClusterAction;
  /** The ports this step decided (for Pass: handed on to the next tier). */
  ports: PortSet;
}

export interface TierInput<Rule> {
  /** The Admin-tier rules that match the peer, in evaluation order. */
  admin: Iterable<TierMatch<Rule>>;
  /** Whether a NetworkPolicy isolates the subject in this direction, and what its rules grant the peer. */
  isolated: boolean;
  networkPolicyGrant: () => PortSet;
  /** The Baseline-tier rules that match the peer, in evaluation order. */
  baseline: Iterable<TierMatch<Rule>>;
}

/**
 * Evaluates the tiers for one direction over whole port sets at once: each port goes to the first
 * matching Admin rule (Allow and Deny decide, Pass hands it to NetworkPolicy), then to NetworkPolicy if
 * one isolates the subject (which decides everything), then to the first matching Baseline rule, and
 * is allowed by default. `steps`, when given, receives every decision with the ports it covered.
 */
export function tieredPorts<Rule>(input: TierInput<Rule>, steps?: TierStep<Rule>[]): PortSet {
  let allowed = NO_PORTS;
  let undecided = ALL_PORTS;
  let passed = NO_PORTS;
  const walk = (tier: 'Admin' | 'Baseline', matches: Iterable<TierMatch<Rule>>) => {
    for (const { rule, action, ports } of matches) {
      if (isEmptyPorts(undecided)) return;
      const decided = intersectPorts(ports, undecided);
      if (isEmptyPorts(decided)) continue;
      undecided = subtractPorts(undecided, decided);
      if (action === 'Allow') allowed = unionPorts(allowed, decided);
      else if (action === 'Pass') passed = unionPorts(passed, decided);
      steps?.push({ tier, rule, action, ports: decided });
    }
  };
  walk('Admin', input.admin);
  undecided = unionPorts(undecided, passed);
  passed = NO_PORTS;
  if (isEmptyPorts(undecided)) return allowed;
  if (input.isolated) {
    const granted = intersectPorts(undecided, input.networkPolicyGrant());
    if (steps) {
      if (!isEmptyPorts(granted)) steps.push({ tier: 'NetworkPolicy', action: 'Allow', ports: granted });
      const denied = subtractPorts(undecided, granted);
      if (!isEmptyPorts(denied)) steps.push({ tier: 'NetworkPolicy', action: 'Deny', ports: denied });
    }
    return unionPorts(allowed, granted);
  }
  walk('Baseline', input.baseline);
  // A Baseline-tier Pass hands the ports to the default, which allows them.
  undecided = unionPorts(undecided, passed);
  if (!isEmptyPorts(undecided)) steps?.push({ tier: 'Default', action: 'Allow', ports: undecided });
  return unionPorts(allowed, undecided);
}
