import { createHash } from 'node:crypto';
import type { AuditReport } from './audit.ts';

/**
 * What an audit covered and how it was run, so that the evidence travels: the scope (inputs with their
 * hashes and the git commit, or the cluster), namespaces in and out of scope, what was skipped, the
 * engine options, who ran which command where and when. Collected by the caller (the CLI knows the
 * command line and the repository); the library fills in what the snapshot and config say.
 */
export interface RunDetails {
  commandLine?: string;
  user?: string;
  host?: string;
  startedAt?: Date;
  /** The directory relative paths are read from (the working directory), when no repository holds them. */
  sourceRoot?: string;
  /** The git repository the inputs are in, when they are. */
  repository?: { root: string; commit: string };
  /** The cluster, for `--live`. */
  cluster?: { context?: string; server?: string };
  engineOptions?: Readonly<Record<string, unknown>>;
}

export interface Coverage {
  source:
    | { kind: 'cluster'; context?: string; server?: string }
    | { kind: 'files'; repository?: { root: string; commit: string } };
  inputs: readonly { path: string; sha256: string }[];
  namespaces: { inScope: string[]; excluded: string[] };
  skipped: { kind: string; count: number }[];
  engineOptions: Readonly<Record<string, unknown>>;
  version: string;
  commandLine?: string;
  user?: string;
  host?: string;
  startedAt?: string;
  finishedAt: string;
}

export function coverageOf(report: AuditReport, version: string): Coverage {
  const run = report.run ?? {};
  const excludedNames = new Set(report.config.excludedNamespaces);
  const names = [...report.snapshot.namespaces.keys()].sort();
  return {
    source: run.cluster
      ? { kind: 'cluster', ...run.cluster }
      : { kind: 'files', ...(run.repository ? { repository: run.repository } : {}) },
    inputs: report.snapshot.inputs,
    namespaces: {
      inScope: names.filter((n) => !excludedNames.has(n)),
      excluded: names.filter((n) => excludedNames.has(n)),
    },
    skipped: [...report.snapshot.skippedKinds].map(([kind, count]) => ({ kind, count })),
    engineOptions: run.engineOptions ?? {},
    version,
    ...(run.commandLine ? { commandLine: run.commandLine } : {}),
    ...(run.user ? { user: run.user } : {}),
    ...(run.host ? { host: run.host } : {}),
    ...(run.startedAt ? { startedAt: run.startedAt.toISOString() } : {}),
    finishedAt: report.generatedAt.toISOString(),
  };
}

/** The coverage statement as lines of text, for the text, Markdown, HTML and JUnit reports. */
export function coverageLines(coverage: Coverage): string[] {
  const source =
    coverage.source.kind === 'cluster'
      ? `cluster${coverage.source.context ? ` context ${coverage.source.context}` : ''}${coverage.source.server ? ` at ${coverage.source.server}` : ''}`
      : coverage.source.repository
        ? `files in git repository ${coverage.source.repository.root} at commit ${coverage.source.repository.commit}`
        : 'files (not in a git repository)';
  const options = Object.entries(coverage.engineOptions)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  return [
    `Source: ${source}`,
    ...coverage.inputs.map((i) => `Input: ${i.path} sha256 ${i.sha256}`),
    `Namespaces in scope (${coverage.namespaces.inScope.length}): ${coverage.namespaces.inScope.join(', ') || 'none'}`,
    `Namespaces excluded (${coverage.namespaces.excluded.length}): ${coverage.namespaces.excluded.join(', ') || 'none'}`,
    `Objects skipped (kinds phiwall does not read): ${coverage.skipped.map((s) => `${s.kind} ${s.count}`).join(', ') || 'none'}`,
    `Engine options: ${options || 'defaults'}`,
    `phiwall ${coverage.version}${coverage.commandLine ? `; command: ${coverage.commandLine}` : ''}`,
    `Run by ${coverage.user ?? 'unknown user'} on ${coverage.host ?? 'unknown host'}, ${coverage.startedAt ? `from ${coverage.startedAt} ` : ''}to ${coverage.finishedAt}`,
  ];
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A report body followed by the SHA-256 of everything before that line, so a copy can be checked. */
export function withDigest(body: string, prefix = 'Report SHA-256 (of the text above): '): string {
  return `${body}${prefix}${sha256(body)}\n`;
}
