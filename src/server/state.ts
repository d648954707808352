/**
 * The live state behind `phiwall serve`: the served generation as the request loop keeps it (graph,
 * findings, flow report), the steps to the next one, and the events the browser is told about. The
 * engine work happens in an Analyst (analyst.ts): in worker threads when serving.
 */
import { formatDiagnostic, InputError } from '../load/diagnostics.ts';
import type { Snapshot } from '../model/types.ts';
import type { Published, StateOptions } from './analysis.ts';
import { Cancelled, changeLine } from './analysis.ts';
import { type Analyst, type Load, LocalAnalyst, WorkerAnalyst } from './analyst.ts';
import type { ChangeEvent, ObjectRef } from './api-types.ts';
import type { explain } from './details.ts';
import type { Graph } from './graph.ts';
import type { InputSpec } from './inputs.ts';
import type { WhatIfRequest } from './what-if.ts';

export type { StateOptions, View } from './analysis.ts';
export type { ChangeEvent, FindingRef } from './api-types.ts';

export interface ErrorEvent {
  time: string;
  /** Every problem, one per line, positioned (`file:line:column: field: message`). */
  message: string;
  errors: string[];
}

export type ServeEvent = { type: 'change'; data: ChangeEvent } | { type: 'error'; data: ErrorEvent };

/** The problems an exception stands for, as positioned one-line messages. */
export function errorLines(error: unknown): string[] {
  if (error instanceof InputError) return error.diagnostics.map(formatDiagnostic);
  return [error instanceof Error ? error.message : String(error)];
}

/** A step asked for and not yet taken; steps asked while one runs are taken together, as one. */
interface Step {
  load: Load;
  reasons: string[];
  /** Undefined: compare the snapshots (some step did not say which objects changed). */
  objects: ObjectRef[] | undefined;
  force: boolean;
  done: ((event: ChangeEvent | undefined) => void)[];
}

function merged(older: Step, newer: Step): Step {
  return {
    // The newest way to load reads the newest input.
    load: newer.load,
    reasons: [...older.reasons, ...newer.reasons.filter((r) => !older.reasons.includes(r))],
    objects: older.objects && newer.objects ? [...older.objects, ...newer.objects] : undefined,
    force: older.force || newer.force,
    done: [...older.done, ...newer.done],
  };
}

export class ServeState {
  private current: Published;
  private readonly listeners = new Set<(event: ServeEvent) => void>();
  private failure: ErrorEvent | undefined;
  private pending: Step | undefined;
  private running = false;
  /** The graph marked stale, for the generation and failure it was made for. */
  private staleGraph: { key: string; json: string } | undefined;

  private constructor(
    readonly options: StateOptions,
    private readonly analyst: Analyst,
    published: Published,
  ) {
    this.current = published;
  }

  /** In process, from a snapshot already loaded (tests); throws what loading the flow logs throws. */
  static async create(snapshot: Snapshot, options: StateOptions): Promise<ServeState> {
    return (await ServeState.local(snapshot, options)).state;
  }

  /** In process, keeping the engine at hand (`serve --record` writes every generation's analysis). */
  static async local(
    snapshot: Snapshot,
    options: StateOptions,
  ): Promise<{ state: ServeState; analyst: LocalAnalyst }> {
    const { analyst, published } = await LocalAnalyst.create(snapshot, options);
    return { state: new ServeState(options, analyst, published), analyst };
  }

  /** Engine work in worker threads, which load `input` themselves; throws InputError when it does not load. */
  static async inWorkers(input: InputSpec, options: StateOptions): Promise<ServeState> {
    const { analyst, published } = await WorkerAnalyst.create(input, options);
    return new ServeState(options, analyst, published);
  }

  get generation(): number {
    return this.current.generation;
  }

  /** True while the latest input could not be loaded (the view is then the last good one). */
  get inError(): boolean {
    return this.failure !== undefined;
  }

  /** The current graph, marked stale while the newest input cannot be loaded. */
  graph(): Graph {
    return JSON.parse(this.graphJson()) as Graph;
  }

  /** `GET /api/graph`'s body: the graph as published, or with the stale mark while the input fails. */
  graphJson(): string {
    const { graph } = this.current;
    if (!this.failure) return graph;
    const key = `${this.current.generation}\0${this.failure.time}\0${this.failure.message}`;
    if (this.staleGraph?.key !== key) {
      const parsed = JSON.parse(graph) as Graph;
      const { time: since, message, errors } = this.failure;
      const marked = { ...parsed, status: { ...parsed.status, stale: { since, message, errors } } };
      this.staleGraph = { key, json: JSON.stringify(marked) };
    }
    return this.staleGraph.json;
  }

  /** `GET /api/findings`'s body. */
  findingsJson(): string {
    return this.current.findings;
  }

  /** `GET /api/flows`'s body; undefined without flow logs. */
  flowsJson(): string | undefined {
    return this.current.flows;
  }

  workload(id: string) {
    return this.analyst.workload(id);
  }

  explain(params: Parameters<typeof explain>[1]) {
    return this.analyst.explain(params);
  }

  whatIf(request: WhatIfRequest) {
    return this.analyst.whatIf(request);
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
   * Loads the input again and, when it loads, makes it the current generation and tells subscribers
   * what changed; when it does not, tells them why and keeps the last good state. A reload asked while
   * another runs stops that one at its next checkpoint, and the two are taken as one step (the newest
   * input, both reasons). `objects`: the objects that changed, when the caller knows (a cluster
   * watch); else the snapshots are compared. `force`: recompute even when no object changed (the flow
   * logs did). Resolves with the change, or undefined when there was none.
   */
  reload(
    load: Load,
    reason: string,
    options: { objects?: ObjectRef[]; force?: boolean } = {},
  ): Promise<ChangeEvent | undefined> {
    return new Promise((resolve) => {
      const step: Step = {
        load,
        reasons: [reason],
        objects: options.objects,
        force: options.force ?? false,
        done: [resolve],
      };
      this.pending = this.pending ? merged(this.pending, step) : step;
      if (this.running) this.analyst.supersede();
      else void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let step = this.pending; step; step = this.pending) {
        this.pending = undefined;
        let event: ChangeEvent | undefined;
        try {
          const result = await this.analyst.advance(step.load, step.reasons.join('; '), {
            objects: step.objects,
            // An input that loads again after an error is news even when no object differs.
            force: step.force || this.failure !== undefined,
          });
          if (result.published) this.current = result.published;
          event = result.event;
        } catch (error) {
          if (error instanceof Cancelled) {
            this.pending = this.pending ? merged(step, this.pending) : step;
            continue;
          }
          this.fail(error);
        }
        if (event) {
          this.failure = undefined;
          this.options.log?.(changeLine(event));
          this.emit({ type: 'change', data: event });
        }
        for (const done of step.done) done(event);
      }
    } finally {
      this.running = false;
    }
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

  /** Stops the worker threads. */
  close(): Promise<void> {
    return this.analyst.close();
  }
}
