import { createHash } from 'node:crypto';
import type { Finding, Status } from '../compliance/types.ts';
import { SEVERITIES } from '../compliance/types.ts';
import { VERSION } from '../version.ts';
import {
  type AuditReport,
  DISCLAIMER,
  enforcementBanner,
  type FlowEdge,
  RETENTION_NOTE,
  sortFindings,
  TRAFFIC_GROUPS,
  trafficEdgeText,
} from './audit.ts';
import { coverageLines, coverageOf } from './audit-coverage.ts';
import { responsibleLines } from './diff.ts';

/** Every name in the report comes from manifests or config: untrusted, escaped in text and attributes. */
export function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const FLOW_MAP_CHECK = 'HIPAA-NP-032';

/** The structured flows when the CLI computed them, else HIPAA-NP-032's `src -> dst ports` edges. */
export function flowsOf(report: AuditReport): FlowEdge[] {
  if (report.flows) return report.flows;
  const flows: FlowEdge[] = [];
  for (const f of report.result.findings) {
    if (f.check !== FLOW_MAP_CHECK) continue;
    for (const edge of f.evidence.edges ?? []) {
      const match = /^(\S+) -> (\S+)(?: (.*))?$/.exec(edge.trim());
      if (match) flows.push({ src: match[1] ?? '', dst: match[2] ?? '', ports: match[3] ?? '' });
    }
  }
  return flows;
}

const NODE_W = 300;
const NODE_H = 26;
const ROW = 36;
const TOP = 44;
const COLUMN_X = [10, 410, 810] as const;
const WIDTH = 1120;
/** Past this a column is cut short: the table under the map lists every flow anyway. */
const MAX_PER_COLUMN = 60;
const LABEL_CHARS = 44;

function shortLabel(name: string): string {
  return name.length > LABEL_CHARS ? `${name.slice(0, LABEL_CHARS - 1)}…` : name;
}

/** Workloads before external address blocks, each alphabetical. */
function byPeer(a: string, b: string): number {
  const external = (name: string) => (/^[\d.:a-f]+\/\d+/i.test(name) ? 1 : 0);
  return external(a) - external(b) || a.localeCompare(b);
}

/**
 * The ePHI flow map: who reaches PHI workloads (left), the PHI workloads (middle), what they reach
 * (right); flows between PHI workloads arc on the middle column.
 */
