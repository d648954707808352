import { type ExposureKey, exposureSelection, type Filters } from './graph.ts';
import type { Graph } from './types.ts';

/**
 * The numbers a PHI cluster is judged by, first in the header; each one filters the graph to what it
 * counts, and a second click shows everything again.
 */
export function ExposureBar(props: {
  graph: Graph;
  filters: Filters;
  onFilters: (filters: Filters) => void;
}) {
  const { exposure } = props.graph;
  const items: { key: ExposureKey; label: string; ids: readonly string[] }[] = [
    { key: 'internet', label: 'PHI reachable from outside the cluster', ids: exposure.phiFromInternet },
    {
      key: 'namespaces',
      label: 'PHI reachable from non-PHI namespaces',
      ids: exposure.phiFromNonPhiNamespaces,
    },
    { key: 'gaps', label: 'enforcement gaps observed', ids: exposure.enforcementGaps },
  ];
  const active = props.filters.only?.label;
  return (
    <nav class="exposure" data-testid="exposure" aria-label="PHI exposure">
      {items.map((item) => (
        <button
          type="button"
          key={item.key}
          data-testid={`exposure-${item.key}`}
          data-count={item.ids.length}
          class={`exposure-item${item.ids.length > 0 ? ' bad' : ' good'}${active === item.label ? ' active' : ''}`}
          aria-pressed={active === item.label}
          disabled={item.ids.length === 0}
          title={item.ids.join('\n')}
          onClick={() =>
            props.onFilters({
              ...props.filters,
              only:
                active === item.label
                  ? undefined
                  : { label: item.label, ids: exposureSelection(props.graph, item.key) },
            })
          }
        >
          <b>{item.ids.length}</b> {item.label}
        </button>
      ))}
    </nav>
  );
}
