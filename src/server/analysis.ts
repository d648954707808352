/**
 * One generation of the input analysed: the snapshot and everything computed from it (engine,
 * connectivity, audit, graph, flow comparison), and the questions the API asks of it. Runs where the
 * snapshot lives: in `phiwall serve`'s analysis worker (analysis-worker.ts), or in process (tests,
 * `serve --record`). What leaves it is plain data, so that it can cross a thread.
 */
import { type Connection, computeConnectivity, updateConnectivity } from '../analysis/connectivity.ts';
import { compareFlows, type FlowComparison } from '../analysis/flow-comparison.ts';
import { followPolicies } from '../analysis/live-connectivity.ts';
import { readFlows } from '../cli/flow-inputs.ts';
import type { CliIo } from '../cli/io.ts';
import { type AuditResult, runAudit } from '../compliance/audit.ts';
import type { AuditConfig } from '../compliance/config.ts';
import { phiScope } from '../compliance/phi-scope.ts';
import type { Finding, ObservedTraffic } from '../compliance/types.ts';
import type { EngineOptions } from '../engine/endpoint.ts';
import { Engine } from '../engine/engine.ts';
import type { FlowReadStats } from '../model/flows.ts';
import { differsInPoliciesAlone, type Snapshot } from '../model/types.ts';
import { sortFindings } from '../report/audit.ts';
import { flowsJson } from '../report/flows.ts';
import type { ChangeEvent, FindingRef, ObjectRef } from './api-types.ts';
import { objectChanges } from './changes.ts';

import { explain, type WorkloadDetails, workloadDetails } from './details.ts';
import {
  buildGraph,
  edgeChanges,
  externalChanges,
  findingsOnlyIn,
  type Graph,
  type GraphSource,
  phiIn,
} from './graph.ts';
import { type WhatIfRequest, whatIf } from './what-if.ts';

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

/**
 * What the request loop keeps of a generation: the answers to the frequent questions, as the JSON text
 * the API sends (at M the graph is 8 MB: serialized once here, not on the request loop per request).
 */
export interface Published {
  generation: number;
  time: string;
  /** `GET /api/graph`, without the stale mark (the request loop adds it). */
  graph: string;
  /** `GET /api/findings`: the audit's findings, in report order. */
  findings: string;
  /** `GET /api/flows`, with flow logs. */
  flows?: string;
}

export interface StateOptions {
  config: AuditConfig;
  engineOptions: EngineOptions;
  source: GraphSource;
  /** Flow logs to compare with policy (`--flows`); re-read for every generation. */
  flowFiles?: readonly string[];
  /** Namespace for objects that name none, as the input was loaded with (what-if uses it too). */
  namespace?: string;
  /** Status lines (reloads, warnings); default: nowhere. Not sent to a worker: it writes its own. */
  log?: (text: string) => void;
}

/** Thrown at a checkpoint of work that a newer request made pointless. */
export class Cancelled extends Error {
  override name = 'Cancelled';
}

/** Called between the long steps of a computation; throws Cancelled when the work is no longer wanted. */
export type Checkpoint = () => void;

const noCheckpoint: Checkpoint = () => {};

function findingRef({ check, title, severity, status, objects }: Finding): FindingRef {
  return { check, title, severity, status, objects };
}

/** The analysis of the current generation, and the step to the next one. */
export class Analysis {
  private withoutFlows: { generation: number; audit: AuditResult } | undefined;

  private constructor(
    readonly options: StateOptions,
    private current: View,
  ) {}

  /** Computes a first generation (numbered 1 unless told); throws what loading the flow logs throws. */
  static async create(
    snapshot: Snapshot,
    options: StateOptions,
    { generation = 1, checkpoint = noCheckpoint }: { generation?: number; checkpoint?: Checkpoint } = {},
  ): Promise<Analysis> {
    return new Analysis(options, await computeView(snapshot, generation, options, checkpoint));
  }

  get view(): View {
    return this.current;
  }

  published(): Published {
    const { generation, time, graph, audit, flows } = this.current;
    return {
      generation,
      time,
      graph: JSON.stringify(graph),
      findings: JSON.stringify(sortFindings(audit.findings)),
      ...(flows ? { flows: JSON.stringify(flowsJson(flows)) } : {}),
    };
  }