export function flowMapSvg(phi: readonly string[], flows: readonly FlowEdge[]): string {
  const phiSet = new Set(phi);
  const middle = [...phiSet].sort(byPeer);
  const left = [...new Set(flows.filter((f) => phiSet.has(f.dst) && !phiSet.has(f.src)).map((f) => f.src))];
  const right = [...new Set(flows.filter((f) => phiSet.has(f.src) && !phiSet.has(f.dst)).map((f) => f.dst))];
  const columns = [left.sort(byPeer), middle, right.sort(byPeer)];
  const position = new Map<string, { column: number; y: number }>();
  const nodes: string[] = [];
  const headings = ['Reaches PHI', 'PHI workloads', 'Reached from PHI'];
  // A cut column shows one extra row for its "and N more" line.
  const rowsOf = (names: readonly string[]) => Math.min(names.length, MAX_PER_COLUMN + 1);
  const rows = Math.max(1, ...columns.map(rowsOf));
  columns.forEach((names, column) => {
    // Shorter columns are centred, so the PHI workloads sit between who reaches them and what they reach.
    const top = TOP + ((rows - rowsOf(names)) * ROW) / 2;
    const x = COLUMN_X[column] ?? 0;
    nodes.push(
      `<text class="heading" x="${x + NODE_W / 2}" y="24" text-anchor="middle">${headings[column]} (${names.length})</text>`,
    );
    const shown = names.slice(0, MAX_PER_COLUMN);
    shown.forEach((name, i) => {
      const y = top + i * ROW;
      position.set(`${column}:${name}`, { column, y });
      const kind = column === 1 ? 'phi' : /^[\d.:a-f]+\/\d+/i.test(name) ? 'external' : 'peer';
      nodes.push(
        `<g class="node ${kind}"><title>${esc(name)}</title><rect x="${x}" y="${y}" width="${NODE_W}" height="${NODE_H}" rx="5"/><text x="${x + 8}" y="${y + 17}">${esc(shortLabel(name))}</text></g>`,
      );
    });
    if (names.length > shown.length) {
      const y = top + shown.length * ROW;
      nodes.push(
        `<text class="more" x="${x + 8}" y="${y + 17}">and ${names.length - shown.length} more (see the table)</text>`,
      );
    }
  });
  const edges: string[] = [];
  for (const flow of flows) {
    const label = `<title>${esc(`${flow.src} -> ${flow.dst} ${flow.ports}`.trim())}</title>`;
    if (phiSet.has(flow.src) && phiSet.has(flow.dst)) {
      const a = position.get(`1:${flow.src}`);
      const b = position.get(`1:${flow.dst}`);
      if (!a || !b) continue;
      const x = COLUMN_X[1] + NODE_W;
      const bulge = x + 30 + Math.min(60, Math.abs(b.y - a.y) / 4);
      edges.push(
        `<path class="edge internal" d="M${x},${a.y + NODE_H / 2} C${bulge},${a.y + NODE_H / 2} ${bulge},${b.y + NODE_H / 2} ${x + 4},${b.y + NODE_H / 2}" marker-end="url(#arrow)">${label}</path>`,
      );
      continue;
    }
    const [from, to] = phiSet.has(flow.dst)
      ? [position.get(`0:${flow.src}`), position.get(`1:${flow.dst}`)]
      : [position.get(`1:${flow.src}`), position.get(`2:${flow.dst}`)];
    if (!from || !to) continue;
    const x1 = (COLUMN_X[from.column] ?? 0) + NODE_W;
    const x2 = (COLUMN_X[to.column] ?? 0) - 4;
    const y1 = from.y + NODE_H / 2;
    const y2 = to.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    const kind = phiSet.has(flow.dst) ? 'inbound' : 'outbound';
    edges.push(
      `<path class="edge ${kind}" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}" marker-end="url(#arrow)">${label}</path>`,
    );
  }
  const height = TOP + rows * ROW + 10;
  const empty =
    phiSet.size === 0
      ? `<text class="more" x="${WIDTH / 2}" y="${TOP + 17}" text-anchor="middle">No PHI workloads found.</text>`
      : '';
  return [
    `<svg class="flow-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-labelledby="flow-map-title">`,
    '<title id="flow-map-title">ePHI flow map: allowed connections into, out of and between PHI workloads</title>',
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ...edges,
    ...nodes,
    empty,
    '</svg>',
  ].join('\n');
}

const STATUS_LABEL: Record<Status, string> = {
  fail: 'fail',
  'needs-review': 'needs review',
  'not-assessable': 'not assessable',
  pass: 'pass',
};

function badge(f: Finding): string {
  const accepted = f.accepted ? ' <span class="badge accepted">accepted</span>' : '';
  return `<span class="badge ${f.status}">${STATUS_LABEL[f.status]}</span>${accepted}`;
}

function objectsSummary(objects: readonly string[]): string {
  if (objects.length === 0) return '–';
  const shown = objects.slice(0, 3).map(esc).join(', ');
  return objects.length > 3 ? `${shown} and ${objects.length - 3} more` : shown;
}

function list(items: string[]): string {
  return items.length ? `<ul>${items.map((item) => `<li>${item}</li>`).join('')}</ul>` : '';
}

