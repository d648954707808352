import type { Protocol, Provenance } from '../model/types.ts';
import { type Diagnostic, fieldPath, InputError } from './diagnostics.ts';
import { parseSource } from './documents.ts';
import { type EndpointKinds, endpointProblem } from './endpoints.ts';
import { zod } from './lazy-modules.ts';
import { portNameProblem } from './names.ts';
import type { SourceText } from './sources.ts';

export interface ConnectivityTest {
  name?: string;
  from: string;
  to: string;
  /** A port number or a named port of the destination; undefined asks about any port of the protocol. */
  port?: number | string;
  protocol: Protocol;
  expect: 'allow' | 'deny';
  provenance: Provenance;
  /** Where one field of this test is, for messages about its value. */
  locateField(field: 'from' | 'to' | 'port'): Diagnostic;
}

/** A flow end as a string, refused with its reason when it cannot be one (`from: 'not a workload'`). */
export function endpointSchema(options: EndpointKinds = {}) {
  return zod()
    .string()
    .min(1, { abort: true })
    .superRefine((text, context) => {
      const problem = endpointProblem(text, options);
      if (problem) context.addIssue({ code: 'custom', message: `"${text}" is ${problem}` });
    });
}

function testsFileSchema() {
  const z = zod();
  const test = z.strictObject({
    name: z.string().min(1).optional(),
    from: endpointSchema(),
    to: endpointSchema({ fqdn: true }),
    port: z
      .union([
        z.number().int().min(1).max(65535),
        z
          .string()
          .refine((name) => portNameProblem(name) === undefined, { message: 'not a valid port name' }),
      ])
      .optional(),
    protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
    expect: z.enum(['allow', 'deny']),
  });
  return z.strictObject({ tests: z.array(test) });
}

/** Reads a tests file (the format in the README is a contract); every problem is reported with its position. */
export function parseConnectivityTests(source: SourceText): ConnectivityTest[] {
  const { documents, errors } = parseSource(source);
  if (errors.length > 0) throw new InputError(errors);
  // A stray `---` (leading or trailing) makes an empty document, which is no reason to complain.
  const [doc, extra] = documents.filter((d) => d.value !== null && d.value !== undefined);
  if (!doc) {
    throw new InputError([
      { severity: 'error', file: source.path, line: 1, column: 1, message: 'the tests file is empty' },
    ]);
  }
  // Only the first document would be read, so the tests of any later one would silently never run.
  if (extra) {
    throw new InputError([
      {
        severity: 'error',
        file: source.path,
        ...extra.locate([]),
        message: 'a tests file holds one document: list every test under the first one’s `tests:`',
      },
    ]);
  }
  const parsed = testsFileSchema().safeParse(doc.value);
  if (!parsed.success) {
    const diagnostics: Diagnostic[] = parsed.error.issues.map((issue) => {
      const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
      const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const at = unknownKeys.length ? [...path, unknownKeys[0] as string] : path;
      return {
        severity: 'error',
        file: source.path,
        ...doc.locate(at),
        field: fieldPath(at),
        message: issue.message,
      };
    });
    throw new InputError(diagnostics);
  }
  const seen = new Map<string, number>();
  const duplicates: Diagnostic[] = [];
  const tests = parsed.data.tests.map((test, i) => {
    const provenance: Provenance = { file: source.path, locate: () => doc.locate(['tests', i]) };
    const locateField = (field: string): Diagnostic => ({
      severity: 'error',
      file: source.path,
      ...doc.locate(['tests', i, field]),
      field: `tests[${i}].${field}`,
      message: '',
    });
    if (test.name !== undefined) {
      const first = seen.get(test.name);
      if (first !== undefined) {
        duplicates.push({
          severity: 'error',
          file: source.path,
          ...doc.locate(['tests', i, 'name']),
          field: `tests[${i}].name`,
          message: `duplicate test name "${test.name}" (also tests[${first}])`,
        });
      }
      seen.set(test.name, i);
    }
    return { ...test, provenance, locateField };
  });
  if (duplicates.length > 0) throw new InputError(duplicates);
  return tests;
}
