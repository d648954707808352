import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api.ts';
import { groupLabel } from '../drill.ts';
import type {
  Explanation,
  Finding,
  Graph,
  GraphEdge,
  GraphNode,
  PodGroup,
  WorkloadDetail,
} from '../types.ts';
import { FindingItem, findingKey, LabelTable, Section } from './common.tsx';

export type Selection =
  | { kind: 'workload'; id: string }
  | { kind: 'node'; id: string }
  | { kind: 'namespace'; name: string }
  | { kind: 'edge'; id: string }
  | { kind: 'agg'; id: string; edges: string[]; source: string; target: string }
  | { kind: 'flow'; id: string; label: string; source: string; target: string }
  | { kind: 'finding'; key: string };

interface Props {
  /** Workloads drawn down to their pod groups. */
  drilled: ReadonlyMap<string, readonly PodGroup[]>;
  onDrill: (workload: string, groups: readonly PodGroup[] | undefined) => void;
  selection: Selection | undefined;
  graph: Graph;
  nodeById: ReadonlyMap<string, GraphNode>;
  aggregate: boolean;
  expanded: ReadonlySet<string>;
  onExpand: (namespace: string, open: boolean) => void;
  onSelect: (selection: Selection) => void;
  onFinding: (finding: Finding, key: string) => void;
  highlightKey: string | undefined;
}

