import type { Graph } from './types.ts';

/** What the page's "live" badge says: current, showing the last good state, or waiting for the server. */
export type LiveState = 'live' | 'stale' | 'reconnecting' | 'connecting';

export function liveState(graph: Graph | undefined, connected: boolean, everConnected: boolean): LiveState {
  if (!connected) return everConnected ? 'reconnecting' : 'connecting';
  return graph?.status.stale ? 'stale' : 'live';
}

const ENFORCEMENT_TEXT = {
  'not-enforcing':
    'The network plugin does not enforce NetworkPolicy (HIPAA-NP-002): this graph is what policy would allow, not what the network does.',
  unknown:
    'Whether the network plugin enforces NetworkPolicy could not be decided (HIPAA-NP-002): review it.',
  'not-assessable':
    'No network plugin was found in the input (HIPAA-NP-002 not assessable): enforcement is unknown.',
} as const;

/** Banners for a graph that must not pass for current and complete: stale, partial, disconnected, unenforced. */
export function StatusBanners(props: { graph: Graph | undefined; state: LiveState }) {
  const status = props.graph?.status;
  return (
    <>
      {props.state === 'reconnecting' && (
        <div class="banner warn" role="status" data-testid="banner-reconnecting">
          Connection to the server lost: reconnecting. What is shown may be out of date.
        </div>
      )}
      {status?.stale && (
        <div class="banner error" role="alert" data-testid="banner-stale">
          <b>Stale:</b> the input has not loaded since {new Date(status.stale.since).toLocaleTimeString()}, so
          this is the last good state.
          <ul class="mono">
            {status.stale.errors.slice(0, 5).map((line) => (
              <li key={line}>{line}</li>
            ))}
            {status.stale.errors.length > 5 && <li>… {status.stale.errors.length - 5} more</li>}
          </ul>
        </div>
      )}
      {status?.partial && (
        <details class="banner warn" data-testid="banner-partial">
          <summary>
            <b>Partial:</b> {status.partial.reasons.length} input problem(s) left objects out of the analysis.
          </summary>
          <ul class="mono">
            {status.partial.reasons.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </details>
      )}
      {status && status.enforcement !== 'enforcing' && (
        <div
          class="banner warn"
          role="note"
          data-testid="banner-enforcement"
          data-enforcement={status.enforcement}
        >
          {ENFORCEMENT_TEXT[status.enforcement]}
        </div>
      )}
    </>
  );
}
