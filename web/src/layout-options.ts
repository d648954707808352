/** The force-directed layout's settings, shared by the page (small graphs) and the layout worker. */
import type { LayoutOptions } from 'cytoscape';

/**
 * Strong repulsion, long and soft edges, and compounds held together: namespaces do not overlap even
 * when most edges cross them. `n`: the number of nodes.
 */
export function fcoseOptions(n: number, fromScratch: boolean): LayoutOptions {
  return {
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
}

/** A node as the worker lays it out: its size and its compound parent. */
export interface LayoutNode {
  id: string;
  parent?: string;
  width: number;
  height: number;
  /** Where it is drawn, for a layout that starts from there. */
  position?: { x: number; y: number };
}

export interface LayoutRequest {
  seq: number;
  fromScratch: boolean;
  nodes: LayoutNode[];
  edges: { id: string; source: string; target: string }[];
}

export interface LayoutAnswer {
  seq: number;
  /** Childless nodes only: a compound's place follows from its children. */
  positions: Record<string, { x: number; y: number }>;
}