function findingDetail(f: Finding, id: string): string {
  const parts = [
    `<article class="finding" id="${id}">`,
    `<h3>${badge(f)} <span class="sev ${f.severity}">${f.severity}</span> ${esc(f.check)} ${esc(f.title)}</h3>`,
    `<p class="refs">HIPAA: ${f.hipaa.map((h) => `45 CFR ${esc(h)}`).join('; ')}</p>`,
  ];
  if (f.accepted)
    parts.push(
      `<p class="accepted-note">Accepted until ${esc(f.accepted.until)}: ${esc(f.accepted.reason)}</p>`,
    );
  if (f.objects.length) parts.push(`<h4>Objects</h4>${list(f.objects.map((o) => `<code>${esc(o)}</code>`))}`);
  if (f.location) parts.push(`<p>Location: <code>${esc(`${f.location.file}:${f.location.line}`)}</code></p>`);
  const edges = (f.evidence.edges ?? []).map((e) => `<code>${esc(e)}</code>`);
  const rules = (f.evidence.rules ?? []).map(
    (r) => `<code>${esc(r.rule)}</code> at <code>${esc(r.at)}</code>`,
  );
  const notes = (f.evidence.notes ?? []).map(esc);
  if (edges.length || rules.length || notes.length)
    parts.push(`<h4>Evidence</h4>${list(edges)}${list(rules)}${list(notes)}`);
  if (f.remediation) {
    parts.push(`<h4>Remediation</h4><p>${esc(f.remediation.text)}</p>`);
    if (f.remediation.yaml) parts.push(`<pre>${esc(f.remediation.yaml)}</pre>`);
  }
  parts.push('</article>');
  return parts.join('\n');
}

