import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlowEndpoint, ObservedFlow } from '../../model/flows.ts';
import { ciliumLog } from '../../testing/cilium-log.ts';
import { readLines } from './test-support.ts';

/** `src -> dst PROTOCOL port verdict`, the generator's ground-truth key. */
function edgeOf(flow: ObservedFlow): string {
  const name = (end: FlowEndpoint) =>
    end.namespace !== undefined ? `${end.namespace}/${end.workload}` : (end.ip as string);
  return `${name(flow.src)} -> ${name(flow.dst)} ${flow.protocol} ${flow.port} ${flow.verdict}`;
}

for (const policyVerdicts of [true, false]) {
  for (const seed of [1, 2, 3]) {
    test(`generated Cilium log (seed ${seed}, ${policyVerdicts ? 'with' : 'without'} policy verdicts): every edge has exactly its true connection count`, async () => {
      const log = ciliumLog(seed, { connections: 400, policyVerdicts });
      const { flows, stats } = await readLines('events.log', log.lines);
      const counted = new Map<string, number>();
      for (const flow of flows) counted.set(edgeOf(flow), (counted.get(edgeOf(flow)) ?? 0) + flow.count);
      assert.ok(log.truth.size > 10, `${log.truth.size} edges`);
      assert.deepEqual(
        [...counted].sort(([a], [b]) => (a < b ? -1 : 1)),
        [...log.truth].sort(([a], [b]) => (a < b ? -1 : 1)),
      );
      // Several events per connection, each event accounted for: in a connection, or a reply.
      assert.equal(stats.connections, 400);
      assert.ok(stats.events > 2 * stats.connections, `${stats.events} events`);
      assert.deepEqual(Object.keys(stats.ignored), ['reply']);
      assert.equal(stats.events + (stats.ignored.reply ?? 0), log.lines.length);
      assert.deepEqual(stats.malformed, { count: 0 });
    });
  }
}
