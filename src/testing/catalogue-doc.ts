/**
 * The check table of docs/hipaa-checks.md, parsed: the expected ids, severities and HIPAA sections that
 * tests compare the code with, so a severity changed in one place and not the other fails a test.
 */
import { readFileSync } from 'node:fs';

export interface DocumentedCheck {
  id: string;
  /** The `<a id>` the row carries, which SARIF help links point at. */
  anchor?: string;
  severity: string;
  hipaa: string[];
}

const DOC = new URL('../../docs/hipaa-checks.md', import.meta.url);
const ROW =
  /^\| (?:<a id="([^"]+)"><\/a>)?(HIPAA-NP-\d{3}) \| .* \| (Critical|High|Medium|Low|Info) \| ([^|]+) \|$/;

export function documentedChecks(text = readFileSync(DOC, 'utf8')): DocumentedCheck[] {
  const checks: DocumentedCheck[] = [];
  for (const line of text.split('\n')) {
    const match = ROW.exec(line);
    if (!match) continue;
    const [, anchor, id, severity, sections] = match as unknown as [string, string, string, string, string];
    checks.push({
      id,
      ...(anchor ? { anchor } : {}),
      severity: severity.toLowerCase(),
      hipaa: sections.trim().split('; '),
    });
  }
  if (checks.length === 0) throw new Error(`no check rows found in ${DOC.pathname}`);
  return checks;
}
