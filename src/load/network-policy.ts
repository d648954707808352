import { parseCidr } from '../engine/addresses.ts';
import { MATCH_ALL } from '../engine/selectors.ts';
import type {
  Direction,
  IpBlock,
  NetworkPolicy,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
} from '../model/types.ts';
import type { FieldKey } from './documents.ts';
import { portNameProblem } from './names.ts';
import { describe, type Fields, type ObjectReader } from './object-reader.ts';
import { isPortNumber, readProtocol, readSelector } from './read-fields.ts';

const PEER_FIELD = { ingress: 'from', egress: 'to' } as const;

/** Validates a networking.k8s.io/v1 NetworkPolicy as the API server would, and returns its meaning. */
export function readNetworkPolicy(
  reader: ObjectReader,
  object: Fields,
  namespace: string,
  name: string,
): NetworkPolicy {
  const spec = reader.fields(object.spec, ['spec']) ?? {};
  reader.onlyKnownFields(spec, ['spec'], ['podSelector', 'policyTypes', 'ingress', 'egress']);
  const podSelector =
    spec.podSelector === undefined
      ? MATCH_ALL
      : readSelector(reader, spec.podSelector, ['spec', 'podSelector']);
  const ingress = readRules(reader, spec.ingress, 'ingress');
  const egress = readRules(reader, spec.egress, 'egress');
  return {
    namespace,
    name,
    podSelector,
    isolates: readPolicyTypes(reader, spec.policyTypes, egress.length > 0),
    ingress,
    egress,
    provenance: reader.provenance(),
  };
}

/** Omitted (or empty) policyTypes mean Ingress, plus Egress when the policy has egress rules. */
function readPolicyTypes(
  reader: ObjectReader,
  value: unknown,
  hasEgressRules: boolean,
): NetworkPolicy['isolates'] {
  const types = reader.list(value, ['spec', 'policyTypes']);
  // The API server defaults on `len(policyTypes) == 0`, so `policyTypes: []` still isolates ingress.
  if (types === undefined || types.length === 0) return { ingress: true, egress: hasEgressRules };
  // The API server accepts repeats (`[Ingress, Ingress]`) but no more than two entries.
  if (types.length > 2) reader.error(['spec', 'policyTypes'], 'may not specify more than two policyTypes');
  const seen = new Set<string>();
  types.forEach((type, i) => {
    if (type !== 'Ingress' && type !== 'Egress') {
      reader.error(
        ['spec', 'policyTypes', i],
        `unsupported value ${JSON.stringify(type)}: use Ingress or Egress`,
      );
    }
    seen.add(String(type));
  });
  return { ingress: seen.has('Ingress'), egress: seen.has('Egress') };
}

function readRules(reader: ObjectReader, value: unknown, direction: Direction): PolicyRule[] {
  const rules = reader.list(value, ['spec', direction]) ?? [];
  const peerField = PEER_FIELD[direction];
  return rules.flatMap((raw, index) => {
    const path = ['spec', direction, index];
    // `- {}` and a bare `-` both mean a rule with no restriction.
    const rule = raw === null ? {} : reader.fields(raw, path);
    if (!rule) return [];
    reader.onlyKnownFields(rule, path, [peerField, 'ports']);
    const peerList = reader.list(rule[peerField], [...path, peerField]);
    const portList = reader.list(rule.ports, [...path, 'ports']);
    // An empty list means the same as an absent one: every peer, or every port.
    const peers = peerList?.length
      ? peerList.flatMap((p, i) => readPeer(reader, p, [...path, peerField, i]))
      : undefined;
    const ports = portList?.length
      ? portList.flatMap((p, i) => readPort(reader, p, [...path, 'ports', i]))
      : undefined;
    if (direction === 'egress' && peers?.some((peer) => peer.kind === 'ipBlock')) {
      // Named ports resolve on the destination pod; an external address has none, so the API accepts
      // this but it can never match there.
      ports?.forEach((port, i) => {
        if (typeof port.port === 'string') {
          reader.warn(
            [...path, 'ports', i, 'port'],
            `named port "${port.port}" matches no external address of this rule's ipBlocks (only pods they cover define names)`,
          );
        }
      });
    }
    return [{ direction, index, peers, ports, provenance: reader.provenance(path) }];
  });
}

