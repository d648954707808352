import { parseAddress, parseCidr } from '../../engine/addresses.ts';
import type { CalicoAction, CalicoPort, CalicoProtocol, CalicoRule, EntityRule } from '../../model/calico.ts';
import type { CalicoSelector } from '../../model/calico-selector.ts';
import type { Direction } from '../../model/types.ts';
import type { FieldKey } from '../documents.ts';
import { portNameProblem } from '../names.ts';
import { describe, type ObjectReader } from '../object-reader.ts';
import { parseCalicoSelector, SelectorSyntaxError } from './selector-parser.ts';

const ACTIONS: readonly CalicoAction[] = ['Allow', 'Deny', 'Log', 'Pass'];
const PROTOCOL_NAMES: readonly string[] = ['TCP', 'UDP', 'SCTP', 'ICMP', 'ICMPv6', 'UDPLite'];
/** IANA numbers Calico accepts by name too: a rule may say `protocol: 6`. */
const PROTOCOL_BY_NUMBER: Readonly<Record<number, CalicoProtocol>> = {
  1: 'ICMP',
  6: 'TCP',
  17: 'UDP',
  58: 'ICMPv6',
  132: 'SCTP',
  136: 'UDPLite',
};
/** Protocols with ports (Calico's validator: ports need one of these). */
const PORT_PROTOCOLS: readonly CalicoProtocol[] = ['TCP', 'UDP', 'SCTP', 'UDPLite'];
const RULE_FIELDS = [
  'action',
  'protocol',
  'notProtocol',
  'icmp',
  'notICMP',
  'ipVersion',
  'source',
  'destination',
  'metadata',
  'http',
];
const ENTITY_FIELDS = [
  'nets',
  'notNets',
  'selector',
  'notSelector',
  'namespaceSelector',
  'serviceAccounts',
  'services',
  'ports',
  'notPorts',
];

/** A selector field, parsed, with a syntax error positioned at the character where it is. */
export function readCalicoSelector(
  reader: ObjectReader,
  value: unknown,
  path: readonly FieldKey[],
): CalicoSelector | undefined {
  const text = reader.string(value, path);
  if (text === undefined) return undefined;
  try {
    return parseCalicoSelector(text);
  } catch (error) {
    if (!(error instanceof SelectorSyntaxError)) throw error;
    reader.error(
      path,
      `invalid selector ${JSON.stringify(text)}: ${error.message} (at character ${error.offset + 1})`,
    );
    return undefined;
  }
}

