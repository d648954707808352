import { parseCidr } from '../../engine/addresses.ts';
import {
  CILIUM_ENTITIES,
  type CiliumCidrGroup,
  type CiliumEntity,
  type CiliumPeer,
  type CiliumPolicy,
  type CiliumPolicyKind,
  type CiliumPort,
  type CiliumRule,
  type CiliumSelector,
  POD_NAMESPACE_LABEL,
} from '../../model/cilium.ts';
import type { Direction, Labels, Protocol } from '../../model/types.ts';
import type { FieldKey } from '../documents.ts';
import { portNameProblem } from '../names.ts';
import { describe, type Fields, type ObjectReader } from '../object-reader.ts';
import { readCiliumSelector, selectorHasKey, selectorHasSource } from './selector.ts';

export const CILIUM_GROUP = 'cilium.io';
export const CILIUM_POLICY_KINDS: readonly CiliumPolicyKind[] = [
  'CiliumNetworkPolicy',
  'CiliumClusterwideNetworkPolicy',
];

export function isCiliumPolicyKind(kind: string): kind is CiliumPolicyKind {
  return (CILIUM_POLICY_KINDS as readonly string[]).includes(kind);
}

const RULE_FIELDS = [
  'endpointSelector',
  'nodeSelector',
  'ingress',
  'ingressDeny',
  'egress',
  'egressDeny',
  'labels',
  'description',
  'enableDefaultDeny',
  'log',
];
const COMMON = {
  ingress: [
    'fromEndpoints',
    'fromRequires',
    'fromCIDR',
    'fromCIDRSet',
    'fromEntities',
    'fromGroups',
    'fromNodes',
    'toPorts',
    'icmps',
  ],
  egress: [
    'toEndpoints',
    'toRequires',
    'toCIDR',
    'toCIDRSet',
    'toEntities',
    'toServices',
    'toGroups',
    'toNodes',
    'toPorts',
    'icmps',
  ],
} as const;
const ALLOW_ONLY = { ingress: ['authentication'], egress: ['toFQDNs', 'authentication'] } as const;
const PROTOCOLS: Readonly<Record<string, readonly Protocol[]>> = {
  TCP: ['TCP'],
  UDP: ['UDP'],
  SCTP: ['SCTP'],
  ANY: ['TCP', 'UDP', 'SCTP'],
};
/** ICMP type names Cilium accepts (IPv4 and IPv6 share some names but not numbers; these are IPv4's). */
const ICMP_TYPE_NAMES: Readonly<Record<string, number>> = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  Redirect: 5,
  Echo: 8,
  EchoRequest: 8,
  RouterAdvertisement: 9,
  RouterSelection: 10,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
  Photuris: 40,
  ExtendedEchoRequest: 42,
  ExtendedEchoReply: 43,
};
const ICMPV6_TYPE_NAMES: Readonly<Record<string, number>> = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  MulticastListenerQuery: 130,
  MulticastListenerReport: 131,
  MulticastListenerDone: 132,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  RedirectMessage: 137,
};
const MAX_PORTS = 40;

/** Host policies (nodeSelector) are out of scope: returned so they can be listed as not analysed. */
export type ReadCiliumPolicy = { policy: CiliumPolicy } | { hostPolicy: string };

/**
 * Validates a CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy (cilium.io/v2) as the CRD's schema
 * and Cilium's own sanitizing do, and returns one rule set per `spec`/`specs[i]`, with the namespace
 * Cilium adds to selectors of a namespaced policy already in them.
 */
