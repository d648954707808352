import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ExternalGrouping } from '../analysis/external-peers.ts';
import { parseCidr } from '../engine/addresses.ts';
import { endpointSchema } from '../load/connectivity-tests.ts';
import { type Diagnostic, fieldPath, InputError } from '../load/diagnostics.ts';
import { parseSource } from '../load/documents.ts';
import { zod } from '../load/lazy-modules.ts';
import { readTextFile } from '../load/sources.ts';
import { CATALOGUE } from './catalogue.ts';

export interface LabelMatch {
  key: string;
  values: string[];
}

export interface AuditConfig {
  phi: { selectors: LabelMatch[]; connectedSelectors: LabelMatch[] };
  allowedIngressNamespaces: string[];
  /** CIDRs, and namespace names, that PHI workloads may reach. */
  allowedEgress: string[];
  approvedFlows: { from: string; to: string; port?: number; protocol: 'TCP' | 'UDP' | 'SCTP' }[];
  tlsPorts: number[];
  metadataCIDRs: string[];
  excludedNamespaces: string[];
  maxPortRange: number;
  accept: { check: string; object: string; reason: string; until: string }[];
  /** Where the cluster DNS runs, for lint's DNS egress check; empty: kube-dns and OpenShift DNS. */
  dns: { namespace: string; podLabels: Record<string, string>; ports: number[] }[];
  /** Known networks outside the cluster, by name: observed addresses in them are grouped under that name. */
  networks: Record<string, string[]>;
  /** How observed external addresses become peers of generated policies (docs/flows.md). */
  flows: { prefixLength: number; prefixLength6: number; publicClients: number };
}

export const DEFAULT_CONFIG: AuditConfig = {
  phi: {
    selectors: [{ key: 'data-classification', values: ['phi', 'ephi'] }],
    connectedSelectors: [{ key: 'compliance', values: ['hipaa'] }],
  },
  allowedIngressNamespaces: [],
  allowedEgress: [],
  approvedFlows: [],
  tlsPorts: [443, 8443, 5671, 6443, 9093, 9443],
  // EC2 IMDS (v4, v6), EKS Pod Identity (v4, v6), ECS task credentials, Alibaba Cloud, Azure WireServer.
  metadataCIDRs: [
    '169.254.169.254/32',
    'fd00:ec2::254/128',
    '169.254.170.23/32',
    'fd00:ec2::23/128',
    '169.254.170.2/32',
    '100.100.100.200/32',
    '168.63.129.16/32',
  ],
  excludedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease'],
  maxPortRange: 100,
  accept: [],
  dns: [],
  networks: {},
  flows: { prefixLength: 24, prefixLength6: 64, publicClients: 20 },
};

export const CONFIG_FILE = 'phiwall.yaml';

/** `2027-02-30` has the shape of a date, but no such day: Date would quietly roll it to March. */
function isCalendarDate(text: string): boolean {
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

function schema() {
  const z = zod();
  const labelMatch = z.strictObject({ key: z.string().min(1), values: z.array(z.string()).min(1) });
  const cidr = z.string().refine((text) => parseCidr(text) !== undefined, { message: 'not a valid CIDR' });
  const port = z.number().int().min(1).max(65535);
  const dnsTarget = z.strictObject({
    namespace: z.string().min(1),
    podLabels: z.record(z.string(), z.string()).default({}),
    ports: z.array(port).min(1).default([53]),
  });
  return z.strictObject({
    phi: z
      .strictObject({
        selectors: z.array(labelMatch).default(DEFAULT_CONFIG.phi.selectors),
        connectedSelectors: z.array(labelMatch).default(DEFAULT_CONFIG.phi.connectedSelectors),
      })
      .default(DEFAULT_CONFIG.phi),
    allowedIngressNamespaces: z.array(z.string()).default([]),
    allowedEgress: z.array(z.string()).default([]),
    approvedFlows: z
      .array(
        z.strictObject({
          from: endpointSchema({ cidr: true }),
          to: endpointSchema({ cidr: true }),
          port: port.optional(),
          protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
        }),
      )
      .default([]),
    tlsPorts: z.array(port).default(DEFAULT_CONFIG.tlsPorts),
    metadataCIDRs: z.array(cidr).default(DEFAULT_CONFIG.metadataCIDRs),
    excludedNamespaces: z.array(z.string()).default(DEFAULT_CONFIG.excludedNamespaces),
    maxPortRange: z.number().int().min(1).max(65535).default(DEFAULT_CONFIG.maxPortRange),
    accept: z
      .array(
        z.strictObject({
          check: z
            .string()
            .regex(/^HIPAA-NP-\d{3}$/, { message: 'a check id such as HIPAA-NP-005', abort: true })
            .refine((id) => CATALOGUE.some((c) => c.id === id), {
              message: `not a check of the catalogue (${CATALOGUE[0]?.id} … ${CATALOGUE.at(-1)?.id})`,
            }),
          object: z.string().min(1),
          reason: z.string().min(1),
          until: z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'a date, YYYY-MM-DD', abort: true })
            .refine(isCalendarDate, { message: 'not a date of the calendar' }),
        }),
      )
      .default([]),
    // One target or a list: `dns: {namespace: dns-system, podLabels: {app: unbound}, ports: [53]}`.
    dns: z
      .union([dnsTarget, z.array(dnsTarget)])
      .transform((value) => (Array.isArray(value) ? value : [value]))
      .default([]),
    networks: z.record(z.string().min(1), z.array(cidr).min(1)).default({}),
    flows: z
      .strictObject({
        prefixLength: z.number().int().min(0).max(32).default(DEFAULT_CONFIG.flows.prefixLength),
        prefixLength6: z.number().int().min(0).max(128).default(DEFAULT_CONFIG.flows.prefixLength6),
        publicClients: z.number().int().min(1).default(DEFAULT_CONFIG.flows.publicClients),
      })
      .default(DEFAULT_CONFIG.flows),
  });
}

