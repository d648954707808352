/**
 * Keyboard navigation of the graph: arrow keys move a focus ring from node to node by where they are
 * drawn, Enter opens the focused node as a click would, Escape clears.
 */
import type { Core, NodeSingular } from 'cytoscape';

export type Direction = 'left' | 'right' | 'up' | 'down';

export const ARROWS: Readonly<Record<string, Direction>> = {
  ArrowLeft: 'left',
  ArrowRight: 'right',
  ArrowUp: 'up',
  ArrowDown: 'down',
};

export interface Point {
  id: string;
  x: number;
  y: number;
}

const UNIT: Record<Direction, [number, number]> = { left: [-1, 0], right: [1, 0], up: [0, -1], down: [0, 1] };

/**
 * The point to move to from `from` in `direction`: of those ahead of it, the one nearest, counting a
 * step sideways twice as far as a step ahead (so that Right keeps to the row). Undefined when none is
 * ahead.
 */
export function nearestInDirection(
  points: readonly Point[],
  from: { x: number; y: number },
  direction: Direction,
): Point | undefined {
  const [ux, uy] = UNIT[direction];
  let best: Point | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const point of points) {
    const dx = point.x - from.x;
    const dy = point.y - from.y;
    const ahead = dx * ux + dy * uy;
    if (ahead <= 0) continue;
    const score = ahead + 2 * Math.abs(dx * uy - dy * ux);
    if (score < bestScore) {
      best = point;
      bestScore = score;
    }
  }
  return best;
}

/** The nodes a keyboard can land on: every drawn node but an expanded namespace's frame. */
function targets(cy: Core): NodeSingular[] {
  return cy
    .nodes()
    .toArray()
    .filter((node) => node.isChildless() && node.visible());
}

/**
 * Where an arrow key moves the focus: from the focused node (else the selected one) to the nearest
 * in that direction; the first time, to the node nearest the middle of the view.
 */
export function moveFocus(
  cy: Core,
  focused: string | undefined,
  direction: Direction,
): NodeSingular | undefined {
  const nodes = targets(cy);
  const start = focused ? cy.getElementById(focused) : cy.nodes(':selected').first();
  if (start.nonempty()) {
    const from = start.position();
    const points = nodes.filter((n) => n.id() !== start.id()).map((n) => ({ id: n.id(), ...n.position() }));
    const next = nearestInDirection(points, from, direction);
    return next ? cy.getElementById(next.id) : undefined;
  }
  const view = cy.extent();
  const middle = { x: (view.x1 + view.x2) / 2, y: (view.y1 + view.y2) / 2 };
  let best: NodeSingular | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const node of nodes) {
    const { x, y } = node.position();
    const distance = (x - middle.x) ** 2 + (y - middle.y) ** 2;
    if (distance < bestDistance) {
      best = node;
      bestDistance = distance;
    }
  }
  return best;
}

/** Shows the focus ring on one node (none: undefined) and brings it into view. */
export function showFocus(cy: Core, id: string | undefined): void {
  cy.nodes('.kbd-focus').removeClass('kbd-focus');
  if (!id) return;
  const node = cy.getElementById(id);
  if (node.empty()) return;
  node.addClass('kbd-focus');
  const view = cy.extent();
  const { x, y } = node.position();
  if (x < view.x1 || x > view.x2 || y < view.y1 || y > view.y2) cy.center(node);
}
