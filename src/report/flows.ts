import { peerName } from '../analysis/connectivity.ts';
import { AddressGroups, type GroupedEnd, groupExternalEdges } from '../analysis/external-peers.ts';
import type {
  ComparedEdge,
  FlowComparison,
  FlowGroup,
  UnusedConnection,
} from '../analysis/flow-comparison.ts';
import { type FlowPeer, peerLabel } from '../analysis/flows.ts';
import { formatPorts } from '../engine/ports.ts';
import type { FlowReadStats } from '../model/flows.ts';
import { mdText } from './audit-md.ts';
import { responsibleJson, responsibleLines } from './diff.ts';
import { portsToJson } from './ports-json.ts';

export const FLOW_FORMATS = ['text', 'json', 'md'] as const;
export type FlowFormat = (typeof FLOW_FORMATS)[number];

export const FLOW_SECTIONS = ['gap', 'needed', 'dropped-allowed', 'used', 'unused'] as const;
export type FlowSection = (typeof FLOW_SECTIONS)[number];

export interface FlowReport {
  comparison: FlowComparison;
  stats: readonly FlowReadStats[];
  /** The sections text and Markdown show (default: all); JSON always has every group. */
  show?: readonly FlowSection[];
  /** How addresses outside the pods are grouped (default: private and public only). */
  groups?: AddressGroups;
}

/** An edge as reports show it: its external end, if any, one group of addresses. */
type ShownEdge = ComparedEdge & { external?: GroupedEnd };

/** The compared edges, their external ends grouped (the per-address list stays, for JSON). */
function shownEdges(report: FlowReport): ShownEdge[] {
  return groupExternalEdges(
    report.comparison.edges,
    report.groups ?? new AddressGroups([]),
    (e) => `${e.protocol} ${e.port} ${e.observed} ${e.group}`,
  );
}

function endLabel(edge: ShownEdge, side: 'src' | 'dst'): string {
  const external = edge.external;
  if (external === undefined || external.side !== side) return peerLabel(edge[side]);
  const { addresses, group } = external;
  return addresses.length === 1
    ? `${addresses[0]?.ip} (${group.label})`
    : `${group.label} (${addresses.length} addresses)`;
}

const TITLES: Record<FlowGroup | 'unused', string> = {
  gap: 'Observed but denied by policy (enforcement gap)',
  needed: 'Dropped, and denied by policy (needed, or an attack: review)',
  'dropped-allowed': 'Dropped although policy allows it (dropped by something else)',
  used: 'Allowed and used',
  unused: 'Allowed but never seen in the window (tightening candidates)',
};

const GROUPS: readonly FlowGroup[] = ['gap', 'needed', 'dropped-allowed', 'used'];

/** In text and Markdown, long groups show this many lines; JSON lists everything. */
const SHOWN = 50;

export function renderFlows(report: FlowReport, format: FlowFormat): string {
  if (format === 'json') return `${JSON.stringify(flowsJson(report), null, 2)}\n`;
  return format === 'md' ? renderMarkdown(report) : renderText(report);
}

function edgeName(edge: ShownEdge): string {
  return `${endLabel(edge, 'src')} -> ${endLabel(edge, 'dst')} ${edge.protocol} ${edge.port}`;
}

function counted(edge: ComparedEdge): string {
  const what = edge.observed === 'forwarded' ? 'connection' : 'dropped connection';
  const window = edge.firstSeen
    ? `, ${edge.firstSeen}${edge.lastSeen !== edge.firstSeen ? ` to ${edge.lastSeen}` : ''}`
    : '';
  const records = `${edge.events} record${edge.events === 1 ? '' : 's'}`;
  return `${edge.count} ${what}${edge.count === 1 ? '' : 's'} (${records})${window}, first at ${edge.at.file}:${edge.at.line}`;
}