  /**
   * Makes `snapshot` the next generation and says what changed, or returns undefined when nothing did
   * (an edit that changes no object is not news, unless `force`: the flow logs changed, or the last
   * input did not load and the browser must hear that it loads again). `objects`: the objects that
   * changed, when the caller knows (a cluster watch); else the snapshots are compared. A snapshot that
   * differs from the current one in NetworkPolicies alone (see differsInPoliciesAlone) moves the
   * current engine in place: the view this replaces is then no longer one to answer from.
   */
  async advance(
    snapshot: Snapshot,
    reason: string,
    options: { objects?: ObjectRef[]; force?: boolean },
    checkpoint = noCheckpoint,
  ): Promise<ChangeEvent | undefined> {
    const before = this.current;
    const objects = options.objects ?? objectChanges(before.snapshot, snapshot);
    if (objects.length === 0 && !options.force) return undefined;
    const next = await this.nextView(snapshot, before.generation + 1, checkpoint);
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
    return event;
  }

  /**
   * Makes `snapshot` the current generation, numbered `generation`, without telling what changed: a
   * what-if worker following the served generation, as cheaply as advance when only policies changed.
   */
  async follow(snapshot: Snapshot, generation: number, checkpoint = noCheckpoint): Promise<void> {
    this.current = await this.nextView(snapshot, generation, checkpoint);
  }

  /**
   * The next generation: on the current engine with only the connections its policy changes touch
   * computed again, when it can follow them (see followPolicies), else from scratch.
   */
  private async nextView(snapshot: Snapshot, generation: number, checkpoint: Checkpoint): Promise<View> {
    const { engine, connections } = this.current;
    const step = differsInPoliciesAlone(engine.snapshot, snapshot) && followPolicies(engine, snapshot);
    if (step) {
      try {
        const next = updateConnectivity(engine, connections, step).connections;
        return await finishView(engine, next, generation, this.options, checkpoint);
      } catch (error) {
        // Stopped (a newer change came) or failed: the served generation answers again.
        followPolicies(engine, this.current.snapshot);
        throw error;
      }
    }
    return computeView(snapshot, generation, this.options, checkpoint);
  }

  /** The current generation's audit without observed traffic, which a what-if compares against. */
  auditWithoutFlows(): AuditResult {
    const view = this.current;
    if (!view.flows) return view.audit;
    if (this.withoutFlows?.generation !== view.generation) {
      this.withoutFlows = {
        generation: view.generation,
        audit: runAudit(view.engine, this.options.config, { connections: view.connections }),
      };
    }
    return this.withoutFlows.audit;
  }

  workload(id: string): WorkloadDetails | undefined {
    return workloadDetails(this.current, id);
  }

  explain(params: Parameters<typeof explain>[1]): ReturnType<typeof explain> {
    return explain(this.current, params);
  }

  /** The what-if's answer as the API sends it (at M it holds an 8 MB graph: serialized here, once). */
  whatIf(request: WhatIfRequest, checkpoint = noCheckpoint): string {
    return JSON.stringify(whatIf(this, request, checkpoint));
  }
}

/** The log line of a change. */
export function changeLine(event: ChangeEvent): string {
  return `phiwall: ${event.reason}: ${event.objects.length} object(s) changed, ${event.added.length} edge(s) added, ${event.removed.length} removed, ${event.changed.length} changed; ${event.findings.started.length} finding(s) started, ${event.findings.stopped.length} stopped\n`;
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

async function computeView(
  snapshot: Snapshot,
  generation: number,
  options: StateOptions,
  checkpoint: Checkpoint,
): Promise<View> {
  checkpoint();
  const engine = new Engine(snapshot, options.engineOptions);
  checkpoint();
  return finishView(engine, computeConnectivity(engine), generation, options, checkpoint);
}

/** The generation of an engine and its connectivity: flow comparison, audit and graph. */
async function finishView(
  engine: Engine,
  connections: Connection[],
  generation: number,
  options: StateOptions,
  checkpoint: Checkpoint,
): Promise<View> {
  const { snapshot } = engine;
  checkpoint();
  let flows: View['flows'];
  let observed: ObservedTraffic | undefined;
  if (options.flowFiles && options.flowFiles.length > 0) {
    const { mapped, stats } = await readFlows(options.flowFiles, engine, ioOf(options.log));
    const phi = new Set(phiScope(snapshot, options.config).phi.keys());
    const comparison = compareFlows(engine, mapped, phi);
    flows = { comparison, stats };
    observed = { files: [...options.flowFiles], comparison };
    checkpoint();
  }
  const now = new Date();
  const audit = runAudit(engine, options.config, { now, observed, connections });
  checkpoint();
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
