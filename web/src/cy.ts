/**
 * The Cytoscape canvas: styles, and updates that keep what the user has. New elements are merged into
 * the drawn ones (the rest keep their positions, the zoom and pan stay), new nodes are placed beside
 * their namespace or neighbours, and only a first load or an explicit request lays out everything.
 * Labels are drawn on the canvas as text, never parsed as HTML.
 */
import cytoscape, {
  type Core,
  type ElementDefinition,
  type EventObject,
  type LayoutOptions,
  type NodeSingular,
  type StylesheetJson,
} from 'cytoscape';
import fcose from 'cytoscape-fcose';

cytoscape.use(fcose);

/**
 * Cytoscape adds a `<style>` element to the page unless an element with this id exists; the CSP
 * (`style-src 'self'`) refuses it. Its one rule (`position: relative` on the container) is not needed:
 * the container is positioned by style.css.
 */
function preventInlineStylesheet(): void {
  const id = '__________cytoscape_stylesheet';
  if (document.getElementById(id)) return;
  const placeholder = document.createElement('meta');
  placeholder.id = id;
  document.head.append(placeholder);
}

const RED = '#c62828';
/** Above this many drawn nodes, an expansion places the new nodes without laying out the whole graph. */
const RELAYOUT_MAX_NODES = 150;
const AMBER = '#ef6c00';

