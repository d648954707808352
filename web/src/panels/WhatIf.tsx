import { useState } from 'preact/hooks';
import type { Finding, GraphEdge, WhatIfRequest, WhatIfResult } from '../types.ts';
import { FindingItem, findingKey, Section } from './common.tsx';

export interface WhatIfState {
  yaml: string;
  deletes: WhatIfRequest['delete'];
  busy: boolean;
  errors: string[];
  result?: WhatIfResult | undefined;
  /** The input changed after the result was computed. */
  stale?: boolean;
}

const KINDS = ['NetworkPolicy', 'AdminNetworkPolicy', 'BaselineAdminNetworkPolicy', 'ClusterNetworkPolicy'];

function download(yaml: string): void {
  const url = URL.createObjectURL(new Blob([yaml], { type: 'application/yaml' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'what-if.yaml';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function EdgeButtons(props: {
  edges: readonly GraphEdge[];
  cls: string;
  sign: string;
  onSelect: (id: string) => void;
}) {
  return (
    <ul class={`edges ${props.cls}`}>
      {props.edges.map((edge) => (
        <li key={edge.id}>
          <button type="button" class="link" onClick={() => props.onSelect(edge.id)}>
            {props.sign} {edge.source} → {edge.target} <span class="muted">{edge.ports}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

export function WhatIfPanel(props: {
  state: WhatIfState;
  onChange: (patch: Partial<WhatIfState>) => void;
  onRun: () => void;
  onClear: () => void;
  onSelectEdge: (id: string) => void;
  onFinding: (finding: Finding, key: string) => void;
  highlightKey: string | undefined;
}) {
  const { state } = props;
  const [target, setTarget] = useState({ kind: 'NetworkPolicy', namespace: '', name: '' });
  const result = state.result;
  const canRun = !state.busy && (state.yaml.trim() !== '' || state.deletes.length > 0);
  return (
    <div class="whatif" data-testid="whatif-panel">
      <p class="muted small">
        Paste or edit policy YAML: each policy is added, or replaces the input's policy of the same kind,
        namespace and name. The server computes the difference; nothing is applied anywhere.
      </p>
      <textarea
        data-testid="whatif-yaml"
        spellcheck={false}
        rows={14}
        placeholder={'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n…'}
        value={state.yaml}
        onInput={(e) => props.onChange({ yaml: e.currentTarget.value })}
      />
      <Section title="Delete policies">
        <div class="row">
          <select
            aria-label="Kind"
            value={target.kind}
            onChange={(e) => setTarget({ ...target, kind: e.currentTarget.value })}
          >
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
          <input
            aria-label="Namespace"
            placeholder="namespace"
            value={target.namespace}
            onInput={(e) => setTarget({ ...target, namespace: e.currentTarget.value })}
          />
          <input
            aria-label="Name"
            placeholder="name"
            value={target.name}
            onInput={(e) => setTarget({ ...target, name: e.currentTarget.value })}
          />
          <button
            type="button"
            disabled={!target.name.trim()}
            onClick={() => {
              props.onChange({ deletes: [...state.deletes, { ...target, name: target.name.trim() }] });
              setTarget({ ...target, name: '' });
            }}
          >
            Add
          </button>
        </div>
        {state.deletes.length > 0 && (
          <ul class="deletes">
            {state.deletes.map((d, i) => (
              <li key={i}>
                − {d.kind} {d.namespace ? `${d.namespace}/` : ''}
                {d.name}{' '}
                <button
                  type="button"
                  class="link"
                  onClick={() => props.onChange({ deletes: state.deletes.filter((_, j) => j !== i) })}
                >
                  keep
                </button>
              </li>
            ))}
          </ul>
        )}
      </Section>
      <div class="row">
        <button
          type="button"
          class="primary"
          data-testid="whatif-run"
          disabled={!canRun}
          onClick={props.onRun}
        >
          {state.busy ? 'Computing…' : 'Compute what-if'}
        </button>
        <button type="button" disabled={!state.yaml.trim()} onClick={() => download(state.yaml)}>
          Download YAML
        </button>
        <label class="file">
          Open file…
          <input
            type="file"
            accept=".yaml,.yml,.json"
            onChange={async (e) => {
              const file = e.currentTarget.files?.[0];
              if (file) props.onChange({ yaml: await file.text() });
            }}
          />
        </label>
        <button type="button" onClick={props.onClear}>
          Clear
        </button>
      </div>
      {state.errors.length > 0 && (
        <ul class="errors" role="alert" data-testid="whatif-errors">
          {state.errors.map((error, i) => (
            <li key={i}>{error}</li>
          ))}
        </ul>
      )}
      {result && (
        <div class="whatif-result" data-testid="whatif-result">
          {state.stale && <p class="warn">The input changed since this was computed.</p>}
          <p>
            <b class="added-text">+{result.added.length}</b> added,{' '}
            <b class="removed-text">−{result.removed.length}</b> removed, {result.changed.length} changed
            connections.
          </p>
          {result.added.length > 0 && (
            <Section title="Added connections">
              <EdgeButtons edges={result.added} cls="added" sign="+" onSelect={props.onSelectEdge} />
            </Section>
          )}
          {result.removed.length > 0 && (
            <Section title="Removed connections">
              <EdgeButtons edges={result.removed} cls="removed" sign="−" onSelect={props.onSelectEdge} />
            </Section>
          )}
          {result.changed.length > 0 && (
            <Section title="Changed connections">
              <ul class="edges changed">
                {result.changed.map((c) => (
                  <li key={c.edge.id}>
                    <button type="button" class="link" onClick={() => props.onSelectEdge(c.edge.id)}>
                      ~ {c.edge.source} → {c.edge.target}: {c.before} ⇒ {c.after}
                    </button>
                  </li>
                ))}
              </ul>
            </Section>
          )}
          <Section title={`New findings (${result.newFindings.length})`}>
            <ul class="findings" data-testid="whatif-new-findings">
              {result.newFindings.map((finding, i) => {
                const key = `new|${findingKey(finding, i)}`;
                return (
                  <FindingItem
                    key={key}
                    itemKey={key}
                    finding={finding}
                    extraClass="new"
                    active={props.highlightKey === key}
                    onFinding={props.onFinding}
                  />
                );
              })}
            </ul>
          </Section>
          <Section title={`Resolved findings (${result.resolvedFindings.length})`}>
            <ul class="findings">
              {result.resolvedFindings.map((finding, i) => {
                const key = `resolved|${findingKey(finding, i)}`;
                return (
                  <FindingItem
                    key={key}
                    itemKey={key}
                    finding={finding}
                    extraClass="resolved"
                    active={props.highlightKey === key}
                    onFinding={props.onFinding}
                  />
                );
              })}
            </ul>
          </Section>
        </div>
      )}
    </div>
  );
}
