import type { Endpoint } from '../engine/endpoint.ts';
import type { Engine, SideExplanation } from '../engine/engine.ts';
import { contains } from '../engine/intervals.ts';
import { ALL_PORTS, intersectPorts, type PortSet } from '../engine/ports.ts';
import type { Protocol } from '../model/types.ts';
import type { Resolved } from './resolve.ts';

export interface PortQuery {
  protocol: Protocol;
  port?: number;
}

export interface Explanation {
  from: Resolved;
  to: Resolved;
  /** A pod reaching itself is always allowed. */
  samePod: boolean;
  /** Undefined when the source is an external address, which no NetworkPolicy isolates. */
  egress?: SideExplanation;
  /** Undefined when the destination is an external address. */
  ingress?: SideExplanation;
  allowed: PortSet;
  query?: PortQuery;
  /** The answer to the query, when one was asked. */
  verdict?: boolean;
  /** The snapshot left invalid objects out (`--skip-invalid`), so the answer may be incomplete. */
  partial: boolean;
}

export function toEndpoint(resolved: Resolved): Endpoint {
  return resolved.kind === 'ip' ? { ip: resolved.ip } : { pod: resolved.pod };
}

export function explainConnection(
  engine: Engine,
  from: Resolved,
  to: Resolved,
  query?: PortQuery,
): Explanation {
  const samePod = from.kind === 'workload' && to.kind === 'workload' && from.pod === to.pod;
  const egress =
    from.kind === 'workload' && !samePod ? engine.explainSide(from.pod, toEndpoint(to), 'egress') : undefined;
  const ingress =
    to.kind === 'workload' && !samePod ? engine.explainSide(to.pod, toEndpoint(from), 'ingress') : undefined;
  const allowed = intersectPorts(egress?.ports ?? ALL_PORTS, ingress?.ports ?? ALL_PORTS);
  const verdict =
    query?.port !== undefined
      ? contains(allowed[query.protocol], query.port)
      : query
        ? allowed[query.protocol].length > 0
        : undefined;
  return { from, to, samePod, egress, ingress, allowed, query, verdict, partial: engine.snapshot.partial };
}
