/**
 * The live state behind `phiwall serve`: the current snapshot and everything computed from it (engine,
 * connectivity, audit, graph, flow comparison), replaced as a whole when the input changes, with the
 * events the browser is told about.
 */
import { type Connection, computeConnectivity } from '../analysis/connectivity.ts';
import { compareFlows, type FlowComparison } from '../analysis/flow-comparison.ts';
import { readFlows } from '../cli/flow-inputs.ts';
import type { CliIo } from '../cli/io.ts';
import { type AuditResult, runAudit } from '../compliance/audit.ts';
import type { AuditConfig } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import type { Finding, ObservedTraffic } from '../compliance/types.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import { formatDiagnostic, InputError } from '../load/diagnostics.ts';
import type { FlowReadStats } from '../model/flows.ts';
import type { Snapshot } from '../model/types.ts';
import { type ObjectRef, objectChanges } from './changes.ts';
import {
  buildGraph,
  edgeChanges,
  externalChanges,
  findingsOnlyIn,
  type Graph,
  type GraphSource,
  phiIn,
} from './graph.ts';

/** Everything the API answers from, for one generation of the input. */
export interface View {
  generation: number;
  /** When this generation was computed, ISO 8601. */
  time: string;
  snapshot: Snapshot;
  engine: Engine;
  connections: Connection[];
  audit: AuditResult;
  graph: Graph;
  /** With flow logs: how the observed flows compare with this generation's policies. */
  flows?: { comparison: FlowComparison; stats: FlowReadStats[] };
}

/** A finding as a change event names it: enough to list it, the rest is in /api/findings. */
export interface FindingRef {
  check: string;
  title: string;
  severity: string;
  status: string;
  objects: string[];
}

export interface ChangeEvent {
  generation: number;
  time: string;
  reason: string;
  objects: ObjectRef[];
  added: string[];
  removed: string[];
  changed: string[];
  /** Open (failing or needs-review, not accepted) findings that this change started or ended. */
  findings: { started: FindingRef[]; stopped: FindingRef[] };
}

function findingRef({ check, title, severity, status, objects }: Finding): FindingRef {
  return { check, title, severity, status, objects };
}

export interface ErrorEvent {
  time: string;
  /** Every problem, one per line, positioned (`file:line:column: field: message`). */
  message: string;
  errors: string[];
}

export type ServeEvent = { type: 'change'; data: ChangeEvent } | { type: 'error'; data: ErrorEvent };

export interface StateOptions {
  config: AuditConfig;
  engineOptions: EngineOptions;
  source: GraphSource;
  /** Flow logs to compare with policy (`--flows`); re-read for every generation. */
  flowFiles?: readonly string[];
  /** Namespace for objects that name none, as the input was loaded with (what-if uses it too). */
  namespace?: string;
  /** Status lines (reloads, warnings); default: nowhere. */
  log?: (text: string) => void;
}

/** The problems an exception stands for, as positioned one-line messages. */
export function errorLines(error: unknown): string[] {
  if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
  return [error instanceof Error ? error.message : String(error)];
}

export class ServeState {
  private current: View;
  private readonly listeners = new Set<(event: ServeEvent) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  private failure: ErrorEvent | undefined;
  private withoutFlows: { generation: number; audit: AuditResult } | undefined;

  private constructor(
    readonly options: StateOptions,
    view: View,
  ) {
    this.current = view;
  }

  /** Computes the first generation; throws what loading the flow logs throws. */
  static async create(snapshot: Snapshot, options: StateOptions): Promise<ServeState> {
    const view = await computeView(snapshot, 1, options);
    return new ServeState(options, view);
  }

  get view(): View {
    return this.current;
  }

  /** True while the latest input could not be loaded (the view is then the last good one). */
  get inError(): boolean {
    return this.failure !== undefined;
  }

  /** The current graph, marked stale while the newest input cannot be loaded. */
  graph(): Graph {
    const { graph } = this.current;
    if (!this.failure) return graph;
    const { time: since, message, errors } = this.failure;
    return { ...graph, status: { ...graph.status, stale: { since, message, errors } } };
  }

