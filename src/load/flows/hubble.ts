import type { FlowEndpoint, ObservedVerdict } from '../../model/flows.ts';
import type { Protocol } from '../../model/types.ts';
import {
  type DnsAnswer,
  endpoint,
  flowOf,
  type HubblePart,
  type HubbleStage,
  IGNORED,
  ignored,
  isObject,
  type JsonObject,
  malformed,
  millisOf,
  type RecordPlace,
  type RecordResult,
  readIp,
  readPort,
  readTime,
  shown,
  text,
} from './records.ts';

/**
 * Cilium Hubble flows as `hubble observe -o json` / `-o jsonpb` print them: the flow object itself, or the
 * GetFlowsResponse around it (`{"flow": {...}, "node_name": ..., "time": ...}`). Field names are those of
 * cilium/api/v1/flow/flow.proto in protojson form; enums come as names (or, rarely, numbers).
 */

/** The Verdict enum, in the order of its numbers. */
const VERDICTS = [
  'VERDICT_UNKNOWN',
  'FORWARDED',
  'DROPPED',
  'ERROR',
  'AUDIT',
  'REDIRECTED',
  'TRACED',
  'TRANSLATED',
];

/**
 * What each verdict means for a comparison with policy. AUDIT is a policy verdict in audit mode: the policy
 * would have dropped the packet but let it pass, so the traffic flowed. REDIRECTED hands the packet to the
 * L7 proxy, which happens only after L3/L4 policy allowed it. TRACED and TRANSLATED are observations with no
 * decision (a trace point, a service address translation); ERROR is a processing error, not a decision.
 */
const VERDICT_MAP = new Map<string, ObservedVerdict | { ignored: string }>([
  ['FORWARDED', 'forwarded'],
  ['AUDIT', 'forwarded'],
  ['REDIRECTED', 'forwarded'],
  ['DROPPED', 'dropped'],
  ['ERROR', { ignored: 'verdict ERROR' }],
  ['VERDICT_UNKNOWN', { ignored: 'no verdict (VERDICT_UNKNOWN)' }],
  ['TRACED', { ignored: 'verdict TRACED (observed, not decided)' }],
  ['TRANSLATED', { ignored: 'verdict TRANSLATED (address translation)' }],
]);

/** Drop reasons that are policy decisions; a drop for any other reason says nothing about policy. */
const POLICY_DROPS = new Set(['POLICY_DENIED', 'POLICY_DENY', 'AUTH_REQUIRED']);

/** The policy drop reasons by number (flow.proto's DropReason), as older printers give them. */
const POLICY_DROP_NUMBERS = new Map([
  [133, 'POLICY_DENIED'],
  [181, 'POLICY_DENY'],
  [189, 'AUTH_REQUIRED'],
]);

/** Cilium monitor message types that carry flows: drop, trace, policy verdict, socket trace, L7 access log. */
const FLOW_EVENT_TYPES = new Set([1, 4, 5, 7, 129]);
const DROP = 1;
const TRACE = 4;

/**
 * Observation points of a delivery into the destination pod: TO_ENDPOINT, and UNKNOWN_POINT (0, which
 * protojson leaves out), which flow.proto says Cilium treats as TO_LXC, the endpoint's interface.
 */
const DELIVERY_POINTS = new Set<string | number>(['TO_ENDPOINT', 101, 'UNKNOWN_POINT', 0]);

/** GetFlowsResponse members that are not flows. */
const NON_FLOW_EVENTS = ['node_status', 'lost_events', 'agent_event', 'debug_event'];

/** Labels Cilium adds to an identity that are not the pod's own labels. */
function ciliumOwnLabel(key: string): boolean {
  return key === 'io.kubernetes.pod.namespace' || key.startsWith('io.cilium.');
}