/** One rule of a Calico policy or profile, validated as Calico's API validation does. */
export function readCalicoRule(
  reader: ObjectReader,
  raw: unknown,
  path: readonly FieldKey[],
  direction: Direction,
  index: number,
): CalicoRule | undefined {
  const fields = reader.fields(raw, path);
  if (!fields) {
    if (raw === null || raw === undefined) reader.error(path, 'must be a rule, not null');
    return undefined;
  }
  reader.onlyKnownFields(fields, path, RULE_FIELDS);
  const action = fields.action;
  if (!ACTIONS.includes(action as CalicoAction)) {
    reader.error(
      [...path, 'action'],
      action === undefined
        ? `required value: one of ${ACTIONS.join(', ')}`
        : `unsupported action ${JSON.stringify(action)}: use ${ACTIONS.join(', ')}`,
    );
  }
  if (fields.http !== undefined) {
    reader.warn(
      [...path, 'http'],
      'HTTP match criteria need an application layer policy (Istio) and are not analysed: the rule is read without them',
    );
  }
  const protocol = readProtocol(reader, fields.protocol, [...path, 'protocol']);
  const notProtocol = readProtocol(reader, fields.notProtocol, [...path, 'notProtocol']);
  const icmp = reader.fields(fields.icmp, [...path, 'icmp']);
  const notICMP = reader.fields(fields.notICMP, [...path, 'notICMP']);
  for (const [key, value] of [
    ['icmp', icmp],
    ['notICMP', notICMP],
  ] as const) {
    if (value && protocol !== 'ICMP' && protocol !== 'ICMPv6') {
      reader.error([...path, key], `${key} is only valid with protocol ICMP or ICMPv6`);
    }
    if (value?.code !== undefined) {
      reader.warn([...path, key, 'code'], 'ICMP codes are not modelled: read as the whole ICMP type');
    }
  }
  let ipVersion: 4 | 6 | undefined;
  if (fields.ipVersion !== undefined) {
    if (fields.ipVersion === 4 || fields.ipVersion === 6) ipVersion = fields.ipVersion;
    else reader.error([...path, 'ipVersion'], `must be 4 or 6, not ${describe(fields.ipVersion)}`);
  }
  if (protocol === 'ICMP' && ipVersion === 6)
    reader.error([...path, 'protocol'], 'ICMP is IPv4: use ICMPv6 with ipVersion 6');
  if (protocol === 'ICMPv6' && ipVersion === 4)
    reader.error([...path, 'protocol'], 'ICMPv6 is IPv6: use ICMP with ipVersion 4');
  const source = readEntity(reader, fields.source, [...path, 'source'], protocol, ipVersion);
  const destination = readEntity(reader, fields.destination, [...path, 'destination'], protocol, ipVersion);
  checkServices(reader, path, direction, source, destination);
  if (source.ports || source.notPorts) {
    reader.warn(
      [...path, 'source', source.ports ? 'ports' : 'notPorts'],
      "source ports are a connection's ephemeral port, which phiwall does not know: this rule is taken to match no connection",
    );
  }
  if (!ACTIONS.includes(action as CalicoAction)) return undefined;
  return {
    direction,
    index,
    action: action as CalicoAction,
    ...(protocol !== undefined && { protocol }),
    ...(notProtocol !== undefined && { notProtocol }),
    ...(icmp && { icmp }),
    ...(notICMP && { notICMP }),
    ...(ipVersion !== undefined && { ipVersion }),
    source,
    destination,
    provenance: reader.provenance(path),
  };
}

function readProtocol(
  reader: ObjectReader,
  value: unknown,
  path: readonly FieldKey[],
): CalicoProtocol | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && PROTOCOL_NAMES.includes(value)) return value as CalicoProtocol;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 255) {
    return PROTOCOL_BY_NUMBER[value] ?? value;
  }
  reader.error(
    path,
    `unsupported protocol ${JSON.stringify(value)}: use ${PROTOCOL_NAMES.join(', ')} or a number from 1 to 255`,
  );
  return undefined;
}

function readEntity(
  reader: ObjectReader,
  raw: unknown,
  path: readonly FieldKey[],
  protocol: CalicoProtocol | undefined,
  ipVersion: 4 | 6 | undefined,
): EntityRule {
  const fields = reader.fields(raw, path);
  if (!fields) return {};
  reader.onlyKnownFields(fields, path, ENTITY_FIELDS);
  const entity: {
    -readonly [K in keyof EntityRule]: EntityRule[K];
  } = {};
  for (const key of ['nets', 'notNets'] as const) {
    const nets = readNets(reader, fields[key], [...path, key], ipVersion);
    if (nets) entity[key] = nets;
  }
  for (const key of ['selector', 'notSelector', 'namespaceSelector'] as const) {
    const selector = readCalicoSelector(reader, fields[key], [...path, key]);
    if (selector) entity[key] = selector;
  }
  const accounts = reader.fields(fields.serviceAccounts, [...path, 'serviceAccounts']);
  if (accounts) {
    const at = [...path, 'serviceAccounts'];
    reader.onlyKnownFields(accounts, at, ['names', 'selector']);
    const names = (reader.list(accounts.names, [...at, 'names']) ?? []).flatMap((name, i) => {
      const text = reader.string(name, [...at, 'names', i]);
      return text === undefined ? [] : [text];
    });
    const selector = readCalicoSelector(reader, accounts.selector, [...at, 'selector']);
    entity.serviceAccounts = { names, ...(selector && { selector }) };
  }
  const services = reader.fields(fields.services, [...path, 'services']);
  if (services) {
    const at = [...path, 'services'];
    reader.onlyKnownFields(services, at, ['name', 'namespace']);
    const name = reader.string(services.name, [...at, 'name']);
    const namespace = reader.string(services.namespace, [...at, 'namespace']);
    if (!name) reader.error([...at, 'name'], 'required value: the Service name');
    else entity.services = { name, ...(namespace && { namespace }) };
  }
  for (const key of ['ports', 'notPorts'] as const) {
    const ports = readPorts(reader, fields[key], [...path, key]);
    if (!ports) continue;
    if (protocol === undefined || !PORT_PROTOCOLS.includes(protocol)) {
      reader.error([...path, key], `${key} are only valid with protocol TCP, UDP, SCTP or UDPLite`);
    }
    entity[key] = ports;
  }
  return entity;
}