  subscribe(listener: (event: ServeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: ServeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // One broken subscriber must not keep the others from hearing about the change.
      }
    }
  }

  /**
   * Loads the input again with `load` and, when it loads, makes it the current generation and tells
   * subscribers what changed; when it does not, tells them why and keeps the last good state. Reloads
   * run one at a time, in the order asked. `objects`: the objects that changed, when the caller knows
   * (a cluster watch); else the snapshots are compared. `force`: recompute even when no object changed
   * (the flow logs did).
   */
  reload(
    load: () => Snapshot | Promise<Snapshot>,
    reason: string,
    options: { objects?: ObjectRef[]; force?: boolean } = {},
  ): Promise<ChangeEvent | undefined> {
    const run = this.queue.then(async () => {
      let snapshot: Snapshot;
      try {
        snapshot = await load();
      } catch (error) {
        this.fail(error);
        return undefined;
      }
      return this.update(snapshot, reason, options);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Reports an input that cannot be loaded; the last good state stays. */
  fail(error: unknown): void {
    const errors = errorLines(error);
    const message = errors.join('\n');
    const event: ErrorEvent = { time: new Date().toISOString(), message, errors };
    this.options.log?.(`phiwall: the input could not be loaded; keeping the last good state:\n${message}\n`);
    // Stale since the first failure: later failures change the message, not when the view went stale.
    this.failure = { ...event, time: this.failure?.time ?? event.time };
    this.emit({ type: 'error', data: event });
  }

  private async update(
    snapshot: Snapshot,
    reason: string,
    options: { objects?: ObjectRef[]; force?: boolean },
  ): Promise<ChangeEvent | undefined> {
    const before = this.current;
    const objects = options.objects ?? objectChanges(before.snapshot, snapshot);
    // An edit that changes nothing (a save without changes, a touched file) is not news, unless it ends
    // an error: the browser then needs to hear that the input loads again.
    if (objects.length === 0 && !this.failure && !options.force) return undefined;
    let next: View;
    try {
      next = await computeView(snapshot, before.generation + 1, this.options);
    } catch (error) {
      this.fail(error);
      return undefined;
    }
    this.failure = undefined;
    this.current = next;
    const event: ChangeEvent = {
      generation: next.generation,
      time: next.time,
      reason,
      objects,
      ...feedChanges(before, next),
      findings: {
        started: findingsOnlyIn(next.audit.findings, before.audit.findings).map(findingRef),
        stopped: findingsOnlyIn(before.audit.findings, next.audit.findings).map(findingRef),
      },
    };
    this.options.log?.(
      `phiwall: ${reason}: ${objects.length} object(s) changed, ${event.added.length} edge(s) added, ${event.removed.length} removed, ${event.changed.length} changed; ${event.findings.started.length} finding(s) started, ${event.findings.stopped.length} stopped\n`,
    );
    this.emit({ type: 'change', data: event });
    return event;
  }

  /** The current generation's audit without observed traffic, which a what-if compares against. */
  auditWithoutFlows(): AuditResult {
    const view = this.current;
    if (!view.flows) return view.audit;
    if (this.withoutFlows?.generation !== view.generation) {
      this.withoutFlows = { generation: view.generation, audit: runAudit(view.engine, this.options.config) };
    }
    return this.withoutFlows.audit;
  }
}

/** Edge ids added, removed and changed; edges to external blocks compared address by address. */
function feedChanges(before: View, next: View): { added: string[]; removed: string[]; changed: string[] } {
  const edges = edgeChanges(before.graph, next.graph);
  const external = externalChanges(before.connections, next.connections, phiIn(before.graph, next.graph));
  return {
    added: [...edges.added, ...external.added.map((e) => e.id)],
    removed: [...edges.removed, ...external.removed.map((e) => e.id)],
    changed: [...edges.changed, ...external.changed.map((c) => c.edge.id)],
  };
}

/** A CliIo that sends what the library prints to a log function. */
function ioOf(log: ((text: string) => void) | undefined): CliIo {
  const write = (text: string) => log?.(text);
  return { stdout: write, stderr: write, readStdin: () => '' };
}

async function computeView(snapshot: Snapshot, generation: number, options: StateOptions): Promise<View> {
  const engine = new Engine(snapshot, options.engineOptions);
  const connections = computeConnectivity(engine);
  let flows: View['flows'];
  let observed: ObservedTraffic | undefined;
  if (options.flowFiles && options.flowFiles.length > 0) {
    const { mapped, stats } = await readFlows(options.flowFiles, engine, ioOf(options.log));
    const phi = new Set(phiScope(snapshot, options.config).phi.keys());
    const comparison = compareFlows(engine, mapped, phi);
    flows = { comparison, stats };
    observed = { files: [...options.flowFiles], comparison };
  }
  const now = new Date();
  const audit = runAudit(engine, options.config, { now, observed });
  const graph = buildGraph({
    snapshot,
    connections,
    config: options.config,
    findings: audit.findings,
    generation,
    source: options.source,
    observed: flows?.comparison.edges,
  });
  return { generation, time: now.toISOString(), snapshot, engine, connections, audit, graph, flows };
}
