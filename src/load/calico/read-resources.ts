import { parseAddress } from '../../engine/addresses.ts';
import type {
  CalicoNetworkSet,
  CalicoPolicy,
  CalicoPolicyKind,
  CalicoProfile,
  CalicoRule,
  CalicoTier,
} from '../../model/calico.ts';
import { DEFAULT_TIER } from '../../model/calico.ts';
import {
  type Direction,
  type Labels,
  type NamedPort,
  type Pod,
  PROTOCOLS,
  type Protocol,
  workloadId,
} from '../../model/types.ts';
import { dnsLabelProblem } from '../names.ts';
import { describe, type Fields, type ObjectReader } from '../object-reader.ts';
import { isPortNumber } from '../read-fields.ts';
import { readCalicoRule, readCalicoSelector, readNets } from './read-rule.ts';

/** Calico's two API groups: the aggregated API server's, and the CRDs it stores them in. */
export const CALICO_GROUPS: readonly string[] = ['projectcalico.org', 'crd.projectcalico.org'];

/** The Calico kinds phiwall analyses. */
export const CALICO_KINDS: readonly string[] = [
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'NetworkSet',
  'GlobalNetworkSet',
  'Tier',
  'Profile',
  'WorkloadEndpoint',
];

/** Calico kinds that never police pod traffic: read so that the output can say they were left out. */
export const CALICO_NOT_ANALYSED: Readonly<Record<string, string>> = {
  StagedNetworkPolicy: 'staged policies are not enforced',
  StagedGlobalNetworkPolicy: 'staged policies are not enforced',
  StagedKubernetesNetworkPolicy: 'staged policies are not enforced',
  HostEndpoint: 'host endpoints (node interfaces) are out of scope',
};

export const CLUSTER_SCOPED_CALICO_KINDS: readonly string[] = [
  'GlobalNetworkPolicy',
  'GlobalNetworkSet',
  'Tier',
  'Profile',
];

/** Calico's documented name syntax for its resources: alphanumerics with `.`, `_` and `-`. */
export function calicoNameProblem(name: string): string | undefined {
  if (name.length > 253) return 'must be no more than 253 characters';
  return /^[a-zA-Z0-9._-]+$/.test(name) ? undefined : 'must be alphanumerics with optional ".", "_" or "-"';
}

/** Asked several times for every object of a dump, so it builds no strings for the common `v1`, `apps/v1`. */
export function isCalicoGroup(apiVersion: unknown): boolean {
  if (typeof apiVersion !== 'string') return false;
  const slash = apiVersion.indexOf('/');
  return CALICO_GROUPS.includes(slash < 0 ? apiVersion : apiVersion.slice(0, slash));
}

const POLICY_FIELDS: Readonly<Record<CalicoPolicyKind, readonly string[]>> = {
  NetworkPolicy: [
    'tier',
    'order',
    'selector',
    'serviceAccountSelector',
    'types',
    'ingress',
    'egress',
    'performanceHints',
  ],
  GlobalNetworkPolicy: [
    'tier',
    'order',
    'selector',
    'namespaceSelector',
    'serviceAccountSelector',
    'types',
    'ingress',
    'egress',
    'doNotTrack',
    'preDNAT',
    'applyOnForward',
    'performanceHints',
  ],
};

/**
 * A NetworkPolicy or GlobalNetworkPolicy; undefined for one that only applies to host endpoints
 * (`doNotTrack`, `preDNAT`), which is warned about and left out.
 */