function summaryLines({ comparison, stats }: FlowReport, edges: readonly ShownEdge[]): string[] {
  const { mapped, window } = comparison;
  const malformed = stats.reduce((n, s) => n + s.malformed.count, 0);
  const ignored = stats.reduce((n, s) => n + Object.values(s.ignored).reduce((a, b) => a + b, 0), 0);
  const lines = [
    `${stats.length} flow log(s): ${mapped.records} records, ${mapped.flows} connections${window ? ` from ${window.from} to ${window.to}` : ''}; ${edges.length} distinct edges`,
    ...[...new Set(stats.map((s) => s.counting))].map((rule) => `counted: ${rule}`),
  ];
  if (malformed + ignored > 0)
    lines.push(
      `skipped: ${malformed} malformed record(s), ${ignored} not comparable (replies, ICMP …; --format json counts them per reason)`,
    );
  if (mapped.unmapped.count > 0) {
    const reasons = Object.entries(mapped.unmapped.reasons).map(
      ([reason, { count, example }]) => `${count} with ${reason} (first at ${example.file}:${example.line})`,
    );
    lines.push(
      `unmapped: ${mapped.unmapped.count} flow(s) not matched to the manifests: ${reasons.join('; ')}`,
    );
  }
  const gaps = edges.filter((e) => e.group === 'gap');
  const phiGaps = gaps.filter((e) => e.phi.length > 0).length;
  if (phiGaps > 0) lines.push(`CRITICAL: ${phiGaps} enforcement gap(s) touch PHI`);
  return lines;
}

function limited<T>(items: readonly T[], line: (item: T) => string[], more: string): string[] {
  const shown = items.slice(0, SHOWN).flatMap(line);
  return items.length > SHOWN ? [...shown, `  … and ${items.length - SHOWN} more (${more})`] : shown;
}

function renderText(report: FlowReport): string {
  const { comparison } = report;
  const shown = new Set<FlowSection>(report.show ?? FLOW_SECTIONS);
  const all = shownEdges(report);
  const lines = ['phiwall flows', ...summaryLines(report, all)];
  for (const group of GROUPS.filter((g) => shown.has(g))) {
    const edges = all.filter((e) => e.group === group);
    lines.push('', `${TITLES[group]}: ${edges.length}`);
    lines.push(
      ...limited(
        edges,
        (edge) => {
          const out = [`  ${edge.phi.length > 0 ? '[PHI] ' : ''}${edgeName(edge)}: ${counted(edge)}`];
          // Where policy and traffic disagree, or traffic was dropped, say which rules decide.
          if (group !== 'used') out.push(...responsibleLines(edge.responsible).map((l) => `      ${l}`));
          return out;
        },
        '--format json lists all',
      ),
    );
  }
  if (!shown.has('unused')) return `${lines.join('\n')}\n`;
  // Unused allows between non-PHI workloads are counted, not listed: the PHI ones are the exposure.
  const phiUnused = comparison.unused.filter((u) => u.phi.length > 0);
  const others = comparison.unused.length - phiUnused.length;
  lines.push('', `${TITLES.unused}: ${comparison.unused.length}, ${phiUnused.length} touching PHI`);
  lines.push(...limited(phiUnused, (u) => [`  ${unusedLine(u)}`], '--format json lists all'));
  if (others > 0) lines.push(`  and ${others} between other workloads (--format json lists them)`);
  return `${lines.join('\n')}\n`;
}

/** `a => b : ports (allowed by …)`: the rules that admit it, or that nothing isolates it. */
function unusedLine(u: UnusedConnection): string {
  const { connection: c, responsible } = u;
  const rules = [responsible.egress, responsible.ingress].flatMap((side) => [
    ...(side?.admittedBy.map((a) => `${a.rule} (${a.at})`) ?? []),
    ...(side?.tiers.filter((t) => t.rule && t.action !== 'Deny').map((t) => `${t.rule} (${t.at})`) ?? []),
  ]);
  const why =
    rules.length > 0 ? `allowed by ${[...new Set(rules)].join(', ')}` : 'no policy isolates either end';
  return `${u.phi.length > 0 ? '[PHI] ' : ''}${peerName(c.src)} => ${peerName(c.dst)} : ${formatPorts(c.ports)}  (${why})`;
}

