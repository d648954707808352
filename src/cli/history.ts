import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { diffConnectivity } from '../analysis/diff.ts';
import type { LiveConnectivity } from '../analysis/live-connectivity.ts';
import { loadAuditConfig } from '../compliance/config.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import {
  captureSnapshot,
  DEFAULT_DB_FILE,
  DEFAULT_RETENTION,
  entrySources,
  fileSource,
  HistoryStore,
  historyLog,
  liveSource,
  loadSigner,
  loadVerifier,
  parsePort,
  parseStoreLocation,
  prune,
  type RecordedInput,
  reachableSince,
  recordCapture,
  replayEntry,
  retentionCutoff,
  type StoreLocation,
  verifyChain,
} from '../history/index.ts';
import type { Snapshot, WorkloadNames } from '../model/types.ts';
import { DIFF_FORMATS, renderDiff } from '../report/diff.ts';
import { renderHistoryLog, renderSince, renderVerify } from '../report/history.ts';
import { AUDIT_FORMATS, renderAudit } from './audit.ts';
import { type CliIo, ExitCode, UsageError } from './io.ts';
import { engineOptionsOf, loadInputs, withInputOptions, workloadNamesOf } from './shared-options.ts';

interface StoreOptions {
  db?: string;
  config?: string;
}

/** `--db`, else `phiwall-history.db` next to the config, else in the working folder. */
function storeLocation(options: StoreOptions): StoreLocation {
  if (options.db) return parseStoreLocation(options.db);
  return {
    kind: 'sqlite',
    file: options.config ? join(dirname(options.config), DEFAULT_DB_FILE) : DEFAULT_DB_FILE,
  };
}

