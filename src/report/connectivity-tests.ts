import { isNamedExplanation, type TestResult } from '../analysis/connectivity-tests.ts';
import { PARTIAL_NOTE, reasonFor } from './explain.ts';
import { namedReasonFor } from './explain-named.ts';

export const TEST_FORMATS = ['text', 'json', 'junit'] as const;
export type TestFormat = (typeof TEST_FORMATS)[number];

function reasonOf(result: TestResult): string {
  return isNamedExplanation(result.explanation)
    ? namedReasonFor(result.explanation)
    : reasonFor(result.explanation);
}

export function renderTestResults(results: readonly TestResult[], format: TestFormat): string {
  if (format === 'json') return `${JSON.stringify(testResultsJson(results), null, 2)}\n`;
  if (format === 'junit') return renderJunit(results);
  const lines = results.map(
    (r) =>
      `${r.pass ? 'PASS' : 'FAIL'} ${r.name}${r.pass ? '' : `\n     expected ${r.expect}, got ${r.actual}: ${reasonOf(r)}`}`,
  );
  const failed = results.filter((r) => !r.pass).length;
  if (results.some((r) => r.explanation.partial)) lines.unshift(PARTIAL_NOTE);
  lines.push('', `${results.length - failed} passed, ${failed} failed`);
  return `${lines.join('\n')}\n`;
}

export function testResultsJson(results: readonly TestResult[]) {
  const failed = results.filter((r) => !r.pass).length;
  return {
    summary: { passed: results.length - failed, failed },
    partial: results.some((r) => r.explanation.partial),
    results: results.map((r) => ({
      name: r.name,
      from: r.from,
      to: r.to,
      port: r.port,
      protocol: r.protocol,
      expect: r.expect,
      actual: r.actual,
      pass: r.pass,
      reason: reasonOf(r),
    })),
  };
}

function xml(text: string): string {
  // XML 1.0 cannot carry most control characters even escaped, and names come from user input.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to drop
  const printable = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd');
  return printable.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function renderJunit(results: readonly TestResult[]): string {
  const failed = results.filter((r) => !r.pass).length;
  const cases = results.map((r) => {
    const open = `  <testcase classname="phiwall.connectivity" name="${xml(r.name)}"`;
    if (r.pass) return `${open}/>`;
    const message = `expected ${r.expect}, got ${r.actual}`;
    return `${open}>\n    <failure message="${xml(message)}">${xml(reasonOf(r))}</failure>\n  </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="phiwall connectivity tests" tests="${results.length}" failures="${failed}">`,
    ...cases,
    '</testsuite>',
    '',
  ].join('\n');
}
