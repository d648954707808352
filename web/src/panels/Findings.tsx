import { useMemo, useState } from 'preact/hooks';
import type { Finding } from '../types.ts';
import { FindingItem, findingKey } from './common.tsx';

type Show = 'open' | 'fail' | 'all';

const ORDER: Record<string, number> = { fail: 0, 'needs-review': 1, 'not-assessable': 2, pass: 3 };
const SEVERITY: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export function FindingsPanel(props: {
  findings: readonly Finding[];
  onFinding: (finding: Finding, key: string) => void;
  onTryFix: (yaml: string) => void;
  highlightKey: string | undefined;
}) {
  const [show, setShow] = useState<Show>('open');
  const [text, setText] = useState('');
  const list = useMemo(() => {
    const q = text.trim().toLowerCase();
    return props.findings
      .map((finding, index) => ({ finding, key: findingKey(finding, index) }))
      .filter(({ finding }) => {
        if (show === 'fail' && (finding.status !== 'fail' || finding.accepted)) return false;
        if (show === 'open' && finding.status === 'pass') return false;
        if (!q) return true;
        return [finding.check, finding.title, ...finding.objects].some((t) => t.toLowerCase().includes(q));
      })
      .sort(
        (a, b) =>
          (ORDER[a.finding.status] ?? 9) - (ORDER[b.finding.status] ?? 9) ||
          (SEVERITY[a.finding.severity] ?? 9) - (SEVERITY[b.finding.severity] ?? 9),
      );
  }, [props.findings, show, text]);
  const failing = props.findings.filter((f) => f.status === 'fail' && !f.accepted).length;
  return (
    <div data-testid="findings-panel">
      <div class="panel-bar">
        <select
          value={show}
          onChange={(e) => setShow(e.currentTarget.value as Show)}
          aria-label="Which findings"
        >
          <option value="open">not passing</option>
          <option value="fail">failing</option>
          <option value="all">all checks</option>
        </select>
        <input
          type="search"
          placeholder="Filter"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <span class="muted">
          {failing} failing · {list.length} shown
        </span>
      </div>
      <p class="muted small">
        Click a finding to highlight the workloads, namespaces and connections it names.
      </p>
      <ul class="findings">
        {list.map(({ finding, key }) => (
          <FindingItem
            key={key}
            itemKey={key}
            finding={finding}
            active={props.highlightKey === key}
            onFinding={props.onFinding}
            onTryFix={props.onTryFix}
          />
        ))}
      </ul>
    </div>
  );
}
