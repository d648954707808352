import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Engine } from '../../engine/engine.ts';
import { buildSnapshot } from '../../load/snapshot.ts';
import { findingsOf } from '../../testing/audit.ts';
import { CILIUM_OPTIONS } from '../../testing/cilium-cluster.ts';
import { yaml } from '../../testing/yaml.ts';
import { type AuditResult, runAudit } from '../audit.ts';
import { DEFAULT_CONFIG } from '../config.ts';

// The isolation, default-deny, unmodelled-kind and guardrail checks when only Cilium policies protect
// PHI. Expected verdicts follow Cilium's documented semantics: a policy with rules in a direction isolates
// the endpoints it selects unless enableDefaultDeny is false for it; a deny rule wins over every allow.

const API = 'records/api[Deployment]';

const WORKLOADS = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: {name: records, labels: {data-classification: phi}}
  ---
  apiVersion: v1
  kind: Namespace
  metadata: {name: web}
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: api, namespace: records}
  spec:
    selector: {matchLabels: {app: api}}
    template:
      metadata: {labels: {app: api}}
      spec: {containers: [{name: main, image: api, ports: [{containerPort: 8443}]}]}
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: ui, namespace: web}
  spec:
    selector: {matchLabels: {app: ui}}
    template:
      metadata: {labels: {app: ui}}
      spec: {containers: [{name: main, image: ui}]}
