/**
 * The first layout of a large graph, off the page's main thread: Cytoscape without a renderer runs
 * fcose on the nodes' sizes and sends back where each node goes.
 */
import cytoscape, { type LayoutOptions } from 'cytoscape';
import fcose from 'cytoscape-fcose';
import { fcoseOptions, type LayoutAnswer, type LayoutRequest } from './layout-options.ts';

cytoscape.use(fcose);

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<LayoutRequest>) => void) | null;
  postMessage: (answer: LayoutAnswer) => void;
};

scope.onmessage = ({ data }) => {
  const cy = cytoscape({
    headless: true,
    styleEnabled: true,
    style: [{ selector: 'node', style: { width: 'data(width)', height: 'data(height)' } }],
    elements: [
      ...data.nodes.map(({ position, ...node }) => ({
        group: 'nodes' as const,
        data: node,
        ...(position ? { position } : {}),
      })),
      ...data.edges.map((edge) => ({ group: 'edges' as const, data: edge })),
    ],
  });
  // Unanimated here: the page animates the move when it applies the answer.
  cy.layout({ ...fcoseOptions(data.nodes.length, data.fromScratch), animate: false } as LayoutOptions).run();
  const positions: LayoutAnswer['positions'] = {};
  for (const node of cy.nodes()) if (node.isChildless()) positions[node.id()] = { ...node.position() };
  cy.destroy();
  scope.postMessage({ seq: data.seq, positions });
};
