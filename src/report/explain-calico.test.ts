import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { explainConnection } from '../analysis/explain.ts';
import { resolveEndpoint } from '../analysis/resolve.ts';
import { Engine } from '../engine/engine.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import { explanationJson, renderExplanationText } from './explain.ts';

const example = fileURLToPath(new URL('../../examples/hipaa-clinic/calico/', import.meta.url));
const snapshot = loadSnapshot([example]);
const engine = new Engine(snapshot);
const explain = (from: string, to: string, port: number) =>
  explainConnection(engine, resolveEndpoint(snapshot, from), resolveEndpoint(snapshot, to), {
    protocol: 'TCP',
    port,
  });

test('explain walks the Calico tiers in order: the guardrail denies billing before any namespace policy', () => {
  const text = renderExplanationText(explain('billing/invoicing', 'ehr/ehr-api', 8443));
  const ingress = text.slice(text.indexOf('Ingress to'));
  assert.match(text, /Verdict on TCP 8443: DENIED/);
  assert.match(
    ingress,
    /^ {2}Calico tier security: GlobalNetworkPolicy security\.phi-guardrail ingress\[1\] \(.*30-calico-policies\.yaml:25\): Deny on all ports {2}<- matches$/m,
  );
  assert.doesNotMatch(ingress, /ehr-api ingress\[0\]/);
});

test('a passed connection is decided by the namespace policy in the default tier, and JSON lists the chain', () => {
  const e = explain('portal/patient-portal', 'ehr/ehr-api', 8443);
  const text = renderExplanationText(e);
  const ingress = text.slice(text.indexOf('Ingress to'));
  const lines = ingress.split('\n').filter((l) => l.startsWith('  '));
  assert.ok(lines.length >= 3, ingress);
  assert.match(
    lines[0] ?? '',
    /^ {2}Calico tier security: GlobalNetworkPolicy security\.phi-guardrail ingress\[0\] .*: Pass on all ports, passed to the next tier {2}<- matches$/,
  );
  assert.match(
    lines[1] ?? '',
    /^ {2}NetworkPolicy: NetworkPolicy ehr\/ehr-api ingress\[1\] .*: Allow on TCP 8443 {2}<- matches$/,
  );
  assert.match(lines.at(-1) ?? '', /no rule decided .* denied$/);
  const json = explanationJson(e) as {
    ingress: { chain?: { tier: string; action: string; rule?: string }[] };
  };
  assert.deepEqual(
    json.ingress.chain?.slice(0, 2).map((s) => [s.tier, s.action, s.rule]),
    [
      ['Calico tier security', 'Pass', 'GlobalNetworkPolicy security.phi-guardrail ingress[0]'],
      ['NetworkPolicy', 'Allow', 'NetworkPolicy ehr/ehr-api ingress[1]'],
    ],
  );
});