/** The grouping of external addresses the configuration asks for (analysis/external-peers.ts). */
export function externalGrouping(config: AuditConfig): ExternalGrouping {
  return {
    networks: Object.entries(config.networks).map(([name, cidrs]) => ({ name, cidrs })),
    prefixLength: { v4: config.flows.prefixLength, v6: config.flows.prefixLength6 },
    publicClients: config.flows.publicClients,
  };
}

export interface LoadedConfig {
  config: AuditConfig;
  /** Where it came from, and its hash, for the report's evidence; undefined for the defaults. */
  source?: { path: string; sha256: string };
}

/** `--config FILE`, else `phiwall.yaml` in the working folder, else the catalogue's defaults. */
export function loadAuditConfig(path?: string): LoadedConfig {
  const file = path ?? (existsSync(CONFIG_FILE) ? CONFIG_FILE : undefined);
  if (!file) return { config: DEFAULT_CONFIG };
  const text = readTextFile(file);
  return {
    config: parseAuditConfig(file, text),
    source: { path: file, sha256: createHash('sha256').update(text).digest('hex') },
  };
}

export function parseAuditConfig(file: string, text: string): AuditConfig {
  const { documents, errors } = parseSource({ path: file, text });
  if (errors.length > 0) throw new InputError(errors);
  const doc = documents[0];
  const parsed = schema().safeParse(doc?.value ?? {});
  if (!parsed.success) {
    const diagnostics: Diagnostic[] = parsed.error.issues.map((issue) => {
      const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
      const at = issue.code === 'unrecognized_keys' ? [...path, issue.keys[0] as string] : path;
      const position = doc ? doc.locate(at) : { line: 1, column: 1 };
      return { severity: 'error', file, ...position, field: fieldPath(at), message: issue.message };
    });
    throw new InputError(diagnostics);
  }
  return parsed.data;
}

/** A commented starter config with every key and its default (`phiwall init`). */
export const STARTER_CONFIG = `# phiwall audit configuration. Every key is optional; the values shown are the defaults.
phi:
  # A Namespace or a pod (template) with any of these labels holds PHI (the key may have any prefix).
  selectors:
    - {key: data-classification, values: [phi, ephi]}
  # In HIPAA scope but not holding PHI: reported, not held to the PHI checks.
  connectedSelectors:
    - {key: compliance, values: [hipaa]}
# Namespaces that may reach PHI workloads (an ingress controller, monitoring …).
allowedIngressNamespaces: []
# CIDRs, namespaces and fqdn:<pattern> names (Cilium toFQDNs) PHI workloads may reach (business associates, external APIs).
allowedEgress: []
# Approved flows into PHI: {from: ns/name, to: ns/name, port: 8443, protocol: TCP}.
approvedFlows: []
tlsPorts: [443, 8443, 5671, 6443, 9093, 9443]
# Cloud metadata and credential endpoints: EC2 IMDS, EKS Pod Identity, ECS task credentials, Alibaba, Azure WireServer.
metadataCIDRs: [169.254.169.254/32, fd00:ec2::254/128, 169.254.170.23/32, fd00:ec2::23/128, 169.254.170.2/32, 100.100.100.200/32, 168.63.129.16/32]
excludedNamespaces: [kube-system, kube-public, kube-node-lease]
# PHI ingress over a port range wider than this is a finding.
maxPortRange: 100
# Accepted findings stay in the report, marked, and count as passing until they expire:
# - {check: HIPAA-NP-020, object: records/api[Deployment], reason: "TLS terminated in the pod", until: 2027-06-30}
accept: []
# Where the cluster DNS runs, for lint's DNS egress check (PW-LINT-006). Empty: kube-dns in kube-system
# (port 53) and OpenShift's DNS in openshift-dns (port 5353). E.g.
# - {namespace: dns-system, podLabels: {app: unbound}, ports: [53]}
dns: []
# Networks outside the cluster by name (a corporate VPN, a partner's lab): flows and generated policies
# group observed addresses under these names, then as private or public addresses.
networks: {}
# generate --from-flows: external clients become the smallest blocks covering them, none wider than these
# prefix lengths; a public entry point that served at least publicClients internet clients is opened to
# every public address (0.0.0.0/0 minus private ranges).
flows: {prefixLength: 24, prefixLength6: 64, publicClients: 20}
`;
