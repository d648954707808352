/**
 * A workload drilled down to its pod groups (`podGroups` of GET /api/workloads/:id): one node per
 * group inside the workload's node, with the group's own edges where the groups differ.
 */
import type { ElementDefinition } from 'cytoscape';
import type { PodGroup } from './types.ts';

export const groupNodeId = (workload: string, index: number) => `pods:${workload}#${index + 1}`;

/** A group as its node says it: what sets it apart, and how many pods. */
export function groupLabel(group: PodGroup): string {
  const apart = group.apart.length > 0 ? group.apart.join(' ') : 'labels alike';
  return `${apart}\n${group.pods.length} pod${group.pods.length === 1 ? '' : 's'}`;
}

/**
 * The elements of the drilled workloads that are drawn as themselves (in a collapsed namespace there
 * is nothing to open), with edges to wherever the other end is drawn.
 */
export function drillElements(
  drilled: ReadonlyMap<string, readonly PodGroup[]>,
  drawnNode: ReadonlyMap<string, string>,
): ElementDefinition[] {
  const elements: ElementDefinition[] = [];
  for (const [workload, groups] of drilled) {
    if (drawnNode.get(workload) !== workload) continue;
    groups.forEach((group, i) => {
      const id = groupNodeId(workload, i);
      elements.push({
        group: 'nodes',
        data: { id, parent: workload, kind: 'pod-group', workload, label: groupLabel(group) },
        classes: 'pod-group',
      });
      for (const edge of group.edges) {
        if (edge.ports === 'none') continue;
        const outgoing = edge.source === workload;
        const peer = drawnNode.get(outgoing ? edge.target : edge.source);
        if (!peer) continue;
        elements.push({
          group: 'edges',
          data: {
            id: `${id}|${edge.id}`,
            source: outgoing ? id : peer,
            target: outgoing ? peer : id,
            kind: 'pod-group-edge',
            edge: edge.id,
            label: edge.ports,
          },
          classes: 'group-edge',
        });
      }
    });
  }
  return elements;
}
