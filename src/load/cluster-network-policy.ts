import { parseAddress, parseCidr, toCidrs } from '../engine/addresses.ts';
import { MATCH_ALL } from '../engine/selectors.ts';
import type {
  ClusterAction,
  ClusterPeer,
  ClusterPolicy,
  ClusterPolicyKind,
  ClusterPort,
  ClusterRule,
  Direction,
  LabelSelector,
  Labels,
  Node,
  PodScope,
  Protocol,
  Tier,
} from '../model/types.ts';
import type { FieldKey } from './documents.ts';
import { portNameProblem } from './names.ts';
import { describe, type Fields, isFields, type ObjectReader } from './object-reader.ts';
import { isPortNumber, readProtocol, readSelector } from './read-fields.ts';

/** The API group of AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy. */
export const CLUSTER_POLICY_GROUP = 'policy.networking.k8s.io';

const CLUSTER_POLICY_KINDS: readonly ClusterPolicyKind[] = [
  'AdminNetworkPolicy',
  'BaselineAdminNetworkPolicy',
  'ClusterNetworkPolicy',
];

export function isClusterPolicyKind(kind: string): kind is ClusterPolicyKind {
  return (CLUSTER_POLICY_KINDS as readonly string[]).includes(kind);
}

/** The versions whose schema phiwall knows (v1beta1 of ClusterNetworkPolicy has v1alpha2's schema). */
const SUPPORTED_VERSIONS: Readonly<Record<ClusterPolicyKind, readonly string[]>> = {
  AdminNetworkPolicy: ['v1alpha1'],
  BaselineAdminNetworkPolicy: ['v1alpha1'],
  ClusterNetworkPolicy: ['v1alpha2', 'v1beta1'],
};

/** What differs between the kinds and versions: limits, field names, actions and peer types. */
interface Schema {
  kind: ClusterPolicyKind;
  /** maxItems of ingress, egress, from, to and ports/protocols. */
  maxItems: number;
  portsField: 'ports' | 'protocols';
  /** The action words the kind accepts, and what each means. */
  actions: Readonly<Record<string, ClusterAction>>;
  egressPeers: readonly string[];
  /** v1alpha1 requires both selectors of a `pods` peer; v1alpha2 only podSelector. */
  requiresNamespaceSelector: boolean;
  domainPattern?: RegExp;
  /** The message of the CEL rule against named ports beside address peers in one egress rule. */
  namedPortMessage: string;
  /** `cidr(self) == cidr(self).masked()`: v1beta1 rejects host bits that earlier CRDs accepted. */
  strictCidrs: 'reject' | 'warn' | 'accept';
}

const NAMED_PORT_MESSAGE =
  'networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames';
const ADMIN_ACTIONS = { Allow: 'Allow', Deny: 'Deny', Pass: 'Pass' } as const;

