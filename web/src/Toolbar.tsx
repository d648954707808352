import { useState } from 'preact/hooks';
import { type Filters, parsePortQuery } from './graph.ts';
import type { GraphNode } from './types.ts';

interface Props {
  filters: Filters;
  onFilters: (filters: Filters) => void;
  namespaces: readonly string[];
  aggregate: boolean;
  onAggregate: (on: boolean) => void;
  search: string;
  onSearch: (query: string) => void;
  hits: readonly GraphNode[];
  onPick: (node: GraphNode) => void;
  flowsAvailable: boolean;
  showFlows: boolean;
  onShowFlows: (on: boolean) => void;
  onFit: () => void;
  onLayout: () => void;
}

function nodeTitle(node: GraphNode): string {
  return node.type === 'workload' ? `${node.namespace}/${node.name} (${node.kind})` : node.label;
}

export function Toolbar(props: Props) {
  const { filters } = props;
  const [open, setOpen] = useState(false);
  const portInvalid = filters.port.trim() !== '' && !parsePortQuery(filters.port);
  const set = (patch: Partial<Filters>) => props.onFilters({ ...filters, ...patch });
  return (
    <div class="toolbar">
      <label>
        Namespace{' '}
        <select
          data-testid="filter-namespace"
          value={filters.namespace}
          onChange={(e) => set({ namespace: e.currentTarget.value })}
        >
          <option value="">all</option>
          {props.namespaces.map((ns) => (
            <option key={ns} value={ns}>
              {ns}
            </option>
          ))}
        </select>
      </label>
      <label>
        <input
          type="checkbox"
          data-testid="filter-phi"
          checked={filters.phiOnly}
          onChange={(e) => set({ phiOnly: e.currentTarget.checked })}
        />{' '}
        PHI only
      </label>
      <label>
        <input
          type="checkbox"
          data-testid="filter-exposed"
          checked={filters.exposedOnly}
          onChange={(e) => set({ exposedOnly: e.currentTarget.checked })}
        />{' '}
        Exposed only
      </label>
      <label>
        Port{' '}
        <input
          class={portInvalid ? 'port invalid' : 'port'}
          data-testid="filter-port"
          placeholder="TCP 5432"
          value={filters.port}
          title="A protocol, a port or both: TCP, 5432, UDP 53"
          onInput={(e) => set({ port: e.currentTarget.value })}
        />
      </label>
      <label title="Draw one node per namespace; click a namespace to open it">
        <input
          type="checkbox"
          data-testid="aggregate"
          checked={props.aggregate}
          onChange={(e) => props.onAggregate(e.currentTarget.checked)}
        />{' '}
        Namespaces only
      </label>
      {props.flowsAvailable && (
        <label>
          <input
            type="checkbox"
            data-testid="show-flows"
            checked={props.showFlows}
            onChange={(e) => props.onShowFlows(e.currentTarget.checked)}
          />{' '}
          Observed flows
        </label>
      )}
      <div class="search">
        <input
          type="search"
          data-testid="search"
          placeholder="Search workloads, labels…"
          value={props.search}
          onInput={(e) => {
            props.onSearch(e.currentTarget.value);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onKeyDown={(e) => {
            const first = props.hits[0];
            if (e.key === 'Enter' && first) {
              props.onPick(first);
              setOpen(false);
            }
            if (e.key === 'Escape') setOpen(false);
          }}
        />
        {open && props.search.trim() !== '' && (
          <ul class="hits" data-testid="search-hits">
            {props.hits.length === 0 && <li class="none">No match</li>}
            {props.hits.slice(0, 20).map((node) => (
              <li key={node.id}>
                <button
                  type="button"
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => {
                    props.onPick(node);
                    setOpen(false);
                  }}
                >
                  {nodeTitle(node)}
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      <span class="spacer" />
      <button type="button" onClick={props.onFit}>
        Fit
      </button>
      <button type="button" onClick={props.onLayout}>
        Re-layout
      </button>
    </div>
  );
}
