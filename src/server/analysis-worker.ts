/**
 * A worker thread of `phiwall serve` (started by analyst.ts): it loads the input itself, keeps the
 * analysis of one generation, and answers the questions that take engine work, so that the request loop
 * never waits for them. Requests are answered in the order they come.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { formatDiagnostic, InputError } from '../load/diagnostics.ts';
import type { Snapshot } from '../model/types.ts';
import { Analysis, Cancelled, type Checkpoint } from './analysis.ts';
import { InputLoader } from './inputs.ts';
import {
  type Answers,
  InputGone,
  NEWEST_STEP,
  type Reply,
  type Request,
  SERVED_GENERATION,
  toWire,
  type WorkerData,
} from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('analysis-worker.ts runs as a worker thread');
const data = workerData as WorkerData;
const control = new Int32Array(data.control);
const options = { ...data.options, log: (text: string) => post({ log: text }) };

function post(reply: Reply): void {
  port?.postMessage(reply);
}

/** The step of a generation is wanted while no newer step was asked for. */
const stepCheckpoint =
  (step: number): Checkpoint =>
  () => {
    if (Atomics.load(control, NEWEST_STEP) !== step) throw new Cancelled();
  };

/** A what-if is wanted while the generation it is against is the one served. */
const generationCheckpoint =
  (generation: number): Checkpoint =>
  () => {
    if (Atomics.load(control, SERVED_GENERATION) !== generation) throw new Cancelled();
  };

let analysis: Analysis | undefined;
/** Reads again only the files that changed since the last load in this thread. */
const loader = new InputLoader();

function current(): Analysis {
  if (!analysis) throw new Error('the analysis worker was asked a question before it loaded the input');
  return analysis;
}

async function answer(request: Request): Promise<Answers[Request['type']]> {
  switch (request.type) {
    case 'start': {
      const checkpoint = stepCheckpoint(request.step);
      const snapshot = loader.load(request.input);
      // Files were read by the command first, which reported their warnings; a cluster is read here.
      if (request.input.kind === 'listing')
        for (const warning of snapshot.warnings) options.log(`${formatDiagnostic(warning)}\n`);
      analysis = await Analysis.create(snapshot, options, { checkpoint, generation: request.generation });
      return analysis.published();
    }
    case 'advance': {
      const checkpoint = stepCheckpoint(request.step);
      const snapshot = loader.load(request.input);
      const event = await current().advance(snapshot, request.reason, request, checkpoint);
      return event ? { event, published: current().published() } : {};
    }
    case 'workload':
      return current().workload(request.id);
    case 'explain':
      return current().explain(request.params);
    case 'what-if': {
      const checkpoint = generationCheckpoint(request.generation);
      if (analysis?.view.generation !== request.generation) {
        let snapshot: Snapshot;
        try {
          snapshot = loader.load(request.input);
        } catch (error) {
          // Edited since it was served, and broken: only the worker that holds that generation can answer.
          throw error instanceof InputError ? new InputGone(error.message) : error;
        }
        if (analysis) await analysis.follow(snapshot, request.generation, checkpoint);
        // A what-if compares against the audit without observed traffic: no flow logs to read here.
        else
          analysis = await Analysis.create(
            snapshot,
            { ...options, flowFiles: undefined },
            { generation: request.generation, checkpoint },
          );
      }
      return analysis.whatIf(request.request, checkpoint);
    }
    case 'what-if-here':
      return current().whatIf(request.request, generationCheckpoint(current().view.generation));
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', ({ id, request }: { id: number; request: Request }) => {
  queue = queue.then(async () => {
    try {
      post({ id, ok: true, value: await answer(request) });
    } catch (error) {
      post({ id, ok: false, error: toWire(error) });
    }
  });
});
