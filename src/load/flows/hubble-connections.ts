import type { FlowEndpoint, ObservedFlow } from '../../model/flows.ts';
import { isPolicyDrop } from './hubble.ts';
import { type DnsAnswer, type HubblePart, ignored, type RecordResult } from './records.ts';

/**
 * Hubble reports one connection many times: a policy verdict at the source's egress and at the
 * destination's ingress, a trace at every observation point (FROM_ENDPOINT, TO_OVERLAY, FROM_OVERLAY,
 * TO_ENDPOINT …) on both nodes, and the packets after the handshake (trace reason ESTABLISHED). They all
 * carry the connection's 5-tuple (pod addresses are not translated between nodes), so the events of one
 * 5-tuple are read as one connection, until
 * - a TCP SYN (without ACK) arrives after the connection carried other packets: the port was reused;
 * - the 5-tuple was idle for longer than Cilium's conntrack keeps it (bpf-ct-timeout-regular-*: TCP 2 h
 *   13 min 20 s once established, 60 s while opening, 10 s after FIN or RST; UDP and SCTP 60 s).
 * What the connection became is decided over all its events (`finish`).
 */
export const HUBBLE_COUNTING =
  'Hubble: the events of one 5-tuple are one connection; a SYN after other packets, or idleness past Cilium’s conntrack timeouts (TCP 8000 s, 60 s opening, 10 s after FIN/RST; UDP/SCTP 60 s), starts a new one';

const TCP_ESTABLISHED_MS = 8_000_000;
const TCP_OPENING_MS = 60_000;
const TCP_CLOSED_MS = 10_000;
const OTHER_MS = 60_000;

/**
 * Finished connections are looked for after this many events, or a quarter of the open ones if more (a
 * sweep costs the open ones, so this keeps it a few steps per event); open ones are held at most this many.
 */
const SWEEP_EVERY = 256;
const MAX_OPEN = 50_000;

const DELIVERED = 1;
const TRANSIT = 2;
const POLICY_DROP = 4;
const OTHER_DROP = 8;

interface Open {
  flow: ObservedFlow;
  stages: number;
  policyReason?: string;
  otherReason?: string;
  tcp: boolean;
  /** Saw a packet other than a SYN. */
  established: boolean;
  closed: boolean;
  dstIsPod: boolean;
  lastMs?: number;
}

export const TRANSIT_ONLY =
  "seen only on its way to a pod, never arriving (the destination's node is not in the log)";

/** Addresses whose names are remembered from DNS answers, at most (the oldest are forgotten first). */
const MAX_NAMED_ADDRESSES = 100_000;

export class HubbleConnections {
  private readonly open = new Map<string, Open>();
  /** Address → the names DNS answers earlier in the log gave it (Cilium's DNS proxy saw the same). */
  private readonly names = new Map<string, string[]>();
  private watermark = Number.NEGATIVE_INFINITY;
  private sinceSweep = 0;

  constructor(private readonly emit: (result: RecordResult, line: number) => void) {}

  /** An L7 DNS record's answer: connections to its addresses after it go to that name. */
  learn(answer: DnsAnswer): void {
    for (const ip of answer.ips) {
      const known = this.names.get(ip) ?? [];
      if (known.includes(answer.name)) continue;
      this.names.delete(ip);
      if (this.names.size >= MAX_NAMED_ADDRESSES) this.names.delete(this.names.keys().next().value as string);
      this.names.set(ip, [...known, answer.name]);
    }
  }

  add(event: ObservedFlow, part: HubblePart): void {
    const learnt = event.dst.ip !== undefined && !event.dst.names ? this.names.get(event.dst.ip) : undefined;
    const flow = learnt ? { ...event, dst: { ...event.dst, names: learnt } } : event;
    if (part.ms !== undefined && part.ms > this.watermark) this.watermark = part.ms;
    const key = part.tuple;
    if (key === undefined) {
      this.finish(start(flow, part));
      return;
    }
    // Older logs do not mark replies: the other direction of an open connection is its reply.
    if (part.replyUnknown && part.reverse !== undefined && !this.open.has(key)) {
      const forward = this.open.get(part.reverse);
      if (forward !== undefined && forward.flow.line < flow.line) {
        this.emit(ignored('reply'), flow.line);
        return;
      }
    }
    const current = this.open.get(key);
    if (current !== undefined) {
      if (!this.expired(current, part.ms) && !(part.syn && current.established)) {
        merge(current, flow, part);
        this.sweepNow();
        return;
      }
      this.open.delete(key);
      this.finish(current);
    }
    this.open.set(key, start(flow, part));
    this.sweepNow();
  }