export function readCalicoPolicy(
  reader: ObjectReader,
  object: Fields,
  kind: CalicoPolicyKind,
  namespace: string,
  name: string,
): CalicoPolicy | undefined {
  const spec = reader.fields(object.spec, ['spec']) ?? {};
  reader.onlyKnownFields(spec, ['spec'], POLICY_FIELDS[kind]);
  const tier = reader.string(spec.tier, ['spec', 'tier']) || DEFAULT_TIER;
  let order: number | undefined;
  if (spec.order !== undefined && spec.order !== null) {
    if (typeof spec.order === 'number' && Number.isFinite(spec.order)) order = spec.order;
    else reader.error(['spec', 'order'], `must be a number, not ${describe(spec.order)}`);
  }
  const selector = readCalicoSelector(reader, spec.selector, ['spec', 'selector']) ?? {
    source: '',
    expr: { op: 'all' as const },
  };
  const namespaceSelector = readCalicoSelector(reader, spec.namespaceSelector, ['spec', 'namespaceSelector']);
  const serviceAccountSelector = readCalicoSelector(reader, spec.serviceAccountSelector, [
    'spec',
    'serviceAccountSelector',
  ]);
  const ingress = readRules(reader, spec.ingress, 'ingress');
  const egress = readRules(reader, spec.egress, 'egress');
  const types = readTypes(reader, spec, ingress.length > 0, egress.length > 0);
  for (const key of ['doNotTrack', 'preDNAT', 'applyOnForward'] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== 'boolean') {
      reader.error(['spec', key], `must be true or false, not ${describe(spec[key])}`);
    }
  }
  if (spec.doNotTrack === true && spec.preDNAT === true) {
    reader.error(['spec', 'preDNAT'], 'preDNAT and doNotTrack cannot both be true');
  }
  if ((spec.doNotTrack === true || spec.preDNAT === true) && spec.applyOnForward !== true) {
    reader.error(['spec', 'applyOnForward'], 'must be true when doNotTrack or preDNAT is true');
  }
  if (spec.preDNAT === true && types.egress) {
    reader.error(['spec', 'types'], 'a preDNAT policy cannot have egress rules or type Egress');
  }
  if (spec.doNotTrack === true || spec.preDNAT === true) {
    const option = spec.doNotTrack === true ? 'doNotTrack' : 'preDNAT';
    reader.warn(
      ['spec', option],
      `a ${option} policy applies only to host endpoints, which are out of scope: not analysed`,
    );
    return undefined;
  }
  if (spec.applyOnForward === true) {
    reader.warn(
      ['spec', 'applyOnForward'],
      'applyOnForward concerns traffic forwarded through host endpoints, which is not analysed; the policy is analysed for pods',
    );
  }
  return {
    kind,
    ...(kind === 'NetworkPolicy' && { namespace }),
    name,
    tier,
    ...(order !== undefined && { order }),
    selector,
    ...(namespaceSelector && { namespaceSelector }),
    ...(serviceAccountSelector && { serviceAccountSelector }),
    types,
    ingress,
    egress,
    provenance: reader.provenance(),
  };
}

/** `types`, or Calico's default: Ingress, plus Egress when there are egress rules (only Egress if no ingress rules). */
function readTypes(
  reader: ObjectReader,
  spec: Fields,
  hasIngress: boolean,
  hasEgress: boolean,
): CalicoPolicy['types'] {
  const list = reader.list(spec.types, ['spec', 'types']);
  if (!list) return { ingress: !hasEgress || hasIngress, egress: hasEgress };
  const types = { ingress: false, egress: false };
  list.forEach((value, i) => {
    if (value === 'Ingress') types.ingress = true;
    else if (value === 'Egress') types.egress = true;
    else
      reader.error(['spec', 'types', i], `unsupported type ${JSON.stringify(value)}: use Ingress or Egress`);
  });
  if (hasIngress && !types.ingress) {
    reader.error(['spec', 'ingress'], 'ingress rules are given but types does not include Ingress');
  }
  if (hasEgress && !types.egress) {
    reader.error(['spec', 'egress'], 'egress rules are given but types does not include Egress');
  }
  return types;
}

function readRules(reader: ObjectReader, value: unknown, direction: Direction): CalicoRule[] {
  const list = reader.list(value, ['spec', direction]) ?? [];
  return list.flatMap((raw, i) => readCalicoRule(reader, raw, ['spec', direction, i], direction, i) ?? []);
}

export function readTier(reader: ObjectReader, object: Fields, name: string): CalicoTier {
  const spec = reader.fields(object.spec, ['spec']) ?? {};
  reader.onlyKnownFields(spec, ['spec'], ['order', 'defaultAction']);
  let order: number | undefined;
  if (spec.order !== undefined && spec.order !== null) {
    if (typeof spec.order === 'number' && Number.isFinite(spec.order)) order = spec.order;
    else reader.error(['spec', 'order'], `must be a number, not ${describe(spec.order)}`);
  }
  let defaultAction: CalicoTier['defaultAction'] = 'Deny';
  if (spec.defaultAction !== undefined) {
    if (spec.defaultAction === 'Deny' || spec.defaultAction === 'Pass') defaultAction = spec.defaultAction;
    else
      reader.error(
        ['spec', 'defaultAction'],
        `unsupported action ${JSON.stringify(spec.defaultAction)}: use Deny or Pass`,
      );
  }
  const problem = dnsLabelProblem(name);
  if (problem) reader.error(['metadata', 'name'], `invalid tier name "${name}": ${problem}`);
  return { name, ...(order !== undefined && { order }), defaultAction, provenance: reader.provenance() };
}

