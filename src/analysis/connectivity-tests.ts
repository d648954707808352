import type { Engine } from '../engine/engine.ts';
import type { ConnectivityTest } from '../load/connectivity-tests.ts';
import { type Diagnostic, InputError } from '../load/diagnostics.ts';
import type { Protocol } from '../model/types.ts';
import { type Explanation, explainConnection, queryOutcome } from './explain.ts';
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
  explanation: Explanation;
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
    for (const field of ['from', 'to'] as const) {
      try {
        const resolved = resolveEndpoint(engine.snapshot, test[field]);
        if (field === 'from') from = resolved;
        else to = resolved;
      } catch (error) {
        if (!(error instanceof ResolveError)) throw error;
        problem(field, error.message);
      }
    }
    if (!from || !to) continue;
    const port = resolveTestPort(test, to);
    if (typeof port === 'string') {
      problem('port', port);
      continue;
    }
    const explanation = explainConnection(engine, from, to, { protocol: test.protocol, port });
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

/** The port number to ask about, or a message when a named port does not exist on the destination. */
function resolveTestPort(test: ConnectivityTest, to: Resolved): number | undefined | string {
  if (typeof test.port !== 'string') return test.port;
  if (to.kind === 'ip') return `named port "${test.port}" needs a workload destination, not an address`;
  const named = to.pod.namedPorts.find((p) => p.name === test.port && p.protocol === test.protocol);
  return named ? named.port : `${to.workload.id} has no ${test.protocol} port named "${test.port}"`;
}
