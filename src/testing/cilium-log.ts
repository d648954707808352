/**
 * Test support: a seeded Hubble log laid out as Cilium emits it, with its ground truth. Per connection,
 * the events Cilium writes: the policy verdicts at both ends (optional: many clusters do not enable
 * them), traces at every observation point of both nodes, the reply packets, the packets after the
 * handshake and the close; same-node and cross-node deliveries, drops by the destination's ingress and
 * by the source's egress with their SYN retransmissions, DNS over UDP, traffic to and from the internet.
 * Events of concurrent connections interleave in time order, as Hubble Relay merges them.
 */

export interface GeneratedPod {
  namespace: string;
  name: string;
  workload: string;
  ip: string;
  node: string;
  labels: Record<string, string>;
}

export interface GeneratedLog {
  /** One JSON event per line (the Hubble exporter's form). */
  lines: string[];
  /** `src -> dst PROTOCOL port verdict` → connections; an end is `namespace/workload` or an address. */
  truth: Map<string, number>;
  pods: GeneratedPod[];
}

export interface CiliumLogOptions {
  connections: number;
  /** Whether the cluster emits policy-verdict events (event type 5). */
  policyVerdicts: boolean;
}

/** mulberry32: small, seeded, good enough to vary a test log. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NODES = ['worker-1', 'worker-2', 'worker-3'];
const WORKLOADS: { namespace: string; workload: string; port: number }[] = [
  { namespace: 'portal', workload: 'frontend', port: 8443 },
  { namespace: 'ehr', workload: 'ehr-api', port: 8443 },
  { namespace: 'records', workload: 'records-db', port: 5432 },
  { namespace: 'billing', workload: 'invoices', port: 8080 },
  { namespace: 'monitoring', workload: 'prometheus', port: 9090 },
];
const DNS = { namespace: 'kube-system', workload: 'coredns', port: 53 };
const INTERNET = ['203.0.113.7', '198.51.100.20', '192.0.2.44'];

export function generatePods(): GeneratedPod[] {
  const pods: GeneratedPod[] = [];
  let host = 10;
  for (const [w, { namespace, workload }] of [...WORKLOADS, DNS].entries()) {
    for (let i = 0; i < 2; i++) {
      pods.push({
        namespace,
        name: `${workload}-7d9f8c6b5-${'abcdefghijkl'[w]}${i}x2q`,
        workload,
        ip: `10.0.${(w + i) % NODES.length}.${host++}`,
        node: NODES[(w + i) % NODES.length] as string,
        labels: { app: workload },
      });
    }
  }
  return pods;
}

type End = GeneratedPod | { ip: string };

function isPod(end: End): end is GeneratedPod {
  return 'namespace' in end;
}

function endpointJson(end: End): Record<string, unknown> {
  if (!isPod(end)) return { identity: 2, labels: ['reserved:world'] };
  return {
    ID: 1000 + Number(end.ip.split('.')[3]),
    identity: 40000 + end.workload.length,
    namespace: end.namespace,
    labels: [
      `k8s:app=${end.workload}`,
      `k8s:io.kubernetes.pod.namespace=${end.namespace}`,
      'k8s:io.cilium.k8s.policy.cluster=default',
    ],
    pod_name: end.name,
    workloads: [{ name: end.workload, kind: 'Deployment' }],
  };
}

interface Packet {
  /** Microseconds after the log's start. */
  at: number;
  node: string;
  type: 1 | 4 | 5;
  point?: string;
  direction: 'INGRESS' | 'EGRESS';
  reply: boolean;
  flags: Record<string, boolean>;
  dropped?: boolean;
}

const START = Date.UTC(2026, 10, 27, 10, 0, 0);

