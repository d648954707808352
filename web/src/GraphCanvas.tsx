import { useEffect, useRef } from 'preact/hooks';
import { GraphView, type LayoutMode, type TapHandlers } from './cy.ts';
import type { BuiltView } from './graph.ts';

export interface Pending {
  layout: LayoutMode;
  flash: string[];
}

interface Props {
  view: BuiltView;
  /** Read and reset at every update: how to lay out and what to flash. */
  pending: { current: Pending };
  selected: string | undefined;
  highlighted: readonly string[];
  matches: readonly string[];
  focus: { ids: readonly string[]; seq: number } | undefined;
  handlers: TapHandlers;
  onReady: (view: GraphView) => void;
}

/** The graph canvas. The Cytoscape instance lives as long as the component; updates are merged. */
export function GraphCanvas(props: Props) {
  const container = useRef<HTMLDivElement>(null);
  const graphView = useRef<GraphView | null>(null);
  const handlers = useRef(props.handlers);
  handlers.current = props.handlers;

  useEffect(() => {
    if (!container.current) return;
    const view = new GraphView(container.current, {
      node: (id, data) => handlers.current.node(id, data),
      edge: (id, data) => handlers.current.edge(id, data),
      background: () => handlers.current.background(),
    });
    graphView.current = view;
    props.onReady(view);
    return () => {
      view.destroy();
      graphView.current = null;
    };
    // The instance is created once; later props reach it through the effects below.
  }, []);

  useEffect(() => {
    const view = graphView.current;
    if (!view) return;
    const pending = props.pending.current;
    props.pending.current = { layout: 'auto', flash: [] };
    const { drawnEdge, drawnNode } = props.view;
    const flash = pending.flash.map((id) => drawnEdge.get(id) ?? drawnNode.get(id) ?? id);
    view.update(props.view.elements, { layout: pending.layout, flash });
    view.select(props.selected);
    view.highlight(props.highlighted);
    view.markSearch(props.matches);
  }, [props.view]);

  useEffect(() => graphView.current?.select(props.selected), [props.selected]);
  useEffect(() => graphView.current?.highlight(props.highlighted), [props.highlighted]);
  useEffect(() => graphView.current?.markSearch(props.matches), [props.matches]);
  useEffect(() => {
    if (props.focus) graphView.current?.focus(props.focus.ids);
  }, [props.focus]);

  return <div class="graph" ref={container} data-testid="graph" />;
}
