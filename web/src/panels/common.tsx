import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Finding, Labels } from '../types.ts';

/** Labels or annotations as a table. Keys and values are untrusted: they only ever become text. */
export function LabelTable(props: { labels: Labels | undefined; empty?: string; testid?: string }) {
  const entries = Object.entries(props.labels ?? {});
  if (entries.length === 0) return <p class="muted">{props.empty ?? 'none'}</p>;
  return (
    <table class="kv" data-testid={props.testid}>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th>{key}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StatusBadge(props: { finding: Finding }) {
  const { finding } = props;
  const status = finding.accepted ? 'accepted' : finding.status;
  return <span class={`badge status-${status}`}>{status}</span>;
}

export function SeverityBadge(props: { severity: string }) {
  return <span class={`badge sev-${props.severity}`}>{props.severity}</span>;
}

export function findingKey(finding: Finding, index: number): string {
  return `${finding.check}|${finding.objects.join(',')}|${index}`;
}

/** One finding: a button that highlights its objects, and its evidence when expanded. */
export function FindingItem(props: {
  finding: Finding;
  itemKey: string;
  active: boolean;
  onFinding: (finding: Finding, key: string) => void;
  onTryFix?: (yaml: string) => void;
  extraClass?: string;
}) {
  const { finding } = props;
  const item = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (props.active) item.current?.scrollIntoView({ block: 'nearest' });
  }, [props.active]);
  return (
    <li
      ref={item}
      class={`finding ${props.active ? 'active' : ''} ${props.extraClass ?? ''}`}
      data-testid="finding"
    >
      <button
        type="button"
        class="finding-head"
        data-check={finding.check}
        onClick={() => props.onFinding(finding, props.itemKey)}
      >
        <StatusBadge finding={finding} /> <SeverityBadge severity={finding.severity} /> <b>{finding.check}</b>{' '}
        {finding.title}
        {finding.objects.length > 0 && <span class="objects">{finding.objects.join(', ')}</span>}
      </button>
      {props.active && <FindingBody finding={finding} onTryFix={props.onTryFix} />}
    </li>
  );
}

function FindingBody(props: { finding: Finding; onTryFix?: ((yaml: string) => void) | undefined }) {
  const { finding } = props;
  const { notes = [], edges = [], rules = [] } = finding.evidence;
  const yaml = finding.remediation?.yaml;
  return (
    <div class="finding-body">
      {finding.accepted && (
        <p class="muted">
          Accepted until {finding.accepted.until}: {finding.accepted.reason}
        </p>
      )}
      {notes.length > 0 && (
        <ul class="notes">
          {notes.map((note, i) => (
            <li key={i}>{note}</li>
          ))}
        </ul>
      )}
      {edges.length > 0 && (
        <Section title={`Connections (${edges.length})`}>
          <ul class="mono small">
            {edges.slice(0, 50).map((edge, i) => (
              <li key={i}>{edge}</li>
            ))}
            {edges.length > 50 && <li class="muted">… {edges.length - 50} more</li>}
          </ul>
        </Section>
      )}
      {rules.length > 0 && (
        <Section title="Rules">
          <ul class="mono small">
            {rules.map((rule, i) => (
              <li key={i}>
                {rule.rule}
                {rule.at && <span class="muted"> at {rule.at}</span>}
              </li>
            ))}
          </ul>
        </Section>
      )}
      {finding.location && (
        <p class="muted small">
          At {finding.location.file}:{finding.location.line} · HIPAA {finding.hipaa.join(', ')}
        </p>
      )}
      {finding.remediation && (
        <Section title="Remediation">
          <p>{finding.remediation.text}</p>
          {yaml && <pre class="code">{yaml}</pre>}
          {yaml && props.onTryFix && /^\s*(apiVersion|kind):/m.test(yaml) && (
            <button type="button" onClick={() => props.onTryFix?.(yaml)}>
              Try this policy in what-if
            </button>
          )}
        </Section>
      )}
    </div>
  );
}

export function Section(props: { title: string; children: ComponentChildren }) {
  return (
    <section class="section">
      <h3>{props.title}</h3>
      {props.children}
    </section>
  );
}
