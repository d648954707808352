/**
 * The Cytoscape canvas: updates that keep what the user has. New elements are merged into
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
} from 'cytoscape';
import fcose from 'cytoscape-fcose';
import { STYLE } from './cy-style.ts';
import { fcoseOptions, type LayoutAnswer, type LayoutRequest } from './layout-options.ts';

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

/** Above this many drawn nodes, an expansion places the new nodes without laying out the whole graph. */
const RELAYOUT_MAX_NODES = 150;
/** How many edges a large graph adds per frame (see addEdgesLater). */
const EDGES_PER_FRAME = 100;
/** Above this many nodes, fcose runs in a Web Worker (layout-worker.ts). */
const WORKER_LAYOUT_ABOVE = 25;

/** Where an element keeps the data and classes it was drawn with (see update). */
const DRAWN = '_phiwallDrawn';
const signatureOf = (def: ElementDefinition) => `${JSON.stringify(def.data)}|${def.classes ?? ''}`;

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
  private layoutWorker: Worker | undefined;
  /** Counts layouts, so that a worker's answer for an older one is dropped. */
  private layoutSeq = 0;
  private haystack = false;
  /** Stops adding the edges an update put off (see update). */
  private cancelDeferred: (() => void) | undefined;
  /** A layout from scratch waits for those edges; the nodes are in a grid meanwhile. */
  private scratchPending = false;
  /** What highlight and select were last given, for edges added after them. */
  private highlighted: readonly string[] = [];
  private selected: string | undefined;

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

  /**
   * Merges `elements` into the drawn graph. On a large graph (no relayout) the new edges are added a
   * frame after the new nodes: Cytoscape styles and draws what is added in the frame that follows, and
   * an expansion at M (25 nodes, ~150 edges, over ~1,000 drawn elements) took one task of up to half a
   * second; the nodes show first, in place, and the edges the frame after.
   */
  update(elements: readonly ElementDefinition[], options: UpdateOptions): void {
    // Edges an earlier update had not added yet are among `elements` if they are still wanted, and
    // are added as that update would have: later, then its layout.
    const deferring = this.cancelDeferred !== undefined;
    this.cancelDeferred?.();
    this.cancelDeferred = undefined;
    const cy = this.cy;
    const first = cy.elements().length === 0;
    const wanted = new Map<string, ElementDefinition>();
    for (const def of elements) if (def.data.id) wanted.set(def.data.id, def);
    const anchors = new Map<string, { x: number; y: number }>();
    const spots = new Map<string, { x: number; y: number }>();
    let addedNodes = cy.collection().nodes();
    const newEdges: ElementDefinition[] = [];
    cy.batch(() => {
      // Compound nodes that lose every child keep the place they had.
      const leaving = cy
        .elements()
        .filter((ele) => !wanted.has(ele.id()) || endsChanged(ele, wanted.get(ele.id())));
      for (const node of cy.nodes()) {
        if (!wanted.has(node.id())) continue;
        if (node.isParent()) anchors.set(node.id(), { ...node.position() });
        // A collapsed namespace about to hold its workloads: they go where it was drawn.
        else spots.set(node.id(), { ...node.position() });
      }
      cy.remove(leaving);
      const drawn = new Set(cy.elements().map((ele) => ele.id()));
      for (const ele of cy.elements()) {
        const def = wanted.get(ele.id());
        if (!def) continue;
        // Restyling costs: an element whose data and classes are as drawn is left alone (at M, an
        // expansion otherwise restyled every drawn element).
        if (ele.scratch(DRAWN) !== signatureOf(def)) {
          ele.data(def.data);
          ele.classes(def.classes ?? '');
          ele.scratch(DRAWN, signatureOf(def));
        }
        if (ele.isNode()) {
          const parent = (def.data as { parent?: string }).parent;
          const current = ele.parent().nonempty() ? ele.parent().first().id() : undefined;
          if (parent !== current && (parent === undefined || drawn.has(parent))) {
            ele.move({ parent: parent ?? null });
          }
        }
      }
      const newNodes: ElementDefinition[] = [];
      for (const [id, def] of wanted) {
        if (def.group === 'nodes' && !drawn.has(id)) newNodes.push(def);
      }
      for (const def of newNodes) drawn.add(def.data.id ?? '');
      // One add for all: Cytoscape links the parents after adding every node, and restyles once.
      addedNodes = cy
        .add(
          newNodes.map((def) => {
            const parent = (def.data as { parent?: string }).parent;
            return parent && !drawn.has(parent) ? { ...def, data: { ...def.data, parent: undefined } } : def;
          }),
        )
        .nodes();
      addedNodes.forEach((node, i) => {
        const def = newNodes[i];
        if (def) node.scratch(DRAWN, signatureOf(def));
      });
      for (const [id, def] of wanted) {
        if (def.group !== 'edges' || drawn.has(id)) continue;
        const { source, target } = def.data as { source: string; target: string };
        if (drawn.has(source) && drawn.has(target)) newEdges.push(def);
      }
      for (const [id, position] of anchors) {
        const node = cy.getElementById(id);
        if (node.nonempty() && node.isChildless()) node.position(position);
      }
    });
    const large = cy.nodes().length > RELAYOUT_MAX_NODES;
    const later = large && (addedNodes.nonempty() || deferring);
    const fromScratch = first || options.layout === 'full' || this.scratchPending;
    if (!later) this.addEdges(newEdges);
    if (fromScratch) {
      // The worker's layout waits for the edges; the nodes show in a grid meanwhile.
      if (later && !this.scratchPending) this.showGrid();
      else if (!later) this.layout(true);
      this.scratchPending = later;
    } else if (addedNodes.nonempty()) {
      this.place(addedNodes, spots, newEdges);
      // On a large graph a relayout costs seconds of main thread and moves everything the user was
      // looking at: the new nodes keep the places `place` gave them (a grid where their namespace was).
      if (options.layout === 'auto' && !large && addedNodes.filter((n) => !n.isParent()).length >= 3)
        this.layout(false);
    }
    if (options.flash?.length) this.flash(options.flash);
    if (later) {
      this.addEdgesLater(newEdges, () => {
        if (this.scratchPending) {
          this.scratchPending = false;
          this.layout(true, true);
        }
        // What was marked before these edges existed.
        if (this.highlighted.length > 0) this.highlight(this.highlighted);
        this.select(this.selected);
        if (options.flash?.length) this.flash(options.flash);
      });
    }
  }

  /**
   * Adds edges after the frame that draws what is there, in tasks of their own, a slice per frame:
   * Cytoscape styles and measures what was added in the frame that draws it, and all ~600 edges of M's
   * namespace level in one frame made a task of up to 300 ms.
   */
  private addEdgesLater(edges: readonly ElementDefinition[], then: () => void): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let frame = 0;
    const next = (from: number) => {
      frame = requestAnimationFrame(() => {
        timer = setTimeout(() => {
          this.addEdges(edges.slice(from, from + EDGES_PER_FRAME));
          if (from + EDGES_PER_FRAME < edges.length) {
            next(from + EDGES_PER_FRAME);
            return;
          }
          this.cancelDeferred = undefined;
          then();
        });
      });
    };
    next(0);
    this.cancelDeferred = () => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
    };
  }

  private addEdges(defs: readonly ElementDefinition[]): void {
    if (defs.length === 0) return;
    const cy = this.cy;
    const added = cy.add(defs as ElementDefinition[]);
    cy.batch(() => {
      added.forEach((edge, i) => {
        const def = defs[i];
        if (def) edge.scratch(DRAWN, signatureOf(def));
      });
    });
    this.setCurves(added.edges());
  }

  /**
   * Straight edges (haystack) above 3,000 edges, where curves cost too much to draw; the stylesheet's
   * bezier otherwise. Restyling every edge at every update cost a few hundred ms at M, so only a
   * change of mode or the added edges are touched.
   */
  private setCurves(added: cytoscape.EdgeCollection): void {
    const haystack = this.cy.edges().length > 3000;
    if (haystack !== this.haystack) {
      this.haystack = haystack;
      if (haystack) this.cy.edges().style('curve-style', 'haystack');
      else this.cy.edges().removeStyle('curve-style');
    } else if (haystack) {
      added.style('curve-style', 'haystack');
    }
  }

  /**
   * Puts new nodes where their namespace or their neighbours are. `edges`: the new edges, which may
   * not be drawn yet (see update).
   */
  private place(
    nodes: cytoscape.NodeCollection,
    spots: ReadonlyMap<string, { x: number; y: number }>,
    edges: readonly ElementDefinition[],
  ): void {
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
      const origin = center
        ? { x: center.x2 + 80, y: center.y1 }
        : { ...(spots.get(parentId) ?? parent.position()) };
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
    const ends = new Map<string, string[]>();
    for (const def of edges) {
      const { source, target } = def.data as { source: string; target: string };
      ends.set(source, [...(ends.get(source) ?? []), target]);
      ends.set(target, [...(ends.get(target) ?? []), source]);
    }
    for (const node of nodes.filter((n) => !n.isParent() && !placed.has(n.id()))) {
      const neighbours = node
        .neighborhood('node')
        .union(this.byIds(ends.get(node.id()) ?? []))
        .nodes()
        .filter((n) => !nodes.contains(n));
      const base = neighbours.nonempty() ? neighbours.boundingBox({}) : this.cy.extent();
      node.position({
        x: (base.x1 + base.x2) / 2 + (Math.random() - 0.5) * 120,
        y: (base.y1 + base.y2) / 2 + 80 + (Math.random() - 0.5) * 60,
      });
    }
  }

  /**
   * Lays out the graph: from scratch, or starting from where the nodes are. Beyond a few dozen nodes
   * fcose runs in a worker (on the main thread it froze the page for up to seconds): from scratch, a
   * grid shows the graph meanwhile; from where they are, the nodes move when the answer comes.
   */
  layout(fromScratch: boolean, gridShown = false): void {
    const n = this.cy.nodes().length;
    if (n === 0) return;
    this.layoutSeq += 1;
    this.layoutDone(false);
    if (n > WORKER_LAYOUT_ABOVE) {
      if (fromScratch && !gridShown) this.showGrid();
      this.layoutInWorker(fromScratch);
      return;
    }
    const layout = this.cy.layout(fcoseOptions(n, fromScratch));
    layout.one('layoutstop', () => {
      if (fromScratch) this.fit();
      this.layoutDone(true);
    });
    layout.run();
  }

  /** What a layout from scratch in the worker shows until its answer comes. */
  private showGrid(): void {
    this.layoutDone(false);
    const nodes = this.cy.nodes().filter((node) => node.isChildless());
    const columns = Math.ceil(Math.sqrt(nodes.length * 1.6));
    nodes.positions((_node, i) => ({ x: (i % columns) * 190, y: Math.floor(i / columns) * 90 }));
    this.fitNodes();
  }

  private layoutInWorker(fromScratch: boolean): void {
    const seq = this.layoutSeq;
    const n = this.cy.nodes().length;
    this.layoutWorker ??= new Worker(new URL('./layout-worker.ts', import.meta.url), { type: 'module' });
    this.layoutWorker.onmessage = ({ data }: MessageEvent<LayoutAnswer>) => {
      // A newer layout makes this answer out of date.
      if (data.seq !== this.layoutSeq) return;
      const moved = this.cy
        .nodes()
        .filter((node) => node.isChildless() && data.positions[node.id()] !== undefined);
      const done = () => {
        if (fromScratch) this.fitNodes();
        this.layoutDone(true);
      };
      const layout = this.cy.layout({
        name: 'preset',
        positions: (node: NodeSingular) => data.positions[node.id()] ?? node.position(),
        fit: false,
        animate: !fromScratch && n < 600,
        animationDuration: 400,
        eles: moved,
      } as unknown as LayoutOptions);
      layout.one('layoutstop', done);
      layout.run();
    };
    const request: LayoutRequest = {
      seq,
      fromScratch,
      nodes: this.cy.nodes().map((node) => ({
        id: node.id(),
        ...(node.isChild() ? { parent: node.parent().first().id() } : {}),
        width: node.outerWidth(),
        height: node.outerHeight(),
        ...(fromScratch ? {} : { position: { ...node.position() } }),
      })),
      edges: this.cy
        .edges()
        .map((edge) => ({ id: edge.id(), source: edge.source().id(), target: edge.target().id() })),
    };
    this.layoutWorker.postMessage(request);
  }

  /** Tells the page (and its tests) whether the positions drawn are the layout's. */
  private layoutDone(done: boolean): void {
    this.cy.container()?.setAttribute('data-layout', done ? 'done' : 'running');
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
    this.highlighted = ids;
    this.cy.batch(() => {
      // Only the elements that have them: removeClass restyles every element it is given (at M, all ~1,000
      // drawn elements at every update).
      this.cy.elements('.hl, .faded').removeClass('hl faded');
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
    this.selected = id;
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

  /**
   * Fits the nodes' boxes, as `fit` does but without measuring labels and edge curves (a few hundred
   * ms at M): the labels sit inside their nodes and the edges between them.
   */
  private fitNodes(): void {
    let x1 = Number.POSITIVE_INFINITY;
    let y1 = Number.POSITIVE_INFINITY;
    let x2 = Number.NEGATIVE_INFINITY;
    let y2 = Number.NEGATIVE_INFINITY;
    for (const node of this.cy.nodes()) {
      if (!node.isChildless()) continue;
      const { x, y } = node.position();
      const w = node.outerWidth() / 2;
      const h = node.outerHeight() / 2;
      x1 = Math.min(x1, x - w);
      x2 = Math.max(x2, x + w);
      y1 = Math.min(y1, y - h);
      y2 = Math.max(y2, y + h);
    }
    if (!(x2 > x1 && y2 > y1)) {
      this.fit();
      return;
    }
    const padding = 36;
    const zoom = Math.min(
      1.4,
      (this.cy.width() - 2 * padding) / (x2 - x1),
      (this.cy.height() - 2 * padding) / (y2 - y1),
    );
    this.cy.viewport({
      zoom,
      pan: {
        x: (this.cy.width() - zoom * (x1 + x2)) / 2,
        y: (this.cy.height() - zoom * (y1 + y2)) / 2,
      },
    });
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
    this.cancelDeferred?.();
    this.layoutWorker?.terminate();
    this.cy.destroy();
  }
}

function endsChanged(ele: cytoscape.SingularElementArgument, def: ElementDefinition | undefined): boolean {
  if (!def || !ele.isEdge()) return false;
  const data = def.data as { source?: string; target?: string };
  return ele.source().id() !== data.source || ele.target().id() !== data.target;
}
