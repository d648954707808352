import type { LogItem, ObjectChanges, ReachInterval } from '../history/questions.ts';
import type { EntryRow } from '../history/store.ts';
import type { VerifyResult } from '../history/verify.ts';

export function renderVerify(result: VerifyResult): string {
  if (!result.ok && result.problem) {
    return `FAILED: ${result.problem.message}\n${result.entries} entr${result.entries === 1 ? 'y' : 'ies'} before it verified\n`;
  }
  if (result.entries === 0) return 'OK: the history is empty\n';
  return `OK: ${result.entries} entries (#${result.first} to #${result.last}) verify, chained from ${result.anchor}; ${result.signed} signed\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function logLine(item: LogItem): string[] {
  switch (item.kind) {
    case 'checks':
      return [
        `#${item.first}${item.count > 1 ? `..#${item.last}` : ''}  ${item.cluster}  checked ${plural(item.count, 'time')}, unchanged (${item.from}${item.count > 1 ? ` to ${item.to}` : ''})`,
      ];
    case 'checkpoint':
      return [
        `#${item.seq}  ${item.at}  checkpoint: ${plural(item.entries, 'entry')} up to #${item.through} pruned`,
      ];
    case 'full': {
      const { connections, phi, findings } = item.changes;
      const lines = [
        `#${item.seq}  ${item.at}  ${item.cluster}  ${connections.added} added, ${connections.removed} removed, ${connections.changed} changed connections; ${findings.started.length} findings started failing, ${findings.stopped.length} stopped`,
      ];
      for (const [word, list] of [
        ['+ PHI', phi.added],
        ['- PHI', phi.removed],
        ['~ PHI', phi.changed],
      ] as const) {
        for (const name of list) lines.push(`    ${word}  ${name}`);
      }
      if (phi.more > 0) lines.push(`    … and ${plural(phi.more, 'more PHI change')}`);
      for (const name of findings.started) lines.push(`    failing  ${name}`);
      for (const name of findings.stopped) lines.push(`    fixed    ${name}`);
      return lines;
    }
  }
}

export function renderHistoryLog(items: readonly LogItem[]): string {
  if (items.length === 0) return 'The history is empty\n';
  return `${items.flatMap(logLine).join('\n')}\n`;
}

function changedObjects({ named, more }: ObjectChanges): string {
  if (named.length === 0) return 'no object changed';
  const rest = named.length - 5 + more;
  const shown = named.slice(0, 5).map((o) => `${o.change} ${o.object}`);
  return `${shown.join(', ')}${rest > 0 ? `, and ${rest} more` : ''}`;
}

export function renderSince(
  query: { from: string; to: string; port?: string },
  answer: { cluster: string; intervals: readonly ReachInterval[]; last?: EntryRow },
): string {
  const what = `${query.from} -> ${query.to}${query.port ? ` on ${query.port}` : ''}`;
  if (answer.intervals.length === 0)
    return `${what}: never allowed in the history of ${answer.cluster || 'this store'}\n`;
  const lines = [
    `${what} (${answer.cluster}): allowed during ${plural(answer.intervals.length, 'interval')}`,
  ];
  for (const interval of answer.intervals) {
    const until = interval.closed
      ? `#${interval.closed.seq} ${interval.closed.at || '(pruned)'}`
      : `now (still allowed at #${answer.last?.seq} ${answer.last?.at})`;
    lines.push(
      `  from #${interval.opened.seq} ${interval.opened.at || '(pruned)'} until ${until}: ${interval.connection} ${interval.opened.ports}`,
    );
    lines.push(`    opened by: ${changedObjects(interval.opened.objects)}`);
    if (interval.closed) lines.push(`    closed by: ${changedObjects(interval.closed.objects)}`);
  }
  return `${lines.join('\n')}\n`;
}
