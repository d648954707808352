import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { type DiffFailOn, diffFails, diffSnapshots, FAIL_ON } from '../analysis/diff.ts';
import { loadAuditConfig } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import { formatDiagnostic } from '../load/diagnostics.ts';
import { buildSnapshot } from '../load/snapshot.ts';
import type { SourceText } from '../load/sources.ts';
import type { Snapshot } from '../model/types.ts';
import { DIFF_FORMATS, renderDiff } from '../report/diff.ts';
import { type CliIo, ExitCode, UsageError } from './io.ts';
import { engineOptionsOf, type InputOptions, loadInputs, withInputOptions } from './shared-options.ts';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function git(args: readonly string[], cwd: string): string {
  try {
    return execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n')[0];
    throw new UsageError(`git ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`);
  }
}

/**
 * The manifests under `paths` as they are at `ref`, read from git's object store so that the working
 * tree is never touched. Paths shown as `REF:path`, relative to the repository root as git names them.
 */
export function gitSources(ref: string, paths: readonly string[], cwd = process.cwd()): SourceText[] {
  const top = realpathSync(git(['rev-parse', '--show-toplevel'], cwd).trim());
  try {
    git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], top);
  } catch {
    throw new UsageError(`--base ${ref}: git does not know this revision in ${top}`);
  }
  const here = realpathSync(cwd);
  const files = new Set<string>();
  for (const path of paths) {
    if (path === '-') throw new UsageError('--base compares paths in the repository, not stdin');
    const inRepo = relative(top, resolve(here, path)).replace(/\\/g, '/');
    if (inRepo.startsWith('..') || isAbsolute(inRepo)) {
      throw new UsageError(`${path} is outside the git repository at ${top}`);
    }
    // -z: names come back unquoted, whatever characters they hold.
    const listed = git(['ls-tree', '-r', '-z', '--name-only', ref, '--', inRepo || '.'], top);
    for (const file of listed.split('\0')) {
      if (file && MANIFEST_EXTENSIONS.has(extname(file).toLowerCase())) files.add(file);
    }
  }
  return [...files].sort().map((file) => ({
    path: `${ref}:${file}`,
    text: git(['show', `${ref}:${file}`], top),
  }));
}

function warn(snapshot: Snapshot, io: CliIo): Snapshot {
  for (const warning of snapshot.warnings) io.stderr(`${formatDiagnostic(warning)}\n`);
  return snapshot;
}

function loadBase(ref: string, paths: readonly string[], options: InputOptions, io: CliIo): Snapshot {
  const sources = gitSources(ref, paths);
  return warn(
    buildSnapshot(sources, {
      namespace: options.namespace,
      skipInvalid: options.skipInvalid,
      workloadNames: options.workloadNames,
    }),
    io,
  );
}

export function diffCommand(io: CliIo) {
  return withInputOptions(
    new Command('diff').argument(
      '[paths...]',
      'BEFORE AFTER (files or folders), or with --base the paths to compare',
    ),
  )
    .description('Show what a change to the manifests does to allowed connectivity, PHI first')
    .option('--base <gitref>', 'compare the working tree against this git revision of the same paths')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(DIFF_FORMATS).default('text' as const),
    )
    .option('-c, --config <file>', 'audit configuration naming the PHI workloads (default: ./phiwall.yaml)')
    .addOption(
      new Option(
        '--fail-on <changes>',
        'exit 1 on: phi = changes that add reachability into or out of PHI, any = any change',
      )
        .choices(FAIL_ON)
        .default('phi' as const),
    )
    .addHelpText(
      'after',
      `
Exit status: 0 no change (or none that --fail-on counts), 1 changes that --fail-on counts, 2 bad input.

Examples:
  phiwall diff before/ after/
  phiwall diff --base origin/main k8s/ --format md > comment.md
  phiwall diff --base HEAD~1 --fail-on any
  phiwall diff --live audit-snapshot.json`,
    )
    .action(async (paths, options, command) => {
      let before: Snapshot;
      let after: Snapshot;
      let labels: [string, string];
      if (options.base !== undefined) {
        const compared = paths.length ? paths : ['.'];
        before = loadBase(options.base, compared, options, io);
        after = await loadInputs(compared, options, io);
        labels = [`${options.base}:${compared.join(',')}`, compared.join(',')];
      } else if (options.live) {
        // A snapshot (or any manifests) taken earlier, against what the cluster holds now.
        if (paths.length !== 1)
          throw new UsageError('diff --live takes one path, BEFORE, to compare the cluster with');
        const [was] = paths as [string];
        before = await loadInputs([was], { ...options, live: undefined }, io);
        after = await loadInputs([], options, io);
        labels = [was, `live:${options.context ?? 'current context'}`];
      } else {
        if (paths.length !== 2) {
          throw new UsageError('diff takes two paths, BEFORE and AFTER, or --base GITREF [PATH...]');
        }
        const [was, now] = paths as [string, string];
        before = await loadInputs([was], options, io);
        after = await loadInputs([now], options, io);
        labels = [was, now];
      }
      const { config } = loadAuditConfig(options.config);
      const phi = new Set([...phiScope(before, config).phi.keys(), ...phiScope(after, config).phi.keys()]);
      const semantics = engineOptionsOf(command, after, io);
      const result = diffSnapshots(before, after, phi, semantics);
      io.stdout(renderDiff({ result, before: labels[0], after: labels[1] }, options.format));
      if (diffFails(result, options.failOn as DiffFailOn)) throw new ExitCode(1);
    });
}