function schemaOf(kind: ClusterPolicyKind, version: string): Schema {
  if (kind === 'ClusterNetworkPolicy') {
    return {
      kind,
      maxItems: 25,
      portsField: 'protocols',
      actions: { Accept: 'Allow', Deny: 'Deny', Pass: 'Pass' },
      egressPeers: ['namespaces', 'pods', 'networks', 'nodes', 'domainNames'],
      requiresNamespaceSelector: false,
      domainPattern:
        /^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$/,
      namedPortMessage: NAMED_PORT_MESSAGE,
      strictCidrs: version === 'v1beta1' ? 'reject' : 'warn',
    };
  }
  if (kind === 'AdminNetworkPolicy') {
    return {
      kind,
      maxItems: 100,
      portsField: 'ports',
      actions: ADMIN_ACTIONS,
      egressPeers: ['namespaces', 'pods', 'networks', 'nodes', 'domainNames'],
      requiresNamespaceSelector: true,
      // Copied from the v1alpha1 CRD, `A-z` typo included: it also admits `[`, `\`, `]`, `^` and `` ` ``.
      domainPattern:
        /^(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$/,
      namedPortMessage: NAMED_PORT_MESSAGE,
      strictCidrs: 'accept',
    };
  }
  return {
    kind,
    maxItems: 100,
    portsField: 'ports',
    actions: { Allow: 'Allow', Deny: 'Deny' },
    egressPeers: ['namespaces', 'pods', 'networks', 'nodes'],
    requiresNamespaceSelector: true,
    namedPortMessage:
      'networks/nodes peer cannot be set with namedPorts since there are no namedPorts for networks/nodes',
    strictCidrs: 'accept',
  };
}

const SPEC_FIELDS: Readonly<Record<ClusterPolicyKind, readonly string[]>> = {
  AdminNetworkPolicy: ['priority', 'subject', 'ingress', 'egress'],
  BaselineAdminNetworkPolicy: ['subject', 'ingress', 'egress'],
  ClusterNetworkPolicy: ['tier', 'priority', 'subject', 'ingress', 'egress'],
};

const TIERS: readonly Tier[] = ['Admin', 'Baseline'];
const PEER_FIELD = { ingress: 'from', egress: 'to' } as const;
const INGRESS_PEERS = ['namespaces', 'pods'] as const;
/** Peers of these types select no pod, so a named port cannot apply to them. */
const ADDRESS_PEERS: readonly string[] = ['networks', 'nodes', 'domainNames'];
/** Peer and subject fields that hold a label selector, where `{}` selects everything. */
const SELECTOR_KEYS: readonly string[] = ['namespaces', 'nodes'];
const MAX_NETWORKS = 25;
const MAX_DOMAIN_NAMES = 25;
const MAX_CIDR_LENGTH = 43;
const MAX_RULE_NAME = 100;
const MAX_PRIORITY = 1000;

/**
 * Validates an AdminNetworkPolicy or BaselineAdminNetworkPolicy (v1alpha1) or a ClusterNetworkPolicy
 * (v1alpha2, v1beta1) as the API server would with the experimental CRDs, and returns its meaning.
 */
export function readClusterPolicy(
  reader: ObjectReader,
  object: Fields,
  kind: ClusterPolicyKind,
  name: string,
): ClusterPolicy {
  const version = checkVersion(reader, object.apiVersion, kind);
  const schema = schemaOf(kind, version);
  if (kind === 'BaselineAdminNetworkPolicy' && name !== 'default') {
    reader.error(
      ['metadata', 'name'],
      `Only one baseline admin network policy with metadata.name="default" can be created in the cluster (this one is named "${name}")`,
    );
  }
  const empty = { kind, name, tier: kindTier(kind), subject: { namespaceSelector: MATCH_ALL } };
  if (object.spec === undefined || object.spec === null) {
    reader.error(['spec'], `required value: ${article(kind)} needs a spec`);
    return { ...empty, ingress: [], egress: [], provenance: reader.provenance() };
  }
  const spec = reader.fields(object.spec, ['spec']);
  if (!spec) return { ...empty, ingress: [], egress: [], provenance: reader.provenance() };
  reader.onlyKnownFields(spec, ['spec'], SPEC_FIELDS[kind]);
  const tier = kind === 'ClusterNetworkPolicy' ? readTier(reader, spec.tier) : kindTier(kind);
  const priority =
    kind === 'BaselineAdminNetworkPolicy' ? undefined : readPriority(reader, spec.priority, kind);
  const subject = readSubject(reader, spec.subject, schema);
  return {
    kind,
    name,
    tier,
    priority,
    subject,
    ingress: readRules(reader, spec.ingress, 'ingress', schema),
    egress: readRules(reader, spec.egress, 'egress', schema),
    provenance: reader.provenance(),
  };
}

function article(kind: ClusterPolicyKind): string {
  return `${kind.startsWith('A') ? 'an' : 'a'} ${kind}`;
}

function kindTier(kind: ClusterPolicyKind): Tier {
  return kind === 'BaselineAdminNetworkPolicy' ? 'Baseline' : 'Admin';
}

/** The version part of apiVersion; an unknown one is an error naming the versions phiwall reads. */
function checkVersion(reader: ObjectReader, apiVersion: unknown, kind: ClusterPolicyKind): string {
  // A missing apiVersion is already reported with the object's header.
  if (typeof apiVersion !== 'string' || apiVersion === '') return SUPPORTED_VERSIONS[kind][0] as string;
  const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
  const supported = SUPPORTED_VERSIONS[kind];
  if (!supported.includes(version)) {
    const names = supported.map((v) => `${CLUSTER_POLICY_GROUP}/${v}`).join(' or ');
    reader.error(['apiVersion'], `unsupported version "${apiVersion}" of ${kind}: phiwall reads ${names}`);
    return supported[0] as string;
  }
  return version;
}

function readTier(reader: ObjectReader, value: unknown): Tier {
  if (value === undefined || value === null) {
    reader.error(['spec', 'tier'], 'required value: use Admin or Baseline');
    return 'Admin';
  }
  if (TIERS.includes(value as Tier)) return value as Tier;
  reader.error(['spec', 'tier'], `unsupported value ${JSON.stringify(value)}: use Admin or Baseline`);
  return 'Admin';
}

function readPriority(reader: ObjectReader, value: unknown, kind: ClusterPolicyKind): number | undefined {
  const path = ['spec', 'priority'];
  if (value === undefined || value === null) {
    reader.error(path, `required value: ${article(kind)} needs a priority between 0 and ${MAX_PRIORITY}`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    reader.error(
      path,
      `${describe(value)} is not a valid priority: must be an integer between 0 and ${MAX_PRIORITY}`,
    );
    return undefined;
  }
  if (value < 0 || value > MAX_PRIORITY) {
    reader.error(path, `priority ${value} is out of range: must be between 0 and ${MAX_PRIORITY}`);
    return undefined;
  }
  return value;
}

/** Fields set to something other than null: the API server prunes null fields of these CRDs. */
function setFields(fields: Fields, keys: readonly string[]): string[] {
  return keys.filter((key) => fields[key] !== undefined && fields[key] !== null);
}

/** Exactly one of `keys` (minProperties 1, maxProperties 1); undefined after reporting otherwise. */
function exactlyOne(
  reader: ObjectReader,
  fields: Fields,
  path: readonly FieldKey[],
  keys: readonly string[],
): string | undefined {
  const set = setFields(fields, keys);
  if (set.length === 1) return set[0];
  const choices = `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}`;
  if (set.length === 0) {
    const empty = keys.filter((key) => key in fields && SELECTOR_KEYS.includes(key));
    const hint =
      empty.length > 0 ? ` (${empty[0]} has no value: an empty selector is written ${empty[0]}: {})` : '';
    reader.error(path, `must specify exactly one of ${choices}${hint}`);
  } else {
    reader.error(path, `must specify exactly one of ${choices}, not ${set.join(' and ')}`);
  }
  return undefined;
}

/** A mapping that may be written as a bare `-` or `key:` (null), which reads as an empty one. */
function mapping(reader: ObjectReader, raw: unknown, path: readonly FieldKey[]): Fields | undefined {
  return raw === null || raw === undefined ? {} : reader.fields(raw, path);
}

/** A list with minItems/maxItems; undefined when absent. */
function boundedList(
  reader: ObjectReader,
  raw: unknown,
  path: readonly FieldKey[],
  min: number,
  max: number,
  what: string,
  hint = '',
): unknown[] | undefined {
  const list = reader.list(raw, path);
  if (!list) return undefined;
  if (list.length < min) reader.error(path, `must have at least ${min} ${what}${hint}`);
  if (list.length > max) reader.error(path, `must have at most ${max} ${what}s, not ${list.length}`);
  return list;
}

function readSubject(reader: ObjectReader, raw: unknown, schema: Schema): PodScope {
  const path = ['spec', 'subject'];
  if (raw === undefined || raw === null) {
    reader.error(
      path,
      'required value: the subject selects the pods the policy applies to (namespaces or pods)',
    );
    return { namespaceSelector: MATCH_ALL };
  }
  const subject = reader.fields(raw, path);
  if (!subject) return { namespaceSelector: MATCH_ALL };
  reader.onlyKnownFields(subject, path, ['namespaces', 'pods']);
  const which = exactlyOne(reader, subject, path, ['namespaces', 'pods']);
  if (which === 'namespaces') {
    return { namespaceSelector: readSelector(reader, subject.namespaces, [...path, 'namespaces']) };
  }
  if (which === 'pods') return readPods(reader, subject.pods, [...path, 'pods'], schema);
  return { namespaceSelector: MATCH_ALL };
}

/**
 * `pods: {namespaceSelector, podSelector}`. The API server requires the selectors (v1alpha2 makes
 * namespaceSelector optional); manifests converted from Go objects often leave out an empty one, so a
 * missing one reads as `{}`, with a warning where the API server would reject it.
 */
function readPods(reader: ObjectReader, raw: unknown, path: readonly FieldKey[], schema: Schema): PodScope {
  const pods = reader.fields(raw, path) ?? {};
  reader.onlyKnownFields(pods, path, ['namespaceSelector', 'podSelector']);
  const selector = (key: 'namespaceSelector' | 'podSelector', what: string, required: boolean) => {
    if (pods[key] !== undefined && pods[key] !== null) return readSelector(reader, pods[key], [...path, key]);
    if (required) {
      reader.warn(
        path,
        `${key} is missing, which the API server rejects (${schema.kind} requires it): read as ${key}: {} (${what}); write it out`,
      );
    }
    return undefined;
  };
  const namespaceSelector = selector(
    'namespaceSelector',
    'every namespace',
    schema.requiresNamespaceSelector,
  );
  const podSelector = selector('podSelector', 'every pod', true);
  return { namespaceSelector: namespaceSelector ?? MATCH_ALL, podSelector };
}

function readRules(reader: ObjectReader, raw: unknown, direction: Direction, schema: Schema): ClusterRule[] {
  const rules = boundedList(reader, raw, ['spec', direction], 0, schema.maxItems, 'rule') ?? [];
  return rules.flatMap((rule, index) => readRule(reader, rule, direction, index, schema) ?? []);
}

function readRule(
  reader: ObjectReader,
  raw: unknown,
  direction: Direction,
  index: number,
  schema: Schema,
): ClusterRule | undefined {
  const path = ['spec', direction, index];
  const rule = mapping(reader, raw, path);
  if (!rule) return undefined;
  const peerField = PEER_FIELD[direction];
  reader.onlyKnownFields(rule, path, ['name', 'action', peerField, schema.portsField]);

  const name = reader.string(rule.name, [...path, 'name']) ?? '';
  if (name.length > MAX_RULE_NAME) {
    reader.error([...path, 'name'], `must be no more than ${MAX_RULE_NAME} characters, not ${name.length}`);
  }
  const action = readAction(reader, rule.action, [...path, 'action'], schema);

  const peerPath = [...path, peerField];
  if (rule[peerField] === undefined || rule[peerField] === null) {
    reader.error(peerPath, `required value: a rule needs at least one peer in ${peerField}`);
  }
  const peerList = boundedList(reader, rule[peerField], peerPath, 1, schema.maxItems, 'peer') ?? [];
  const peerTypes = new Set<string>();
  const peers = peerList.flatMap((peer, i) => {
    const read = readPeer(reader, peer, [...peerPath, i], direction, schema, action);
    if (read.type) peerTypes.add(read.type);
    return read.peer ? [read.peer] : [];
  });

  const portPath = [...path, schema.portsField];
  const portList = boundedList(
    reader,
    rule[schema.portsField],
    portPath,
    1,
    schema.maxItems,
    'item',
    ': leave the field out to match every port',
  );
  const ports = portList?.flatMap((port, i) => {
    const read =
      schema.portsField === 'ports'
        ? readV1alpha1Port(reader, port, [...portPath, i])
        : readProtocolItem(reader, port, [...portPath, i]);
    return read ?? [];
  });

  if (direction === 'egress' && ADDRESS_PEERS.some((type) => peerTypes.has(type))) {
    const namedField = schema.portsField === 'ports' ? 'namedPort' : 'destinationNamedPort';
    const i = (portList ?? []).findIndex(
      (port) => isFields(port) && setFields(port, [namedField]).length > 0,
    );
    // The experimental CRDs reject this (the corpus of another analyzer does not); read it the only way it
    // can mean anything, and say so.
    if (i >= 0) {
      reader.warn(
        [...portPath, i, namedField],
        `${schema.namedPortMessage} (the experimental CRDs reject this object): phiwall reads the named port as matching only this rule's pod peers`,
      );
    }
  }

  return {
    direction,
    index,
    name,
    action,
    peers,
    ports: ports?.length ? ports : undefined,
    provenance: reader.provenance(path),
  };
}

function readAction(
  reader: ObjectReader,
  value: unknown,
  path: readonly FieldKey[],
  schema: Schema,
): ClusterAction {
  const words = Object.keys(schema.actions);
  const choices = `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
  if (value === undefined || value === null) {
    reader.error(path, `required value: use ${choices}`);
    return 'Deny';
  }
  const action =
    typeof value === 'string' && Object.hasOwn(schema.actions, value) ? schema.actions[value] : undefined;
  if (action) return action;
  reader.error(
    path,
    `unsupported value ${JSON.stringify(value)}: ${schema.kind} rule actions are ${choices}`,
  );
  return 'Deny';
}

/** The peer's type (for the named-port rule) and its meaning; domainNames have none phiwall can use. */
function readPeer(
  reader: ObjectReader,
  raw: unknown,
  path: readonly FieldKey[],
  direction: Direction,
  schema: Schema,
  action: ClusterAction,
): { type?: string; peer?: ClusterPeer } {
  const peer = mapping(reader, raw, path);
  if (!peer) return {};
  const types = direction === 'ingress' ? INGRESS_PEERS : schema.egressPeers;
  reader.onlyKnownFields(peer, path, types);
  const type = exactlyOne(reader, peer, path, types);
  const at = [...path, type ?? ''];
  switch (type) {
    case 'namespaces':
      return { type, peer: { kind: 'pods', namespaceSelector: readSelector(reader, peer.namespaces, at) } };
    case 'pods':
      return { type, peer: { kind: 'pods', ...readPods(reader, peer.pods, at, schema) } };
    case 'nodes':
      return { type, peer: { kind: 'nodes', nodeSelector: readSelector(reader, peer.nodes, at) } };
    case 'networks':
      return { type, peer: { kind: 'networks', cidrs: readNetworks(reader, peer.networks, at, schema) } };
    case 'domainNames': {
      readDomainNames(reader, peer.domainNames, at, schema);
      const onlyAccept =
        action === 'Allow'
          ? ''
          : ` (the API documents domainNames for ${schema.kind === 'ClusterNetworkPolicy' ? 'Accept' : 'Allow'} rules only)`;
      reader.warn(
        at,
        `phiwall cannot evaluate domain names: they resolve through DNS when traffic flows, not from manifests, so this peer matches no address here${onlyAccept}`,
      );
      return { type };
    }
    default:
      return {};
  }
}

function readNetworks(
  reader: ObjectReader,
  raw: unknown,
  path: readonly FieldKey[],
  schema: Schema,
): string[] {
  const list = boundedList(reader, raw, path, 1, MAX_NETWORKS, 'CIDR') ?? [];
  const seen = new Set<string>();
  return list.flatMap((value, i) => {
    const at = [...path, i];
    const text = reader.string(value, at);
    if (text === undefined) {
      if (value === null) reader.error(at, 'must be a CIDR, not null');
      return [];
    }
    if (seen.has(text)) {
      reader.error(at, `duplicate value "${text}": networks is a set`);
      return [];
    }
    seen.add(text);
    if (text.length > MAX_CIDR_LENGTH) {
      reader.error(at, `must be no more than ${MAX_CIDR_LENGTH} characters, not ${text.length}`);
      return [];
    }
    const cidr = parseCidr(text);
    if (!cidr) {
      reader.error(at, `"${text}" is not a valid CIDR (Invalid CIDR format provided)`);
      return [];
    }
    if (schema.strictCidrs !== 'accept' && parseAddress(text.slice(0, text.indexOf('/'))) !== cidr.lo) {
      const masked = toCidrs([[cidr.lo, cidr.hi]])[0];
      if (schema.strictCidrs === 'reject') {
        reader.error(at, `"${text}" has host bits set: write "${masked}" (Invalid CIDR format provided)`);
        return [];
      }
      reader.warn(
        at,
        `"${text}" has host bits set: read as "${masked}"; newer versions of the CRD reject it`,
      );
    }
    return [text];
  });
}

function readDomainNames(
  reader: ObjectReader,
  raw: unknown,
  path: readonly FieldKey[],
  schema: Schema,
): void {
  const list = boundedList(reader, raw, path, 1, MAX_DOMAIN_NAMES, 'domain name') ?? [];
  const seen = new Set<string>();
  list.forEach((value, i) => {
    const at = [...path, i];
    const text = reader.string(value, at);
    if (text === undefined) return;
    if (seen.has(text)) reader.error(at, `duplicate value "${text}": domainNames is a set`);
    seen.add(text);
    if (schema.domainPattern && !schema.domainPattern.test(text)) {
      reader.error(
        at,
        `"${text}" is not a valid domain name: use dot-separated labels, optionally starting with "*." (e.g. *.example.com)`,
      );
    }
  });
}

function readPortNumber(reader: ObjectReader, value: unknown, path: readonly FieldKey[]): number | undefined {
  if (value === undefined || value === null) {
    reader.error(path, 'required value: a port number between 1 and 65535');
    return undefined;
  }
  if (isPortNumber(value)) return value;
  reader.error(path, `${describe(value)} is not a valid port: must be between 1 and 65535`);
  return undefined;
}

/** A v1alpha1 `ports` item: exactly one of portNumber, portRange and namedPort. */
function readV1alpha1Port(
  reader: ObjectReader,
  raw: unknown,
  path: readonly FieldKey[],
): ClusterPort | undefined {
  const port = mapping(reader, raw, path);
  if (!port) return undefined;
  reader.onlyKnownFields(port, path, ['portNumber', 'portRange', 'namedPort']);
  const type = exactlyOne(reader, port, path, ['portNumber', 'portRange', 'namedPort']);
  if (type === 'namedPort') return readNamedPort(reader, port.namedPort, [...path, 'namedPort']);
  if (type === undefined) return undefined;
  const at = [...path, type];
  const fields = reader.fields(port[type], at);
  if (!fields) return undefined;
  const protocol = readProtocol(reader, fields.protocol, [...at, 'protocol']);
  if (type === 'portNumber') {
    reader.onlyKnownFields(fields, at, ['protocol', 'port']);
    const number = readPortNumber(reader, fields.port, [...at, 'port']);
    return number === undefined ? undefined : { kind: 'number', protocol, port: number };
  }
  reader.onlyKnownFields(fields, at, ['protocol', 'start', 'end']);
  const start = readPortNumber(reader, fields.start, [...at, 'start']);
  const end = readPortNumber(reader, fields.end, [...at, 'end']);
  if (start === undefined || end === undefined) return undefined;
  if (start > end) {
    reader.error(at, `start ${start} is greater than end ${end}: the range holds no port`);
    return undefined;
  }
  return { kind: 'number', protocol, port: start, endPort: end };
}

const PROTOCOL_KEYS: Readonly<Record<string, Protocol>> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };

/** A v1alpha2 `protocols` item: exactly one of tcp, udp, sctp and destinationNamedPort. */
function readProtocolItem(
  reader: ObjectReader,
  raw: unknown,
  path: readonly FieldKey[],
): ClusterPort | undefined {
  const item = mapping(reader, raw, path);
  if (!item) return undefined;
  const keys = ['tcp', 'udp', 'sctp', 'destinationNamedPort'];
  reader.onlyKnownFields(item, path, keys);
  const type = exactlyOne(reader, item, path, keys);
  if (type === 'destinationNamedPort') {
    return readNamedPort(reader, item.destinationNamedPort, [...path, 'destinationNamedPort']);
  }
  if (type === undefined) return undefined;
  const protocol = PROTOCOL_KEYS[type] as Protocol;
  const at = [...path, type];
  const fields = reader.fields(item[type], at);
  if (!fields) return undefined;
  reader.onlyKnownFields(fields, at, ['destinationPort']);
  if (fields.destinationPort === undefined || fields.destinationPort === null) {
    reader.error(
      at,
      `must specify destinationPort: a number or a range (for every ${protocol} port, range: {start: 1, end: 65535})`,
    );
    return undefined;
  }
  const portPath = [...at, 'destinationPort'];
  const destination = reader.fields(fields.destinationPort, portPath);
  if (!destination) return undefined;
  reader.onlyKnownFields(destination, portPath, ['number', 'range']);
  const form = exactlyOne(reader, destination, portPath, ['number', 'range']);
  if (form === 'number') {
    const number = readPortNumber(reader, destination.number, [...portPath, 'number']);
    return number === undefined ? undefined : { kind: 'number', protocol, port: number };
  }
  if (form !== 'range') return undefined;
  const rangePath = [...portPath, 'range'];
  const range = reader.fields(destination.range, rangePath);
  if (!range) return undefined;
  reader.onlyKnownFields(range, rangePath, ['start', 'end']);
  const start = readPortNumber(reader, range.start, [...rangePath, 'start']);
  const end = readPortNumber(reader, range.end, [...rangePath, 'end']);
  if (start === undefined || end === undefined) return undefined;
  if (start >= end) {
    reader.error(rangePath, `Start port must be less than End port (start ${start}, end ${end})`);
    return undefined;
  }
  return { kind: 'number', protocol, port: start, endPort: end };
}

function readNamedPort(
  reader: ObjectReader,
  value: unknown,
  path: readonly FieldKey[],
): ClusterPort | undefined {
  const name = reader.string(value, path);
  if (name === undefined) return undefined;
  const problem = portNameProblem(name);
  if (problem) {
    reader.warn(
      path,
      `named port "${name}" matches no container port, whose names are validated: ${problem}`,
    );
  }
  return { kind: 'named', name };
}

/** core/v1 Node: its labels, for `nodes` peers, and its InternalIP and ExternalIP addresses. */
export function readNode(reader: ObjectReader, object: Fields, name: string, labels: Labels): Node {
  const status = reader.fields(object.status, ['status']);
  const ips = new Set<string>();
  (reader.list(status?.addresses, ['status', 'addresses']) ?? []).forEach((raw, i) => {
    const path = ['status', 'addresses', i];
    const entry = reader.fields(raw, path);
    if (!entry || (entry.type !== 'InternalIP' && entry.type !== 'ExternalIP')) return;
    const address = entry.address;
    if (typeof address !== 'string' || parseAddress(address) === undefined) {
      reader.warn(
        [...path, 'address'],
        `${describe(address)} is not a valid IP address: left out of the node's ${entry.type} addresses`,
      );
      return;
    }
    ips.add(address);
  });
  return { name, labels, ips: [...ips], provenance: reader.provenance() };
}

