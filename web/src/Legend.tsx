import { FLOW_LEGEND } from './graph.ts';

export function Legend(props: { flows: boolean; whatIf: boolean }) {
  return (
    <div class="legend" role="note" aria-label="Legend">
      <span class="key node-phi-exposed">⚠ exposed PHI</span>
      <span class="key node-phi">PHI workload</span>
      <span class="key node-exposed">exposed</span>
      <span class="key node-workload">workload</span>
      <span class="key node-host">hostNetwork</span>
      <span class="key node-entry">entry point</span>
      <span class="key node-external">external block</span>
      <span class="key edge-internet-phi">outside → PHI</span>
      <span class="key edge-phi">into/out of PHI</span>
      <span class="key edge-plain">allowed</span>
      {props.whatIf && (
        <>
          <span class="key edge-wi-added">what-if: added</span>
          <span class="key edge-wi-removed">what-if: removed</span>
        </>
      )}
      {props.flows &&
        FLOW_LEGEND.map((item) => (
          <span key={item.cls} class={`key edge-${item.cls}`}>
            {item.text}
          </span>
        ))}
    </div>
  );
}