  end(): void {
    for (const connection of this.open.values()) this.finish(connection);
    this.open.clear();
  }

  private expired(connection: Open, ms: number | undefined): boolean {
    if (ms === undefined || connection.lastMs === undefined) return false;
    return ms - connection.lastMs > lifetime(connection);
  }

  /** Finishes the connections the log has moved past, and the oldest when too many are open. */
  private sweepNow(): void {
    if (++this.sinceSweep < Math.max(SWEEP_EVERY, this.open.size >> 2)) return;
    this.sinceSweep = 0;
    for (const [key, connection] of this.open) {
      if (this.expired(connection, this.watermark) || this.open.size > MAX_OPEN) {
        this.open.delete(key);
        this.finish(connection);
      }
    }
  }

  /**
   * What the connection became: carried when an event shows it arriving (a TO_ENDPOINT trace, the
   * destination's INGRESS verdict) or on its way out of the cluster; dropped when policy dropped it and
   * it never arrived. Seen only on its way to a pod, or dropped for a reason other than policy, it is
   * counted as ignored, with the reason.
   */
  private finish(connection: Open): void {
    const { flow, stages } = connection;
    const events = flow.events;
    if ((stages & DELIVERED) !== 0 || ((stages & TRANSIT) !== 0 && !connection.dstIsPod)) {
      flow.verdict = 'forwarded';
      delete flow.dropReason;
    } else if ((stages & POLICY_DROP) !== 0) {
      flow.verdict = 'dropped';
      if (connection.policyReason === undefined) delete flow.dropReason;
      else flow.dropReason = connection.policyReason;
    } else if ((stages & TRANSIT) !== 0) {
      this.emit(ignored(TRANSIT_ONLY, events), flow.line);
      return;
    } else {
      this.emit(ignored(`dropped, not by policy (${connection.otherReason})`, events), flow.line);
      return;
    }
    this.emit({ kind: 'flow', flow }, flow.line);
  }
}

function lifetime(connection: Open): number {
  if (!connection.tcp) return OTHER_MS;
  if (connection.closed) return TCP_CLOSED_MS;
  return connection.established ? TCP_ESTABLISHED_MS : TCP_OPENING_MS;
}

function start(flow: ObservedFlow, part: HubblePart): Open {
  const connection: Open = {
    flow,
    stages: 0,
    tcp: flow.protocol === 'TCP',
    established: false,
    closed: false,
    dstIsPod: part.dstIsPod,
  };
  note(connection, flow, part);
  return connection;
}

function merge(connection: Open, flow: ObservedFlow, part: HubblePart): void {
  const first = connection.flow;
  first.events++;
  if (flow.time !== undefined && flow.time > (first.until ?? first.time ?? flow.time))
    first.until = flow.time;
  // The ends as the richest event names them: a node may know a remote pod by its address only.
  if (first.src.pod === undefined && flow.src.pod !== undefined) first.src = richer(first.src, flow.src);
  if (first.dst.pod === undefined && flow.dst.pod !== undefined) first.dst = richer(first.dst, flow.dst);
  // Hubble names a destination only on the events after its DNS answer was seen.
  if (first.dst.names === undefined && flow.dst.names !== undefined)
    first.dst = { ...first.dst, names: flow.dst.names };
  connection.dstIsPod ||= part.dstIsPod;
  note(connection, flow, part);
}

function richer(known: FlowEndpoint, other: FlowEndpoint): FlowEndpoint {
  return known.ip === undefined || other.ip !== undefined ? other : { ...other, ip: known.ip };
}

function note(connection: Open, flow: ObservedFlow, part: HubblePart): void {
  if (part.ms !== undefined) connection.lastMs = part.ms;
  if (!part.syn) connection.established = true;
  if (part.fin) connection.closed = true;
  if (part.stage === 'delivered') connection.stages |= DELIVERED;
  else if (part.stage === 'transit') connection.stages |= TRANSIT;
  else if (isPolicyDrop(flow.dropReason)) {
    connection.stages |= POLICY_DROP;
    connection.policyReason ??= flow.dropReason;
  } else {
    connection.stages |= OTHER_DROP;
    connection.otherReason ??= flow.dropReason;
  }
}