function renderMarkdown(report: FlowReport): string {
  const { comparison } = report;
  const shown = new Set<FlowSection>(report.show ?? FLOW_SECTIONS);
  const all = shownEdges(report);
  const lines = ['# phiwall flows', '', ...summaryLines(report, all).map((l) => `- ${mdText(l)}`)];
  for (const group of GROUPS.filter((g) => shown.has(g))) {
    const edges = all.filter((e) => e.group === group);
    lines.push('', `## ${TITLES[group]}: ${edges.length}`);
    if (edges.length === 0) continue;
    lines.push(
      '',
      '| PHI | source | destination | port | observed | decided by |',
      '| --- | --- | --- | --- | --- | --- |',
    );
    for (const edge of edges.slice(0, SHOWN)) {
      lines.push(
        `| ${edge.phi.length > 0 ? 'PHI' : ''} | ${mdText(endLabel(edge, 'src'))} | ${mdText(endLabel(edge, 'dst'))} | ${edge.protocol} ${edge.port} | ${mdText(counted(edge))} | ${mdText(responsibleLines(edge.responsible).join('; '))} |`,
      );
    }
    if (edges.length > SHOWN) lines.push('', `… and ${edges.length - SHOWN} more (--format json lists all)`);
  }
  if (!shown.has('unused')) return `${lines.join('\n')}\n`;
  lines.push('', `## ${TITLES.unused}: ${comparison.unused.length}`);
  if (comparison.unused.length > 0) {
    lines.push('', '| PHI | source | destination | ports | allowed by |', '| --- | --- | --- | --- | --- |');
    for (const u of comparison.unused.slice(0, SHOWN)) {
      lines.push(
        `| ${u.phi.length > 0 ? 'PHI' : ''} | ${mdText(peerName(u.connection.src))} | ${mdText(peerName(u.connection.dst))} | ${mdText(formatPorts(u.connection.ports))} | ${mdText(unusedLine(u).replace(/^.*\(|\)$/g, ''))} |`,
      );
    }
    if (comparison.unused.length > SHOWN)
      lines.push('', `… and ${comparison.unused.length - SHOWN} more (--format json lists all)`);
  }
  return `${lines.join('\n')}\n`;
}

/** An end in JSON: a workload, an address, or a group of addresses (`external` lists them). */
function endJson(
  edge: ShownEdge,
  side: 'src' | 'dst',
): FlowPeer | { network: string; kind: string; external: string[] } {
  const external = edge.external;
  if (external === undefined || external.side !== side || external.addresses.length === 1) return edge[side];
  return {
    network: external.group.label,
    kind: external.group.kind,
    external: external.addresses.map((a) => a.ip),
  };
}

export function flowsJson(report: FlowReport) {
  const { comparison, stats } = report;
  const all = shownEdges(report);
  const edge = (e: ShownEdge) => ({
    src: endJson(e, 'src'),
    dst: endJson(e, 'dst'),
    protocol: e.protocol,
    port: e.port,
    observed: e.observed,
    policy: e.policyAllows ? 'allow' : 'deny',
    count: e.count,
    records: e.events,
    phi: e.phi,
    ...(e.firstSeen ? { firstSeen: e.firstSeen, lastSeen: e.lastSeen } : {}),
    at: `${e.at.file}:${e.at.line}`,
    ...(e.external !== undefined && e.external.addresses.length > 1
      ? { addresses: e.external.addresses }
      : {}),
    responsible: responsibleJson(e.responsible),
  });
  const of = (group: FlowGroup) => all.filter((e) => e.group === group);
  return {
    summary: {
      records: comparison.mapped.records,
      flows: comparison.mapped.flows,
      edges: all.length,
      gaps: of('gap').length,
      phiGaps: of('gap').filter((e) => e.phi.length > 0).length,
      needed: of('needed').length,
      droppedAllowed: of('dropped-allowed').length,
      used: of('used').length,
      unused: comparison.unused.length,
      unmapped: comparison.mapped.unmapped.count,
    },
    ...(comparison.window ? { window: comparison.window } : {}),
    inputs: stats,
    unmapped: comparison.mapped.unmapped,
    gap: of('gap').map(edge),
    needed: of('needed').map(edge),
    droppedAllowed: of('dropped-allowed').map(edge),
    used: of('used').map(edge),
    unused: comparison.unused.map((u) => ({
      src: u.connection.src,
      dst: u.connection.dst,
      ports: portsToJson(u.connection.ports),
      phi: u.phi,
      responsible: responsibleJson(u.responsible),
    })),
  };
}