const STYLE: StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-family': 'system-ui, sans-serif',
      'font-size': 10,
      color: '#1f2933',
      'text-wrap': 'wrap',
      'text-max-width': '140px',
      'text-valign': 'center',
      'text-halign': 'center',
      'min-zoomed-font-size': 6,
    },
  },
  {
    selector: 'node.workload',
    style: {
      shape: 'round-rectangle',
      width: 124,
      height: 38,
      'background-color': '#e8eef6',
      'border-color': '#6b8bb0',
      'border-width': 1.5,
    },
  },
  {
    selector: 'node.workload.exposed',
    style: { 'border-color': AMBER, 'border-width': 4, 'border-style': 'double' },
  },
  {
    selector: 'node.workload.phi',
    style: {
      'background-color': '#fde3e1',
      'border-color': RED,
      'border-width': 3,
      'font-weight': 'bold',
      color: '#7f1010',
    },
  },
  // Exposed PHI is told by shape and text as well as colour (a cut-corner box labelled "EXPOSED PHI").
  {
    selector: 'node.workload.phi-exposed',
    style: {
      shape: 'cut-rectangle',
      'border-width': 6,
      'border-style': 'double',
      'border-color': '#4a0000',
      'background-color': '#ffcdd2',
    },
  },
  { selector: 'node.host-network', style: { 'background-color': '#fff8e1' } },
  // A workload drilled down to its pod groups (drill.ts): a frame around them, its name on top.
  { selector: 'node.workload:parent', style: { 'text-valign': 'top', padding: '10px' } },
  {
    selector: 'node.pod-group',
    style: {
      shape: 'round-rectangle',
      width: 110,
      height: 34,
      'font-size': 9,
      'background-color': '#ffffff',
      'border-color': '#6b8bb0',
      'border-style': 'dashed',
      'border-width': 1.5,
    },
  },
  // The keyboard's place in the graph (keyboard.ts): a ring around the node, apart from the selection.
  {
    selector: 'node.kbd-focus',
    style: { 'underlay-color': '#1565c0', 'underlay-opacity': 0.45, 'underlay-padding': 9 },
  },
  {
    selector: 'node.external',
    style: {
      shape: 'barrel',
      width: 130,
      height: 34,
      'background-color': '#efe7fa',
      'border-color': '#6a4c93',
      'border-width': 1.5,
    },
  },
  { selector: 'node.external.observed', style: { 'border-style': 'dashed' } },
  {
    selector: 'node.entry',
    style: {
      shape: 'tag',
      width: 124,
      height: 32,
      'background-color': '#e0f2f1',
      'border-color': '#00796b',
      'border-width': 1.5,
    },
  },
  {
    selector: 'node.namespace',
    style: {
      shape: 'round-rectangle',
      'background-color': '#f5f7fa',
      'background-opacity': 0.85,
      'border-color': '#9aa5b1',
      'border-width': 1.5,
      'text-valign': 'top',
      'text-halign': 'center',
      'font-size': 12,
      'font-weight': 'bold',
      color: '#3e4c59',
      padding: '14px',
      'min-zoomed-font-size': 0,
    },
  },
  {
    selector: 'node.namespace.ns-phi',
    style: { 'border-color': RED, 'border-style': 'dashed', 'background-color': '#fff6f5' },
  },
  {
    selector: 'node.namespace.collapsed',
    style: {
      width: 150,
      height: 54,
      'text-valign': 'center',
      'font-size': 11,
      'border-width': 2,
      'background-color': '#eef2f6',
    },
  },
  {
    selector: 'node.namespace.collapsed.phi',
    style: { 'border-color': RED, 'border-width': 3, 'background-color': '#fde3e1' },
  },
  { selector: 'node.namespace.collapsed.exposed', style: { 'border-style': 'double', 'border-width': 5 } },
  {
    selector: 'node.namespace.collapsed.phi-exposed',
    style: {
      shape: 'cut-rectangle',
      'border-color': '#4a0000',
      'border-width': 6,
      'background-color': '#ffcdd2',
    },
  },
  {
    selector: 'edge',
    style: {
      width: 1.2,
      'line-color': '#a7b1bc',
      'target-arrow-color': '#a7b1bc',
      'target-arrow-shape': 'triangle',
      'arrow-scale': 0.8,
      'curve-style': 'bezier',
      opacity: 0.65,
      'font-size': 10,
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': '2px',
      'text-rotation': 'autorotate',
    },
  },
  {
    selector: 'edge.entry-edge',
    style: { 'line-color': '#00897b', 'target-arrow-color': '#00897b', 'line-style': 'dashed' },
  },
  { selector: 'edge.agg', style: { width: 2.5 } },
  {
    selector: 'edge.group-edge',
    style: { 'line-style': 'dotted', width: 1.8, label: 'data(label)', 'font-size': 8 },
  },
  // Before the PHI rule, so that a selected node's PHI edges stay red.
  { selector: 'edge.sel-edge', style: { 'line-color': '#52606d', 'target-arrow-color': '#52606d' } },
  {
    selector: 'edge.phi',
    style: { 'line-color': RED, 'target-arrow-color': RED, width: 2.2, opacity: 0.9, 'z-index': 10 },
  },
  { selector: 'edge.agg.phi', style: { width: 3.5 } },
  // From outside the cluster into PHI: thick, dark, with a bar at the source, apart from PHI edges inside.
  {
    selector: 'edge.internet-phi',
    style: {
      'line-color': '#4a0000',
      'target-arrow-color': '#4a0000',
      'source-arrow-shape': 'tee',
      'source-arrow-color': '#4a0000',
      width: 5,
      opacity: 1,
      'z-index': 25,
    },
  },
  {
    selector: 'edge.wi-added',
    style: {
      'line-color': '#2e7d32',
      'target-arrow-color': '#2e7d32',
      'line-style': 'dashed',
      width: 4,
      opacity: 1,
      'z-index': 30,
    },
  },
  {
    selector: 'edge.wi-removed',
    style: {
      'line-color': '#6d1b1b',
      'target-arrow-color': '#6d1b1b',
      'line-style': 'dotted',
      width: 4,
      opacity: 1,
      'z-index': 30,
    },
  },
  {
    selector: 'edge.wi-changed',
    style: { 'line-color': '#f9a825', 'target-arrow-color': '#f9a825', width: 4, opacity: 1 },
  },
  { selector: 'edge.flow', style: { width: 3, opacity: 0.95, 'z-index': 20, 'target-arrow-shape': 'vee' } },
  { selector: 'edge.flow-gap', style: { 'line-color': '#d81b60', 'target-arrow-color': '#d81b60' } },
  { selector: 'edge.flow-used', style: { 'line-color': '#43a047', 'target-arrow-color': '#43a047' } },
  {
    selector: 'edge.flow-needed',
    style: { 'line-color': '#fb8c00', 'target-arrow-color': '#fb8c00', 'line-style': 'dashed' },
  },
  {
    selector: 'edge.flow-dropped-allowed',
    style: { 'line-color': '#8e24aa', 'target-arrow-color': '#8e24aa', 'line-style': 'dashed' },
  },
  { selector: 'edge.hover, edge:selected', style: { label: 'data(label)', opacity: 1, 'z-index': 40 } },
  {
    selector: 'edge:selected',
    style: { width: 4, 'line-color': '#1565c0', 'target-arrow-color': '#1565c0' },
  },
  {
    selector: 'node:selected',
    style: { 'overlay-color': '#1565c0', 'overlay-opacity': 0.18, 'overlay-padding': 6 },
  },
  {
    selector: 'node.namespace:selected',
    style: { 'overlay-opacity': 0, 'border-color': '#1565c0', 'border-width': 3 },
  },
  { selector: 'edge.sel-edge', style: { opacity: 1, width: 2.6, 'z-index': 35 } },
  { selector: '.faded', style: { opacity: 0.12 } },
  {
    selector: 'node.hl',
    style: {
      'underlay-color': '#ffb300',
      'underlay-opacity': 0.75,
      'underlay-padding': 10,
      'underlay-shape': 'round-rectangle',
    },
  },
  {
    selector: 'edge.hl',
    style: {
      'underlay-color': '#ffb300',
      'underlay-opacity': 0.7,
      'underlay-padding': 5,
      opacity: 1,
      'z-index': 50,
    },
  },
  {
    selector: 'node.match',
    style: { 'underlay-color': '#1e88e5', 'underlay-opacity': 0.6, 'underlay-padding': 10 },
  },
  {
    selector: '.flash',
    style: { 'overlay-color': '#ffd600', 'overlay-opacity': 0.55, 'overlay-padding': 8 },
  },
] as StylesheetJson;