export interface ReadClusterPolicy {
  policy: ClusterPolicy;
  reader: ObjectReader;
}

/**
 * Warnings about evaluation order the API leaves undefined: same-priority policies of one tier whose
 * subjects may overlap, and a BaselineAdminNetworkPolicy beside Baseline-tier ClusterNetworkPolicies.
 */
export function warnAboutClusterPolicyOrder(policies: readonly ReadClusterPolicy[]): void {
  const byPriority = new Map<string, ReadClusterPolicy[]>();
  for (const entry of policies) {
    const { policy, reader } = entry;
    if (policy.priority === undefined) continue;
    const key = `${policy.tier}/${policy.priority}`;
    const earlier = byPriority.get(key) ?? [];
    const overlapping = earlier.filter((other) => !scopesDisjoint(other.policy.subject, policy.subject));
    if (overlapping.length > 0) {
      const names = overlapping.map(describePolicy).join(', ');
      reader.warn(
        ['spec', 'priority'],
        `same ${policy.tier}-tier priority ${policy.priority} as ${names}, and their subjects may overlap: the API leaves the order of same-priority policies undefined; phiwall evaluates them in input order, this one after`,
      );
    }
    byPriority.set(key, [...earlier, entry]);
  }
  const banp = policies.find(({ policy }) => policy.kind === 'BaselineAdminNetworkPolicy');
  const baselineCnps = policies.filter(
    ({ policy }) => policy.kind === 'ClusterNetworkPolicy' && policy.tier === 'Baseline',
  );
  if (banp && baselineCnps.length > 0) {
    banp.reader.warn(
      ['metadata', 'name'],
      `BaselineAdminNetworkPolicy and Baseline-tier ClusterNetworkPolicies (${baselineCnps.map(describePolicy).join(', ')}) are both present: the API does not define their relative order; phiwall evaluates the ClusterNetworkPolicies first`,
    );
  }
}