export function mapHubbleRecord(value: unknown, at: RecordPlace): RecordResult {
  if (!isObject(value)) return malformed(`not a JSON object: ${shown(value)}`);
  let flow: JsonObject = value;
  if ('flow' in value) {
    if (!isObject(value.flow)) return malformed(`"flow" is not an object: ${shown(value.flow)}`);
    flow = value.flow;
  } else {
    const other = NON_FLOW_EVENTS.find((key) => key in value);
    if (other !== undefined) return ignored(`not a flow (${other})`);
  }

  const eventType = isObject(flow.event_type) ? flow.event_type.type : undefined;
  if (typeof eventType === 'number' && !FLOW_EVENT_TYPES.has(eventType)) {
    return ignored(`not a flow (Cilium event type ${eventType})`);
  }
  const type = flow.Type;
  if (type === 'L7' || type === 2) {
    const result = ignored('L7 record (the packets carry the L3/L4 verdict)');
    const answer = dnsAnswer(flow.l7);
    return answer && result.kind === 'ignored' ? { ...result, answer } : result;
  }
  if (type === 'SOCK' || type === 3) return ignored('socket event (SOCK)');

  const verdictName = readVerdict(flow.verdict);
  const mapped = VERDICT_MAP.get(verdictName);
  if (mapped === undefined) return malformed(`unknown verdict ${shown(flow.verdict)}`);
  if (typeof mapped !== 'string') return ignored(mapped.ignored);

  const reply = flow.is_reply ?? flow.reply;
  if (reply === true) return ignored('reply');

  const l4 = readL4(flow.l4);
  if ('ignored' in l4) return ignored(l4.ignored);

  const ip = isObject(flow.IP) ? flow.IP : undefined;
  if (ip === undefined && flow.IP !== undefined && flow.IP !== null) {
    return malformed(`IP: not an object: ${shown(flow.IP)}`);
  }
  const srcIp = readIp(ip?.source, 'IP.source');
  const dstIp = readIp(ip?.destination, 'IP.destination');
  const src = readEndpoint(flow.source, 'source', srcIp, readNames(flow.source_names, 'source_names'));
  const dst = readEndpoint(
    flow.destination,
    'destination',
    dstIp,
    readNames(flow.destination_names, 'destination_names'),
  );
  const time = readTime(flow.time, 'time') ?? (flow === value ? undefined : readTime(value.time, 'time'));

  const reason =
    mapped === 'dropped'
      ? dropReason(flow.drop_reason_desc ?? flow.drop_reason ?? dropSubType(eventType, flow.event_type))
      : undefined;
  // Only pods have a namespace: the world, the host and remote nodes do not.
  const dstIsPod = dst.pod !== undefined || dst.namespace !== undefined;
  const tuple =
    srcIp !== undefined && dstIp !== undefined && l4.sourcePort !== undefined
      ? {
          tuple: `${l4.protocol} ${srcIp} ${l4.sourcePort} ${dstIp} ${l4.port}`,
          reverse: `${l4.protocol} ${dstIp} ${l4.port} ${srcIp} ${l4.sourcePort}`,
        }
      : {};
  const part: HubblePart = {
    format: 'hubble',
    ...tuple,
    replyUnknown: reply === undefined || reply === null,
    syn: l4.flags.SYN === true && l4.flags.ACK !== true,
    fin: l4.flags.FIN === true || l4.flags.RST === true,
    stage: mapped === 'dropped' ? 'dropped' : stageOf(eventType, verdictName, flow),
    dstIsPod,
  };
  const ms = millisOf(time);
  if (ms !== undefined) part.ms = ms;
  return flowOf(
    {
      time,
      src,
      dst,
      protocol: l4.protocol,
      port: l4.port,
      verdict: mapped,
      dropReason: reason,
      count: 1,
    },
    at,
    part,
  );
}

