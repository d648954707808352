import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type FlowEdge, FlowMapper } from '../analysis/flows.ts';
import { withGeneratedPolicies } from '../analysis/generate.ts';
import { lintSnapshot } from '../analysis/lint.ts';
import { cniProfile } from '../compliance/cni-profile.ts';
import { loadAuditConfig } from '../compliance/config.ts';
import type { AddressPorts } from '../engine/address-partition.ts';
import { Engine } from '../engine/engine.ts';
import { formatPorts, isEmptyPorts, NO_PORTS, type PortSet, subtractPorts } from '../engine/ports.ts';
import { readFlowFile } from '../load/flows/read-flows.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { Snapshot } from '../model/types.ts';
import { runPhiwall } from '../testing/cli.ts';
import { type GenerateRun, runGenerate } from './generate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLINIC = join(ROOT, 'examples/hipaa-clinic/insecure');
const CONFIG = join(ROOT, 'examples/hipaa-clinic/phiwall.yaml');
const CILIUM = cniProfile(undefined, 'cilium').options;

const dir = mkdtempSync(join(tmpdir(), 'phiwall-generate-cilium-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A Hubble trace event of a connection's first packet, delivered (no observation point: TO_LXC). */
function hubble(
  source: Record<string, unknown>,
  destination: Record<string, unknown>,
  ips: [string, string],
  port: number,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    time: '2026-11-27T10:00:00.000000000Z',
    verdict: 'FORWARDED',
    IP: { source: ips[0], destination: ips[1], ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 41234, destination_port: port, flags: { SYN: true } } },
    source,
    destination,
    Type: 'L3_L4',
    event_type: { type: 4 },
    is_reply: false,
    ...extra,
  });
}
const pod = (namespace: string, workload: string) => ({
  namespace,
  pod_name: `${workload}-5c8d7f-abcde`,
  workloads: [{ name: workload, kind: 'Deployment' }],
});
const reserved = (identity: string) => ({ labels: [`reserved:${identity}`] });

// A day of the clinic's traffic as Hubble saw it: the approved flows, the EHR API calling a partner lab
// and a backup store by name and the Kubernetes API, Prometheus scraping the kubelets, and the internet
// reaching the ingress.
const FLOWS = join(dir, 'hubble.jsonl');
writeFileSync(
  FLOWS,
  `${[
    hubble(pod('portal', 'patient-portal'), pod('ehr', 'ehr-api'), ['10.0.3.4', '10.0.1.9'], 8443),
    hubble(
      pod('ingress-nginx', 'ingress-nginx-controller'),
      pod('ehr', 'ehr-api'),
      ['10.0.5.3', '10.0.1.9'],
      8443,
    ),
    hubble(pod('monitoring', 'prometheus'), pod('ehr', 'ehr-api'), ['10.0.4.2', '10.0.1.9'], 9443),
    hubble(
      pod('ehr', 'ehr-api'),
      {
        ...pod('records', 'records-db'),
        workloads: [{ name: 'records-db', kind: 'StatefulSet' }],
        pod_name: 'records-db-0',
      },
      ['10.0.1.9', '10.0.2.5'],
      5432,
    ),
    // The partner lab's address named by the DNS answer before the connection, the backup store's by
    // Hubble itself (destination_names).
    JSON.stringify({
      time: '2026-11-27T09:59:59.000000000Z',
      verdict: 'FORWARDED',
      Type: 'L7',
      IP: { source: '10.0.0.10', destination: '10.0.1.9' },
      l7: { type: 'RESPONSE', dns: { query: 'api.partner-labs.example.', ips: ['140.82.112.6'] } },
    }),
    hubble(pod('ehr', 'ehr-api'), reserved('world'), ['10.0.1.9', '140.82.112.6'], 443),
    hubble(pod('ehr', 'ehr-api'), reserved('world'), ['10.0.1.9', '52.95.110.1'], 443, {
      destination_names: ['backup.storage.example'],
    }),
    hubble(pod('ehr', 'ehr-api'), reserved('kube-apiserver'), ['10.0.1.9', '172.20.0.1'], 443),
    hubble(pod('monitoring', 'prometheus'), reserved('remote-node'), ['10.0.4.2', '192.168.0.7'], 10250),
    hubble(
      reserved('world'),
      pod('ingress-nginx', 'ingress-nginx-controller'),
      ['203.0.113.7', '10.0.5.3'],
      443,
    ),
  ].join('\n')}\n`,
);

let clinic: Snapshot;
let edges: FlowEdge[];
const generated: Partial<Record<'kubernetes' | 'cilium', GenerateRun>> = {};

before(async () => {
  clinic = buildSnapshot(
    readdirSync(CLINIC)
      .sort()
      .map((file) => ({ path: join(CLINIC, file), text: readFileSync(join(CLINIC, file), 'utf8') })),
  );
  const mapper = new FlowMapper(new Engine(clinic, CILIUM));
  await readFlowFile(FLOWS, (flow) => mapper.add(flow));
  edges = mapper.result().edges;
  const { config } = loadAuditConfig(CONFIG);
  for (const flavor of ['kubernetes', 'cilium'] as const) {
    generated[flavor] = runGenerate(clinic, edges, {
      engineOptions: CILIUM,
      config,
      flavor,
      flowFiles: [FLOWS],
      fileOf: (namespace) => `${flavor}/${namespace}.yaml`,
      generatedAt: new Date('2026-11-28T00:00:00Z'),
    });
  }
});