/** `164.308(a)(1)(ii)(A)` sorts before `164.312(a)(1)`, and `(a)(2)` before `(a)(10)`. */
function bySection(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const CSS = `
:root { color-scheme: light; --fail: #b42318; --review: #b54708; --na: #667085; --pass: #067647; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #101828; margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d5dd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 12px 0 6px; } h4 { font-size: 13px; margin: 10px 0 4px; }
.meta, .refs { color: #475467; } .disclaimer { font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; } th, td { border: 1px solid #d0d5dd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; } td.num { text-align: right; } td.id { white-space: nowrap; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: anywhere; }
pre { background: #f9fafb; border: 1px solid #eaecf0; padding: 8px; white-space: pre-wrap; }
.badge { display: inline-block; border-radius: 4px; padding: 0 6px; color: #fff; font-size: 12px; font-weight: 600; }
.badge.fail { background: var(--fail); } .badge.needs-review { background: var(--review); } .badge.not-assessable { background: var(--na); }
.badge.pass { background: var(--pass); } .badge.accepted { background: #344054; }
.sev { font-size: 12px; text-transform: uppercase; color: #475467; }
.warning { border-left: 4px solid var(--review); background: #fffaeb; padding: 6px 10px; }
.finding { border: 1px solid #eaecf0; border-radius: 6px; padding: 4px 12px 8px; margin: 10px 0; }
.map { overflow-x: auto; border: 1px solid #eaecf0; border-radius: 6px; }
.flow-map { max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
.flow-map .heading { font-weight: 600; font-size: 13px; fill: #344054; }
.flow-map .node rect { stroke-width: 1.2; } .flow-map .node text { fill: #101828; }
.flow-map .phi rect { fill: #fee4e2; stroke: var(--fail); } .flow-map .peer rect { fill: #eff8ff; stroke: #175cd3; }
.flow-map .external rect { fill: #fef6ee; stroke: #c4320a; } .flow-map .more { fill: #667085; font-style: italic; }
.flow-map .edge { fill: none; stroke: #98a2b3; stroke-width: 1.3; } .flow-map .edge.internal { stroke-dasharray: 4 3; stroke: var(--fail); }
.flow-map marker path { fill: #667085; }
footer { margin-top: 28px; color: #475467; }
@page { margin: 14mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 10pt; }
  a { color: inherit; text-decoration: none; }
  .map { overflow: visible; border: none; }
  .finding, table, .map, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  thead { display: table-header-group; }
  .badge, .flow-map { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;

/**
 * One self-contained, printable file: no scripts, fonts or images, and a CSP that forbids fetching
 * anything, so it can be archived as evidence and opened offline years later.
 */
export function renderAuditHtml(report: AuditReport): string {
  const { summary, findings, phi } = report.result;
  const sorted = sortFindings(findings);
  const anchor = new Map(sorted.map((f, i) => [f, `finding-${i + 1}`]));
  const flows = flowsOf(report);
  const generated = report.generatedAt.toISOString();
  const causes = report.result.rootCauses;
  const banner = enforcementBanner(report.result);

  const sections = [...new Set(findings.flatMap((f) => f.hipaa))].sort(bySection);
  const sectionHtml = sections.map((section) => {
    const rows = sorted
      .filter((f) => f.hipaa.includes(section))
      .map((f) => {
        const check = f.status === 'pass' ? esc(f.check) : `<a href="#${anchor.get(f)}">${esc(f.check)}</a>`;
        return `<tr><td>${badge(f)}</td><td>${f.severity}</td><td class="id">${check}</td><td>${esc(f.title)}</td><td>${objectsSummary(f.objects)}</td></tr>`;
      });
    return `<section class="hipaa-section"><h3>45 CFR ${esc(section)}</h3>
<table><thead><tr><th>Status</th><th>Severity</th><th>Check</th><th>Title</th><th>Objects</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></section>`;
  });

  const details = sorted.filter((f) => f.status !== 'pass').map((f) => findingDetail(f, anchor.get(f) ?? ''));
  const flowRows = flows.map(
    (f) =>
      `<tr><td><code>${esc(f.src)}</code></td><td><code>${esc(f.dst)}</code></td><td>${esc(f.ports)}</td></tr>`,
  );
  const configJson = JSON.stringify(report.config, null, 2);
  const configRows = [
    report.configSource
      ? `<tr><th>Config file</th><td><code>${esc(report.configSource.path)}</code></td><td><code>${esc(report.configSource.sha256)}</code></td></tr>`
      : '<tr><th>Config file</th><td colspan="2">none (defaults)</td></tr>',
    `<tr><th>Effective config (JSON below)</th><td>sha256</td><td><code>${sha256(configJson)}</code></td></tr>`,
  ];

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="phiwall ${esc(VERSION)}">
<link rel="icon" href="data:,">
<title>phiwall HIPAA network-segmentation audit — ${esc(generated)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>HIPAA network-segmentation audit</h1>
<p class="meta">phiwall ${esc(VERSION)} · generated ${esc(generated)}</p>
<p class="disclaimer">${esc(DISCLAIMER)}</p>
${report.snapshot.partial ? '<p class="warning">Partial input: invalid objects were left out (--skip-invalid).</p>' : ''}
</header>
<main>
<h2>Summary</h2>
<table class="summary"><thead><tr><th>PHI workloads</th><th>Pass</th><th>Fail</th><th>Needs review</th><th>Not assessable</th><th>Accepted</th></tr></thead>
<tbody><tr><td class="num">${phi.length}</td><td class="num">${summary.byStatus.pass}</td><td class="num">${summary.byStatus.fail}</td><td class="num">${summary.byStatus['needs-review']}</td><td class="num">${summary.byStatus['not-assessable']}</td><td class="num">${summary.accepted}</td></tr></tbody></table>
<table class="summary"><thead><tr><th>Failing, not accepted</th>${SEVERITIES.map((s) => `<th>${s}</th>`).join('')}</tr></thead>
<tbody><tr><th>findings</th>${SEVERITIES.map((s) => `<td class="num">${summary.failingBySeverity[s]}</td>`).join('')}</tr></tbody></table>

${banner ? `<p class="banner"><strong>${esc(banner)}</strong></p>` : ''}
<h2>Root causes</h2>
${causes.length ? `<table><thead><tr><th>#</th><th>Severity</th><th>Root cause</th><th>Findings</th><th>Checks</th><th>Fix (checked by the engine)</th></tr></thead><tbody>${causes.map((c, i) => `<tr><td class="num">${i + 1}</td><td>${c.severity}</td><td>${esc(c.title)}</td><td class="num">${c.findings.length}</td><td>${esc(c.checks.join(', '))}</td><td>${esc(c.verification?.text ?? '')}</td></tr>`).join('\n')}</tbody></table>` : '<p>None: nothing fails or needs review.</p>'}

<h2>ePHI flow map</h2>
<p>Allowed connections into, out of and between PHI workloads, as computed from the NetworkPolicies (${flows.length} flows). Hover an edge or a box for its full name.</p>
<div class="map">
${flowMapSvg(
  phi.map((p) => p.workload),
  flows,
)}
</div>
${flowRows.length ? `<table class="flows"><thead><tr><th>From</th><th>To</th><th>Ports</th></tr></thead><tbody>${flowRows.join('\n')}</tbody></table>` : '<p>No flows into or out of PHI workloads.</p>'}
<h3>PHI workloads</h3>
${phi.length ? `<table><thead><tr><th>Workload</th><th>Why it holds PHI</th></tr></thead><tbody>${phi.map((p) => `<tr><td><code>${esc(p.workload)}</code></td><td>${esc(p.reason)}</td></tr>`).join('\n')}</tbody></table>` : '<p>None found.</p>'}

${trafficHtml(report)}
<h2>Findings by HIPAA section</h2>
${sectionHtml.join('\n')}

<h2>Finding details</h2>
${details.length ? details.join('\n') : '<p>Every check passed.</p>'}

<h2>Inputs</h2>
<table><thead><tr><th>File</th><th>sha256</th></tr></thead><tbody>
${report.snapshot.inputs.map((i) => `<tr><td><code>${esc(i.path)}</code></td><td><code>${esc(i.sha256)}</code></td></tr>`).join('\n')}
</tbody></table>
<h2>Coverage</h2>
<ul class="coverage">${coverageLines(coverageOf(report, VERSION))
    .map((l) => `<li>${esc(l)}</li>`)
    .join('\n')}</ul>
<h2>Configuration</h2>
<table><tbody>${configRows.join('\n')}</tbody></table>
<pre>${esc(configJson)}</pre>
</main>
<footer><p class="retention">${esc(RETENTION_NOTE)}</p></footer>
</body>
</html>
`;
}

/** Observed flows beside policy, for PHI workloads, when flow logs were given. */
function trafficHtml(report: AuditReport): string {
  const traffic = report.result.traffic;
  if (!traffic) return '';
  const groups = TRAFFIC_GROUPS.map(([key, title]) => {
    const rows = traffic[key].map(
      (e) =>
        `<li><code>${esc(trafficEdgeText(e))}</code>${key === 'used' ? '' : list(responsibleLines(e.responsible).map(esc))}</li>`,
    );
    return `<h3>${esc(title)}: ${traffic[key].length}</h3>${rows.length ? `<ul>${rows.join('\n')}</ul>` : ''}`;
  });
  const unused = traffic.unused.map(
    (u) =>
      `<li><code>${esc(`${u.src} => ${u.dst} : ${u.ports}`)}</code>${list(responsibleLines(u.responsible).map(esc))}</li>`,
  );
  return `<h2>Observed traffic vs policy (PHI workloads)</h2>
<p>${esc(traffic.files.join(', '))}: ${traffic.records} records, ${traffic.flows} flows${traffic.window ? ` from ${esc(traffic.window.from)} to ${esc(traffic.window.to)}` : ''}${traffic.unmapped ? `; ${traffic.unmapped} not matched to the manifests` : ''}.</p>
${groups.join('\n')}
<h3>Allowed but never seen (tightening candidates): ${traffic.unused.length}</h3>${unused.length ? `<ul>${unused.join('\n')}</ul>` : ''}
`;
}