export type LayoutMode = 'full' | 'auto' | 'none';

export interface TapHandlers {
  node: (id: string, data: Record<string, unknown>) => void;
  edge: (id: string, data: Record<string, unknown>) => void;
  background: () => void;
}

export interface UpdateOptions {
  layout: LayoutMode;
  flash?: readonly string[];
}

export class GraphView {
  readonly cy: Core;
  private flashTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(container: HTMLElement, handlers: TapHandlers) {
    preventInlineStylesheet();
    this.cy = cytoscape({
      container,
      style: STYLE,
      minZoom: 0.05,
      maxZoom: 4,
      selectionType: 'single',
      boxSelectionEnabled: false,
      textureOnViewport: false,
    });
    this.cy.on('tap', 'node', (event: EventObject) => handlers.node(event.target.id(), event.target.data()));
    this.cy.on('tap', 'edge', (event: EventObject) => handlers.edge(event.target.id(), event.target.data()));
    this.cy.on('tap', (event: EventObject) => {
      if (event.target === this.cy) handlers.background();
    });
    this.cy.on('mouseover', 'edge', (event: EventObject) => event.target.addClass('hover'));
    this.cy.on('mouseout', 'edge', (event: EventObject) => event.target.removeClass('hover'));
  }

  /** Merges `elements` into the drawn graph. Returns the ids that were added. */
  update(elements: readonly ElementDefinition[], options: UpdateOptions): string[] {
    const cy = this.cy;
    const first = cy.elements().length === 0;
    const wanted = new Map<string, ElementDefinition>();
    for (const def of elements) if (def.data.id) wanted.set(def.data.id, def);
    const added: string[] = [];
    const anchors = new Map<string, { x: number; y: number }>();
    cy.batch(() => {
      // Compound nodes that lose every child keep the place they had.
      const leaving = cy
        .elements()
        .filter((ele) => !wanted.has(ele.id()) || endsChanged(ele, wanted.get(ele.id())));
      for (const node of cy.nodes(':parent')) {
        if (wanted.has(node.id())) anchors.set(node.id(), { ...node.position() });
      }
      cy.remove(leaving);
      for (const [id, def] of wanted) {
        const ele = cy.getElementById(id);
        if (ele.empty()) continue;
        ele.data(def.data);
        ele.classes(def.classes ?? '');
        if (ele.isNode()) {
          const parent = (def.data as { parent?: string }).parent;
          const current = ele.parent().nonempty() ? ele.parent().first().id() : undefined;
          if (parent !== current && (parent === undefined || cy.getElementById(parent).nonempty())) {
            ele.move({ parent: parent ?? null });
          }
        }
      }
      const newNodes = [...wanted.values()].filter(
        (d) => d.group === 'nodes' && cy.getElementById(d.data.id ?? '').empty(),
      );
      // Parents first, so children can be put inside them.
      newNodes.sort((a, b) => Number(Boolean(a.data.parent)) - Number(Boolean(b.data.parent)));
      for (const def of newNodes) {
        const parent = (def.data as { parent?: string }).parent;
        const data =
          parent && cy.getElementById(parent).empty() ? { ...def.data, parent: undefined } : def.data;
        cy.add({ ...def, data });
        added.push(def.data.id ?? '');
      }
      for (const [id, def] of wanted) {
        if (def.group !== 'edges' || cy.getElementById(id).nonempty()) continue;
        const { source, target } = def.data as { source: string; target: string };
        if (cy.getElementById(source).empty() || cy.getElementById(target).empty()) continue;
        cy.add(def);
        added.push(id);
      }
      for (const [id, position] of anchors) {
        const node = cy.getElementById(id);
        if (node.nonempty() && node.isChildless()) node.position(position);
      }
    });
    const addedNodes = this.byIds(added).nodes();
    if (first || options.layout === 'full') {
      this.layout(true);
    } else if (addedNodes.nonempty()) {
      this.place(addedNodes);
      // On a large graph a relayout costs seconds of main thread and moves everything the user was
      // looking at: the new nodes keep the places `place` gave them (a grid where their namespace was).
      const large = this.cy.nodes().length > RELAYOUT_MAX_NODES;
      if (options.layout === 'auto' && !large && addedNodes.filter((n) => !n.isParent()).length >= 3)
        this.layout(false);
    }
    if (options.flash?.length) this.flash(options.flash);
    this.cy.edges().style('curve-style', this.cy.edges().length > 3000 ? 'haystack' : 'bezier');
    return added;
  }

