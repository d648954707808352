import type { Engine } from '../engine/engine.ts';
import type { ConnectivityTest } from '../load/connectivity-tests.ts';
import { type Diagnostic, InputError } from '../load/diagnostics.ts';
import type { Protocol } from '../model/types.ts';
import { type Explanation, explainConnection, queryOutcome } from './explain.ts';
import { explainNamedConnection, isNamedPeerText, type NamedExplanation } from './explain-named.ts';
import { type Resolved, ResolveError, resolveEndpoint } from './resolve.ts';

export interface TestResult {
  name: string;
  from: string;
  to: string;
  port: number | string | null;
  protocol: Protocol;
  expect: 'allow' | 'deny';
  /** `some`: the pods of an end disagree (some pod pairs allowed, others denied); never a pass. */
  actual: 'allow' | 'deny' | 'some';
  pass: boolean;
  /** A NamedExplanation when `to` is `fqdn:<name>` (Cilium toFQDNs): see isNamedExplanation. */
  explanation: Explanation | NamedExplanation;
}

export function isNamedExplanation(e: Explanation | NamedExplanation): e is NamedExplanation {
  return typeof e.to === 'string';
}

/**
 * Runs declarative connectivity tests. A test that names an unknown workload or port is an input
 * error (positioned in the tests file), never a silent failure.
 */
export function runConnectivityTests(engine: Engine, tests: readonly ConnectivityTest[]): TestResult[] {
  const problems: Diagnostic[] = [];
  const results: TestResult[] = [];
  for (const test of tests) {
    const problem = (field: 'from' | 'to' | 'port', message: string) => {
      problems.push({ ...test.locateField(field), message });
    };
    let from: Resolved | undefined;
    let to: Resolved | undefined;
    const named = isNamedPeerText(test.to);
    for (const field of named ? (['from'] as const) : (['from', 'to'] as const)) {
      try {
        const resolved = resolveEndpoint(engine.snapshot, test[field]);
        if (field === 'from') from = resolved;
        else to = resolved;
      } catch (error) {
        if (!(error instanceof ResolveError)) throw error;
        problem(field, error.message);
      }
    }
    if (!from || (!to && !named)) continue;
    if (named && from.kind !== 'workload') {
      problem(
        'from',
        `"${test.from}" is an address outside the cluster: no policy phiwall reads governs its egress to "${test.to}"`,
      );
      continue;
    }
    const port = to ? resolveTestPort(test, to) : namedPeerPort(test);
    if (typeof port === 'string') {
      problem('port', port);
      continue;
    }
    const query = { protocol: test.protocol, port };
    const explanation = to
      ? explainConnection(engine, from, to, query)
      : explainNamedConnection(engine, from, test.to, query);
    const outcome = queryOutcome(explanation);
    const actual = outcome === 'all' ? 'allow' : outcome === 'none' ? 'deny' : 'some';
    results.push({
      name:
        test.name ??
        `${test.from} -> ${test.to} ${test.protocol}${test.port === undefined ? '' : ` ${test.port}`} ${test.expect}`,
      from: test.from,
      to: test.to,
      port: test.port ?? null,
      protocol: test.protocol,
      expect: test.expect,
      actual,
      pass: actual === test.expect,
      explanation,
    });
  }
  if (problems.length > 0) throw new InputError(problems);
  return results;
}

/** A name's port is a number: the port names a destination's pods give do not reach outside the cluster. */
function namedPeerPort(test: ConnectivityTest): number | undefined | string {
  return typeof test.port === 'string'
    ? `named port "${test.port}" needs a workload destination, not ${test.to}`
    : test.port;
}

/** The port number to ask about, or a message when a named port does not exist on the destination. */
function resolveTestPort(test: ConnectivityTest, to: Resolved): number | undefined | string {
  if (typeof test.port !== 'string') return test.port;
  if (to.kind === 'ip') return `named port "${test.port}" needs a workload destination, not an address`;
  const named = to.pod.namedPorts.find((p) => p.name === test.port && p.protocol === test.protocol);
  return named ? named.port : `${to.workload.id} has no ${test.protocol} port named "${test.port}"`;
}
