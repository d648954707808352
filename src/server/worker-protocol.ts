/**
 * The messages between `phiwall serve`'s request loop and its analysis workers, and errors as they cross
 * the thread (a thrown InputError must stay an InputError: the API answers it with 400 and its lines).
 */
import { type Diagnostic, InputError } from '../load/diagnostics.ts';
import { Cancelled, type Published, type StateOptions } from './analysis.ts';
import type { ChangeEvent, ObjectRef } from './api-types.ts';
import { BadRequest, type explain, type WorkloadDetails } from './details.ts';
import type { InputSpec } from './inputs.ts';
import type { WhatIfRequest } from './what-if.ts';

export interface WorkerData {
  options: Omit<StateOptions, 'log'>;
  /**
   * Shared Int32Array: [0] the number of the newest generation step asked for, [1] the generation the
   * request loop serves. Work for an older step or generation stops at its next checkpoint.
   */
  control: SharedArrayBuffer;
}

export const NEWEST_STEP = 0;
export const SERVED_GENERATION = 1;

export type Request =
  /** `generation`: its number (1 unless told: a worker started again computes the one served). */
  | { type: 'start'; input: InputSpec; step: number; generation?: number }
  | {
      type: 'advance';
      input: InputSpec;
      step: number;
      reason: string;
      objects?: ObjectRef[];
      force: boolean;
    }
  | { type: 'workload'; id: string }
  | { type: 'explain'; params: Parameters<typeof explain>[1] }
  | { type: 'what-if'; request: WhatIfRequest; input: InputSpec; generation: number }
  /** Over the generation the worker holds, without loading anything (the served one, when its input no longer loads). */
  | { type: 'what-if-here'; request: WhatIfRequest };

/** What each request answers. */
export interface Answers {
  start: Published;
  advance: { event?: ChangeEvent; published?: Published };
  workload: WorkloadDetails | undefined;
  explain: ReturnType<typeof explain>;
  /** JSON text of a WhatIfResult. */
  'what-if': string;
  'what-if-here': string;
}

/** The input of the served generation no longer loads: a what-if worker cannot build it again. */
export class InputGone extends Error {
  override name = 'InputGone';
}

export type WireError =
  | { kind: 'input'; diagnostics: Diagnostic[] }
  | { kind: 'bad-request'; message: string }
  | { kind: 'cancelled' }
  | { kind: 'input-gone' }
  | { kind: 'internal'; message: string; stack?: string };

/** From the worker: an answer, an error, or a status line for the log. */
export type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WireError }
  | { log: string };

export function toWire(error: unknown): WireError {
  if (error instanceof InputError) return { kind: 'input', diagnostics: error.diagnostics };
  if (error instanceof BadRequest) return { kind: 'bad-request', message: error.message };
  if (error instanceof Cancelled) return { kind: 'cancelled' };
  if (error instanceof InputGone) return { kind: 'input-gone' };
  if (error instanceof Error) return { kind: 'internal', message: error.message, stack: error.stack };
  return { kind: 'internal', message: String(error) };
}

export function fromWire(error: WireError): Error {
  switch (error.kind) {
    case 'input':
      return new InputError(error.diagnostics);
    case 'bad-request':
      return new BadRequest(error.message);
    case 'cancelled':
      return new Cancelled('a newer change superseded this work');
    case 'input-gone':
      return new InputGone('the input of the served generation no longer loads');
    case 'internal': {
      const internal = new Error(error.message);
      if (error.stack) internal.stack = error.stack;
      return internal;
    }
  }
}
