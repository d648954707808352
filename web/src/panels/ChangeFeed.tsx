import type { ChangeEvent, FindingRef } from '../types.ts';

export interface FeedEntry extends ChangeEvent {
  received: number;
  error?: string;
}

function time(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toLocaleTimeString();
}

function EdgeList(props: { sign: string; cls: string; ids: readonly string[] }) {
  if (props.ids.length === 0) return null;
  return (
    <ul class={`edges ${props.cls}`}>
      {props.ids.slice(0, 8).map((id) => (
        <li key={id}>
          {props.sign} {id}
        </li>
      ))}
      {props.ids.length > 8 && (
        <li class="muted">
          … {props.ids.length - 8} more {props.sign}
        </li>
      )}
    </ul>
  );
}

function FindingList(props: { sign: string; cls: string; findings: readonly FindingRef[] }) {
  if (props.findings.length === 0) return null;
  return (
    <ul class={`findings-changed ${props.cls}`} data-testid={`feed-findings-${props.cls}`}>
      {props.findings.map((f) => (
        <li key={`${f.check} ${f.status} ${f.objects.join(' ')}`}>
          {props.sign} <b>{f.check}</b> {f.status} ({f.severity}): {f.title}
          {f.objects.length > 0 && <span class="muted"> · {f.objects.slice(0, 3).join(', ')}</span>}
          {f.objects.length > 3 && <span class="muted"> … {f.objects.length - 3} more</span>}
        </li>
      ))}
    </ul>
  );
}

/** What changed and when: one entry per event, newest first. */
export function ChangeFeed(props: { entries: readonly FeedEntry[] }) {
  if (props.entries.length === 0) {
    return (
      <p class="muted">
        No change since the page was opened. Changes to the input appear here as they happen.
      </p>
    );
  }
  return (
    <ol class="feed" data-testid="change-feed">
      {props.entries.map((entry) => (
        <li
          key={`${entry.received}-${entry.generation}`}
          class={entry.error ? 'feed-entry error' : 'feed-entry'}
        >
          <div class="feed-head">
            <time>{time(entry.time)}</time> <span>{entry.reason}</span>
          </div>
          {entry.error && <p class="error-text">{entry.error}</p>}
          {entry.objects.length > 0 && (
            <ul class="objects">
              {entry.objects.map((o, i) => (
                <li key={i}>
                  {o.type ? `${o.type} ` : ''}
                  {o.kind} {o.namespace ? `${o.namespace}/` : ''}
                  {o.name}
                </li>
              ))}
            </ul>
          )}
          {!entry.error && (
            <p class="small">
              <span class="added-text">+{entry.added.length} added</span> ·{' '}
              <span class="removed-text">−{entry.removed.length} removed</span> · {entry.changed.length}{' '}
              changed
              {entry.findings && (
                <>
                  {' '}
                  · <span class="fail-text">{entry.findings.started.length} finding(s) started</span> ·{' '}
                  {entry.findings.stopped.length} ended
                </>
              )}
            </p>
          )}
          <FindingList sign="!" cls="started" findings={entry.findings.started} />
          <FindingList sign="✓" cls="stopped" findings={entry.findings.stopped} />
          <EdgeList sign="+" cls="added" ids={entry.added} />
          <EdgeList sign="−" cls="removed" ids={entry.removed} />
          <EdgeList sign="~" cls="changed" ids={entry.changed} />
        </li>
      ))}
    </ol>
  );
}