/** Runs `load` when `key` changes; results of an older key are dropped. */
function useLoad<T>(
  key: string | undefined,
  load: () => Promise<T>,
): { data?: T; error?: string; loading: boolean } {
  const [state, setState] = useState<{ key?: string; data?: T; error?: string }>({});
  useEffect(() => {
    if (key === undefined) return;
    let live = true;
    setState({ key });
    load().then(
      (data) => live && setState({ key, data }),
      (error: unknown) =>
        live && setState({ key, error: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      live = false;
    };
  }, [key]);
  return state.key === key
    ? { ...state, loading: !state.data && !state.error }
    : { loading: key !== undefined };
}

function nodeName(node: GraphNode | undefined, id: string): string {
  if (!node) return id;
  return node.type === 'workload' ? `${node.namespace}/${node.name}` : node.label;
}

function Connections(props: {
  id: string;
  graph: Graph;
  nodeById: Props['nodeById'];
  onSelect: Props['onSelect'];
}) {
  const { incoming, outgoing } = useMemo(() => {
    const incoming: GraphEdge[] = [];
    const outgoing: GraphEdge[] = [];
    for (const edge of props.graph.edges) {
      if (edge.target === props.id) incoming.push(edge);
      if (edge.source === props.id) outgoing.push(edge);
    }
    return { incoming, outgoing };
  }, [props.graph, props.id]);
  const list = (edges: GraphEdge[], end: 'source' | 'target') => (
    <ul class="edges">
      {edges.slice(0, 60).map((edge) => (
        <li key={edge.id} class={edge.phi ? 'phi' : ''}>
          <button type="button" class="link" onClick={() => props.onSelect({ kind: 'edge', id: edge.id })}>
            {nodeName(props.nodeById.get(edge[end]), edge[end])} <span class="muted">{edge.ports}</span>
          </button>
        </li>
      ))}
      {edges.length > 60 && <li class="muted">… {edges.length - 60} more</li>}
    </ul>
  );
  return (
    <>
      <Section title={`Accepts from (${incoming.length})`}>{list(incoming, 'source')}</Section>
      <Section title={`Connects to (${outgoing.length})`}>{list(outgoing, 'target')}</Section>
    </>
  );
}

/** A workload whose pods are not all treated alike: its groups, and a way to draw them. */
function PodGroups(props: {
  id: string;
  groups: readonly PodGroup[];
  drawn: boolean;
  onDrill: Props['onDrill'];
  nodeById: Props['nodeById'];
}) {
  const name = (id: string) => nodeName(props.nodeById.get(id), id);
  return (
    <Section title={`Pods treated differently (${props.groups.length} groups)`}>
      <button
        type="button"
        data-testid="drill"
        onClick={() => props.onDrill(props.id, props.drawn ? undefined : props.groups)}
      >
        {props.drawn ? 'Hide the pod groups in the graph' : 'Show the pod groups in the graph'}
      </button>
      <ul class="pod-groups" data-testid="pod-groups">
        {props.groups.map((group, i) => (
          <li key={i} data-testid="pod-group">
            <b>{groupLabel(group).replace('\n', ' · ')}</b>
            <div class="muted small">
              {group.pods.slice(0, 5).join(', ')}
              {group.pods.length > 5 && ` and ${group.pods.length - 5} more`}
            </div>
            <ul class="small">
              {group.edges.map((edge) => (
                <li key={edge.id}>
                  {edge.source === props.id ? `→ ${name(edge.target)}` : `← ${name(edge.source)}`}:{' '}
                  {edge.ports}
                </li>
              ))}
              {group.outside.map((o, j) => (
                <li key={`o${j}`}>
                  {o.direction === 'egress' ? '→' : '←'} outside {o.cidrs.join(', ')}: {o.ports}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function WorkloadPanel(props: Props & { id: string }) {
  const node = props.nodeById.get(props.id);
  const { data, error, loading } = useLoad<WorkloadDetail>(`${props.id}|${props.graph.generation}`, () =>
    api.workload(props.id),
  );
  const title = node?.type === 'workload' ? node : undefined;
  return (
    <div data-testid="workload-panel">
      <h2>
        {title ? title.name : props.id} {title && <span class="muted">{title.kind}</span>}
      </h2>
      <p>
        Namespace{' '}
        {title && (
          <button
            type="button"
            class="link"
            onClick={() => props.onSelect({ kind: 'namespace', name: title.namespace })}
          >
            {title.namespace}
          </button>
        )}
        {title?.phi && <span class="badge phi">PHI</span>}
        {title?.exposed && <span class="badge exposed">exposed</span>}
        {title?.hostNetwork && <span class="badge">hostNetwork</span>}
      </p>
      {loading && <p class="muted">Loading…</p>}
      {error && <p class="error-text">{error}</p>}
      {data && (
        <>
          {data.phiReason && <p class="small">PHI: {data.phiReason}</p>}
          {data.podGroups && (
            <PodGroups
              id={props.id}
              groups={data.podGroups}
              drawn={props.drilled.has(props.id)}
              onDrill={props.onDrill}
              nodeById={props.nodeById}
            />
          )}
          <Section title="Labels">
            <LabelTable labels={data.labels} testid="labels" />
          </Section>
          <Section title="Annotations">
            <LabelTable labels={data.annotations} testid="annotations" />
          </Section>
          <Section title={`Policies that select it (${data.policies.length})`}>
            {data.policies.length === 0 ? (
              <p class="muted">None: it accepts and sends all traffic.</p>
            ) : (
              <ul class="policies" data-testid="policies">
                {data.policies.map((p, i) => (
                  <li key={i}>
                    <b>{p.kind}</b> {p.namespace ? `${p.namespace}/` : ''}
                    {p.name} <span class="muted">({p.directions.join(', ')})</span>
                    {p.at && <span class="muted small"> at {p.at}</span>}
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <Section title={`Findings (${data.findings.filter((f) => f.status !== 'pass').length})`}>
            <ul class="findings">
              {data.findings.map((finding, i) => {
                const key = `wl|${props.id}|${findingKey(finding, i)}`;
                return (
                  <FindingItem
                    key={key}
                    itemKey={key}
                    finding={finding}
                    active={props.highlightKey === key}
                    onFinding={props.onFinding}
                  />
                );
              })}
            </ul>
          </Section>
        </>
      )}
      <Connections id={props.id} graph={props.graph} nodeById={props.nodeById} onSelect={props.onSelect} />
    </div>
  );
}

function NodePanel(props: Props & { id: string }) {
  const node = props.nodeById.get(props.id);
  if (!node) return <p class="muted">{props.id} is no longer in the graph.</p>;
  return (
    <div data-testid="node-panel">
      <h2>{node.type === 'workload' ? node.name : node.label}</h2>
      {node.type === 'external' && (
        <Section title="Address blocks">
          <ul class="mono">
            {node.cidrs.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        </Section>
      )}
      {node.type === 'entry' && (
        <Section title={`${node.kind}: routes to`}>
          <ul>
            {node.targets.map((t) => (
              <li key={t}>
                <button
                  type="button"
                  class="link"
                  onClick={() => props.onSelect({ kind: 'workload', id: t })}
                >
                  {t}
                </button>
              </li>
            ))}
          </ul>
        </Section>
      )}
      <Connections id={props.id} graph={props.graph} nodeById={props.nodeById} onSelect={props.onSelect} />
    </div>
  );
}

function NamespacePanel(props: Props & { name: string }) {
  const info = props.graph.namespaces.find((n) => n.name === props.name);
  const workloads = props.graph.nodes.filter((n) => n.type === 'workload' && n.namespace === props.name);
  const open = !props.aggregate || props.expanded.has(props.name);
  return (
    <div data-testid="namespace-panel">
      <h2>
        {props.name} <span class="muted">namespace</span> {info?.phi && <span class="badge phi">PHI</span>}
      </h2>
      {props.aggregate && (
        <button type="button" onClick={() => props.onExpand(props.name, !open)}>
          {open ? 'Collapse to one node' : 'Show its workloads'}
        </button>
      )}
      <Section title="Labels">
        <LabelTable labels={info?.labels} />
      </Section>
      <Section title={`Workloads (${workloads.length})`}>
        <ul>
          {workloads.slice(0, 200).map((w) => (
            <li key={w.id}>
              <button
                type="button"
                class="link"
                onClick={() => props.onSelect({ kind: 'workload', id: w.id })}
              >
                {nodeName(w, w.id)}
              </button>
              {w.type === 'workload' && w.phi && <span class="badge phi">PHI</span>}
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}

function EdgePanel(props: Props & { id: string }) {
  const edge = props.graph.edges.find((e) => e.id === props.id);
  const [port, setPort] = useState('');
  const [protocol, setProtocol] = useState('');
  const [query, setQuery] = useState({ port: '', protocol: '' });
  const entry = edge ? props.nodeById.get(edge.source) : undefined;
  const fromEntry = entry?.type === 'entry';
  const key =
    edge && !fromEntry ? `${edge.id}|${props.graph.generation}|${query.port}|${query.protocol}` : undefined;
  const { data, error, loading } = useLoad<Explanation>(key, () =>
    api.explain(edge?.source ?? '', edge?.target ?? '', query.port || undefined, query.protocol || undefined),
  );
  if (!edge) return <p class="muted">This connection is not in the graph any more.</p>;
  return (
    <div data-testid="edge-panel">
      <h2>Connection</h2>
      <p>
        <button
          type="button"
          class="link"
          onClick={() => props.onSelect(selectionFor(edge.source, props.nodeById))}
        >
          {nodeName(props.nodeById.get(edge.source), edge.source)}
        </button>{' '}
        →{' '}
        <button
          type="button"
          class="link"
          onClick={() => props.onSelect(selectionFor(edge.target, props.nodeById))}
        >
          {nodeName(props.nodeById.get(edge.target), edge.target)}
        </button>
      </p>
      <p>
        Allowed: <b>{edge.ports}</b> {edge.phi && <span class="badge phi">PHI</span>}
      </p>
      {edge.dependsOn.length > 0 && <p class="small muted">Depends on: {edge.dependsOn.join(', ')}</p>}
      {fromEntry && (
        <p data-testid="entry-note">
          {entry.label} routes traffic from outside the cluster to this workload on {edge.ports}. Whether it
          arrives is decided by the policies between the ingress controller (or, for a NodePort or
          LoadBalancer Service, the external address blocks) and the workload: click those connections for
          their explanation.
        </p>
      )}
      {!fromEntry && (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            setQuery({ port, protocol });
          }}
        >
          <select aria-label="Protocol" value={protocol} onChange={(e) => setProtocol(e.currentTarget.value)}>
            <option value="">any protocol</option>
            <option>TCP</option>
            <option>UDP</option>
            <option>SCTP</option>
          </select>
          <input
            aria-label="Port"
            placeholder="port"
            value={port}
            onInput={(e) => setPort(e.currentTarget.value)}
          />
          <button type="submit">Explain</button>
        </form>
      )}
      {loading && <p class="muted">Explaining…</p>}
      {error && <p class="error-text">{error}</p>}
      {data && (
        <pre class="explain" data-testid="explain-text">
          {data.text}
        </pre>
      )}
    </div>
  );
}

function selectionFor(id: string, nodeById: Props['nodeById']): Selection {
  return nodeById.get(id)?.type === 'workload' ? { kind: 'workload', id } : { kind: 'node', id };
}

function AggPanel(props: Props & { edges: string[]; source: string; target: string }) {
  const byId = useMemo(() => new Map(props.graph.edges.map((e) => [e.id, e])), [props.graph]);
  const edges = props.edges.map((id) => byId.get(id)).filter((e): e is GraphEdge => e !== undefined);
  const name = (id: string) =>
    id.startsWith('ns:') ? `namespace ${id.slice(3)}` : nodeName(props.nodeById.get(id), id);
  return (
    <div data-testid="agg-panel">
      <h2>
        {edges.length} connection{edges.length === 1 ? '' : 's'}
      </h2>
      <p>
        {name(props.source)} → {name(props.target)}
      </p>
      <ul class="edges">
        {edges.slice(0, 300).map((edge) => (
          <li key={edge.id} class={edge.phi ? 'phi' : ''}>
            <button type="button" class="link" onClick={() => props.onSelect({ kind: 'edge', id: edge.id })}>
              {nodeName(props.nodeById.get(edge.source), edge.source)} →{' '}
              {nodeName(props.nodeById.get(edge.target), edge.target)} <span class="muted">{edge.ports}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Details(props: Props) {
  const { selection } = props;
  if (!selection) {
    return (
      <div class="muted">
        <p>Click a workload for its labels, the policies that select it and its findings.</p>
        <p>Click a connection for the explanation of why it is allowed.</p>
        {props.aggregate && <p>Click a namespace to show its workloads.</p>}
      </div>
    );
  }
  switch (selection.kind) {
    case 'workload':
      return <WorkloadPanel {...props} key={selection.id} id={selection.id} />;
    case 'node':
      return <NodePanel {...props} id={selection.id} />;
    case 'namespace':
      return <NamespacePanel {...props} name={selection.name} />;
    case 'edge':
      return <EdgePanel {...props} key={selection.id} id={selection.id} />;
    case 'agg':
      return (
        <AggPanel {...props} edges={selection.edges} source={selection.source} target={selection.target} />
      );
    case 'flow':
      return (
        <div data-testid="flow-panel">
          <h2>Observed flow</h2>
          <p>
            {selection.source} → {selection.target}
          </p>
          <p>{selection.label}</p>
        </div>
      );
    default:
      return null;
  }
}
