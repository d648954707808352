import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, api, subscribe } from './api.ts';
import type { GraphView } from './cy.ts';
import { drillElements } from './drill.ts';
import { ExposureBar } from './ExposureBar.tsx';
import { GraphCanvas, type Pending } from './GraphCanvas.tsx';
import {
  AGGREGATE_ABOVE,
  buildView,
  type Filters,
  findingTargets,
  NO_FILTERS,
  nsId,
  searchNodes,
  type WhatIfMarks,
} from './graph.ts';
import { Legend } from './Legend.tsx';
import { ChangeFeed, type FeedEntry } from './panels/ChangeFeed.tsx';
import { Details, type Selection } from './panels/Details.tsx';
import { FindingsPanel } from './panels/Findings.tsx';
import { FlowsPanel } from './panels/Flows.tsx';
import { WhatIfPanel, type WhatIfState } from './panels/WhatIf.tsx';
import { liveState, StatusBanners } from './StatusBanners.tsx';
import { Toolbar } from './Toolbar.tsx';
import type { ChangeEvent, Finding, FlowsReport, Graph, GraphNode, PodGroup, WhatIfResult } from './types.ts';

type Tab = 'details' | 'findings' | 'changes' | 'what-if' | 'flows';

const TEST_MODE = new URLSearchParams(location.search).get('test') === '1';

/** The base graph with what a what-if adds: its new edges, any node only it has, and their exposure. */
function mergeWhatIf(base: Graph, result: WhatIfResult): Graph {
  const nodeIds = new Set(base.nodes.map((n) => n.id));
  const edgeIds = new Set(base.edges.map((e) => e.id));
  const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];
  const { edges } = result.graph.exposure;
  return {
    ...base,
    nodes: [...base.nodes, ...result.graph.nodes.filter((n) => !nodeIds.has(n.id))],
    edges: [...base.edges, ...result.added.filter((e) => !edgeIds.has(e.id))],
    exposure: {
      ...base.exposure,
      edges: {
        internet: union(base.exposure.edges.internet, edges.internet),
        namespaces: union(base.exposure.edges.namespaces, edges.namespaces),
      },
    },
  };
}

/** What to flash after a change: added and changed edges, the ends of removed ones, changed workloads. */
function flashIds(before: Graph | undefined, after: Graph, event: ChangeEvent): string[] {
  const ids = new Set([...event.added, ...event.changed]);
  const removed = new Set(event.removed);
  for (const edge of before?.edges ?? []) {
    if (!removed.has(edge.id)) continue;
    ids.add(edge.source);
    ids.add(edge.target);
  }
  for (const object of event.objects) {
    for (const node of after.nodes) {
      if (
        node.type === 'workload' &&
        node.kind === object.kind &&
        node.namespace === object.namespace &&
        node.name === object.name
      )
        ids.add(node.id);
    }
  }
  return [...ids];
}

