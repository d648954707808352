import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import AjvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';

// Test support: the official SARIF 2.1.0 (rtm.5) schema, as Microsoft ships it in @microsoft/jest-sarif;
// it is draft-04.
const SCHEMA_PATH = createRequire(import.meta.url).resolve(
  '@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json',
);
// strict off: the schema has draft-04 idioms ajv's strict mode flags. unicodeRegExp off: its `language`
// pattern has a stray `]` that only non-unicode regular expressions accept.
// Both are CommonJS; under NodeNext their default import is the module, whose `default` is the export.
const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
ajvFormats.default(ajv);
export const validateSarif = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));

export function assertValidSarif(log: unknown): void {
  // A JSON round trip, so what is validated is what `--format sarif` writes.
  const ok = validateSarif(JSON.parse(JSON.stringify(log)));
  assert.ok(ok, JSON.stringify(validateSarif.errors, null, 2));
}
