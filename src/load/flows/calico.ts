import type { FlowEndpoint, ObservedVerdict } from '../../model/flows.ts';
import {
  type CalicoPart,
  endpoint,
  flowOf,
  ignored,
  isObject,
  type JsonObject,
  malformed,
  type RecordPlace,
  type RecordResult,
  readCount,
  readIp,
  readPort,
  readProtocol,
  readTime,
  shown,
  text,
} from './records.ts';

/**
 * Calico flow logs: the JSON records Felix writes (`/var/log/calico/flowlogs/flows.log`, the Elasticsearch
 * `tigera_secure_ee_flows*` index of Calico Enterprise and Cloud, with or without the `_source` envelope),
 * the flows of the open-source flow log API (Goldmane: `{"Key": {...}, "start_time": ...}`, alone or in a
 * FlowResult `{"id": ..., "flow": {...}}`, in snake_case or protojson camelCase), and the records of
 * Whisker's `/flows` API (flat, `protocol`, labels as one `a=b | c=d` string, ISO times).
 */

type EndpointType = 'wep' | 'hep' | 'ns' | 'net';

// Maps, not object literals: a field holding `constructor` must not find Object's.
const ENDPOINT_TYPES = new Map<string, EndpointType>([
  ['wep', 'wep'],
  ['hep', 'hep'],
  ['ns', 'ns'],
  ['net', 'net'],
  ['workloadendpoint', 'wep'],
  ['hostendpoint', 'hep'],
  ['networkset', 'ns'],
  ['network', 'net'],
  ['1', 'wep'],
  ['2', 'hep'],
  ['3', 'ns'],
  ['4', 'net'],
]);

const ACTIONS = new Map<string, ObservedVerdict>([
  ['allow', 'forwarded'],
  ['deny', 'dropped'],
  ['1', 'forwarded'],
  ['2', 'dropped'],
]);

const REPORTERS = new Map<string, 'src' | 'dst'>([
  ['src', 'src'],
  ['dst', 'dst'],
  ['1', 'src'],
  ['2', 'dst'],
]);

/** Names Calico puts where a network endpoint has no name: a private or a public address. */
const NETWORK_NAMES = new Set(['pvt', 'pub']);

/** Labels Calico adds to an endpoint that are not the pod's own labels. */
function calicoOwnLabel(key: string): boolean {
  return key.startsWith('projectcalico.org/') || key.startsWith('pcns.') || key.startsWith('pcsa.');
}

const CAMEL = new Map<string, string>();

/** `dest_port` → `destPort`, as protojson writes field names. */
function camelCase(name: string): string {
  let camel = CAMEL.get(name);
  if (camel === undefined) {
    camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    CAMEL.set(name, camel);
  }
  return camel;
}

/** A record's fields, looked up in snake_case or camelCase, in the Goldmane key first. */
class Fields {
  constructor(
    private readonly record: JsonObject,
    private readonly key: JsonObject | undefined,
  ) {}

  get(name: string): unknown {
    const camel = camelCase(name);
    for (const source of [this.key, this.record]) {
      if (source === undefined) continue;
      if (source[name] !== undefined) return source[name];
      if (source[camel] !== undefined) return source[camel];
    }
    return undefined;
  }
}

export function mapCalicoRecord(value: unknown, at: RecordPlace): RecordResult {
  if (!isObject(value)) return malformed(`not a JSON object: ${shown(value)}`);
  let record = value;
  if (isObject(record._source)) record = record._source;
  if (isObject(record.flow)) record = record.flow;
  const rawKey = record.Key ?? record.key;
  if (rawKey !== undefined && !isObject(rawKey)) return malformed(`Key: not an object: ${shown(rawKey)}`);
  const goldmane = rawKey !== undefined;
  const fields = new Fields(record, rawKey);

  const verdict = readAction(fields.get('action'));
  // Whisker's `/flows` API writes `protocol`; Felix, Elasticsearch and Goldmane `proto`.
  const protocol = readProtocol(fields.get('proto') ?? fields.get('protocol'), 'proto');
  if (typeof protocol !== 'string') return ignored(protocol.ignored);
  const rawPort = fields.get('dest_port');
  if (rawPort === undefined) return malformed('missing dest_port');
  // Aggregation above the port level leaves it null (Felix) or 0 (the Elasticsearch index).
  if (rawPort === null || rawPort === 0 || rawPort === '0') return ignored(NO_PORT);
  const port = readPort(rawPort, 'dest_port');

  const srcType = readType(fields.get('source_type'), 'source_type');
  const dstType = readType(fields.get('dest_type'), 'dest_type');
  const src = readEnd(fields, 'source', srcType, goldmane);
  const dst = readEnd(fields, 'dest', dstType, goldmane);
  const time = readTime(fields.get('start_time'), 'start_time');
  const until = readTime(fields.get('end_time'), 'end_time');

  const reporter = readReporter(fields.get('reporter'));
  const part: CalicoPart = {
    format: 'calico',
    key: `${protocol} ${port} ${endKey(src)} ${endKey(dst)}`,
  };
  if (reporter !== undefined) part.reporter = reporter;
  const result = flowOf({ time, src, dst, protocol, port, verdict, count: readFlowCount(fields) }, at, part);
  if (result.kind === 'flow' && until !== undefined && until !== time) result.flow.until = until;
  return result;
}

