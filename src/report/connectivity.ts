import { type Connection, peerName } from '../analysis/connectivity.ts';
import { l7Text } from '../analysis/l7.ts';
import type { IntervalSet } from '../engine/intervals.ts';
import { formatPorts, isEmptyPorts, TRANSPORTS } from '../engine/ports.ts';
import type { Snapshot } from '../model/types.ts';
import { where } from './explain.ts';
import { portsToJson } from './ports-json.ts';

export const CONNECTIVITY_FORMATS = ['text', 'json', 'csv', 'md', 'dot'] as const;
export type ConnectivityFormat = (typeof CONNECTIVITY_FORMATS)[number];

export interface ConnectivityReport {
  snapshot: Snapshot;
  connections: readonly Connection[];
  options: Record<string, unknown>;
}

export function renderConnectivity(report: ConnectivityReport, format: ConnectivityFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(connectivityJson(report), null, 2)}\n`;
    case 'csv':
      return renderCsv(report.connections);
    case 'md':
      return renderMarkdown(report);
    case 'dot':
      return renderDot(report.connections);
    default:
      return renderText(report);
  }
}

export function connectivityJson({ snapshot, connections, options }: ConnectivityReport) {
  const inferred = snapshot.workloads.filter((w) => w.namedBy && w.namedBy !== 'object');
  return {
    connections: connections.map((c) => ({
      src: c.src,
      dst: c.dst,
      ports: portsToJson(c.ports),
      ...(c.portsAllPods ? { portsAllPods: portsToJson(c.portsAllPods) } : {}),
      ...(c.dependsOn.length ? { dependsOn: c.dependsOn } : {}),
      ...(c.l7Filtered
        ? {
            l7Filtered: c.l7Filtered.map(({ rule, ports }) => ({
              rule: rule.rule,
              at: where(rule.provenance),
              note: rule.note,
              ports: portsToJson(ports),
            })),
          }
        : {}),
    })),
    partial: snapshot.partial,
    options,
    // Names not read from an object of the input: which rule gave them (docs/semantics.md#workloads).
    ...(inferred.length ? { namedBy: Object.fromEntries(inferred.map((w) => [w.id, w.namedBy])) } : {}),
    inputs: snapshot.inputs,
  };
}

export function connectionLine(c: Connection): string {
  const notes = c.dependsOn.length ? `  (depends on: ${c.dependsOn.join(', ')})` : '';
  const l7 = c.l7Filtered ? `  [${l7Text(c.l7Filtered ?? [])}]` : '';
  return `${peerName(c.src)} => ${peerName(c.dst)} : ${portsText(c)}${notes}${l7}`;
}

/** `TCP 80`, or for ends whose pods differ `all ports (some pods), every pod: TCP 80`. */
export function portsText(c: Connection): string {
  if (!c.portsAllPods) return formatPorts(c.ports);
  const common = isEmptyPorts(c.portsAllPods) ? '' : `, every pod: ${formatPorts(c.portsAllPods)}`;
  return `${formatPorts(c.ports)} ${SOME_PODS}${common}`;
}

/** The mark of a connection that only some pod pairs of its ends have. */
export const SOME_PODS = '(some pods)';

function renderText({ snapshot, connections }: ConnectivityReport): string {
  const header = snapshot.partial ? ['# PARTIAL: invalid objects were left out (--skip-invalid)'] : [];
  const body = connections.length ? connections.map(connectionLine) : ['no connections are allowed'];
  return `${[...header, ...body].join('\n')}\n`;
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function renderCsv(connections: readonly Connection[]): string {
  const rows = [['src', 'dst', 'protocol', 'ports', 'note']];
  const text = (ranges: IntervalSet<number>) =>
    ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(' ');
  for (const c of connections) {
    for (const protocol of TRANSPORTS) {
      const ranges = c.ports[protocol];
      if (ranges.length === 0) continue;
      // A row per protocol: marked when not every pod pair has all of its ports, with those they have.
      const common = c.portsAllPods?.[protocol];
      const some =
        common === undefined || text(common) === text(ranges)
          ? ''
          : `${SOME_PODS}${common.length ? `, every pod: ${text(common)}` : ''}`;
      const l7 = (c.l7Filtered ?? []).filter(({ ports }) => ports[protocol].length > 0);
      const filtered = l7.map(({ rule, ports }) => `${rule.note} ${text(ports[protocol])} by ${rule.rule}`);
      rows.push([
        peerName(c.src),
        peerName(c.dst),
        protocol,
        text(ranges),
        [some, ...filtered].filter(Boolean).join('; '),
      ]);
    }
  }
  return `${rows.map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}

function markdownCell(value: string): string {
  return value.replaceAll('|', '\\|').replaceAll('<', '&lt;');
}

function renderMarkdown({ snapshot, connections }: ConnectivityReport): string {
  const lines = ['# Allowed connections', ''];
  if (snapshot.partial)
    lines.push('> **Partial result:** invalid objects were left out (`--skip-invalid`).', '');
  lines.push('| Source | Destination | Ports |', '| --- | --- | --- |');
  for (const c of connections) {
    lines.push(
      `| ${markdownCell(peerName(c.src))} | ${markdownCell(peerName(c.dst))} | ${markdownCell(c.l7Filtered ? `${portsText(c)}; ${l7Text(c.l7Filtered ?? [])}` : portsText(c))} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function dotString(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

function renderDot(connections: readonly Connection[]): string {
  const lines = ['digraph connectivity {', '  rankdir=LR;', '  node [shape=box];'];
  for (const c of connections) {
    lines.push(
      `  ${dotString(peerName(c.src))} -> ${dotString(peerName(c.dst))} [label=${dotString(portsText(c))}];`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