/**
 * How far a forwarded event shows the packet got. A trace at `TO_ENDPOINT` (or with no point, below) is the delivery into the
 * destination pod, whatever its `traffic_direction` (Cilium sets EGRESS when the source is a local
 * endpoint, as on a same-node delivery, not by the policy that decided). An INGRESS policy verdict is the
 * destination's own decision. Anything else (the source's egress verdict, traces at FROM_ENDPOINT,
 * TO_OVERLAY, TO_STACK, FROM_NETWORK …) shows the packet on its way. Events without a type (older
 * Hubble, converted logs) are read by their direction: EGRESS is on the way, anything else arrived;
 * so is REDIRECTED, handed to the proxy of the side that allowed it.
 */
function stageOf(eventType: unknown, verdict: string, flow: JsonObject): HubbleStage {
  if (eventType === TRACE && verdict !== 'REDIRECTED') {
    const point = flow.trace_observation_point ?? 0;
    return DELIVERY_POINTS.has(point as string | number) ? 'delivered' : 'transit';
  }
  return isEgress(flow.traffic_direction) ? 'transit' : 'delivered';
}

/** A drop event (type 1) carries its reason in `event_type.sub_type` when older printers leave it out. */
function dropSubType(eventType: unknown, event: unknown): unknown {
  return eventType === DROP && isObject(event) ? event.sub_type : undefined;
}

/** Whether a drop reason is a policy decision; a drop without a reason is taken as one. */
export function isPolicyDrop(reason: string | undefined): boolean {
  return reason === undefined || POLICY_DROPS.has(reason);
}

function readVerdict(value: unknown): string {
  if (value === undefined || value === null) return malformed('missing verdict');
  if (typeof value === 'number') return VERDICTS[value] ?? String(value);
  if (typeof value !== 'string') return malformed(`verdict: not a string: ${shown(value)}`);
  return value;
}

/** A drop reason by name or number; none for 0 (DROP_REASON_UNKNOWN) or absent. */
function dropReason(value: unknown): string | undefined {
  if (value === undefined || value === null || value === 0 || value === 'DROP_REASON_UNKNOWN')
    return undefined;
  if (typeof value === 'number' && Number.isInteger(value))
    return POLICY_DROP_NUMBERS.get(value) ?? String(value);
  if (typeof value === 'string' && /^[A-Z0-9_]{1,64}$/.test(value)) return value;
  return malformed(`drop_reason_desc: not a drop reason: ${shown(value)}`);
}

function isEgress(direction: unknown): boolean {
  return direction === 'EGRESS' || direction === 2;
}

const L4_PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

interface L4 {
  protocol: Protocol;
  port: number;
  sourcePort?: number;
  flags: JsonObject;
}

const NO_FLAGS: JsonObject = {};

function readL4(value: unknown): L4 | { ignored: string } {
  if (value === undefined || value === null) return { ignored: IGNORED.noPort };
  if (!isObject(value)) return malformed(`l4: not an object: ${shown(value)}`);
  for (const protocol of L4_PROTOCOLS) {
    const header = value[protocol];
    if (header === undefined || header === null) continue;
    if (!isObject(header)) return malformed(`l4.${protocol}: not an object: ${shown(header)}`);
    if (header.destination_port === undefined) return malformed(`l4.${protocol}: missing destination_port`);
    const port = readPort(header.destination_port, `l4.${protocol}.destination_port`);
    const flags = header.flags;
    if (flags !== undefined && flags !== null && !isObject(flags)) {
      return malformed(`l4.${protocol}.flags: not an object: ${shown(flags)}`);
    }
    const l4: L4 = { protocol, port, flags: flags ?? NO_FLAGS };
    // Port 0 is how protojson leaves an unset source port.
    if (header.source_port !== undefined && header.source_port !== null && header.source_port !== 0)
      l4.sourcePort = readPort(header.source_port, `l4.${protocol}.source_port`);
    return l4;
  }
  if ('ICMPv4' in value || 'ICMPv6' in value) return { ignored: IGNORED.icmp };
  return { ignored: IGNORED.noPort };
}

