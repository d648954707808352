import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { documentedChecks } from '../testing/catalogue-doc.ts';
import { CATALOGUE } from './catalogue.ts';

test('the catalogue says what docs/hipaa-checks.md says: ids, severities and HIPAA sections', () => {
  const documented = documentedChecks();
  const doc = readFileSync(new URL('../../docs/hipaa-checks.md', import.meta.url), 'utf8');
  const rows = doc.split('\n').filter((line) => /^\| (<a id="[^"]+"><\/a>)?HIPAA-NP-/.test(line));
  assert.equal(documented.length, rows.length, 'every row of the table was parsed');
  assert.deepEqual(
    CATALOGUE.map(({ id, severity, hipaa }) => ({ id, severity, hipaa })),
    documented.map(({ id, severity, hipaa }) => ({ id, severity, hipaa })),
  );
});

test('the documentation parser reads a row as written, and finds nothing in prose', () => {
  const row =
    '| HIPAA-NP-099 | A thing fails \\| sometimes | Critical | 164.312(a)(1); 164.308(a)(4)(ii)(B),(C) |';
  assert.deepEqual(documentedChecks(`# t\n\n${row}\n`), [
    { id: 'HIPAA-NP-099', severity: 'critical', hipaa: ['164.312(a)(1)', '164.308(a)(4)(ii)(B),(C)'] },
  ]);
  assert.deepEqual(
    documentedChecks(`| <a id="hipaa-np-099"></a>${row.slice(2)}\n`)[0]?.anchor,
    'hipaa-np-099',
  );
  assert.throws(() => documentedChecks('HIPAA-NP-001 is critical'), /no check rows/);
});