/** `nets`/`notNets`: CIDRs or bare addresses, of the rule's ipVersion when it has one. */
export function readNets(
  reader: ObjectReader,
  value: unknown,
  path: readonly FieldKey[],
  ipVersion: 4 | 6 | undefined,
): string[] | undefined {
  const list = reader.list(value, path);
  if (!list) return undefined;
  return list.flatMap((raw, i) => {
    const text = reader.string(raw, [...path, i]);
    if (text === undefined) return [];
    // Calico accepts a bare address as a single-address network.
    const cidr = text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`;
    const parsed = parseCidr(cidr);
    if (!parsed || parseAddress(text.split('/')[0] as string) === undefined) {
      reader.error([...path, i], `invalid CIDR ${JSON.stringify(text)}`);
      return [];
    }
    if (ipVersion !== undefined && parsed.family !== ipVersion) {
      reader.error(
        [...path, i],
        `${text} is not an IPv${ipVersion} network, but the rule says ipVersion ${ipVersion}`,
      );
      return [];
    }
    return [cidr];
  });
}

function readPorts(
  reader: ObjectReader,
  value: unknown,
  path: readonly FieldKey[],
): CalicoPort[] | undefined {
  const list = reader.list(value, path);
  if (!list) return undefined;
  return list.flatMap((raw, i): CalicoPort[] => {
    const at = [...path, i];
    if (typeof raw === 'number') {
      if (Number.isInteger(raw) && raw >= 0 && raw <= 65535) return [{ kind: 'range', from: raw, to: raw }];
      reader.error(at, `port ${raw} is not between 0 and 65535`);
      return [];
    }
    if (typeof raw !== 'string') {
      reader.error(at, `must be a port number, a "from:to" range or a port name, not ${describe(raw)}`);
      return [];
    }
    const range = /^(\d+):(\d+)$/.exec(raw);
    if (range) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      if (from > 65535 || to > 65535 || from > to) {
        reader.error(at, `invalid port range "${raw}": both ends between 0 and 65535, the first no larger`);
        return [];
      }
      return [{ kind: 'range', from, to }];
    }
    if (/^\d+$/.test(raw)) return readPorts(reader, [Number(raw)], path) ?? [];
    const problem = portNameProblem(raw);
    if (problem) {
      reader.error(at, `invalid port "${raw}": not a number, a range or a valid port name (${problem})`);
      return [];
    }
    return [{ kind: 'named', name: raw }];
  });
}

/** Calico's validator: a `services` match stands alone in egress destinations, beside ports in ingress sources. */
function checkServices(
  reader: ObjectReader,
  path: readonly FieldKey[],
  direction: Direction,
  source: EntityRule,
  destination: EntityRule,
): void {
  const [side, entity, allowed] =
    direction === 'egress'
      ? (['destination', destination, ['services']] as const)
      : (['source', source, ['services', 'ports', 'notPorts']] as const);
  if (!entity.services) return;
  const others = Object.keys(entity).filter((key) => !(allowed as readonly string[]).includes(key));
  if (others.length > 0) {
    reader.error(
      [...path, side, 'services'],
      `cannot be combined with ${others.join(', ')} in an ${direction} rule's ${side}`,
    );
  }
  const otherSide = direction === 'egress' ? source : destination;
  if (otherSide.services)
    reader.error(
      [...path, direction === 'egress' ? 'source' : 'destination', 'services'],
      `services is only valid in an ${direction} rule's ${side}`,
    );
}