function describePolicy({ policy }: ReadClusterPolicy): string {
  const { line } = policy.provenance.locate();
  return `${policy.kind} "${policy.name}" (${policy.provenance.file}:${line})`;
}

/** True only when no pod can be in both scopes: their namespace or pod selectors contradict each other. */
export function scopesDisjoint(a: PodScope, b: PodScope): boolean {
  if (selectorsDisjoint(a.namespaceSelector, b.namespaceSelector)) return true;
  return (
    a.podSelector !== undefined &&
    b.podSelector !== undefined &&
    selectorsDisjoint(a.podSelector, b.podSelector)
  );
}

/** What a set of selectors together requires of one label key. */
interface KeyRequirement {
  present: boolean;
  absent: boolean;
  /** Allowed values (matchLabels, In); undefined: any. */
  values?: Set<string>;
  excluded: Set<string>;
}

/** True when no label set matches both selectors: some key's combined requirements cannot be met. */
export function selectorsDisjoint(a: LabelSelector, b: LabelSelector): boolean {
  const keys = new Map<string, KeyRequirement>();
  const requirement = (key: string) => {
    let r = keys.get(key);
    if (!r) {
      r = { present: false, absent: false, excluded: new Set() };
      keys.set(key, r);
    }
    return r;
  };
  const allow = (r: KeyRequirement, values: readonly string[]) => {
    r.present = true;
    r.values = new Set(values.filter((v) => r.values === undefined || r.values.has(v)));
  };
  for (const selector of [a, b]) {
    for (const [key, value] of Object.entries(selector.matchLabels)) allow(requirement(key), [value]);
    for (const { key, operator, values } of selector.matchExpressions) {
      const r = requirement(key);
      if (operator === 'In') allow(r, values);
      else if (operator === 'Exists') r.present = true;
      else if (operator === 'DoesNotExist') r.absent = true;
      else for (const value of values) r.excluded.add(value);
    }
  }
  for (const r of keys.values()) {
    if (r.present && r.absent) return true;
    if (r.values && [...r.values].every((value) => r.excluded.has(value))) return true;
  }
  return false;
}