export function App() {
  const [graph, setGraph] = useState<Graph>();
  const [findings, setFindings] = useState<Finding[]>([]);
  const [flows, setFlows] = useState<FlowsReport>();
  const [showFlows, setShowFlows] = useState(true);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [aggregate, setAggregate] = useState(false);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [drilled, setDrilled] = useState<ReadonlyMap<string, readonly PodGroup[]>>(new Map());
  const [selection, setSelection] = useState<Selection>();
  const [highlight, setHighlight] = useState<{ key: string; nodes: string[]; edges: string[] }>();
  const [search, setSearch] = useState('');
  const [focus, setFocus] = useState<{ ids: string[]; seq: number }>();
  const [feed, setFeed] = useState<FeedEntry[]>([]);
  const [whatIf, setWhatIf] = useState<WhatIfState>({ yaml: '', deletes: [], busy: false, errors: [] });
  const [tab, setTab] = useState<Tab>('findings');
  const [connected, setConnected] = useState(false);
  const [everConnected, setEverConnected] = useState(false);
  const [loadError, setLoadError] = useState<string>();
  const pending = useRef<Pending>({ layout: 'full', flash: [] });
  const graphRef = useRef<Graph | undefined>(undefined);
  const wasConnected = useRef<boolean | undefined>(undefined);
  graphRef.current = graph;

  const load = useCallback(async (event?: ChangeEvent) => {
    try {
      const [next, nextFindings] = await Promise.all([api.graph(), api.findings()]);
      if (event) {
        pending.current = {
          layout: 'none',
          flash: flashIds(graphRef.current, next, event),
        };
      }
      if (!graphRef.current)
        setAggregate(next.nodes.filter((n) => n.type === 'workload').length > AGGREGATE_ABOVE);
      setGraph(next);
      setFindings(nextFindings);
      setLoadError(undefined);
      return next;
    } catch (error) {
      setLoadError(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }, []);

  useEffect(() => {
    void (async () => {
      await load();
      try {
        setFlows(await api.flows());
      } catch {
        setFlows(undefined);
      }
    })();
    return subscribe({
      change: (event) => {
        setFeed((entries) => [{ ...event, received: Date.now() }, ...entries].slice(0, 200));
        setWhatIf((state) => (state.result ? { ...state, stale: true } : state));
        // Pod groups are read per generation: open them again on the new one.
        setDrilled((current) => (current.size > 0 ? new Map() : current));
        void load(event);
      },
      error: (message) => {
        // The graph is now the last good state: reload it for the status that says so.
        pending.current = { layout: 'none', flash: [] };
        void load();
        setFeed((entries) =>
          [
            {
              generation: -1,
              time: new Date().toISOString(),
              reason: 'the new input could not be loaded; the last good state is kept',
              objects: [],
              added: [],
              removed: [],
              changed: [],
              findings: { started: [], stopped: [] },
              error: message,
              received: Date.now(),
            },
            ...entries,
          ].slice(0, 200),
        );
      },
      connection: (open) => {
        // Back after a lost connection: events may have been missed.
        if (open && wasConnected.current === false && graphRef.current) void load();
        wasConnected.current = open;
        setConnected(open);
        if (open) setEverConnected(true);
      },
    });
  }, [load]);

  const whatIfResult = whatIf.result;
  const displayGraph = useMemo(
    () => (graph && whatIfResult ? mergeWhatIf(graph, whatIfResult) : graph),
    [graph, whatIfResult],
  );
  const marks = useMemo<WhatIfMarks | undefined>(
    () =>
      whatIfResult
        ? {
            added: new Set(whatIfResult.added.map((e) => e.id)),
            removed: new Set(whatIfResult.removed.map((e) => e.id)),
            changed: new Set(whatIfResult.changed.map((c) => c.edge.id)),
          }
        : undefined,
    [whatIfResult],
  );
  const view = useMemo(() => {
    if (!displayGraph) return undefined;
    const built = buildView(displayGraph, {
      filters,
      aggregate,
      expanded,
      whatIf: marks,
      flows: showFlows ? flows : undefined,
    });
    if (drilled.size === 0) return built;
    return { ...built, elements: [...built.elements, ...drillElements(drilled, built.drawnNode)] };
  }, [displayGraph, filters, aggregate, expanded, marks, showFlows, flows, drilled]);

  const nodeById = useMemo(() => new Map((displayGraph?.nodes ?? []).map((n) => [n.id, n])), [displayGraph]);
  const drawnIds = useCallback(
    (nodes: readonly string[], edges: readonly string[]) => {
      if (!view) return [];
      const ids = new Set<string>();
      for (const id of nodes) ids.add(view.drawnNode.get(id) ?? id);
      for (const id of edges) {
        const drawn = view.drawnEdge.get(id);
        if (drawn) ids.add(drawn);
      }
      return [...ids];
    },
    [view],
  );
  const highlighted = useMemo(
    () => (highlight ? drawnIds(highlight.nodes, highlight.edges) : []),
    [highlight, drawnIds],
  );
  const searchHits = useMemo(
    () => (displayGraph ? searchNodes(displayGraph, search) : []),
    [displayGraph, search],
  );
  const matches = useMemo(
    () =>
      drawnIds(
        searchHits.map((n) => n.id),
        [],
      ),
    [searchHits, drawnIds],
  );

  const selectedDrawn = useMemo(() => {
    if (!selection || !view) return undefined;
    switch (selection.kind) {
      case 'namespace':
        return nsId(selection.name);
      case 'edge':
        return view.drawnEdge.get(selection.id);
      case 'finding':
        return undefined;
      default:
        return view.drawnNode.get(selection.id) ?? selection.id;
    }
  }, [selection, view]);

  const expand = useCallback((namespace: string, open = true) => {
    pending.current = { layout: 'auto', flash: [] };
    setExpanded((current) => {
      const next = new Set(current);
      if (open) next.add(namespace);
      else next.delete(namespace);
      return next;
    });
  }, []);

  const selectNode = useCallback(
    (node: GraphNode) => {
      if (aggregate && node.type === 'workload' && !expanded.has(node.namespace)) expand(node.namespace);
      setSelection(
        node.type === 'workload' ? { kind: 'workload', id: node.id } : { kind: 'node', id: node.id },
      );
      setTab('details');
      setFocus({ ids: [node.id], seq: Date.now() });
    },
    [aggregate, expanded, expand],
  );

  const handlers = {
    node: (id: string, data: Record<string, unknown>) => {
      if (data.kind === 'namespace') {
        const name = String(data.namespace);
        if (aggregate && !expanded.has(name)) expand(name);
        setSelection({ kind: 'namespace', name });
      } else if (data.kind === 'workload') {
        setSelection({ kind: 'workload', id });
      } else if (data.kind === 'pod-group') {
        setSelection({ kind: 'workload', id: String(data.workload) });
      } else {
        setSelection({ kind: 'node', id });
      }
      setTab('details');
    },
    edge: (id: string, data: Record<string, unknown>) => {
      if (data.kind === 'agg') {
        setSelection({
          kind: 'agg',
          id,
          edges: (data.edges as string[]) ?? [],
          source: String(data.source),
          target: String(data.target),
        });
      } else if (data.kind === 'flow') {
        setSelection({
          kind: 'flow',
          id,
          label: String(data.label),
          source: String(data.source),
          target: String(data.target),
        });
      } else {
        setSelection({ kind: 'edge', id });
      }
      setTab('details');
    },
    background: () => {
      setSelection(undefined);
      setHighlight(undefined);
    },
  };

  const onFinding = useCallback(
    (finding: Finding, key: string) => {
      if (!displayGraph) return;
      if (highlight?.key === key) {
        setHighlight(undefined);
        return;
      }
      const targets = findingTargets(finding, displayGraph);
      setHighlight({ key, ...targets });
      const ids = drawnIds(targets.nodes, targets.edges);
      if (ids.length) setFocus({ ids, seq: Date.now() });
    },
    [displayGraph, highlight, drawnIds],
  );

  const runWhatIf = useCallback(async () => {
    setWhatIf((s) => ({ ...s, busy: true, errors: [] }));
    try {
      const result = await api.whatIf({ yaml: whatIf.yaml, delete: whatIf.deletes });
      pending.current = { layout: 'none', flash: result.added.map((e) => e.id) };
      setWhatIf((s) => ({ ...s, busy: false, result, stale: false, errors: [] }));
    } catch (error) {
      const errors =
        error instanceof ApiError && error.errors.length > 0
          ? error.errors
          : [error instanceof Error ? error.message : String(error)];
      setWhatIf((s) => ({ ...s, busy: false, errors }));
    }
  }, [whatIf.yaml, whatIf.deletes]);

  const [graphView, setGraphView] = useState<GraphView>();
  useEffect(() => {
    if (!TEST_MODE || !graphView) return;
    (window as unknown as { __phiwall?: unknown }).__phiwall = {
      cy: graphView.cy,
      counts: view?.counts,
      generation: graph?.generation,
      feed: feed.length,
    };
  }, [graphView, view, graph, feed]);

  const namespaces = useMemo(() => {
    const names = new Set((graph?.namespaces ?? []).map((n) => n.name));
    for (const node of graph?.nodes ?? []) if (node.type === 'workload') names.add(node.namespace);
    return [...names].sort();
  }, [graph]);

  const state = liveState(graph, connected, everConnected);
  // A highlight belongs to the panel it was made in: another tab's view must not stay faded by it.
  const switchTab = (next: Tab) => {
    if (next !== tab) setHighlight(undefined);
    setTab(next);
  };

  const tabs: [Tab, string][] = [
    ['details', 'Details'],
    ['findings', `Findings${graph ? ` (${graph.summary.failing})` : ''}`],
    ['changes', `Changes${feed.length ? ` (${feed.length})` : ''}`],
    ['what-if', 'What-if'],
  ];
  if (flows) tabs.push(['flows', 'Flows']);

  return (
    <div class="app">
      <header class="top">
        <h1>phiwall</h1>
        {graph && (
          <span class="source" title={graph.source.label}>
            {graph.source.kind}: {graph.source.label}
          </span>
        )}
        {graph && view && (
          <span
            class="summary"
            data-testid="summary"
            data-workloads={view.counts.workloads}
            data-phi={view.counts.phi}
            data-generation={graph.generation}
          >
            <b>{graph.summary.workloads}</b> workloads · <b class="phi-text">{graph.summary.phi}</b> PHI ·{' '}
            <b>{graph.summary.edges}</b> connections · <b class="fail-text">{graph.summary.failing}</b>{' '}
            failing · <b>{graph.summary.needsReview}</b> to review
            {view.counts.hidden > 0 && <> · drawn: {view.counts.workloads} workloads</>}
          </span>
        )}
        <span class={`live ${state}`} data-testid="live" data-state={state}>
          {state === 'connecting' ? 'connecting…' : state}
        </span>
      </header>
      {graph && (
        <ExposureBar
          graph={graph}
          filters={filters}
          onFilters={(f) => {
            pending.current = { layout: 'auto', flash: [] };
            setFilters(f);
          }}
        />
      )}
      <StatusBanners graph={graph} state={state} />
      <Toolbar
        filters={filters}
        onFilters={(f) => {
          pending.current = { layout: 'auto', flash: [] };
          setFilters(f);
        }}
        namespaces={namespaces}
        aggregate={aggregate}
        onAggregate={(on) => {
          pending.current = { layout: 'full', flash: [] };
          setExpanded(new Set());
          setAggregate(on);
        }}
        search={search}
        onSearch={setSearch}
        hits={searchHits}
        onPick={selectNode}
        flowsAvailable={flows !== undefined}
        showFlows={showFlows}
        onShowFlows={setShowFlows}
        onFit={() => graphView?.fit()}
        onLayout={() => graphView?.layout(true)}
      />
      {loadError && (
        <div class="banner error" role="alert">
          Could not load the graph: {loadError}
        </div>
      )}
      {whatIf.result && (
        <div class="banner whatif" data-testid="whatif-banner">
          What-if view: <b class="added-text">+{whatIf.result.added.length}</b> added,{' '}
          <b class="removed-text">−{whatIf.result.removed.length}</b> removed, {whatIf.result.changed.length}{' '}
          changed connections; {whatIf.result.newFindings.length} new and{' '}
          {whatIf.result.resolvedFindings.length} resolved findings. Nothing was applied.
          {whatIf.stale && <> The input changed since: compute again.</>}
          <button type="button" onClick={() => setWhatIf((s) => ({ ...s, result: undefined }))}>
            Leave what-if
          </button>
        </div>
      )}
      <main class="main">
        <section class="canvas">
          <div class="graph-area">
            {view && (
              <GraphCanvas
                view={view}
                pending={pending}
                selected={selectedDrawn}
                highlighted={highlighted}
                matches={matches}
                focus={focus}
                handlers={handlers}
                onReady={setGraphView}
              />
            )}
            {!graph && !loadError && <div class="loading">Loading…</div>}
          </div>
          <Legend flows={showFlows && flows !== undefined} whatIf={whatIf.result !== undefined} />
        </section>
        <aside class="side">
          <div class="tabs" role="tablist" aria-label="Panels">
            {tabs.map(([id, label], i) => (
              <button
                type="button"
                role="tab"
                key={id}
                aria-selected={tab === id}
                // One tab stop for the list; the arrow keys move between tabs (the WAI-ARIA tabs pattern).
                tabIndex={tab === id ? 0 : -1}
                class={tab === id ? 'tab active' : 'tab'}
                data-testid={`tab-${id}`}
                onClick={() => switchTab(id)}
                onKeyDown={(event) => {
                  const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
                  if (!step) return;
                  event.preventDefault();
                  const [next] = tabs[(i + step + tabs.length) % tabs.length] ?? [];
                  if (!next) return;
                  switchTab(next);
                  document.querySelector<HTMLElement>(`[data-testid="tab-${next}"]`)?.focus();
                }}
              >
                {label}
              </button>
            ))}
          </div>
          <div class="panel">
            {tab === 'details' && displayGraph && (
              <Details
                drilled={drilled}
                onDrill={(workload, groups) => {
                  pending.current = { layout: 'auto', flash: [] };
                  setDrilled((current) => {
                    const next = new Map(current);
                    if (groups) next.set(workload, groups);
                    else next.delete(workload);
                    return next;
                  });
                }}
                selection={selection}
                graph={displayGraph}
                nodeById={nodeById}
                aggregate={aggregate}
                expanded={expanded}
                onExpand={expand}
                onSelect={setSelection}
                onFinding={onFinding}
                highlightKey={highlight?.key}
              />
            )}
            {tab === 'findings' && (
              <FindingsPanel
                findings={findings}
                onFinding={onFinding}
                highlightKey={highlight?.key}
                onTryFix={(yaml) => {
                  setWhatIf((s) => ({ ...s, yaml }));
                  switchTab('what-if');
                }}
              />
            )}
            {tab === 'changes' && <ChangeFeed entries={feed} />}
            {tab === 'what-if' && (
              <WhatIfPanel
                state={whatIf}
                onChange={(patch) => setWhatIf((s) => ({ ...s, ...patch }))}
                onRun={runWhatIf}
                onClear={() => setWhatIf({ yaml: '', deletes: [], busy: false, errors: [] })}
                onSelectEdge={(id) => {
                  setSelection({ kind: 'edge', id });
                  setTab('details');
                }}
                onFinding={onFinding}
                highlightKey={highlight?.key}
              />
            )}
            {tab === 'flows' && flows && (
              <FlowsPanel
                flows={flows}
                onHighlight={(nodes, key) => {
                  setHighlight({ key, nodes, edges: [] });
                  setFocus({ ids: drawnIds(nodes, []), seq: Date.now() });
                }}
              />
            )}
          </div>
        </aside>
      </main>
    </div>
  );
}
