import { FLOW_LEGEND } from '../graph.ts';
import type { FlowPeer, FlowsReport, ObservedFlow } from '../types.ts';
import { Section } from './common.tsx';

export function peerText(peer: FlowPeer): string {
  if ('workload' in peer) return peer.workload;
  if ('ip' in peer) return peer.ip;
  return peer.external.join(',');
}

function FlowList(props: {
  flows: readonly ObservedFlow[];
  group: string;
  onHighlight: (nodes: string[], key: string) => void;
}) {
  return (
    <ul class="flows">
      {props.flows.slice(0, 100).map((flow, i) => {
        const ends = [peerText(flow.src), peerText(flow.dst)];
        return (
          <li key={i}>
            <button
              type="button"
              class="link"
              onClick={() => props.onHighlight(ends, `flow|${props.group}|${i}`)}
            >
              {ends[0]} → {ends[1]} {flow.protocol} {flow.port}{' '}
              <span class="muted">
                ×{flow.count}
                {flow.phi.length > 0 ? ' · PHI' : ''}
              </span>
            </button>
          </li>
        );
      })}
      {props.flows.length > 100 && <li class="muted">… {props.flows.length - 100} more</li>}
    </ul>
  );
}

/** Observed flows (`--flows`) compared with policy; the graph draws them over the allowed edges. */
export function FlowsPanel(props: {
  flows: FlowsReport;
  onHighlight: (nodes: string[], key: string) => void;
}) {
  const { flows } = props;
  return (
    <div data-testid="flows-panel">
      {flows.window && (
        <p class="muted small">
          Observed from {flows.window.from} to {flows.window.to}.
        </p>
      )}
      <ul class="legend-list">
        {FLOW_LEGEND.map((item) => (
          <li key={item.cls}>
            <span class={`swatch edge-${item.cls}`} /> {item.text}: {flows[item.group]?.length ?? 0}
          </li>
        ))}
        <li>
          allowed but unused: {flows.unused?.length ?? 0}{' '}
          <span class="muted">(candidates for tightening)</span>
        </li>
      </ul>
      {flows.gap.length > 0 && (
        <Section title="Enforcement gaps: forwarded although policy denies">
          <FlowList flows={flows.gap} group="gap" onHighlight={props.onHighlight} />
        </Section>
      )}
      {flows.needed.length > 0 && (
        <Section title="Dropped, policy denies (needed?)">
          <FlowList flows={flows.needed} group="needed" onHighlight={props.onHighlight} />
        </Section>
      )}
      {flows.droppedAllowed.length > 0 && (
        <Section title="Dropped although policy allows">
          <FlowList flows={flows.droppedAllowed} group="dropped" onHighlight={props.onHighlight} />
        </Section>
      )}
      {flows.used.length > 0 && (
        <Section title="Used allows">
          <FlowList flows={flows.used} group="used" onHighlight={props.onHighlight} />
        </Section>
      )}
    </div>
  );
}