export function readCiliumPolicy(
  reader: ObjectReader,
  object: Fields,
  kind: CiliumPolicyKind,
  namespace: string,
  name: string,
): ReadCiliumPolicy[] {
  if (typeof object.apiVersion === 'string' && object.apiVersion !== `${CILIUM_GROUP}/v2`)
    reader.error(
      ['apiVersion'],
      `unsupported version "${object.apiVersion}" of ${kind}: phiwall reads cilium.io/v2`,
    );
  const ns = kind === 'CiliumNetworkPolicy' ? namespace : '';
  const out: ReadCiliumPolicy[] = [];
  const hasSpec = object.spec !== undefined && object.spec !== null;
  const specs = reader.list(object.specs, ['specs']) ?? [];
  if (!hasSpec && specs.length === 0) reader.error(['spec'], 'required value: a policy needs spec or specs');
  const read = (raw: unknown, path: FieldKey[], specPath: string) => {
    const spec = reader.fields(raw, path);
    if (spec) out.push(readSpec(reader, spec, path, { kind, namespace: ns, name, specPath }));
  };
  if (hasSpec) read(object.spec, ['spec'], 'spec');
  for (const [i, raw] of specs.entries()) read(raw, ['specs', i], `specs[${i}]`);
  return out;
}

interface PolicyHeader {
  kind: CiliumPolicyKind;
  namespace: string;
  name: string;
  specPath: string;
}

function readSpec(
  reader: ObjectReader,
  spec: Fields,
  path: FieldKey[],
  header: PolicyHeader,
): ReadCiliumPolicy {
  reader.onlyKnownFields(spec, path, RULE_FIELDS);
  const hasEndpoints = spec.endpointSelector !== undefined && spec.endpointSelector !== null;
  const hasNodes = spec.nodeSelector !== undefined && spec.nodeSelector !== null;
  if (hasEndpoints === hasNodes) {
    reader.error(path, 'exactly one of endpointSelector or nodeSelector is required');
  }
  if (header.kind === 'CiliumNetworkPolicy' && hasNodes)
    reader.error(
      [...path, 'nodeSelector'],
      'a CiliumNetworkPolicy cannot select nodes: use a CiliumClusterwideNetworkPolicy',
    );
  const written = readCiliumSelector(reader, hasNodes ? spec.nodeSelector : spec.endpointSelector, [
    ...path,
    hasNodes ? 'nodeSelector' : 'endpointSelector',
  ]);
  const defaultDeny = readDefaultDeny(reader, spec.enableDefaultDeny, [...path, 'enableDefaultDeny']);
  const matchesInit =
    selectorHasSource(written, 'reserved') && Object.hasOwn(written.matchLabels, 'reserved:init');
  const context: RuleContext = { namespace: header.namespace, matchesInit };
  const rules = (field: 'ingress' | 'ingressDeny' | 'egress' | 'egressDeny') => {
    const direction: Direction = field.startsWith('ingress') ? 'ingress' : 'egress';
    const deny = field.endsWith('Deny');
    return (reader.list(spec[field], [...path, field]) ?? []).flatMap((raw, i) => {
      const at = [...path, field, i];
      const rule = reader.fields(raw, at);
      if (!rule && raw !== null) return [];
      return [readRule(reader, rule ?? {}, at, { direction, deny, field, index: i }, context)];
    });
  };
  const ingress = [...rules('ingressDeny'), ...rules('ingress')];
  const egress = [...rules('egressDeny'), ...rules('egress')];
  if (hasNodes) {
    const id = `${header.kind}/${header.name}${header.specPath === 'spec' ? '' : ` ${header.specPath}`}`;
    reader.warn([...path, 'nodeSelector'], `${id} is a host policy (nodeSelector): not analysed`);
    return { hostPolicy: id };
  }
  const endpointSelector =
    header.namespace && !matchesInit ? withNamespace(written, header.namespace) : written;
  return {
    policy: {
      ...header,
      endpointSelector,
      defaultDeny,
      ingress,
      egress,
      provenance: reader.provenance(path),
    },
  };
}

function readDefaultDeny(reader: ObjectReader, value: unknown, path: FieldKey[]): Record<Direction, boolean> {
  const fields = reader.fields(value, path) ?? {};
  reader.onlyKnownFields(fields, path, ['ingress', 'egress']);
  const flag = (key: Direction) => {
    const v = fields[key];
    if (v === undefined || v === null) return true;
    if (typeof v === 'boolean') return v;
    reader.error([...path, key], `must be a boolean, not ${describe(v)}`);
    return true;
  };
  return { ingress: flag('ingress'), egress: flag('egress') };
}

