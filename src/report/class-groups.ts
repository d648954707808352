import type { ClassGroup, GroupConnection, GroupPeer } from '../analysis/class-groups.ts';
import { formatPorts } from '../engine/ports.ts';
import type { Snapshot } from '../model/types.ts';
import { portsToJson } from './ports-json.ts';

export interface GroupedReport {
  snapshot: Snapshot;
  groups: readonly ClassGroup[];
  connections: readonly GroupConnection[];
  /** Why the output is grouped, when it was not asked for (shown first). */
  note?: string;
}

const SHOWN = 3;

function list(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN).join(', ');
  return items.length > SHOWN ? `${shown} … (+${items.length - SHOWN})` : shown;
}

export function describeGroup(group: ClassGroup): string {
  const labels = Object.entries(group.commonLabels).map(([k, v]) => `${k}=${v}`);
  return [
    `${group.pods} pod${group.pods === 1 ? '' : 's'} in ${group.workloads.length} workload${group.workloads.length === 1 ? '' : 's'} (${list(group.workloads)})`,
    `namespaces: ${list(group.namespaces)}`,
    `labels: ${labels.length ? list(labels) : '(none in common)'}`,
  ].join('; ');
}

function peerName(peer: GroupPeer): string {
  return 'group' in peer ? peer.group.id : peer.external.join(',');
}

export function renderGroupedText(report: GroupedReport): string {
  const lines: string[] = [];
  if (report.note) lines.push(`# ${report.note}`);
  if (report.snapshot.partial) lines.push('# PARTIAL: invalid objects were left out (--skip-invalid)');
  lines.push('Groups (pods that every policy treats alike):');
  for (const group of report.groups) lines.push(`  ${group.id}: ${describeGroup(group)}`);
  lines.push('Connections:');
  for (const c of report.connections)
    lines.push(`  ${peerName(c.src)} => ${peerName(c.dst)} : ${formatPorts(c.ports)}`);
  if (report.connections.length === 0) lines.push('  no connections are allowed');
  return `${lines.join('\n')}\n`;
}

export function renderGroupedMarkdown(report: GroupedReport): string {
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('<', '&lt;');
  const lines = ['# Allowed connections, grouped by class', ''];
  if (report.note) lines.push(`> ${cell(report.note)}`, '');
  lines.push('| Group | Description |', '| --- | --- |');
  for (const group of report.groups) lines.push(`| ${group.id} | ${cell(describeGroup(group))} |`);
  lines.push('', '| Source | Destination | Ports |', '| --- | --- | --- |');
  for (const c of report.connections) {
    lines.push(`| ${cell(peerName(c.src))} | ${cell(peerName(c.dst))} | ${cell(formatPorts(c.ports))} |`);
  }
  return `${lines.join('\n')}\n`;
}

export function groupedJson(report: GroupedReport) {
  const peer = (p: GroupPeer) => ('group' in p ? { group: p.group.id } : { external: p.external });
  return {
    groups: report.groups.map((g) => ({
      id: g.id,
      pods: g.pods,
      workloads: g.workloads,
      namespaces: g.namespaces,
      commonLabels: g.commonLabels,
    })),
    connections: report.connections.map((c) => ({
      src: peer(c.src),
      dst: peer(c.dst),
      ports: portsToJson(c.ports),
    })),
    partial: report.snapshot.partial,
  };
}

export const GROUPED_FORMATS = ['text', 'md', 'json'] as const;

export function renderGrouped(report: GroupedReport, format: (typeof GROUPED_FORMATS)[number]): string {
  if (format === 'json') return `${JSON.stringify(groupedJson(report), null, 2)}\n`;
  return format === 'md' ? renderGroupedMarkdown(report) : renderGroupedText(report);
}
