import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { FlowEndpoint, ObservedFlow } from '../../model/flows.ts';
import type { Protocol } from '../../model/types.ts';

/**
 * What a reader makes of one record: a flow, a valid record phiwall does not compare, or a broken one.
 * A flow with a `part` is one report of a connection that other records may report too: the reader
 * merges them (hubble-connections.ts, calico-reporters.ts) before passing the connection on. An ignored
 * result may stand for several records (a connection's events).
 */
export type RecordResult =
  | { kind: 'flow'; flow: ObservedFlow; part?: ConnectionPart }
  /** `answer`: a DNS answer (Hubble's L7 DNS records): the name of the addresses, for the flows after it. */
  | { kind: 'ignored'; reason: string; records?: number; answer?: DnsAnswer }
  | { kind: 'malformed'; problem: string };

/** A DNS name and the addresses an answer gave for it. */
export interface DnsAnswer {
  name: string;
  ips: readonly string[];
}

/** How far a Hubble event shows the connection got. */
export type HubbleStage = 'delivered' | 'transit' | 'dropped';

/** What a Hubble event says about its connection. */
export interface HubblePart {
  format: 'hubble';
  /** `protocol src-ip src-port dst-ip dst-port`; none when an address or a source port is missing. */
  tuple?: string;
  /** The tuple the other way round: a reply's, when the event does not say whether it is one. */
  reverse?: string;
  /** The event has neither `is_reply` nor `reply`: it may be a reply of an open connection. */
  replyUnknown: boolean;
  /** TCP flags: SYN without ACK opens a connection; FIN or RST closes it. */
  syn: boolean;
  fin: boolean;
  stage: HubbleStage;
  /** The destination is a pod, whose own node decides (after its ingress policy) whether it arrives. */
  dstIsPod: boolean;
  /** Milliseconds since the epoch, when the event has a time. */
  ms?: number;
}

/** What a Calico record says about the connections it aggregates. */
export interface CalicoPart {
  format: 'calico';
  /** The aggregation interval, ends, protocol and port: the same for the source's and the destination's report. */
  key: string;
  reporter?: 'src' | 'dst';
}

export type ConnectionPart = HubblePart | CalicoPart;

/** Where a record is, stamped on the flow it yields. */
export interface RecordPlace {
  file: string;
  line: number;
}

/** Thrown inside a mapper to reject the record as malformed; caught by the reader, never escapes it. */
export class MalformedRecord extends Error {}

export function malformed(problem: string): never {
  throw new MalformedRecord(problem);
}

export const ignored = (reason: string, records?: number): RecordResult =>
  records === undefined ? { kind: 'ignored', reason } : { kind: 'ignored', reason, records };

/** Reasons shared by the readers, so that the CLI can sum them across formats. */
export const IGNORED = {
  icmp: 'ICMP',
  noPort: 'no L4 port',
  srcUnknown: 'source has neither an IP nor a pod',
  dstUnknown: 'destination has neither an IP nor a pod',
} as const;

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A quoted rendering of a value for messages, cut short. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** An IP in the form the snapshot keeps pods' IPs: IPv4 dotted, IPv6 compressed, IPv4-mapped IPv6 as IPv4. */
export function readIp(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '' || value === '-') return undefined;
  if (typeof value !== 'string' || isIP(value) === 0)
    malformed(`${field}: not an IP address: ${shown(value)}`);
  if (isIP(value) === 4) return value;
  try {
    return ipaddr.process(value).toString();
  } catch {
    return value;
  }
}

/** A port: an integer 1-65535, as a number or (protojson int64, CSV) a string of digits. */
export function readPort(value: unknown, field: string): number {
  const port = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    malformed(`${field}: not a port (1-65535): ${shown(value)}`);
  }
  return port;
}

/** A count of flows: a positive integer; absent, zero or null means one. */
export function readCount(value: unknown, field: string): number {
  if (value === undefined || value === null || value === '') return 1;
  const count = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    malformed(`${field}: not a count: ${shown(value)}`);
  }
  return Math.max(1, count);
}

/**
 * A protocol by name or IANA number. TCP, UDP and SCTP are compared; ICMP is a valid record phiwall does not
 * compare (policies cannot select it); other IP protocols are ignored by name; anything else is malformed.
 */
export function readProtocol(value: unknown, field: string): Protocol | { ignored: string } {
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined || text === '') return malformed(`${field}: missing protocol`);
  switch (text.toLowerCase()) {
    case 'tcp':
    case '6':
      return 'TCP';
    case 'udp':
    case '17':
      return 'UDP';
    case 'sctp':
    case '132':
      return 'SCTP';
    case 'icmp':
    case 'icmpv4':
    case 'icmp6':
    case 'icmpv6':
    case 'ipv6-icmp':
    case '1':
    case '58':
      return { ignored: IGNORED.icmp };
  }
  if (/^\d+$/.test(text) && Number(text) <= 255) return { ignored: `IP protocol ${text}` };
  if (/^[a-z][a-z0-9-]{0,15}$/i.test(text)) return { ignored: `protocol ${text.toLowerCase()}` };
  return malformed(`${field}: not a protocol: ${shown(value)}`);
}