  /** Puts new nodes where their namespace or their neighbours are. */
  private place(nodes: cytoscape.NodeCollection): void {
    const placed = new Set<string>();
    const byParent = new Map<string, NodeSingular[]>();
    for (const node of nodes.filter((n) => !n.isParent())) {
      const parent = node.parent();
      const key = parent.nonempty() && !nodes.contains(parent) ? parent.first().id() : '';
      if (key) {
        const list = byParent.get(key) ?? [];
        list.push(node);
        byParent.set(key, list);
      }
    }
    // The workloads of an expanded namespace: a grid where the namespace was.
    for (const [parentId, children] of byParent) {
      const parent = this.cy.getElementById(parentId);
      const siblings = parent.children().filter((c) => !children.includes(c));
      const center = siblings.nonempty() ? siblings.boundingBox({}) : undefined;
      const origin = center ? { x: center.x2 + 80, y: center.y1 } : { ...parent.position() };
      const columns = Math.max(1, Math.ceil(Math.sqrt(children.length)));
      children.forEach((child, i) => {
        child.position({
          x: origin.x + (i % columns) * 150 - (center ? 0 : ((columns - 1) * 150) / 2),
          y:
            origin.y +
            Math.floor(i / columns) * 60 -
            (center ? 0 : ((Math.ceil(children.length / columns) - 1) * 60) / 2),
        });
        placed.add(child.id());
      });
    }
    for (const node of nodes.filter((n) => !n.isParent() && !placed.has(n.id()))) {
      const neighbours = node.neighborhood('node').filter((n) => !nodes.contains(n));
      const base = neighbours.nonempty() ? neighbours.boundingBox({}) : this.cy.extent();
      node.position({
        x: (base.x1 + base.x2) / 2 + (Math.random() - 0.5) * 120,
        y: (base.y1 + base.y2) / 2 + 80 + (Math.random() - 0.5) * 60,
      });
    }
  }

