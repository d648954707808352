import type { LiveUpdate } from '../analysis/live-connectivity.ts';
import { formatPorts } from '../engine/ports.ts';
import { connectionLine } from './connectivity.ts';
import { portsToJson } from './ports-json.ts';

/** The objects a batch of cluster changes touched, as `Kind namespace/name TYPE`. */
export interface ChangedObject {
  type: string;
  kind: string;
  namespace: string;
  name: string;
}

export const WATCH_FORMATS = ['text', 'json'] as const;
export type WatchFormat = (typeof WATCH_FORMATS)[number];

const MARK = { added: '+', removed: '-', changed: '~' } as const;

/**
 * One batch of a watch: text lines stamped with the time (`+` added, `-` removed, `~` changed ports),
 * or one JSON object per line for scripts.
 */
export function renderLiveUpdate(
  at: Date,
  objects: readonly ChangedObject[],
  update: LiveUpdate,
  format: WatchFormat,
): string {
  const time = at.toISOString();
  if (format === 'json') {
    const connection = (d: LiveUpdate['deltas'][number]) => ({
      src: d.connection.src,
      dst: d.connection.dst,
      ports: portsToJson(d.connection.ports),
      ...(d.was ? { was: portsToJson(d.was.ports) } : {}),
    });
    return `${JSON.stringify({
      time,
      objects,
      incremental: update.incremental,
      added: update.deltas.filter((d) => d.kind === 'added').map(connection),
      removed: update.deltas.filter((d) => d.kind === 'removed').map(connection),
      changed: update.deltas.filter((d) => d.kind === 'changed').map(connection),
    })}\n`;
  }
  const lines = objects.map(
    (o) => `[${time}] ${o.type} ${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`,
  );
  for (const delta of update.deltas) {
    const was = delta.was ? ` (was ${formatPorts(delta.was.ports)})` : '';
    lines.push(`[${time}] ${MARK[delta.kind]} ${connectionLine(delta.connection)}${was}`);
  }
  if (update.deltas.length === 0) lines.push(`[${time}] connectivity unchanged`);
  return `${lines.join('\n')}\n`;
}
