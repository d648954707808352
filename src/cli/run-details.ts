import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { RunDetails } from '../report/audit-coverage.ts';

/** The git repository holding `path` (its root and HEAD commit), or undefined outside one or without git. */
function repositoryOf(path: string): { root: string; commit: string } | undefined {
  try {
    const absolute = resolve(path);
    const dir = statSync(absolute).isDirectory() ? absolute : dirname(absolute);
    const [root, commit] = execFileSync('git', ['-C', dir, 'rev-parse', '--show-toplevel', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    })
      .trim()
      .split('\n');
    return root && commit ? { root, commit } : undefined;
  } catch {
    return undefined;
  }
}

function currentUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER;
  }
}

/** How an audit is being run, for its coverage statement: who, where, on what, with which command. */
export function runDetails(options: {
  args: readonly string[];
  paths: readonly string[];
  live?: boolean;
  context?: string;
  startedAt: Date;
  engineOptions: Readonly<Record<string, unknown>>;
}): RunDetails {
  const first = options.paths.find((p) => p !== '-');
  const repository = options.live || first === undefined ? undefined : repositoryOf(first);
  return {
    commandLine: ['phiwall', ...options.args].join(' '),
    user: currentUser(),
    host: hostname(),
    startedAt: options.startedAt,
    sourceRoot: process.cwd(),
    ...(repository ? { repository } : {}),
    ...(options.live ? { cluster: { context: options.context ?? '(current context)' } } : {}),
    engineOptions: options.engineOptions,
  };
}