/** RFC 3339 in UTC, the form Hubble writes: normalised without going through Date, which is slow. */
const UTC_TIME =
  /^(\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)(?:\.(\d+))?Z$/;

/**
 * A time as ISO 8601 in UTC with milliseconds (`2024-05-10T09:12:33.101Z`), so that times from any log
 * compare as strings: from UNIX seconds or milliseconds (a number or digits), or an ISO 8601 date-time
 * (UTC when it has no zone).
 */
export function isoTime(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return unixSeconds(value);
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  const utc = UTC_TIME.exec(text);
  if (utc !== null) return `${utc[1]}.${(utc[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  if (/^\d+(\.\d+)?$/.test(text)) return unixSeconds(Number(text));
  // A date-time without a zone is UTC (Date.parse would take it as local time, which depends on the machine).
  const zoneless = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)$/.exec(text);
  const ms = Date.parse(zoneless === null ? text : `${zoneless[1]}T${zoneless[2]}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** UNIX time in seconds, or in milliseconds when it is that large (1e11 seconds is the year 5138). */
function unixSeconds(seconds: number): string | undefined {
  const date = new Date(seconds >= 1e11 ? seconds : seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** A string field, with the placeholders logs use for "unknown" (`-`, empty) read as absent. */
export function text(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') malformed(`${field}: expected a string, not ${shown(value)}`);
  const trimmed = value.trim();
  return trimmed === '' || trimmed === '-' ? undefined : trimmed;
}

/** An endpoint without its absent fields, so that flows compare and print cleanly. */
export function endpoint(fields: FlowEndpoint): FlowEndpoint {
  const out: FlowEndpoint = {};
  if (fields.ip !== undefined) out.ip = fields.ip;
  if (fields.namespace !== undefined) out.namespace = fields.namespace;
  if (fields.pod !== undefined) out.pod = fields.pod;
  if (fields.workload !== undefined) out.workload = fields.workload;
  if (fields.labels !== undefined && Object.keys(fields.labels).length > 0) out.labels = fields.labels;
  if (fields.names !== undefined && fields.names.length > 0) out.names = fields.names;
  if (fields.identity !== undefined) out.identity = fields.identity;
  return out;
}

/** Whether phiwall can place an end: by IP, or by a pod or workload in a namespace. */
export function placeable(end: FlowEndpoint): boolean {
  return end.ip !== undefined || (end.namespace !== undefined && (end.pod ?? end.workload) !== undefined);
}

/** Builds the flow (from one record: `events` 1), or says why an end cannot be placed. */
export function flowOf(
  fields: Omit<ObservedFlow, 'file' | 'line' | 'time' | 'events' | 'dropReason'> & {
    time?: string | undefined;
    dropReason?: string | undefined;
  },
  at: RecordPlace,
  part?: ConnectionPart,
): RecordResult {
  if (!placeable(fields.src)) return ignored(IGNORED.srcUnknown);
  if (!placeable(fields.dst)) return ignored(IGNORED.dstUnknown);
  // Built without a spread: V8 takes a slow path for `{...x, y}`, microseconds a record.
  const flow: ObservedFlow =
    fields.time === undefined
      ? {
          src: fields.src,
          dst: fields.dst,
          protocol: fields.protocol,
          port: fields.port,
          verdict: fields.verdict,
          count: fields.count,
          events: 1,
          file: at.file,
          line: at.line,
        }
      : {
          time: fields.time,
          src: fields.src,
          dst: fields.dst,
          protocol: fields.protocol,
          port: fields.port,
          verdict: fields.verdict,
          count: fields.count,
          events: 1,
          file: at.file,
          line: at.line,
        };
  if (fields.dropReason !== undefined) flow.dropReason = fields.dropReason;
  return part === undefined ? { kind: 'flow', flow } : { kind: 'flow', flow, part };
}

/** An ISO 8601 time as milliseconds since the epoch. */
export function millisOf(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A record's time: absent is fine, present but unreadable makes the record malformed. */
export function readTime(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return isoTime(value) ?? malformed(`${field}: not a time: ${shown(value)}`);
}

/** Runs a mapper, turning a MalformedRecord into a result; any other error is a bug and propagates. */
export function guarded(map: () => RecordResult): RecordResult {
  try {
    return map();
  } catch (error) {
    if (error instanceof MalformedRecord) return { kind: 'malformed', problem: error.message };
    throw error;
  }
}
