/**
 * Where `phiwall serve` does its engine work. WorkerAnalyst: in worker threads (analysis-worker.ts), so
 * that the request loop answers the graph and the event stream while a generation or a what-if is
 * computed; one thread keeps the served generation (recomputation, workload details, explain), another
 * answers what-ifs. LocalAnalyst: in process, for tests and for `serve --record`, whose history writer
 * needs the engine itself.
 */
import { Worker } from 'node:worker_threads';
import type { Snapshot } from '../model/types.ts';
import { Analysis, Cancelled, type Published, type StateOptions, type View } from './analysis.ts';
import type { ChangeEvent, ObjectRef } from './api-types.ts';
import type { explain, WorkloadDetails } from './details.ts';
import { type InputSpec, loadInput } from './inputs.ts';
import type { WhatIfRequest } from './what-if.ts';
import {
  type Answers,
  fromWire,
  InputGone,
  NEWEST_STEP,
  type Reply,
  type Request,
  SERVED_GENERATION,
  type WorkerData,
} from './worker-protocol.ts';

/** How to load a generation: plain data (any analyst), or a function (in process only). */
export type Load = InputSpec | (() => Snapshot | Promise<Snapshot>);

export interface AdvanceOptions {
  objects?: ObjectRef[];
  force: boolean;
}

export interface Analyst {
  /** Loads and analyses the next generation: the change and the new generation, or {} when nothing changed. Throws InputError for input that does not load, Cancelled after `supersede()`. */
  advance(
    load: Load,
    reason: string,
    options: AdvanceOptions,
  ): Promise<{ event?: ChangeEvent; published?: Published }>;
  /** A newer change came: the step under way may stop at its next checkpoint. */
  supersede(): void;
  workload(id: string): Promise<WorkloadDetails | undefined>;
  explain(params: Parameters<typeof explain>[1]): Promise<ReturnType<typeof explain>>;
  /** The answer as JSON text (see Analysis.whatIf). */
  whatIf(request: WhatIfRequest): Promise<string>;
  close(): Promise<void>;
}

/** Engine work in process: simple, and every request waits for it. */
export class LocalAnalyst implements Analyst {
  private constructor(private readonly analysis: Analysis) {}

  static async create(
    snapshot: Snapshot,
    options: StateOptions,
  ): Promise<{ analyst: LocalAnalyst; published: Published }> {
    const analysis = await Analysis.create(snapshot, options);
    return { analyst: new LocalAnalyst(analysis), published: analysis.published() };
  }

  /** The served generation, engine and all (`serve --record` writes it to the history). */
  get view(): View {
    return this.analysis.view;
  }

  async advance(load: Load, reason: string, options: AdvanceOptions) {
    const snapshot = typeof load === 'function' ? await load() : loadInput(load);
    const event = await this.analysis.advance(snapshot, reason, options);
    return event ? { event, published: this.analysis.published() } : {};
  }

  supersede(): void {
    // Nothing to stop: in process, a step runs to its end before the next request is read.
  }

  async workload(id: string) {
    return this.analysis.workload(id);
  }

  async explain(params: Parameters<typeof explain>[1]) {
    return this.analysis.explain(params);
  }

  async whatIf(request: WhatIfRequest) {
    return this.analysis.whatIf(request);
  }

  async close(): Promise<void> {}
}

/**
 * The worker, started from the bundle's analysis-worker.js beside this chunk in dist/; from the sources
 * (tests, development), through tsx, whose loader a worker thread does not inherit.
 */
function startWorker(data: WorkerData): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./analysis-worker.js', import.meta.url), { workerData: data });
  const file = new URL('./analysis-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(file)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(code, { eval: true, workerData: data });
}

/** A worker thread stopped (it failed, or ran out of memory): what was asked of it is lost with it. */
export class WorkerEnded extends Error {
  override name = 'WorkerEnded';
}