  /** Lays out the graph: from scratch, or starting from where the nodes are. */
  layout(fromScratch: boolean): void {
    const n = this.cy.nodes().length;
    if (n === 0) return;
    // Strong repulsion, long and soft edges, and compounds held together: namespaces do not overlap
    // even when most edges cross them.
    const options = {
      name: 'fcose',
      quality: n > 1000 ? 'default' : 'proof',
      randomize: fromScratch,
      animate: !fromScratch && n < 600,
      animationDuration: 400,
      fit: false,
      padding: 30,
      nodeDimensionsIncludeLabels: false,
      nodeSeparation: 110,
      idealEdgeLength: () => 150,
      nodeRepulsion: () => 20000,
      edgeElasticity: () => 0.1,
      nestingFactor: 0.1,
      gravity: 0.25,
      gravityCompound: 2,
      gravityRangeCompound: 1,
      numIter: n > 1000 ? 1500 : 5000,
      tile: true,
      packComponents: false,
    } as unknown as LayoutOptions;
    const layout = this.cy.layout(options);
    if (fromScratch) layout.one('layoutstop', () => this.fit());
    layout.run();
  }

  private byIds(ids: readonly string[]): cytoscape.Collection {
    const collection = this.cy.collection();
    for (const id of ids) {
      const ele = this.cy.getElementById(id);
      if (ele.nonempty()) collection.merge(ele);
    }
    return collection;
  }

  flash(ids: readonly string[]): void {
    const eles = this.byIds(ids);
    if (eles.empty()) return;
    eles.addClass('flash');
    if (this.flashTimer) clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => this.cy.elements('.flash').removeClass('flash'), 2500);
  }

  /** Highlights elements and fades the rest; empty lists clear it. */
  highlight(ids: readonly string[]): void {
    this.cy.batch(() => {
      this.cy.elements().removeClass('hl faded');
      const eles = this.byIds(ids);
      if (eles.empty()) return;
      const ends = eles.nodes().union(eles.edges().connectedNodes());
      const keep = eles.union(ends).union(ends.ancestors());
      eles.addClass('hl');
      this.cy.elements().difference(keep).addClass('faded');
    });
  }

  markSearch(ids: readonly string[]): void {
    this.cy.batch(() => {
      this.cy.nodes('.match').removeClass('match');
      for (const id of ids) this.cy.getElementById(id).addClass('match');
    });
  }

  /** Selects one element; a selected node's connections stand out. */
  select(id: string | undefined): void {
    const current = this.cy.$(':selected');
    if (!(id && current.length === 1 && current.id() === id)) {
      current.unselect();
      if (id) this.cy.getElementById(id).select();
    }
    this.cy.batch(() => {
      this.cy.edges('.sel-edge').removeClass('sel-edge');
      const node = id ? this.cy.getElementById(id) : undefined;
      if (node?.nonempty() && node.isNode()) node.connectedEdges().addClass('sel-edge');
    });
  }

  focus(ids: readonly string[]): void {
    const eles = this.byIds(ids);
    if (eles.empty()) return;
    this.cy.animate({ fit: { eles, padding: 80 }, duration: 300 });
    if (this.cy.zoom() > 1.6) this.cy.zoom(1.6);
  }

  /** Fits the graph, without blowing a small graph up. */
  fit(): void {
    this.cy.fit(undefined, 36);
    if (this.cy.zoom() > 1.4) {
      this.cy.zoom(1.4);
      this.cy.center();
    }
  }

  destroy(): void {
    if (this.flashTimer) clearTimeout(this.flashTimer);
    this.cy.destroy();
  }
}

function endsChanged(ele: cytoscape.SingularElementArgument, def: ElementDefinition | undefined): boolean {
  if (!def || !ele.isEdge()) return false;
  const data = def.data as { source?: string; target?: string };
  return ele.source().id() !== data.source || ele.target().id() !== data.target;
}
