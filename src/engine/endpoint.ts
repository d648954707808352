import type { Pod } from '../model/types.ts';

/** One end of a connection: a pod, or an address outside the pods. */
export type Endpoint = { pod: Pod } | { ip: string };

export interface EngineOptions {
  /**
   * Whether an ipBlock that covers a pod's IP matches that pod. The Kubernetes conformance tests expect it;
   * some CNIs only match ipBlocks against traffic from outside the cluster.
   */
  ipBlockMatchesPods: boolean;
}

export const DEFAULT_OPTIONS: EngineOptions = { ipBlockMatchesPods: true };