export const NO_PORT = 'no destination port (aggregated away)';

/** What names an end in both reporters' records. */
function endKey(end: FlowEndpoint): string {
  return `${end.namespace ?? ''}/${end.workload ?? ''}/${end.pod ?? ''}/${end.ip ?? ''}`;
}

/** An enum field, by name (any case) or number. */
function enumValue<T>(values: ReadonlyMap<string, T>, value: unknown): T | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  return values.get(String(value).toLowerCase());
}

function readAction(value: unknown): ObservedVerdict {
  if (value === undefined || value === null || value === '') return malformed('missing action');
  const verdict = enumValue(ACTIONS, value);
  return verdict ?? malformed(`action: expected allow or deny, not ${shown(value)}`);
}

function readReporter(value: unknown): 'src' | 'dst' | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const reporter = enumValue(REPORTERS, value);
  return reporter ?? malformed(`reporter: expected src or dst, not ${shown(value)}`);
}

function readType(value: unknown, field: string): EndpointType | undefined {
  if (value === undefined || value === null || value === '' || value === '-') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') {
    return malformed(`${field}: not an endpoint type: ${shown(value)}`);
  }
  return enumValue(ENDPOINT_TYPES, value);
}

/** num_flows (Felix) or num_connections_started (Goldmane); a record stands for at least one flow. */
function readFlowCount(fields: Fields): number {
  const numFlows = fields.get('num_flows');
  if (numFlows !== undefined) return readCount(numFlows, 'num_flows');
  const started = fields.get('num_flows_started');
  if (started !== undefined) return readCount(started, 'num_flows_started');
  return readCount(fields.get('num_connections_started'), 'num_connections_started');
}

/**
 * One end. A workload endpoint (`wep`) is a pod: Felix names the pod in `*_name` (`-` once aggregated) and
 * its ReplicaSet prefix in `*_name_aggr` (`frontend-7d9f8c-*`); Goldmane gives only the prefix, in `*_name`.
 * Host endpoints, network sets and networks (`pvt`/`pub`) are not pods: only their IP is kept.
 */
function readEnd(
  fields: Fields,
  side: 'source' | 'dest',
  type: EndpointType | undefined,
  goldmane: boolean,
): FlowEndpoint {
  const ip = readIp(fields.get(`${side}_ip`), `${side}_ip`);
  const namespace = text(fields.get(`${side}_namespace`), `${side}_namespace`);
  const name = text(fields.get(`${side}_name`), `${side}_name`);
  const aggregate = text(fields.get(`${side}_name_aggr`), `${side}_name_aggr`);
  const labels = readLabels(fields.get(`${side}_labels`), `${side}_labels`);
  if (type !== undefined && type !== 'wep') return endpoint({ ip });
  if (goldmane) return endpoint({ ip, namespace, workload: name, labels });
  const pod = name !== undefined && !name.endsWith('*') && !NETWORK_NAMES.has(name) ? name : undefined;
  const workload =
    aggregate !== undefined && !NETWORK_NAMES.has(aggregate)
      ? aggregate
      : name?.endsWith('*') === true
        ? name
        : undefined;
  return endpoint({ ip, namespace, pod, workload, labels });
}

/** `{"labels": ["app=web", ...]}` (Felix), `["app=web", ...]` (Goldmane), or a `key=value` map. */
function readLabels(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  let list: unknown = value;
  if (isObject(value) && 'labels' in value) list = value.labels;
  if (list === null || list === undefined) return undefined;
  const labels: Record<string, string> = {};
  const add = (key: string, val: string) => {
    if (key !== '' && key !== '__proto__' && !calicoOwnLabel(key)) labels[key] = val;
  };
  // Whisker joins them into one string: `app=web | team=storefront`.
  if (typeof list === 'string')
    list = list === '' || list === '-' ? [] : list.split(list.includes('|') ? '|' : ',');
  if (Array.isArray(list)) {
    for (const label of list) {
      if (typeof label !== 'string') return malformed(`${field}: not a string: ${shown(label)}`);
      const eq = label.indexOf('=');
      add((eq < 0 ? label : label.slice(0, eq)).trim(), eq < 0 ? '' : label.slice(eq + 1).trim());
    }
    return labels;
  }
  if (isObject(list)) {
    for (const [key, val] of Object.entries(list)) {
      if (typeof val !== 'string') return malformed(`${field}.${key}: not a string: ${shown(val)}`);
      add(key, val);
    }
    return labels;
  }
  return malformed(`${field}: not a list of labels: ${shown(value)}`);
}
