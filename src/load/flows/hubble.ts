import type { FlowEndpoint, ObservedVerdict } from '../../model/flows.ts';
import type { Protocol } from '../../model/types.ts';
import {
  endpoint,
  flowOf,
  IGNORED,
  ignored,
  isObject,
  isoTime,
  type JsonObject,
  malformed,
  type RecordPlace,
  type RecordResult,
  readIp,
  readPort,
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
const POLICY_DROPS = new Set(['POLICY_DENIED', 'POLICY_DENY', 'AUTH_REQUIRED', '133', '181', '189']);

/** Cilium monitor message types that carry flows: drop, trace, policy verdict, socket trace, L7 access log. */
const FLOW_EVENT_TYPES = new Set([1, 4, 5, 7, 129]);

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
  if (type === 'L7' || type === 2) return ignored('L7 record (the packets carry the L3/L4 verdict)');
  if (type === 'SOCK' || type === 3) return ignored('socket event (SOCK)');

  const verdictName = readVerdict(flow.verdict);
  const mapped = VERDICT_MAP.get(verdictName);
  if (mapped === undefined) return malformed(`unknown verdict ${shown(flow.verdict)}`);
  if (typeof mapped !== 'string') return ignored(mapped.ignored);

  if (flow.is_reply === true || (flow.is_reply === undefined && flow.reply === true)) return ignored('reply');

  const l4 = readL4(flow.l4);
  if ('ignored' in l4) return ignored(l4.ignored);

  const ip = isObject(flow.IP) ? flow.IP : undefined;
  if (ip === undefined && flow.IP !== undefined && flow.IP !== null) {
    return malformed(`IP: not an object: ${shown(flow.IP)}`);
  }
  const src = readEndpoint(flow.source, 'source', readIp(ip?.source, 'IP.source'));
  const dst = readEndpoint(flow.destination, 'destination', readIp(ip?.destination, 'IP.destination'));

  if (mapped === 'dropped') {
    const reason = dropReason(flow.drop_reason_desc ?? flow.drop_reason);
    if (reason !== undefined && !POLICY_DROPS.has(reason))
      return ignored(`dropped, not by policy (${reason})`);
  }
  // A packet leaving a pod is judged twice: by the source's egress policy, then by the destination's
  // ingress policy. A forwarded egress verdict towards another pod only says the first hop let it out.
  // Only pods have a namespace: the world, the host and remote nodes do not.
  const dstIsPod = dst.pod !== undefined || dst.namespace !== undefined;
  if (mapped === 'forwarded' && isEgress(flow.traffic_direction) && dstIsPod) {
    return ignored("egress verdict towards a pod (the destination's ingress decides)");
  }

  return flowOf(
    {
      time: isoTime(flow.time) ?? (flow === value ? undefined : isoTime(value.time)),
      src,
      dst,
      protocol: l4.protocol,
      port: l4.port,
      verdict: mapped,
      count: 1,
    },
    at,
  );
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
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'string' && /^[A-Z0-9_]{1,64}$/.test(value)) return value;
  return malformed(`drop_reason_desc: not a drop reason: ${shown(value)}`);
}

function isEgress(direction: unknown): boolean {
  return direction === 'EGRESS' || direction === 2;
}

const L4_PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

function readL4(value: unknown): { protocol: Protocol; port: number } | { ignored: string } {
  if (value === undefined || value === null) return { ignored: IGNORED.noPort };
  if (!isObject(value)) return malformed(`l4: not an object: ${shown(value)}`);
  for (const protocol of L4_PROTOCOLS) {
    const header = value[protocol];
    if (header === undefined || header === null) continue;
    if (!isObject(header)) return malformed(`l4.${protocol}: not an object: ${shown(header)}`);
    if (header.destination_port === undefined) return malformed(`l4.${protocol}: missing destination_port`);
    return { protocol, port: readPort(header.destination_port, `l4.${protocol}.destination_port`) };
  }
  if ('ICMPv4' in value || 'ICMPv6' in value) return { ignored: IGNORED.icmp };
  return { ignored: IGNORED.noPort };
}

function readEndpoint(value: unknown, field: string, ip: string | undefined): FlowEndpoint {
  if (value === undefined || value === null) return endpoint({ ip });
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
  });
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