function readEndpoint(
  value: unknown,
  field: string,
  ip: string | undefined,
  names: string[] | undefined,
): FlowEndpoint {
  if (value === undefined || value === null) return endpoint({ ip, names });
  if (!isObject(value)) return malformed(`${field}: not an object: ${shown(value)}`);
  const workloads = value.workloads;
  if (workloads !== undefined && workloads !== null && !Array.isArray(workloads)) {
    return malformed(`${field}.workloads: not a list: ${shown(workloads)}`);
  }
  const first: unknown = workloads?.[0];
  if (first !== undefined && !isObject(first)) {
    return malformed(`${field}.workloads[0]: not an object: ${shown(first)}`);
  }
  return endpoint({
    ip,
    namespace: text(value.namespace, `${field}.namespace`),
    pod: text(value.pod_name, `${field}.pod_name`),
    workload: first === undefined ? undefined : text(first.name, `${field}.workloads[0].name`),
    labels: readLabels(value.labels, `${field}.labels`),
    names,
    // Only an end that is no pod has an identity worth keeping: pods are placed by name.
    identity:
      value.namespace === undefined && value.pod_name === undefined
        ? reservedIdentity(value.labels)
        : undefined,
  });
}

/**
 * The name and addresses of an L7 DNS record's answer (`l7.dns.query`, `l7.dns.ips`): what Cilium's DNS
 * proxy saw, and what it learns toFQDNs addresses from. A query without addresses names nothing.
 */
function dnsAnswer(l7: unknown): DnsAnswer | undefined {
  const dns = isObject(l7) && isObject(l7.dns) ? l7.dns : undefined;
  if (!dns || typeof dns.query !== 'string' || !Array.isArray(dns.ips) || dns.ips.length === 0)
    return undefined;
  const [name] = readNames([dns.query], 'l7.dns.query') ?? [];
  const ips = dns.ips.map((ip, i) => readIp(ip, `l7.dns.ips[${i}]`)).filter((ip) => ip !== undefined);
  return name && ips.length > 0 ? { name, ips } : undefined;
}

/** `source_names`/`destination_names`: the DNS names Hubble knows for the address. */
function readNames(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return malformed(`${field}: not a list: ${shown(value)}`);
  return value.map((name) => {
    if (typeof name !== 'string' || !/^[-a-zA-Z0-9_.]+$/.test(name))
      return malformed(`${field}: not a DNS name: ${shown(name)}`);
    return name.toLowerCase().replace(/\.$/, '');
  });
}

/**
 * The reserved identity an end carries (`reserved:world`, `reserved:host` …): what Cilium knows of an
 * address that is no pod. `world-ipv4`/`world-ipv6` (dual-stack clusters) are `world`.
 */
function reservedIdentity(labels: unknown): string | undefined {
  if (!Array.isArray(labels)) return undefined;
  for (const label of labels) {
    if (typeof label !== 'string' || !label.startsWith('reserved:')) continue;
    const name = label.slice('reserved:'.length).split('=')[0] ?? '';
    return name.startsWith('world') ? 'world' : name;
  }
  return undefined;
}

/**
 * Identity labels come as `source:key=value`. Only `k8s:` labels are the pod's (less the ones Cilium adds:
 * the namespace, service account and cluster); `reserved:` labels name Cilium's special identities
 * (`reserved:world` is outside the cluster, `reserved:host` the node) and `cidr:`/`fqdn:` labels are
 * derived from the address, so none of them are kept.
 */
function readLabels(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return malformed(`${field}: not a list: ${shown(value)}`);
  const labels: Record<string, string> = {};
  for (const label of value) {
    if (typeof label !== 'string') return malformed(`${field}: not a string: ${shown(label)}`);
    if (!label.startsWith('k8s:')) continue;
    const eq = label.indexOf('=');
    const key = eq < 0 ? label.slice(4) : label.slice(4, eq);
    if (key === '' || key === '__proto__' || ciliumOwnLabel(key)) continue;
    labels[key] = eq < 0 ? '' : label.slice(eq + 1);
  }
  return labels;
}
