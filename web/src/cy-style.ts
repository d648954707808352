/** The look of the graph: Cytoscape's stylesheet (classes set by graph.ts, drill.ts and keyboard.ts). */
import type { StylesheetJson } from 'cytoscape';

const RED = '#c62828';
const AMBER = '#ef6c00';

export const STYLE: StylesheetJson = [
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
      width: 150,
      height: 54,
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
    },
  },
  // Only on the edges that show a label: every property set is a cost per edge when edges are added
  // (Cytoscape checks each against the compound nodes), and most edges show none.
  {
    selector: 'edge.hover, edge:selected, edge.group-edge, edge.flow-gap',
    style: {
      'font-size': 10,
      'text-background-color': '#ffffff',
      'text-background-opacity': 0.9,
      'text-background-padding': '2px',
      'text-rotation': 'autorotate',
    },
  },
  // A bundle (the connections between a collapsed namespace and another end): a straight line with its
  // arrow in the middle. Cytoscape works out no curve for a haystack edge; at M the ~600 bundles' curves
  // cost more than drawing them. Haystack lines draw no arrow at their ends.
  {
    selector: 'edge.agg',
    style: {
      width: 2.5,
      'curve-style': 'haystack',
      'target-arrow-shape': 'none',
      'mid-target-arrow-shape': 'triangle',
      'mid-target-arrow-color': '#a7b1bc',
    },
  },
  {
    selector: 'edge.entry-edge',
    style: {
      'line-color': '#00897b',
      'target-arrow-color': '#00897b',
      'mid-target-arrow-color': '#00897b',
      'line-style': 'dashed',
    },
  },
  {
    selector: 'edge.group-edge',
    style: { 'line-style': 'dotted', width: 1.8, label: 'data(label)', 'font-size': 8 },
  },
  // Before the PHI rule, so that a selected node's PHI edges stay red.
  {
    selector: 'edge.sel-edge',
    style: { 'line-color': '#52606d', 'target-arrow-color': '#52606d', 'mid-target-arrow-color': '#52606d' },
  },
  {
    selector: 'edge.phi',
    style: {
      'line-color': RED,
      'target-arrow-color': RED,
      'mid-target-arrow-color': RED,
      width: 2.2,
      opacity: 0.9,
      'z-index': 10,
    },
  },
  { selector: 'edge.agg.phi', style: { width: 3.5 } },
  // From outside the cluster into PHI: thick, dark, with a bar at the source, apart from PHI edges inside.
  {
    selector: 'edge.internet-phi',
    style: {
      'line-color': '#4a0000',
      'target-arrow-color': '#4a0000',
      'mid-target-arrow-color': '#4a0000',
      'source-arrow-shape': 'tee',
      // A bundle too: curved, for the bar at its source.
      'curve-style': 'bezier',
      'target-arrow-shape': 'triangle',
      'mid-target-arrow-shape': 'none',
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
      'mid-target-arrow-color': '#2e7d32',
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
      'mid-target-arrow-color': '#6d1b1b',
      'line-style': 'dotted',
      width: 4,
      opacity: 1,
      'z-index': 30,
    },
  },
  {
    selector: 'edge.wi-changed',
    style: {
      'line-color': '#f9a825',
      'target-arrow-color': '#f9a825',
      'mid-target-arrow-color': '#f9a825',
      width: 4,
      opacity: 1,
    },
  },
  // An observed flow has a dot in its middle, which no connection of the policy has; each kind is told
  // by its line and arrow as well as its colour (in a colour-blind eye the four colours and PHI's red come
  // close). A gap, a flow the policy would deny, is the thickest, with a barred arrow and its label shown.
  {
    selector: 'edge.flow',
    style: {
      width: 3,
      opacity: 0.95,
      'z-index': 20,
      'target-arrow-shape': 'vee',
      'mid-target-arrow-shape': 'circle',
    },
  },
  {
    selector: 'edge.flow-gap',
    style: {
      'line-color': '#d81b60',
      'target-arrow-color': '#d81b60',
      'mid-target-arrow-color': '#d81b60',
      'target-arrow-shape': 'triangle-tee',
      width: 5,
      label: 'data(label)',
      'font-size': 9,
      'font-weight': 'bold',
      'z-index': 22,
    },
  },
  {
    selector: 'edge.flow-used',
    style: { 'line-color': '#43a047', 'target-arrow-color': '#43a047', 'mid-target-arrow-color': '#43a047' },
  },
  {
    selector: 'edge.flow-needed',
    style: {
      'line-color': '#fb8c00',
      'target-arrow-color': '#fb8c00',
      'mid-target-arrow-color': '#fb8c00',
      'line-style': 'dashed',
    },
  },
  {
    selector: 'edge.flow-dropped-allowed',
    style: {
      'line-color': '#8e24aa',
      'target-arrow-color': '#8e24aa',
      'mid-target-arrow-color': '#8e24aa',
      'line-style': 'dotted',
    },
  },
  { selector: 'edge.hover, edge:selected', style: { label: 'data(label)', opacity: 1, 'z-index': 40 } },
  {
    selector: 'edge:selected',
    style: {
      width: 4,
      'line-color': '#1565c0',
      'target-arrow-color': '#1565c0',
      'mid-target-arrow-color': '#1565c0',
    },
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