interface RuleContext {
  namespace: string;
  matchesInit: boolean;
}

/** The namespace restriction Cilium adds to a namespaced policy's endpointSelector (replacing any). */
function withNamespace(selector: CiliumSelector, namespace: string): CiliumSelector {
  return { ...selector, matchLabels: { ...selector.matchLabels, [`k8s:${POD_NAMESPACE_LABEL}`]: namespace } };
}

/**
 * A peer selector as Cilium rewrites it: selectors of reserved labels stay as written; others that name
 * no namespace get the policy's own namespace (a clusterwide policy: "has a namespace", i.e. is a pod),
 * except for policies on initializing endpoints. `requires` selectors never skip the rewrite.
 */
function peerSelector(selector: CiliumSelector, context: RuleContext, requires: boolean): CiliumSelector {
  if (!requires && selectorHasSource(selector, 'reserved')) return selector;
  if (context.matchesInit || selectorHasKey(selector, POD_NAMESPACE_LABEL)) return selector;
  if (context.namespace) return withNamespace(selector, context.namespace);
  return {
    ...selector,
    matchExpressions: [
      ...selector.matchExpressions,
      { key: `k8s:${POD_NAMESPACE_LABEL}`, operator: 'Exists', values: [] },
    ],
  };
}

function readRule(
  reader: ObjectReader,
  rule: Fields,
  path: FieldKey[],
  base: { direction: Direction; deny: boolean; field: string; index: number },
  context: RuleContext,
): CiliumRule {
  const { direction, deny } = base;
  const known = deny ? COMMON[direction] : [...COMMON[direction], ...ALLOW_ONLY[direction]];
  reader.onlyKnownFields(rule, path, known);
  const prefix = direction === 'ingress' ? 'from' : 'to';
  const field = (name: string) => `${prefix}${name}`;
  const peers: CiliumPeer[] = [];
  let namesPeers = false;
  const list = (name: string) => {
    const value = reader.list(rule[name], [...path, name]);
    // An empty list names no peer: Cilium reads it as absent.
    if (value && value.length > 0) namesPeers = true;
    return value ?? [];
  };
  list(field('Endpoints')).forEach((raw, i) => {
    const selector = readCiliumSelector(reader, raw, [...path, field('Endpoints'), i]);
    peers.push({ kind: 'endpoints', selector: peerSelector(selector, context, false) });
  });
  list(field('Entities')).forEach((raw, i) => {
    if (!(CILIUM_ENTITIES as readonly unknown[]).includes(raw)) {
      reader.error(
        [...path, field('Entities'), i],
        `unknown entity ${JSON.stringify(raw)}: use ${CILIUM_ENTITIES.join(', ')}`,
      );
      return;
    }
    peers.push({ kind: 'entity', entity: raw as CiliumEntity });
  });
  list(field('CIDR')).forEach((raw, i) => {
    const cidr = readCidr(reader, raw, [...path, field('CIDR'), i]);
    if (cidr) peers.push({ kind: 'cidr', cidr, except: [] });
  });
  list(field('CIDRSet')).forEach((raw, i) => {
    const peer = readCidrRule(reader, raw, [...path, field('CIDRSet'), i]);
    if (peer) peers.push(peer);
  });
  list(field('Nodes')).forEach((raw, i) => {
    peers.push({ kind: 'nodes', selector: readCiliumSelector(reader, raw, [...path, field('Nodes'), i]) });
  });
  if (direction === 'egress') {
    list('toFQDNs').forEach((raw, i) => {
      const at = [...path, 'toFQDNs', i];
      const fqdn = reader.fields(raw, at) ?? {};
      reader.onlyKnownFields(fqdn, at, ['matchName', 'matchPattern']);
      const pattern = reader.string(fqdn.matchName ?? fqdn.matchPattern, at);
      if ((fqdn.matchName === undefined) === (fqdn.matchPattern === undefined) || !pattern)
        reader.error(at, 'exactly one of matchName or matchPattern is required');
      else if (!/^[-a-zA-Z0-9_.*]+$/.test(pattern))
        reader.error(at, `"${pattern}" is not a DNS name or pattern (letters, digits, -, _, . and *)`);
      else peers.push({ kind: 'fqdn', pattern: pattern.toLowerCase().replace(/\.$/, '') });
    });
    list('toServices').forEach((raw, i) => {
      const peer = readService(reader, raw, [...path, 'toServices', i]);
      if (peer) peers.push(peer);
    });
  }
  const groups = list(field('Groups'));
  if (groups.length > 0) {
    reader.warn(
      [...path, field('Groups')],
      `${field('Groups')} (cloud provider groups) cannot be resolved offline: it matches nothing here`,
    );
    peers.push({ kind: 'service', description: field('Groups') });
  }
  const requiresField = field('Requires');
  const requires = list(requiresField).map((raw, i) =>
    peerSelector(readCiliumSelector(reader, raw, [...path, requiresField, i]), context, true),
  );
  // fromRequires is no layer-3 peer of its own: it narrows every other rule.
  if (requires.length > 0 && peers.length === 0) namesPeers = false;
  const toPorts = readToPorts(reader, rule.toPorts, [...path, 'toPorts'], deny);
  const icmpTypes = readIcmps(reader, rule.icmps, [...path, 'icmps']);
  if (toPorts && icmpTypes)
    reader.error([...path, 'icmps'], 'icmps cannot be used together with toPorts in one rule');
  return {
    ...base,
    ...(namesPeers ? { peers } : {}),
    ...(toPorts ? { ports: toPorts.ports } : {}),
    ...(toPorts?.l7.length ? { l7: toPorts.l7 } : {}),
    ...(toPorts?.l7.includes('dns') ? { dns: toPorts.dns } : {}),
    ...(icmpTypes ? { icmpTypes } : {}),
    ...(requires.length ? { requires } : {}),
    provenance: reader.provenance(path),
  };
}