`;

function audit(policies: string): AuditResult {
  const text = `${WORKLOADS}\n---\n${policies}`;
  const snapshot = buildSnapshot([{ path: 'cluster.yaml', text }]);
  return runAudit(new Engine(snapshot, CILIUM_OPTIONS), DEFAULT_CONFIG, { now: new Date('2026-11-27') });
}

const statuses = (result: AuditResult, check: string) =>
  findingsOf(result, check).map((f) => `${f.status} ${f.objects.join(',')}`);

/** A namespaced policy in records; `spec` is the YAML under `spec:`. */
const CNP = (name: string, spec: string) =>
  `apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: ${name}, namespace: records}\nspec: ${spec}\n---\n`;
const CCNP = (name: string, spec: string) =>
  `apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: ${name}}\nspec: ${spec}\n---\n`;

/** Every pod of records, both directions, DNS allowed: a namespace's default deny written as a CNP. */
const NAMESPACE_DENY = CNP(
  'default-deny',
  `{endpointSelector: {}, ingress: [{}], egress: [{toEntities: [cluster], toPorts: [{ports: [{port: "53", protocol: UDP}]}]}]}`,
);

describe('audit, Cilium policies', () => {
  test('005/006: a CNP with rules in a direction isolates the PHI workload, named with why', () => {
    const result = audit(NAMESPACE_DENY);
    for (const check of ['HIPAA-NP-005', 'HIPAA-NP-006']) {
      assert.deepEqual(statuses(result, check), [`pass ${API}`], check);
      const [finding] = findingsOf(result, check);
      assert.deepEqual(
        finding?.evidence.rules?.map((r) => r.rule),
        ['CiliumNetworkPolicy/records/default-deny'],
      );
    }
    const [ingress] = findingsOf(result, 'HIPAA-NP-005');
    assert.match(
      ingress?.evidence.notes?.[0] ?? '',
      /it has ingress rules and enableDefaultDeny\.ingress is not false/,
    );
  });

  test('005: enableDefaultDeny false for ingress leaves the workload open; an egress-only policy does not isolate ingress', () => {
    const off = audit(
      CNP(
        'api',
        `{endpointSelector: {matchLabels: {app: api}}, enableDefaultDeny: {ingress: false}, ingress: [{fromEntities: [cluster]}], egress: [{}]}`,
      ),
    );
    assert.deepEqual(statuses(off, 'HIPAA-NP-005'), [`fail ${API}`]);
    assert.ok(
      findingsOf(off, 'HIPAA-NP-005')[0]?.evidence.notes?.some((n) =>
        /^CiliumNetworkPolicy\/records\/api \(cluster\.yaml:\d+\) selects it but does not isolate it: enableDefaultDeny\.ingress: false$/.test(
          n,
        ),
      ),
      JSON.stringify(findingsOf(off, 'HIPAA-NP-005')[0]?.evidence.notes),
    );
    assert.deepEqual(statuses(off, 'HIPAA-NP-006'), [`pass ${API}`]);
    const egressOnly = audit(CNP('api', `{endpointSelector: {matchLabels: {app: api}}, egress: [{}]}`));
    assert.deepEqual(statuses(egressOnly, 'HIPAA-NP-005'), [`fail ${API}`]);
  });

  test('005: a deny-only policy isolates too (its deny rules are rules of the direction)', () => {
    const result = audit(
      CNP('api', `{endpointSelector: {matchLabels: {app: api}}, ingressDeny: [{fromEntities: [world]}]}`),
    );
    assert.deepEqual(statuses(result, 'HIPAA-NP-005'), [`pass ${API}`]);
  });

  test('007/008: a policy selecting every pod of the namespace is its default deny; one selecting a workload is not', () => {
    const whole = audit(NAMESPACE_DENY);
    assert.deepEqual(statuses(whole, 'HIPAA-NP-007'), ['pass records']);
    assert.deepEqual(
      findingsOf(whole, 'HIPAA-NP-007')[0]?.evidence.rules?.map((r) => r.rule),
      ['CiliumNetworkPolicy/records/default-deny'],
    );
    assert.ok(
      statuses(whole, 'HIPAA-NP-008').includes('pass records'),
      statuses(whole, 'HIPAA-NP-008').join(),
    );
    assert.ok(statuses(whole, 'HIPAA-NP-008').includes('fail web'));
    // The api's own policy isolates it, but a pod created later in records would not be.
    const workload = audit(
      CNP('api', `{endpointSelector: {matchLabels: {app: api}}, ingress: [{}], egress: [{}]}`),
    );
    assert.deepEqual(statuses(workload, 'HIPAA-NP-005'), [`pass ${API}`]);
    assert.deepEqual(statuses(workload, 'HIPAA-NP-007'), ['fail records']);
    // Selects every pod there now and a label-less one, but not a pod created later with app=batch.
    const allButBatch = audit(
      CNP(
        'most',
        `{endpointSelector: {matchExpressions: [{key: app, operator: NotIn, values: [batch]}]}, ingress: [{}], egress: [{}]}`,
      ),
    );
    assert.deepEqual(statuses(allButBatch, 'HIPAA-NP-005'), [`pass ${API}`]);
    assert.deepEqual(statuses(allButBatch, 'HIPAA-NP-007'), ['fail records']);
  });

  test('007: a CCNP selecting namespaces by label covers them; one with enableDefaultDeny off for egress covers ingress only', () => {
    const byLabel = `{endpointSelector: {matchLabels: {k8s:io.cilium.k8s.namespace.labels.data-classification: phi}}, ingress: [{}], egress: [{}]}`;
    assert.deepEqual(statuses(audit(CCNP('phi-deny', byLabel)), 'HIPAA-NP-007'), ['pass records']);
    const ingressOnly = audit(
      CCNP(
        'phi-deny',
        `{endpointSelector: {matchLabels: {k8s:io.cilium.k8s.namespace.labels.data-classification: phi}}, enableDefaultDeny: {egress: false}, ingress: [{}], egress: [{toEntities: [world]}]}`,
      ),
    );
    const [finding] = findingsOf(ingressOnly, 'HIPAA-NP-007');
    assert.equal(finding?.status, 'fail');
    assert.ok(finding?.evidence.notes?.some((n) => /egress by default/.test(n)));
  });

  test('016: toFQDNs egress from PHI is internet egress, with the pattern and rule; 019 does not count it; allowedEgress approves by name', () => {
    const FQDN_SPEC = `{endpointSelector: {matchLabels: {app: api}}, egress: [{toFQDNs: [{matchPattern: "*.stripe.com"}], toPorts: [{ports: [{port: "443", protocol: TCP}]}]}, {toEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system}}], toPorts: [{ports: [{port: "53", protocol: UDP}], rules: {dns: [{matchPattern: "*"}]}}]}]}`;
    const policies = CNP('api-egress', FQDN_SPEC);
    // The rule is written on the spec line, which comes after the workloads, the separator and 3 lines.
    const line = WORKLOADS.split('\n').length + 1 + 4;
    const [finding, ...rest] = findingsOf(audit(policies), 'HIPAA-NP-016');
    assert.equal(rest.length, 0);
    assert.equal(finding?.status, 'fail');
    assert.deepEqual(finding?.objects, [API]);
    assert.deepEqual(finding?.evidence.edges, [`${API} -> fqdn:*.stripe.com TCP 443`]);
    assert.deepEqual(finding?.evidence.rules, [
      {
        rule: 'CiliumNetworkPolicy/records/api-egress egress[0] toFQDNs fqdn:*.stripe.com (TCP 443)',
        at: `cluster.yaml:${line}`,
      },
    ]);
    assert.deepEqual(finding?.location, { file: 'cluster.yaml', line });
    // Isolated, and only the toFQDNs rule to blame: the fix is to narrow it, not a rewritten NetworkPolicy.
    assert.match(
      finding?.remediation?.text ?? '',
      /^Narrow the toFQDNs rules listed \(fqdn:\*\.stripe\.com\)/,
    );
    assert.equal(finding?.remediation?.yaml, undefined);
    assert.ok(
      finding?.evidence.notes?.some((n) => /fqdn:\*\.stripe\.com: named by Cilium toFQDNs rules/.test(n)),
    );
    // 019 is about namespaces in the cluster: a name resolves outside it.
    assert.deepEqual(statuses(audit(policies), 'HIPAA-NP-019'), ['pass ']);
    const withConfig = (allowedEgress: string[]) => {
      const snapshot = buildSnapshot([{ path: 'cluster.yaml', text: `${WORKLOADS}\n---\n${policies}` }]);
      return runAudit(
        new Engine(snapshot, CILIUM_OPTIONS),
        { ...DEFAULT_CONFIG, allowedEgress },
        { now: new Date('2026-11-27') },
      );
    };
    assert.deepEqual(statuses(withConfig(['fqdn:*.Stripe.com.']), 'HIPAA-NP-016'), ['pass ']);
    // Approving one name does not approve a pattern that covers others.
    assert.deepEqual(statuses(withConfig(['fqdn:api.stripe.com']), 'HIPAA-NP-016'), [`fail ${API}`]);
    // phiwall.yaml is not validated as Cilium validates patterns: a stray character is text, not a crash.
    assert.deepEqual(statuses(withConfig(['fqdn:(*.stripe.com']), 'HIPAA-NP-016'), [`fail ${API}`]);
    // A deny of world takes whatever the name resolves to: nothing is left to report.
    const denied = CNP('api-egress', FQDN_SPEC.replace(/}$/, ', egressDeny: [{toEntities: [world]}]}'));
    assert.deepEqual(statuses(audit(denied), 'HIPAA-NP-016'), ['pass ']);
  });

  test('003: CNPs and CCNPs are modelled, not reported; a host policy (nodeSelector) is, as not analysed', () => {
    const modelled = audit(`${NAMESPACE_DENY}${CCNP('all', '{endpointSelector: {}, ingress: [{}]}')}`);
    assert.deepEqual(
      findingsOf(modelled, 'HIPAA-NP-003').filter((f) => f.status !== 'pass'),
      [],
    );
    // The pass finding says what was analysed: objects, not specs (one CCNP with two specs counts once).
    const analysed = audit(
      `${NAMESPACE_DENY}${CCNP('all', '{endpointSelector: {}, ingress: [{}]}')}apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: two}\nspecs: [{endpointSelector: {}, ingress: [{}]}, {endpointSelector: {}, egress: [{}]}]\n---\napiVersion: cilium.io/v2alpha1\nkind: CiliumCIDRGroup\nmetadata: {name: partners}\nspec: {externalCIDRs: [192.0.2.0/24]}\n`,
    );
    assert.deepEqual(
      findingsOf(analysed, 'HIPAA-NP-003').map((f) => [f.status, f.objects]),
      [['pass', ['CiliumNetworkPolicy ×1', 'CiliumClusterwideNetworkPolicy ×2', 'CiliumCIDRGroup ×1']]],
    );
    const host = audit(
      `${NAMESPACE_DENY}${CCNP('nodes', '{nodeSelector: {}, ingress: [{fromEntities: [cluster]}]}')}`,
    );
    const findings = findingsOf(host, 'HIPAA-NP-003').filter((f) => f.status !== 'pass');
    assert.deepEqual(
      findings.map((f) => [f.status, f.objects, f.evidence.rules?.map((r) => r.rule)]),
      [['fail', ['CiliumClusterwideNetworkPolicy/nodes'], ['CiliumClusterwideNetworkPolicy/nodes']]],
    );
  });
});

describe('HIPAA-NP-033 with Cilium: a CCNP deny is a guardrail namespace owners cannot undo', () => {
  const everyoneElse = `[{key: k8s:io.kubernetes.pod.namespace, operator: Exists}, {key: k8s:io.kubernetes.pod.namespace, operator: NotIn, values: [records]}]`;
  // The namespace owner's own policy lets web in: the deny must win over it.
  const OWNER_ALLOWS_WEB = CNP(
    'api',
    `{endpointSelector: {matchLabels: {app: api}}, ingress: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: web}}]}]}`,
  );

  test('a CCNP denying every pod outside the PHI namespaces, on every port, passes with its rule', () => {
    const result = audit(
      `${OWNER_ALLOWS_WEB}${CCNP('guard', `{endpointSelector: {matchLabels: {k8s:io.cilium.k8s.namespace.labels.data-classification: phi}}, ingressDeny: [{fromEndpoints: [{matchExpressions: ${everyoneElse}}]}]}`)}`,
    );
    const findings = findingsOf(result, 'HIPAA-NP-033');
    assert.deepEqual(
      findings.map((f) => [f.status, f.objects.join(','), f.evidence.rules?.map((r) => r.rule)]),
      [['pass', 'records', ['CiliumClusterwideNetworkPolicy/guard ingressDeny[0] (Deny)']]],
    );
  });

  test('the same deny in a namespaced CNP is no guardrail: its namespace owners can delete it', () => {
    const result = audit(
      `${OWNER_ALLOWS_WEB}${CNP('guard', `{endpointSelector: {}, ingressDeny: [{fromEndpoints: [{matchExpressions: ${everyoneElse}}]}]}`)}`,
    );
    assert.deepEqual(statuses(result, 'HIPAA-NP-033'), ['needs-review records']);
  });

  test('a CCNP deny on some ports only, or naming only the namespaces there now, is no guardrail', () => {
    const someports = audit(
      `${OWNER_ALLOWS_WEB}${CCNP('guard', `{endpointSelector: {matchLabels: {k8s:io.cilium.k8s.namespace.labels.data-classification: phi}}, ingressDeny: [{fromEndpoints: [{matchExpressions: ${everyoneElse}}], toPorts: [{ports: [{port: "8443", protocol: TCP}]}]}]}`)}`,
    );
    assert.deepEqual(statuses(someports, 'HIPAA-NP-033'), ['needs-review records']);
    // Denies web by name: every non-PHI pod there now, but not a namespace created tomorrow.
    const named = audit(
      `${OWNER_ALLOWS_WEB}${CCNP('guard', `{endpointSelector: {matchLabels: {k8s:io.cilium.k8s.namespace.labels.data-classification: phi}}, ingressDeny: [{fromEndpoints: [{matchLabels: {k8s:io.kubernetes.pod.namespace: web}}]}]}`)}`,
    );
    assert.deepEqual(statuses(named, 'HIPAA-NP-033'), ['needs-review records']);
  });

  test('a CCNP deny from the cluster entity, every port, is a guardrail', () => {
    const result = audit(
      CCNP(
        'guard',
        `{endpointSelector: {matchLabels: {k8s:io.cilium.k8s.namespace.labels.data-classification: phi}}, ingressDeny: [{fromEntities: [cluster]}]}`,
      ),
    );
    assert.deepEqual(statuses(result, 'HIPAA-NP-033'), ['pass records']);
  });
});