/** The clinic with one flavor's generated policies in place of its own, as the proof builds it. */
function withFlavor(flavor: 'kubernetes' | 'cilium'): Snapshot {
  const run = generated[flavor] as GenerateRun;
  const loaded = buildSnapshot(run.files.map((f) => ({ path: f.path, text: f.text })));
  assert.deepEqual(loaded.warnings, []);
  return withGeneratedPolicies(
    clinic,
    loaded.policies,
    new Set(run.generation.namespaces.map((ns) => ns.namespace)),
    false,
    [],
    loaded.ciliumPolicies,
  );
}

test('--flavor cilium: CNPs that load back, allow every flow (names and entities by name), proven', () => {
  const run = generated.cilium as GenerateRun;
  assert.equal(edges.length, 9);
  assert.deepEqual(run.warnings, []);
  assert.equal(run.proof.ok, true, JSON.stringify(run.proof.notAllowed));
  // The lab and the store by their names, the API server and the kubelet's node by their entities: the
  // input has no Node objects, so none of the four has an address phiwall can place.
  assert.equal(run.proof.allowedByName, 4);
  const snapshot = withFlavor('cilium');
  const ehr = snapshot.ciliumPolicies.find((p) => p.name === 'ehr-api-observed');
  assert.deepEqual(
    ehr?.egress.flatMap((r) =>
      (r.peers ?? []).map((p) =>
        'pattern' in p ? `fqdn ${p.pattern}` : p.kind === 'entity' ? `entity ${p.entity}` : p.kind,
      ),
    ),
    ['endpoints', 'entity kube-apiserver', 'fqdn api.partner-labs.example', 'fqdn backup.storage.example'],
  );
  const prometheus = snapshot.ciliumPolicies.find((p) => p.name === 'prometheus-observed');
  assert.deepEqual(
    prometheus?.egress.flatMap((r) => (r.peers ?? []).map((p) => (p.kind === 'entity' ? p.entity : p.kind))),
    ['endpoints', 'remote-node'],
  );
  const controller = snapshot.ciliumPolicies.find((p) => p.name === 'ingress-nginx-controller-observed');
  assert.deepEqual(controller?.ingress[0]?.peers, [{ kind: 'cidr', cidr: '203.0.113.7/32', except: [] }]);
  // No NetworkPolicy is left in the generated namespaces: the CNPs alone decide there.
  assert.deepEqual(
    snapshot.policies.filter((p) => p.namespace === 'ehr'),
    [],
  );
});

/** The ports allowed at an address, from disjoint (addresses, ports) pieces. */
function portsAt(pieces: readonly AddressPorts[], address: bigint): PortSet {
  return (
    pieces.find((p) => p.addresses.some(([lo, hi]) => lo <= address && address <= hi))?.ports ?? NO_PORTS
  );
}

test('--flavor cilium allows nothing the NetworkPolicy flavor does not, but what the node entity means', () => {
  const cilium = new Engine(withFlavor('cilium'), CILIUM);
  const kubernetes = new Engine(withFlavor('kubernetes'), CILIUM);
  const wider: string[] = [];
  for (const src of clinic.pods) {
    for (const dst of clinic.pods) {
      const extra = subtractPorts(cilium.portsBetween(src, dst), kubernetes.portsBetween(src, dst));
      if (!isEmptyPorts(extra)) wider.push(`${src.name} -> ${dst.name} ${formatPorts(extra)}`);
    }
    for (const direction of ['ingress', 'egress'] as const) {
      const c = cilium.externalPorts(cilium.classOf(src), direction);
      const k = kubernetes.externalPorts(kubernetes.classOf(src), direction);
      // Both are constant between the starts of their pieces: comparing at every start compares all.
      const starts = [...c, ...k].flatMap((p) => p.addresses.flatMap(([lo, hi]) => [lo, hi + 1n]));
      for (const at of starts) {
        const extra = subtractPorts(portsAt(c, at), portsAt(k, at));
        if (!isEmptyPorts(extra)) wider.push(`${src.name} ${direction} ${at} ${formatPorts(extra)}`);
      }
    }
  }
  // The kubelet scrape went to reserved:remote-node, which in Cilium is every node's identity, and with
  // it the hostNetwork pods on them: the NetworkPolicy form's /32 names one address (and Cilium does not
  // apply CIDR rules to nodes, so it would not even allow the observed scrape).
  assert.deepEqual(wider, [`prometheus -> kube-flannel-ds TCP 10250`]);
});

test('lint finds the generated CNPs clean: the allow-dns rule is the DNS visibility toFQDNs needs', () => {
  const snapshot = withFlavor('cilium');
  const problems = lintSnapshot(snapshot, new Engine(snapshot, CILIUM)).problems.filter((p) =>
    p.file.startsWith('cilium/'),
  );
  assert.deepEqual(
    problems.filter((p) => p.severity !== 'info').map((p) => `${p.rule} ${p.message}`),
    [],
  );
});

test('phiwall generate --flavor cilium prints CNPs and the proof', async () => {
  const { code, stdout, stderr } = await runPhiwall([
    'generate',
    '--from-flows',
    FLOWS,
    CLINIC,
    '-c',
    CONFIG,
    '--cni',
    'cilium',
    '--flavor',
    'cilium',
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^kind: CiliumNetworkPolicy$/m);
  assert.match(stdout, /^ {8}- matchName: api\.partner-labs\.example$/m);
  assert.match(stdout, /dns: \[\{matchPattern: "\*"\}\]/);
  assert.doesNotMatch(stdout, /^kind: NetworkPolicy$/m);
  assert.match(stderr, /proof: 9 observed edge\(s\) allowed \(4 by a toFQDNs name or entity/);
});