async function withStore<T>(options: StoreOptions, work: (store: HistoryStore) => Promise<T>): Promise<T> {
  const store = await HistoryStore.open(storeLocation(options));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const dbOption = () =>
  new Option(
    '--db <file|url>',
    `the history: a SQLite file (default: ${DEFAULT_DB_FILE} next to the config) or postgres://…[?schema=NAME]`,
  );
const configOption = () =>
  new Option('-c, --config <file>', 'audit configuration (default: ./phiwall.yaml when present)');

function entryNumber(text: string): number {
  const n = Number(text.replace(/^#/, ''));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`expected an entry number, got "${text}"`);
  return n;
}

function recordCommand(io: CliIo) {
  return withInputOptions(
    new Command('record').argument('[paths...]', 'manifest files or folders, or - for stdin'),
  )
    .description('Record one entry: what the inputs allow and, with a config, the audit findings')
    .addOption(dbOption())
    .addOption(configOption())
    .option(
      '--cluster <name>',
      "the cluster's name in the history (default: the context with --live, else default)",
    )
    .option('--sign-key <file>', 'sign the entry with this Ed25519 private key (PEM)')
    .option(
      '--retain <age>',
      'prune entries older than this (6y, 90d, 48h), keeping a checkpoint',
      DEFAULT_RETENTION,
    )
    .action(async (paths, options, command) => {
      const cutoff = retentionCutoff(options.retain, new Date());
      const loaded = loadAuditConfig(options.config);
      const at = new Date();
      const inputs = paths.length ? paths : ['.'];
      let captured: RecordedInput | undefined;
      const snapshot = await loadInputs(paths, { ...options, workloadNames: workloadNamesOf(command) }, io, {
        onSources: (sources) => {
          captured = fileSource(inputs, sources);
        },
        onListing: (listing) => {
          captured = liveSource(listing);
        },
      });
      if (!captured) throw new Error('the inputs were read without their sources');
      const cluster =
        options.cluster ?? (captured.source.type === 'live' ? captured.source.context : 'default');
      const semantics = engineOptionsOf(command, snapshot, io);
      const signer = options.signKey ? loadSigner(options.signKey) : undefined;
      const capture = captureSnapshot({
        cluster,
        at,
        ...captured,
        snapshot,
        options: {
          ...semantics,
          workloadNames: workloadNamesOf(command),
          ...(options.namespace ? { namespace: options.namespace } : {}),
          ...(options.skipInvalid ? { skipInvalid: true } : {}),
        },
        config: { config: loaded.config, source: loaded.source },
      });
      const { result, pruned } = await withStore(options, async (store) => ({
        result: await recordCapture(store, capture, { signer }),
        pruned: await prune(store, cutoff, signer),
      }));
      if (pruned) {
        io.stderr(
          `phiwall: pruned ${pruned.pruned.entries} entries up to #${pruned.pruned.through} (before ${cutoff.toISOString()}); checkpoint #${pruned.entry.seq}\n`,
        );
      }
      const { seq } = result.entry;
      io.stdout(
        result.kind === 'check'
          ? `#${seq} ${cluster}: checked, connectivity and findings unchanged\n`
          : `#${seq} ${cluster}: recorded ${capture.summary.connections} connections${result.changes ? `, ${result.changes.connections.added} added, ${result.changes.connections.removed} removed, ${result.changes.connections.changed} changed` : ''}\n`,
      );
    });
}

/** What `--record` adds to a command that follows its inputs (a watch, serve): an entry per change. */
export interface Recorder {
  /**
   * Captures now (a live engine moves on with the next batch) and writes after the entries before it;
   * the promise settles when this one is written.
   */
  record(
    input: RecordedInput,
    snapshot: Snapshot,
    analysed: Pick<LiveConnectivity, 'engine' | 'connections'>,
  ): Promise<void>;
  /** Waits for the writes still queued, then closes the store. */
  close(): Promise<void>;
}

export async function openRecorder(
  options: StoreOptions & {
    cluster?: string;
    signKey?: string;
    namespace?: string;
    workloadNames: WorkloadNames;
  },
  semantics: EngineOptions,
  io: CliIo,
): Promise<Recorder> {
  const loaded = loadAuditConfig(options.config);
  const signer = options.signKey ? loadSigner(options.signKey) : undefined;
  const store = await HistoryStore.open(storeLocation(options));
  let queue: Promise<void> = Promise.resolve();
  return {
    record(input, snapshot, analysed) {
      const capture = captureSnapshot({
        cluster: options.cluster ?? (input.source.type === 'live' ? input.source.context : 'default'),
        at: new Date(),
        ...input,
        snapshot,
        options: {
          ...semantics,
          ...(options.namespace ? { namespace: options.namespace } : {}),
          skipInvalid: true,
        },
        config: loaded,
        engine: analysed.engine,
        connections: analysed.connections,
      });
      queue = queue.then(async () => {
        const { entry, kind } = await recordCapture(store, capture, { signer });
        io.stderr(`phiwall: history #${entry.seq} ${kind === 'check' ? 'checked, unchanged' : 'recorded'}\n`);
      });
      return queue;
    },
    async close() {
      await queue.catch(() => {});
      await store.close();
    },
  };
}

function verifyCommand(io: CliIo) {
  return new Command('verify')
    .description(
      'Recompute the hash chain (and signatures) and name the first entry changed, removed, reordered or inserted',
    )
    .addOption(dbOption())
    .addOption(configOption())
    .option('--public-key <file>', 'also check that every entry is signed by this Ed25519 key (PEM)')
    .option('--bundle <file>', 'verify an exported bundle instead of a store')
    .addHelpText('after', '\nExit status: 0 the chain verifies, 1 it does not, 2 bad input.')
    .action(async (options) => {
      const verifier = options.publicKey ? loadVerifier(options.publicKey) : undefined;
      const result = options.bundle
        ? await verifyChain(await (await import('../history/bundle.ts')).readBundle(options.bundle), {
            verifier,
            trustStart: true,
          })
        : await withStore(options, (store) => verifyChain(store, { verifier }));
      io.stdout(renderVerify(result));
      if (!result.ok) throw new ExitCode(1);
    });
}

function logCommand(io: CliIo) {
  return new Command('log')
    .description(
      'List the entries with what changed: connections into and out of PHI, findings that started or stopped failing',
    )
    .addOption(dbOption())
    .addOption(configOption())
    .option('--cluster <name>', 'only this cluster')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json'] as const)
        .default('text' as const),
    )
    .action(async (options) => {
      const items = await withStore(options, (store) => historyLog(store, { cluster: options.cluster }));
      io.stdout(options.format === 'json' ? `${JSON.stringify(items, null, 2)}\n` : renderHistoryLog(items));
    });
}

function showCommand(io: CliIo) {
  return new Command('show')
    .argument('<id>', 'the entry number')
    .description("Regenerate an entry's audit report (any format) or its snapshot")
    .addOption(dbOption())
    .addOption(configOption())
    .addOption(
      new Option('-f, --format <format>', 'output format; snapshot: the objects it saw')
        .choices([...AUDIT_FORMATS, 'snapshot'] as const)
        .default('text' as const),
    )
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (id, options) => {
      const seq = entryNumber(id);
      const text = await withStore(options, async (store) => {
        if (options.format === 'snapshot') {
          const sources = await entrySources(store, seq);
          return sources.length === 1
            ? (sources[0]?.text ?? '')
            : `${JSON.stringify(
                sources.map((s) => ({ path: s.path, ...JSON.parse(s.text) })),
                null,
                1,
              )}\n`;
        }
        const replayed = await replayEntry(store, seq);
        if (!replayed.audit) {
          throw new UsageError(
            `entry #${seq} recorded no audit (no config was given when it was recorded); --format snapshot shows what it saw`,
          );
        }
        return renderAudit(
          { ...replayed.audit, snapshot: replayed.snapshot, generatedAt: new Date(replayed.entry.at) },
          options.format,
        );
      });
      if (options.output) writeFileSync(options.output, text);
      else io.stdout(text);
    });
}

function diffEntriesCommand(io: CliIo) {
  return new Command('diff')
    .argument('<a>', 'the earlier entry')
    .argument('<b>', 'the later entry')
    .description("The diff command's output between two entries")
    .addOption(dbOption())
    .addOption(configOption())
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(DIFF_FORMATS).default('text' as const),
    )
    .action(async (a, b, options) => {
      const text = await withStore(options, async (store) => {
        const [before, after] = [
          await replayEntry(store, entryNumber(a)),
          await replayEntry(store, entryNumber(b)),
        ];
        const phi = new Set([...before.phi, ...after.phi]);
        const result = diffConnectivity(
          new Engine(before.snapshot, before.options),
          new Engine(after.snapshot, after.options),
          phi,
        );
        const label = (r: typeof before) => `#${r.entry.seq} (${r.entry.cluster}, ${r.entry.at})`;
        return renderDiff({ result, before: label(before), after: label(after) }, options.format);
      });
      io.stdout(text);
    });
}