function readCidr(reader: ObjectReader, raw: unknown, path: FieldKey[]): string | undefined {
  const text = reader.string(raw, path);
  if (text === undefined) return undefined;
  // Cilium accepts a bare address as a /32 (/128).
  const cidr = text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`;
  if (!parseCidr(cidr)) {
    reader.error(path, `"${text}" is not a valid CIDR`);
    return undefined;
  }
  return cidr;
}

function readCidrRule(reader: ObjectReader, raw: unknown, path: FieldKey[]): CiliumPeer | undefined {
  const fields = reader.fields(raw, path);
  if (!fields) return undefined;
  reader.onlyKnownFields(fields, path, ['cidr', 'cidrGroupRef', 'cidrGroupSelector', 'except']);
  const except = (reader.list(fields.except, [...path, 'except']) ?? []).flatMap((e, i) => {
    const cidr = readCidr(reader, e, [...path, 'except', i]);
    return cidr ? [cidr] : [];
  });
  const present = ['cidr', 'cidrGroupRef', 'cidrGroupSelector'].filter(
    (k) => fields[k] !== undefined && fields[k] !== null,
  );
  if (present.length !== 1) {
    reader.error(path, 'exactly one of cidr, cidrGroupRef or cidrGroupSelector is required');
    return undefined;
  }
  if (fields.cidr !== undefined) {
    const cidr = readCidr(reader, fields.cidr, [...path, 'cidr']);
    return cidr ? { kind: 'cidr', cidr, except } : undefined;
  }
  if (fields.cidrGroupRef !== undefined) {
    const ref = reader.string(fields.cidrGroupRef, [...path, 'cidrGroupRef']);
    return ref ? { kind: 'cidrGroup', ref, except } : undefined;
  }
  const selector = readCiliumSelector(reader, fields.cidrGroupSelector, [...path, 'cidrGroupSelector']);
  return { kind: 'cidrGroup', selector, except };
}

function readService(reader: ObjectReader, raw: unknown, path: FieldKey[]): CiliumPeer | undefined {
  const fields = reader.fields(raw, path);
  if (!fields) return undefined;
  reader.onlyKnownFields(fields, path, ['k8sService', 'k8sServiceSelector']);
  const service = reader.fields(fields.k8sService, [...path, 'k8sService']);
  const selector = reader.fields(fields.k8sServiceSelector, [...path, 'k8sServiceSelector']);
  if (!service === !selector) {
    reader.error(path, 'exactly one of k8sService or k8sServiceSelector is required');
    return undefined;
  }
  if (service) reader.onlyKnownFields(service, [...path, 'k8sService'], ['serviceName', 'namespace']);
  if (selector) {
    reader.onlyKnownFields(selector, [...path, 'k8sServiceSelector'], ['selector', 'namespace']);
    readCiliumSelector(reader, selector.selector, [...path, 'k8sServiceSelector', 'selector']);
  }
  const description = service
    ? `k8sService ${String(service.namespace ?? '')}/${String(service.serviceName ?? '')}`
    : 'k8sServiceSelector';
  reader.warn(
    path,
    `toServices applies only to services without a selector, whose endpoints phiwall does not read: ${description} matches nothing here`,
  );
  return { kind: 'service', description };
}

function readToPorts(
  reader: ObjectReader,
  value: unknown,
  path: FieldKey[],
  deny: boolean,
): { ports: CiliumPort[]; l7: string[]; dns: string[] } | undefined {
  const entries = reader.list(value, path);
  if (!entries || entries.length === 0) return undefined;
  const ports: CiliumPort[] = [];
  const l7 = new Set<string>();
  const dns = new Set<string>();
  entries.forEach((raw, i) => {
    const at = [...path, i];
    const entry = reader.fields(raw, at) ?? {};
    const known = deny
      ? ['ports']
      : ['ports', 'rules', 'terminatingTLS', 'originatingTLS', 'serverNames', 'listener'];
    reader.onlyKnownFields(entry, at, known);
    const list = reader.list(entry.ports, [...at, 'ports']) ?? [];
    if (list.length > MAX_PORTS) reader.error([...at, 'ports'], `must have at most ${MAX_PORTS} items`);
    // A toPorts entry without ports covers every port: L7 rules then still filter it.
    if (list.length === 0) ports.push({ protocols: PROTOCOLS.ANY as Protocol[] });
    list.forEach((rawPort, j) => {
      const port = readPort(reader, rawPort, [...at, 'ports', j]);
      if (port) ports.push(port);
    });
    const rules = reader.fields(entry.rules, [...at, 'rules']);
    for (const kind of Object.keys(rules ?? {})) l7.add(kind);
    // Kept for lint: a toFQDNs name learns addresses only from lookups these let through.
    (reader.list(rules?.dns, [...at, 'rules', 'dns']) ?? []).forEach((rawDns, j) => {
      const name = reader.fields(rawDns, [...at, 'rules', 'dns', j]);
      const written = name?.matchName ?? name?.matchPattern;
      if (typeof written === 'string') dns.add(written.toLowerCase().replace(/\.$/, ''));
    });
    for (const key of ['terminatingTLS', 'originatingTLS', 'serverNames', 'listener'])
      if (entry[key] !== undefined) l7.add(key);
  });
  return { ports, l7: [...l7], dns: [...dns] };
}

function readPort(reader: ObjectReader, raw: unknown, path: FieldKey[]): CiliumPort | undefined {
  const fields = reader.fields(raw, path);
  if (!fields) return undefined;
  reader.onlyKnownFields(fields, path, ['port', 'endPort', 'protocol']);
  const protocolName = fields.protocol ?? 'ANY';
  const protocols = PROTOCOLS[protocolName as string];
  if (!protocols) {
    reader.error(
      [...path, 'protocol'],
      `unsupported protocol ${JSON.stringify(protocolName)}: use TCP, UDP, SCTP or ANY (icmps for ICMP)`,
    );
    return undefined;
  }
  let port: number | string | undefined;
  if (fields.port !== undefined && fields.port !== null) {
    if (typeof fields.port !== 'string') {
      reader.error(
        [...path, 'port'],
        `must be a string, not ${describe(fields.port)} (quote it: "${String(fields.port)}")`,
      );
      return undefined;
    }
    if (/^\d+$/.test(fields.port)) {
      const n = Number(fields.port);
      if (n > 65535) reader.error([...path, 'port'], `"${fields.port}" is not a port number (0-65535)`);
      port = n === 0 ? undefined : n;
    } else {
      const problem = portNameProblem(fields.port);
      if (problem)
        reader.error(
          [...path, 'port'],
          `"${fields.port}" is neither a port number nor a port name: ${problem}`,
        );
      port = fields.port.toLowerCase();
    }
  }
  let endPort: number | undefined;
  if (fields.endPort !== undefined && fields.endPort !== null) {
    const e = fields.endPort;
    if (typeof e !== 'number' || !Number.isInteger(e) || e < 0 || e > 65535)
      reader.error([...path, 'endPort'], `must be a port number (0-65535), not ${describe(e)}`);
    else if (typeof port === 'string')
      reader.error([...path, 'endPort'], 'endPort cannot be used with a named port');
    else if (port !== undefined && e !== 0 && e < port)
      reader.error([...path, 'endPort'], `endPort ${e} is below port ${port}`);
    else if (port !== undefined && e > port) endPort = e;
  }
  return {
    ...(port !== undefined ? { port } : {}),
    ...(endPort !== undefined ? { endPort } : {}),
    protocols,
  };
}

function readIcmps(reader: ObjectReader, value: unknown, path: FieldKey[]): number[] | undefined {
  const entries = reader.list(value, path);
  if (!entries || entries.length === 0) return undefined;
  const types = new Set<number>();
  entries.forEach((raw, i) => {
    const at = [...path, i];
    const entry = reader.fields(raw, at) ?? {};
    reader.onlyKnownFields(entry, at, ['fields']);
    (reader.list(entry.fields, [...at, 'fields']) ?? []).forEach((rawField, j) => {
      const fat = [...at, 'fields', j];
      const field = reader.fields(rawField, fat) ?? {};
      reader.onlyKnownFields(field, fat, ['type', 'family']);
      const family = field.family ?? 'IPv4';
      if (family !== 'IPv4' && family !== 'IPv6') {
        reader.error([...fat, 'family'], `unsupported family ${JSON.stringify(family)}: use IPv4 or IPv6`);
        return;
      }
      const names = family === 'IPv4' ? ICMP_TYPE_NAMES : ICMPV6_TYPE_NAMES;
      const type =
        typeof field.type === 'string' && !/^\d+$/.test(field.type) ? names[field.type] : Number(field.type);
      if (type === undefined || !Number.isInteger(type) || type < 0 || type > 255)
        reader.error(
          [...fat, 'type'],
          `${JSON.stringify(field.type)} is not an ${family} ICMP type (0-255 or a name such as ${Object.keys(names)[0]})`,
        );
      else types.add(type);
    });
  });
  return [...types].sort((a, b) => a - b);
}

/** A CiliumCIDRGroup (cilium.io/v2alpha1 or v2): a named, labelled list of external CIDRs. */
export function readCidrGroup(
  reader: ObjectReader,
  object: Fields,
  name: string,
  labels: Labels,
): CiliumCidrGroup {
  const spec = reader.fields(object.spec, ['spec']) ?? {};
  reader.onlyKnownFields(spec, ['spec'], ['externalCIDRs']);
  const cidrs = (reader.list(spec.externalCIDRs, ['spec', 'externalCIDRs']) ?? []).flatMap((raw, i) => {
    const cidr = readCidr(reader, raw, ['spec', 'externalCIDRs', i]);
    return cidr ? [cidr] : [];
  });
  return { name, labels, cidrs, provenance: reader.provenance() };
}
