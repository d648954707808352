import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { peerName } from '../analysis/connectivity.ts';
import type { ConnectionChange, DiffResult, Responsible, SideRules, SourceRef } from '../analysis/diff.ts';
import { formatPorts, isEmptyPorts, type PortSet } from '../engine/ports.ts';
import { VERSION } from '../version.ts';
import { mdText } from './audit-md.ts';
import { PARTIAL_NOTE } from './explain.ts';
import { portsToJson } from './ports-json.ts';

export const DIFF_FORMATS = ['text', 'json', 'md', 'sarif'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export interface DiffReport {
  result: DiffResult;
  /** How the two sides were named on the command line, e.g. `HEAD:k8s` and `k8s`. */
  before: string;
  after: string;
}

function ports(set: PortSet): string {
  return isEmptyPorts(set) ? 'nothing' : formatPorts(set);
}

function connectionName(c: ConnectionChange): string {
  return `${peerName(c.src)} -> ${peerName(c.dst)}`;
}

export function summaryLine(result: DiffResult): string {
  const { added, removed, changed, phi, phiWidening } = result.summary;
  const total = added + removed + changed;
  if (total === 0) return 'No change in allowed connectivity';
  return `${total} connection${total === 1 ? '' : 's'} changed: ${added} added, ${removed} removed, ${changed} with other ports; ${phi} touch${phi === 1 ? 'es' : ''} PHI, ${phiWidening} add${phiWidening === 1 ? 's' : ''} reachability into or out of PHI`;
}

function changeText(c: ConnectionChange): string {
  switch (c.kind) {
    case 'added':
      return `added: ${ports(c.after)}`;
    case 'removed':
      return `removed: was ${ports(c.before)}`;
    case 'changed':
      return [
        isEmptyPorts(c.gained) ? '' : `gained ${ports(c.gained)}`,
        isEmptyPorts(c.lost) ? '' : `lost ${ports(c.lost)}`,
      ]
        .filter(Boolean)
        .join('; ');
  }
}

function halfOpenText(c: ConnectionChange): string | undefined {
  if (!c.halfOpen) return undefined;
  const { egress, ingress } = c.responsible.after;
  const [open, closed] = c.halfOpen.openSide === 'egress' ? [egress, ingress] : [ingress, egress];
  const name = (side: SideRules | undefined) => (side ? `${side.direction} of ${side.subject}` : '');
  return `half-open: ${name(open)} still allows ${ports(c.halfOpen.ports)}, but ${name(closed)} does not admit it`;
}

/** One line per side: who isolates it and which rules admit the other end. */
function sideText(side: SideRules): string {
  const title = `${side.direction} of ${side.subject}`;
  if (side.hostNetwork) return `${title}: hostNetwork, outside NetworkPolicy`;
  if (side.tiers.length > 0) {
    const steps = side.tiers.map((step) =>
      step.rule
        ? `${step.tier} ${step.rule} (${step.at}): ${step.action} ${ports(step.ports)}`
        : `${step.tier}: ${step.action === 'Allow' ? 'allows' : 'denies'} ${ports(step.ports)}`,
    );
    return `${title}: ${steps.join('; ')}`;
  }
  if (side.isolatedBy.length === 0) return `${title}: not isolated, everything allowed`;
  if (side.admittedBy.length === 0) {
    const by = side.isolatedBy.map((p) => `${p.policy} (${p.at})`).join(', ');
    return `${title}: isolated by ${by}; no rule admits it`;
  }
  const rules = side.admittedBy.map((r) => `${r.rule} (${r.at}): ${ports(r.ports)}`).join(', ');
  return `${title}: admitted by ${rules}`;
}

export function responsibleLines(r: Responsible): string[] {
  const lines = r.missing.map((id) => `${id} does not exist`);
  for (const side of [r.egress, r.ingress]) if (side) lines.push(sideText(side));
  if (lines.length === 0) lines.push('no NetworkPolicy governs either end');
  return lines;
}

function sectionsOf(result: DiffResult) {
  return {
    phi: result.changes.filter((c) => c.phi.length > 0),
    other: result.changes.filter((c) => c.phi.length === 0),
  };
}

export function renderDiffText(report: DiffReport): string {
  const { result } = report;
  const lines = [`phiwall diff: ${report.before} -> ${report.after}`];
  if (result.partial) lines.push(PARTIAL_NOTE);
  lines.push(summaryLine(result));
  for (const c of result.changes) {
    const mark = c.phiWidening ? '[PHI+] ' : c.phi.length > 0 ? '[PHI] ' : '';
    lines.push('', `${mark}${connectionName(c)}: ${changeText(c)}`);
    if (c.phi.length > 0) lines.push(`  PHI: ${c.phi.join(', ')}`);
    const half = halfOpenText(c);
    if (half) lines.push(`  ${half}`);
    lines.push(
      `  before (${ports(c.before)}):`,
      ...responsibleLines(c.responsible.before).map((l) => `    ${l}`),
    );
    lines.push(
      `  after (${ports(c.after)}):`,
      ...responsibleLines(c.responsible.after).map((l) => `    ${l}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

function sideJson(side: SideRules | undefined) {
  if (!side) return undefined;
  return {
    subject: side.subject,
    governed: !side.hostNetwork,
    isolated: side.isolatedBy.length > 0,
    isolatedBy: side.isolatedBy.map((p) => ({ policy: p.policy, at: p.at })),
    admittedBy: side.admittedBy.map((r) => ({
      rule: r.rule,
      at: r.at,
      ports: portsToJson(r.ports),
      ...(r.byIpBlock ? { dependsOn: ['ipblock-matches-pods'] } : {}),
    })),
    tiers: side.tiers.map((step) => ({
      tier: step.tier,
      action: step.action,
      ...(step.rule ? { rule: step.rule, at: step.at } : {}),
      ports: portsToJson(step.ports),
    })),
    ports: portsToJson(side.ports),
  };
}

export function responsibleJson(r: Responsible) {
  return { egress: sideJson(r.egress), ingress: sideJson(r.ingress), missing: r.missing };
}

export function diffJson(report: DiffReport) {
  const { result } = report;
  return {
    before: report.before,
    after: report.after,
    partial: result.partial,
    summary: result.summary,
    changes: result.changes.map((c) => ({
      kind: c.kind,
      src: c.src,
      dst: c.dst,
      phi: c.phi,
      phiWidening: c.phiWidening,
      before: portsToJson(c.before),
      after: portsToJson(c.after),
      gained: portsToJson(c.gained),
      lost: portsToJson(c.lost),
      ...(c.halfOpen
        ? { halfOpen: { openSide: c.halfOpen.openSide, ports: portsToJson(c.halfOpen.ports) } }
        : {}),
      responsible: {
        before: responsibleJson(c.responsible.before),
        after: responsibleJson(c.responsible.after),
      },
    })),
  };
}

const KIND_MARK = { added: '➕ added', removed: '➖ removed', changed: '✏️ changed' } as const;

function tableOf(changes: readonly ConnectionChange[]): string[] {
  const rows = changes.map((c) => {
    const mark = c.phiWidening ? '🔴' : c.phi.length > 0 ? '🟠' : '';
    const half = c.halfOpen ? ' (half-open)' : '';
    const cells = [
      mark,
      `${mdText(peerName(c.src))} → ${mdText(peerName(c.dst))}`,
      `${KIND_MARK[c.kind]}${half}`,
      isEmptyPorts(c.gained) ? '–' : mdText(ports(c.gained)),
      isEmptyPorts(c.lost) ? '–' : mdText(ports(c.lost)),
    ];
    return `| ${cells.join(' | ')} |`;
  });
  return ['| | Connection | Change | Gained | Lost |', '|---|---|---|---|---|', ...rows];
}

function detailsOf(c: ConnectionChange): string[] {
  const summary = `${c.phi.length > 0 ? 'PHI: ' : ''}${mdText(connectionName(c))}`;
  const list = (r: Responsible) => responsibleLines(r).map((line) => `  - ${mdText(line)}`);
  const half = halfOpenText(c);
  return [
    '<details>',
    `<summary>${summary}</summary>`,
    '',
    ...(half ? [`**${mdText(half)}**`, ''] : []),
    `- **before** (${mdText(ports(c.before))}):`,
    ...list(c.responsible.before),
    `- **after** (${mdText(ports(c.after))}):`,
    ...list(c.responsible.after),
    '',
    '</details>',
  ];
}

/** A pull-request comment: heading, summary, PHI changes first, the evidence folded away. */
export function renderDiffMarkdown(report: DiffReport): string {
  const { result } = report;
  const { phi, other } = sectionsOf(result);
  const widening = result.summary.phiWidening;
  const heading =
    result.changes.length === 0
      ? 'no change'
      : widening > 0
        ? `${widening} change${widening === 1 ? '' : 's'} add${widening === 1 ? 's' : ''} reachability to PHI`
        : `${result.changes.length} change${result.changes.length === 1 ? '' : 's'}`;
  const lines = [
    `## phiwall network-policy diff: ${heading}`,
    '',
    `Comparing \`${mdText(report.before)}\` → \`${mdText(report.after)}\`.`,
    '',
    `**${mdText(summaryLine(result))}.**`,
  ];
  if (result.partial) lines.push('', `> ${mdText(PARTIAL_NOTE)}`);
  if (phi.length > 0) lines.push('', '### Changes touching PHI', '', ...tableOf(phi));
  if (other.length > 0) lines.push('', '### Other changes', '', ...tableOf(other));
  if (result.changes.length > 0) {
    lines.push('', '### Policies responsible', '');
    for (const c of result.changes) lines.push(...detailsOf(c), '');
    lines.push('🔴 adds reachability into or out of PHI · 🟠 touches PHI');
  }
  return `${lines.join('\n')}\n`;
}

const RULES = [
  { id: 'phi-reachability-added', text: 'A policy change adds reachability into or out of a PHI workload' },
  { id: 'phi-connection-changed', text: 'A policy change narrows a connection of a PHI workload' },
  { id: 'connection-added', text: 'A policy change allows a connection or ports not allowed before' },
  { id: 'connection-removed', text: 'A policy change denies a connection or ports allowed before' },
] as const;

function ruleOf(c: ConnectionChange): (typeof RULES)[number]['id'] {
  if (c.phiWidening) return 'phi-reachability-added';
  if (c.phi.length > 0) return 'phi-connection-changed';
  return isEmptyPorts(c.gained) ? 'connection-removed' : 'connection-added';
}

function uriOf(path: string): string {
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return encodeURI(path.replace(/\\/g, '/')).replace(/[?#]/g, encodeURIComponent);
}

/** The rule as it stands after the change: it admits what was gained or isolates what was lost. */
function locationOf(c: ConnectionChange): SourceRef | undefined {
  const first = (r: Responsible) =>
    r.ingress?.admittedBy[0] ??
    r.egress?.admittedBy[0] ??
    r.ingress?.isolatedBy[0] ??
    r.egress?.isolatedBy[0];
  return first(c.responsible.after) ?? first(c.responsible.before);
}

export function diffSarif(report: DiffReport) {
  const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]));
  const results = report.result.changes.map((c) => {
    const ruleId = ruleOf(c);
    const at = locationOf(c);
    const detail = [
      `${connectionName(c)}: ${changeText(c)}.`,
      c.phi.length ? `PHI: ${c.phi.join(', ')}.` : '',
      halfOpenText(c) ?? '',
      `Before: ${responsibleLines(c.responsible.before).join('; ')}.`,
      `After: ${responsibleLines(c.responsible.after).join('; ')}.`,
    ];
    return {
      ruleId,
      ruleIndex: ruleIndex.get(ruleId),
      level: c.phiWidening ? 'error' : c.phi.length > 0 ? 'warning' : 'note',
      message: { text: detail.filter(Boolean).join('\n') },
      ...(at
        ? {
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: uriOf(at.file) },
                  region: { startLine: Math.max(1, at.line) },
                },
              },
            ],
          }
        : {}),
      partialFingerprints: { connection: `${c.kind}:${connectionName(c)}` },
    };
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'phiwall',
            version: VERSION,
            semanticVersion: VERSION,
            rules: RULES.map((r) => ({ id: r.id, shortDescription: { text: r.text } })),
          },
        },
        results,
        properties: { partial: report.result.partial, summary: report.result.summary },
      },
    ],
  };
}

export function renderDiff(report: DiffReport, format: DiffFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(diffJson(report), null, 2)}\n`;
    case 'sarif':
      return `${JSON.stringify(diffSarif(report), null, 2)}\n`;
    case 'md':
      return renderDiffMarkdown(report);
    case 'text':
      return renderDiffText(report);
  }
}