function readPeer(reader: ObjectReader, raw: unknown, path: FieldKey[]): PolicyPeer[] {
  const peer = reader.fields(raw, path);
  if (!peer) {
    if (raw === null || raw === undefined)
      reader.error(path, 'must specify a peer: ipBlock, podSelector or namespaceSelector');
    return [];
  }
  reader.onlyKnownFields(peer, path, ['podSelector', 'namespaceSelector', 'ipBlock']);
  const has = (key: string) => peer[key] !== undefined && peer[key] !== null;
  if (!has('ipBlock') && !has('podSelector') && !has('namespaceSelector')) {
    reader.error(path, 'must specify a peer: ipBlock, podSelector or namespaceSelector');
    return [];
  }
  if (has('ipBlock')) {
    if (has('podSelector') || has('namespaceSelector')) {
      reader.error(path, 'may not specify more than 1 peer type: ipBlock cannot be combined with a selector');
      return [];
    }
    const ipBlock = readIpBlock(reader, peer.ipBlock, [...path, 'ipBlock']);
    return ipBlock ? [{ kind: 'ipBlock', ipBlock }] : [];
  }
  return [
    {
      kind: 'pods',
      podSelector: has('podSelector')
        ? readSelector(reader, peer.podSelector, [...path, 'podSelector'])
        : undefined,
      namespaceSelector: has('namespaceSelector')
        ? readSelector(reader, peer.namespaceSelector, [...path, 'namespaceSelector'])
        : undefined,
    },
  ];
}

function readIpBlock(reader: ObjectReader, raw: unknown, path: FieldKey[]): IpBlock | undefined {
  const block = reader.fields(raw, path);
  if (!block) return undefined;
  reader.onlyKnownFields(block, path, ['cidr', 'except']);
  const cidrText = reader.string(block.cidr, [...path, 'cidr']);
  if (cidrText === undefined) {
    reader.error([...path, 'cidr'], 'required value');
    return undefined;
  }
  const cidr = parseCidr(cidrText);
  if (!cidr) reader.error([...path, 'cidr'], `"${cidrText}" is not a valid CIDR`);
  const except = (reader.list(block.except, [...path, 'except']) ?? []).flatMap((rawExcept, i) => {
    const at = [...path, 'except', i];
    const text = reader.string(rawExcept, at);
    if (text === undefined) return [];
    const inner = parseCidr(text);
    if (!inner) reader.error(at, `"${text}" is not a valid CIDR`);
    else if (
      cidr &&
      (inner.family !== cidr.family ||
        inner.prefix <= cidr.prefix ||
        inner.lo < cidr.lo ||
        inner.hi > cidr.hi)
    ) {
      reader.error(at, `"${text}" must be a strict subset of cidr "${cidrText}"`);
    }
    return [text];
  });
  return cidr ? { cidr: cidrText, except } : undefined;
}

function readPort(reader: ObjectReader, raw: unknown, path: FieldKey[]): PolicyPort[] {
  const fields = reader.fields(raw, path);
  if (!fields) return [];
  reader.onlyKnownFields(fields, path, ['protocol', 'port', 'endPort']);
  const protocol = readProtocol(reader, fields.protocol, [...path, 'protocol']);
  const { port, endPort } = fields;
  if (port !== undefined && port !== null) {
    if (typeof port === 'string') {
      const problem = portNameProblem(port);
      if (problem) reader.error([...path, 'port'], `invalid named port "${port}": ${problem}`);
    } else if (!isPortNumber(port)) {
      reader.error([...path, 'port'], `${describe(port)} is not a valid port: must be between 1 and 65535`);
    }
  }
  if (endPort !== undefined && endPort !== null) {
    if (!isPortNumber(endPort)) {
      reader.error(
        [...path, 'endPort'],
        `${describe(endPort)} is not a valid port: must be between 1 and 65535`,
      );
    } else if (typeof port === 'string') {
      reader.error([...path, 'endPort'], 'may not be specified when port is a named port');
    } else if (port === undefined || port === null) {
      reader.error([...path, 'endPort'], 'may not be specified when port is not');
    } else if (typeof port === 'number' && endPort < port) {
      reader.error([...path, 'endPort'], `${endPort} must be greater than or equal to port ${port}`);
    }
  }
  return [
    {
      protocol,
      port: typeof port === 'number' || typeof port === 'string' ? port : undefined,
      endPort: typeof endPort === 'number' ? endPort : undefined,
    },
  ];
}
