/**
 * The check table of docs/hipaa-checks.md, parsed: the expected ids, severities and HIPAA sections that
 * tests compare the code with, so a severity changed in one place and not the other fails a test.
 */
import { readFileSync } from 'node:fs';

export interface DocumentedCheck {
  id: string;
  severity: string;
  hipaa: string[];
}

const DOC = new URL('../../docs/hipaa-checks.md', import.meta.url);
const ROW = /^\| (HIPAA-NP-\d{3}) \| .* \| (Critical|High|Medium|Low|Info) \| ([^|]+) \|$/;

export function documentedChecks(text = readFileSync(DOC, 'utf8')): DocumentedCheck[] {
  const checks: DocumentedCheck[] = [];
  for (const line of text.split('\n')) {
    const match = ROW.exec(line);
    if (!match) continue;
    const [, id, severity, sections] = match as unknown as [string, string, string, string];
    checks.push({
      id,
      severity: severity.toLowerCase(),
      hipaa: sections.trim().split('; '),
    });
  }
  if (checks.length === 0) throw new Error(`no check rows found in ${DOC.pathname}`);
  return checks;
}