/** One worker thread, asked one request at a time per call, answered by id. */
class WorkerThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private next = 1;
  /** Why the thread stopped, once it has. */
  ended: WorkerEnded | undefined;

  constructor(data: WorkerData, log: ((text: string) => void) | undefined) {
    this.worker = startWorker(data);
    this.worker.on('message', (reply: Reply) => {
      if ('log' in reply) return log?.(reply.log);
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(fromWire(reply.error));
    });
    const end = (error: WorkerEnded) => {
      this.ended ??= error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', (error) => end(new WorkerEnded(`the analysis worker failed: ${error.message}`)));
    this.worker.on('exit', (code) => end(new WorkerEnded(`the analysis worker stopped (exit ${code})`)));
  }

  ask<R extends Request>(request: R): Promise<Answers[R['type']]> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Engine work in worker threads; the request loop only sends plain data and receives plain data. */
export class WorkerAnalyst implements Analyst {
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly data: WorkerData;
  private served: WorkerThread;
  /** A new served worker computing its generation, after the last one stopped. */
  private restarting: Promise<WorkerThread> | undefined;
  private whatIfs: WorkerThread | undefined;
  private step = 0;
  private closed = false;

  private constructor(
    options: StateOptions,
    /** The input the served generation was loaded from: what a what-if is laid over. */
    private input: InputSpec,
  ) {
    const { log, ...plain } = options;
    this.log = log;
    this.data = { options: plain, control: this.control.buffer as SharedArrayBuffer };
    this.served = new WorkerThread(this.data, log);
  }

  private readonly log: ((text: string) => void) | undefined;

  /** Starts the worker and computes the first generation in it. */
  static async create(
    input: InputSpec,
    options: StateOptions,
  ): Promise<{ analyst: WorkerAnalyst; published: Published }> {
    const analyst = new WorkerAnalyst(options, input);
    try {
      const published = await analyst.served.ask({ type: 'start', input, step: analyst.newStep() });
      Atomics.store(analyst.control, SERVED_GENERATION, published.generation);
      return { analyst, published };
    } catch (error) {
      await analyst.close();
      throw error;
    }
  }

  private newStep(): number {
    this.step += 1;
    Atomics.store(this.control, NEWEST_STEP, this.step);
    return this.step;
  }

  /**
   * The served worker; when it stopped, a new one, which computes the served generation again from the
   * last input that loaded, as it now reads (a watched input that changed meanwhile is the next step).
   */
  private servedThread(): Promise<WorkerThread> {
    const ended = this.served.ended;
    if (!ended || this.closed) return Promise.resolve(this.served);
    this.restarting ??= (async () => {
      this.log?.(`phiwall: ${ended.message}: starting it again\n`);
      const thread = new WorkerThread(this.data, this.log);
      const generation = Atomics.load(this.control, SERVED_GENERATION);
      try {
        // Part of the step under way, not a step of its own: a newer one stops it as it stops that step.
        const step = Atomics.load(this.control, NEWEST_STEP);
        await thread.ask({ type: 'start', input: this.input, step, generation });
        this.served = thread;
        return thread;
      } catch (error) {
        void thread.close();
        throw error;
      } finally {
        this.restarting = undefined;
      }
    })();
    return this.restarting;
  }

  async advance(load: Load, reason: string, options: AdvanceOptions) {
    if (typeof load === 'function') throw new Error('a worker loads its input itself: give it an InputSpec');
    // A worker started again reads the input as it is now: what changed since the served generation
    // is then lost, and the step is news in any case (the published graph must follow the input).
    const ask = (again: boolean) => {
      // Numbered when asked, before any wait: a reload asked right after this one supersedes it.
      const step = this.newStep();
      const restarted = again || this.served.ended !== undefined;
      const send = (thread: WorkerThread) =>
        thread.ask({
          type: 'advance',
          input: load,
          step,
          reason: restarted ? `${reason}; the analysis worker was started again` : reason,
          ...options,
          force: options.force || restarted,
        });
      return restarted ? this.servedThread().then(send) : send(this.served);
    };
    let result: Awaited<ReturnType<typeof ask>>;
    try {
      result = await ask(false);
    } catch (error) {
      if (!(error instanceof WorkerEnded) || this.closed) throw error;
      // Once: a step that stops the worker every time must not start it again forever.
      result = await ask(true);
    }
    if (result.published) {
      this.input = load;
      Atomics.store(this.control, SERVED_GENERATION, result.published.generation);
    }
    return result;
  }

  supersede(): void {
    this.newStep();
  }

  async workload(id: string) {
    return (await this.servedThread()).ask({ type: 'workload', id });
  }

  async explain(params: Parameters<typeof explain>[1]) {
    return (await this.servedThread()).ask({ type: 'explain', params });
  }

  /**
   * Against the served generation; when a newer one is served before it ends, asked again against
   * that. When the served generation's input no longer loads (the page shows it stale), the worker that
   * holds it answers, in the queue of its other work.
   */
  async whatIf(request: WhatIfRequest): Promise<string> {
    this.whatIfs ??= new WorkerThread(this.data, this.log);
    for (;;) {
      const generation = Atomics.load(this.control, SERVED_GENERATION);
      try {
        return await this.whatIfs.ask({ type: 'what-if', request, input: this.input, generation });
      } catch (error) {
        if (error instanceof InputGone)
          return (await this.servedThread()).ask({ type: 'what-if-here', request });
        if (!(error instanceof Cancelled)) throw error;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.served.close(), this.whatIfs?.close()]);
  }
}
