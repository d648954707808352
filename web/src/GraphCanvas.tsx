import { useEffect, useRef, useState } from 'preact/hooks';
import { GraphView, type LayoutMode, type TapHandlers } from './cy.ts';
import type { BuiltView } from './graph.ts';
import { ARROWS, moveFocus, showFocus } from './keyboard.ts';

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
  /** The node the keyboard is on, and what a screen reader is told about it. */
  const keyboard = useRef<string | undefined>(undefined);
  const [announced, setAnnounced] = useState('');

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
    if (keyboard.current && view.cy.getElementById(keyboard.current).empty()) keyboard.current = undefined;
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

  const onKeyDown = (event: KeyboardEvent) => {
    const view = graphView.current;
    if (!view || event.altKey || event.ctrlKey || event.metaKey) return;
    const direction = ARROWS[event.key];
    if (direction) {
      event.preventDefault();
      const node = moveFocus(view.cy, keyboard.current, direction);
      if (!node) return;
      keyboard.current = node.id();
      showFocus(view.cy, keyboard.current);
      setAnnounced(describe(node.data()));
    } else if ((event.key === 'Enter' || event.key === ' ') && keyboard.current) {
      event.preventDefault();
      const node = view.cy.getElementById(keyboard.current);
      if (node.nonempty()) handlers.current.node(node.id(), node.data());
    } else if (event.key === 'Escape') {
      keyboard.current = undefined;
      showFocus(view.cy, undefined);
      setAnnounced('');
      handlers.current.background();
    }
  };

  return (
    <>
      <div
        class="graph"
        ref={container}
        data-testid="graph"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the canvas takes the arrow keys (keyboard.ts)
        tabIndex={0}
        role="application"
        aria-label="Connectivity graph: arrow keys move between nodes, Enter opens one, Escape clears"
        aria-describedby="graph-focus"
        onKeyDown={onKeyDown}
      />
      <div id="graph-focus" class="visually-hidden" aria-live="polite" data-testid="graph-focus">
        {announced}
      </div>
    </>
  );
}

/** A node as a screen reader hears it: its label and what it is. */
function describe(data: Record<string, unknown>): string {
  const marks = [data.phi && 'PHI', data.exposed && 'reachable from outside'].filter(Boolean);
  return [String(data.label ?? data.id).replace(/\s+/g, ' '), String(data.kind ?? ''), ...marks]
    .filter(Boolean)
    .join(', ');
}