export function readNetworkSet(
  reader: ObjectReader,
  object: Fields,
  namespace: string | undefined,
  name: string,
  labels: Labels,
): CalicoNetworkSet {
  const spec = reader.fields(object.spec, ['spec']) ?? {};
  reader.onlyKnownFields(spec, ['spec'], ['nets', 'allowedEgressDomains']);
  if (spec.allowedEgressDomains !== undefined) {
    reader.warn(['spec', 'allowedEgressDomains'], 'domain names are resolved only at run time: not analysed');
  }
  const nets = readNets(reader, spec.nets, ['spec', 'nets'], undefined) ?? [];
  return {
    ...(namespace !== undefined && { namespace }),
    name,
    labels,
    nets,
    provenance: reader.provenance(),
  };
}

export function readProfile(reader: ObjectReader, object: Fields, name: string): CalicoProfile {
  const spec = reader.fields(object.spec, ['spec']) ?? {};
  reader.onlyKnownFields(spec, ['spec'], ['ingress', 'egress', 'labelsToApply']);
  if (spec.labelsToApply !== undefined) {
    reader.warn(['spec', 'labelsToApply'], 'labels a profile applies to its endpoints are not analysed');
  }
  return {
    name,
    ingress: readRules(reader, spec.ingress, 'ingress'),
    egress: readRules(reader, spec.egress, 'egress'),
    provenance: reader.provenance(),
  };
}

/**
 * A WorkloadEndpoint (`calicoctl get workloadendpoints`) read as the pod it stands for: its labels
 * without the ones Calico adds, its addresses, named ports and service account.
 */
export function readWorkloadEndpoint(
  reader: ObjectReader,
  object: Fields,
  namespace: string,
  name: string,
  labels: Labels,
): Pod {
  const spec = reader.fields(object.spec, ['spec']) ?? {};
  const ips = (reader.list(spec.ipNetworks, ['spec', 'ipNetworks']) ?? []).flatMap((raw, i) => {
    const text = reader.string(raw, ['spec', 'ipNetworks', i]);
    const ip = text?.split('/')[0];
    if (ip === undefined || parseAddress(ip) === undefined) {
      if (text !== undefined)
        reader.error(['spec', 'ipNetworks', i], `invalid address ${JSON.stringify(text)}`);
      return [];
    }
    return [ip];
  });
  const namedPorts: NamedPort[] = (reader.list(spec.ports, ['spec', 'ports']) ?? []).flatMap((raw, i) => {
    const port = reader.fields(raw, ['spec', 'ports', i]);
    if (!port || typeof port.name !== 'string' || !isPortNumber(port.port)) return [];
    const protocol = port.protocol ?? 'TCP';
    if (!PROTOCOLS.includes(protocol as Protocol)) return [];
    return [{ name: port.name, protocol: protocol as Protocol, port: port.port }];
  });
  const own = Object.fromEntries(
    Object.entries(labels).filter(([key]) => !key.startsWith('projectcalico.org/')),
  );
  const account = labels['projectcalico.org/serviceaccount'];
  const podName = reader.string(spec.pod, ['spec', 'pod']) || name;
  // Replicas share the generated name's stem, which is their workload's name.
  const generated = (object.metadata as Fields | undefined)?.generateName;
  const workload = typeof generated === 'string' && generated !== '' ? generated.replace(/-$/, '') : podName;
  return {
    namespace,
    name: podName,
    labels: own,
    annotations: {},
    ips,
    namedPorts,
    hostNetwork: false,
    ...(account && { serviceAccount: account }),
    containers: [],
    workload: workloadId(namespace, workload, 'WorkloadEndpoint'),
    provenance: reader.provenance(),
  };
}