function timeOf(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(START + ms).toISOString();
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}000Z`;
}

function event(
  protocol: 'TCP' | 'UDP',
  src: End,
  sport: number,
  dst: End,
  dport: number,
  p: Packet,
): { at: number; line: string } {
  const [from, to, fromPort, toPort] = p.reply ? [dst, src, dport, sport] : [src, dst, sport, dport];
  const l4 =
    protocol === 'TCP'
      ? { TCP: { source_port: fromPort, destination_port: toPort, flags: p.flags } }
      : { UDP: { source_port: fromPort, destination_port: toPort } };
  const flow: Record<string, unknown> = {
    time: timeOf(p.at),
    verdict: p.dropped ? 'DROPPED' : 'FORWARDED',
    IP: { source: from.ip, destination: to.ip, ipVersion: 'IPv4' },
    l4,
    source: endpointJson(from),
    destination: endpointJson(to),
    Type: 'L3_L4',
    node_name: p.node,
    event_type: { type: p.type },
    traffic_direction: p.direction,
    is_reply: p.reply,
  };
  if (p.point !== undefined) flow.trace_observation_point = p.point;
  if (p.dropped) {
    flow.drop_reason = 133;
    flow.drop_reason_desc = 'POLICY_DENIED';
  }
  return { at: p.at, line: JSON.stringify({ flow, node_name: p.node, time: flow.time }) };
}

type Outcome = 'delivered' | 'ingress-denied' | 'egress-denied';

/**
 * The packets of one connection. `hop` is how a packet goes from the source's node to the destination's
 * (a tunnel between pods' nodes, the native network to or from the internet).
 */
function connectionPackets(
  protocol: 'TCP' | 'UDP',
  src: End,
  dst: End,
  outcome: Outcome,
  start: number,
  verdicts: boolean,
  rand: () => number,
): Packet[] {
  const srcNode = isPod(src) ? src.node : undefined;
  const dstNode = isPod(dst) ? dst.node : undefined;
  const sameNode = srcNode !== undefined && srcNode === dstNode;
  const packets: Packet[] = [];
  let at = start;
  const step = () => {
    at += 20 + Math.floor(rand() * 200);
    return at;
  };
  /** One packet of the forward direction, at every point of its way. */
  const forward = (flags: Record<string, boolean>, fate: Outcome) => {
    if (srcNode !== undefined) {
      if (verdicts && flags.SYN && !flags.ACK) {
        packets.push({ at: step(), node: srcNode, type: 5, direction: 'EGRESS', reply: false, flags });
      }
      if (fate === 'egress-denied') {
        packets.push({
          at: step(),
          node: srcNode,
          type: 1,
          direction: 'EGRESS',
          reply: false,
          flags,
          dropped: true,
        });
        return;
      }
      packets.push({
        at: step(),
        node: srcNode,
        type: 4,
        point: 'FROM_ENDPOINT',
        direction: 'EGRESS',
        reply: false,
        flags,
      });
      if (!sameNode) {
        const out = dstNode === undefined ? 'TO_NETWORK' : 'TO_OVERLAY';
        packets.push({
          at: step(),
          node: srcNode,
          type: 4,
          point: out,
          direction: 'EGRESS',
          reply: false,
          flags,
        });
      }
    }
    if (dstNode === undefined) return;
    if (!sameNode) {
      const into = srcNode === undefined ? 'FROM_NETWORK' : 'FROM_OVERLAY';
      packets.push({
        at: step(),
        node: dstNode,
        type: 4,
        point: into,
        direction: 'INGRESS',
        reply: false,
        flags,
      });
    }
    if (fate === 'ingress-denied') {
      packets.push({
        at: step(),
        node: dstNode,
        type: 1,
        direction: 'INGRESS',
        reply: false,
        flags,
        dropped: true,
      });
      return;
    }
    if (verdicts && flags.SYN && !flags.ACK) {
      packets.push({ at: step(), node: dstNode, type: 5, direction: 'INGRESS', reply: false, flags });
    }
    // Cilium's direction on a trace says whether the source is a local endpoint, not which policy decided.
    const direction = sameNode ? 'EGRESS' : 'INGRESS';
    packets.push({
      at: step(),
      node: dstNode,
      type: 4,
      point: 'TO_ENDPOINT',
      direction,
      reply: false,
      flags,
    });
  };
  const reply = (flags: Record<string, boolean>) => {
    const node = srcNode ?? dstNode;
    if (node === undefined) return;
    const direction = sameNode ? 'EGRESS' : 'INGRESS';
    packets.push({ at: step(), node, type: 4, point: 'TO_ENDPOINT', direction, reply: true, flags });
  };

  if (protocol === 'UDP') {
    forward({}, outcome);
    if (outcome === 'delivered') reply({});
    return packets;
  }
  forward({ SYN: true }, outcome);
  if (outcome !== 'delivered') {
    // SYN retransmissions, 1 s and 3 s later: the same connection.
    for (const after of [1_000_000, 3_000_000].slice(0, 1 + Math.floor(rand() * 2))) {
      at = start + after;
      forward({ SYN: true }, outcome);
    }
    return packets;
  }
  reply({ SYN: true, ACK: true });
  forward({ ACK: true }, outcome);
  for (let i = Math.floor(rand() * 3); i > 0; i--) {
    forward({ PSH: true, ACK: true }, outcome);
    reply({ PSH: true, ACK: true });
  }
  forward({ FIN: true, ACK: true }, outcome);
  reply({ FIN: true, ACK: true });
  return packets;
}

function nameOf(end: End): string {
  return isPod(end) ? `${end.namespace}/${end.workload}` : end.ip;
}

/** A log of `connections` connections, started 40 ms apart on average, with what it stands for. */
export function ciliumLog(seed: number, options: CiliumLogOptions): GeneratedLog {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const pods = generatePods();
  const apps = pods.filter((p) => p.workload !== DNS.workload);
  const dns = pods.filter((p) => p.workload === DNS.workload);
  const truth = new Map<string, number>();
  const events: { at: number; line: string }[] = [];
  const nextPort = new Map<string, number>();
  let start = 0;
  for (let i = 0; i < options.connections; i++) {
    start += Math.floor(rand() * 80_000);
    const kind = rand();
    let protocol: 'TCP' | 'UDP' = 'TCP';
    let src: End = pick(apps);
    let dst: End;
    let port: number;
    let outcome: Outcome = 'delivered';
    if (kind < 0.2) {
      protocol = 'UDP';
      dst = pick(dns);
      port = DNS.port;
    } else if (kind < 0.3) {
      dst = { ip: pick(INTERNET) };
      port = 443;
    } else if (kind < 0.4) {
      src = { ip: pick(INTERNET) };
      dst = pick(apps.filter((p) => p.workload === 'frontend'));
      port = 8443;
    } else {
      const target = pick(apps);
      dst = target;
      port = WORKLOADS.find((w) => w.workload === target.workload)?.port ?? 8080;
      outcome = kind < 0.5 ? 'ingress-denied' : kind < 0.55 ? 'egress-denied' : 'delivered';
    }
    // Each connection its own source port: a client does not reuse one while the last is remembered.
    const sport = (nextPort.get(src.ip) ?? 32768 + Math.floor(rand() * 20000)) + 1;
    nextPort.set(src.ip, sport > 60999 ? 32768 : sport);
    for (const packet of connectionPackets(
      protocol,
      src,
      dst,
      outcome,
      start,
      options.policyVerdicts,
      rand,
    )) {
      events.push(event(protocol, src, sport, dst, port, packet));
    }
    const key = `${nameOf(src)} -> ${nameOf(dst)} ${protocol} ${port} ${outcome === 'delivered' ? 'forwarded' : 'dropped'}`;
    truth.set(key, (truth.get(key) ?? 0) + 1);
  }
  events.sort((a, b) => a.at - b.at);
  return { lines: events.map((e) => e.line), truth, pods };
}