function sinceCommand(io: CliIo) {
  return new Command('since')
    .argument('<from>', 'the source workload (ns/name or ns/name[Kind]) or CIDRs')
    .argument('<to>', 'the destination')
    .description(
      'The intervals during which FROM could reach TO, with the entries and object changes that opened and closed them',
    )
    .addOption(dbOption())
    .addOption(configOption())
    .option('--cluster <name>', 'the cluster (needed when the history holds several)')
    .option('--port <port>', 'only reachability on this port: PORT (TCP) or PORT/PROTOCOL')
    .addOption(
      new Option('-f, --format <format>', 'output format')
        .choices(['text', 'json'] as const)
        .default('text' as const),
    )
    .action(async (from, to, options) => {
      const port = options.port ? parsePort(options.port) : undefined;
      const answer = await withStore(options, (store) =>
        reachableSince(store, { from, to, cluster: options.cluster, port }),
      );
      io.stdout(
        options.format === 'json'
          ? `${JSON.stringify({ from, to, ...(port ? { port } : {}), cluster: answer.cluster, intervals: answer.intervals }, null, 2)}\n`
          : renderSince({ from, to, port: options.port }, answer),
      );
    });
}

function exportCommand(io: CliIo) {
  return new Command('export')
    .description(
      'Write entries (with their state rows) as a self-contained JSONL bundle an auditor verifies offline',
    )
    .addOption(dbOption())
    .addOption(configOption())
    .option('--from <id|date>', 'the first entry, by number or ISO date (default: the first)')
    .option('--to <id|date>', 'the last entry, by number or ISO date (default: the last)')
    .requiredOption('-o, --output <file>', 'the bundle to write')
    .action(async (options) => {
      const { exportBundle } = await import('../history/bundle.ts');
      const written = await withStore(options, (store) =>
        exportBundle(store, options.output, { from: options.from, to: options.to }),
      );
      io.stderr(
        `phiwall: wrote entries #${written.first} to #${written.last} (${written.entries}) to ${options.output}\n`,
      );
    });
}

export function historyCommand(io: CliIo) {
  return new Command('history')
    .description('A tamper-evident record of connectivity and findings over time, on SQLite or PostgreSQL')
    .addCommand(recordCommand(io))
    .addCommand(verifyCommand(io))
    .addCommand(logCommand(io))
    .addCommand(showCommand(io))
    .addCommand(diffEntriesCommand(io))
    .addCommand(sinceCommand(io))
    .addCommand(exportCommand(io));
}
