import type { FlowEndpoint, ObservedVerdict } from '../../model/flows.ts';
import { InputError } from '../diagnostics.ts';
import {
  endpoint,
  flowOf,
  ignored,
  isoTime,
  malformed,
  type RecordPlace,
  type RecordResult,
  readCount,
  readIp,
  readPort,
  readProtocol,
  shown,
  text,
} from './records.ts';

/**
 * phiwall's flow CSV (docs/flows.md): a header row naming the columns, then one flow per row, RFC 4180
 * quoting. Columns are found by name, so their order is free and unknown columns are skipped.
 */

export const CSV_COLUMNS = [
  'time',
  'src_namespace',
  'src_pod',
  'src_workload',
  'src_ip',
  'dst_namespace',
  'dst_pod',
  'dst_workload',
  'dst_ip',
  'protocol',
  'port',
  'verdict',
  'count',
] as const;

type Column = (typeof CSV_COLUMNS)[number];

const VERDICTS = new Map<string, ObservedVerdict>([
  ['forwarded', 'forwarded'],
  ['allowed', 'forwarded'],
  ['allow', 'forwarded'],
  ['dropped', 'dropped'],
  ['denied', 'dropped'],
  ['deny', 'dropped'],
]);

/** A quoted field may span lines (RFC 4180), up to this many characters for the whole row. */
const MAX_ROW_CHARS = 64 * 1024;

export type CsvRow = { fields: string[]; line: number } | { problem: string; line: number };

/**
 * Splits lines into rows of fields. A line that ends inside a quoted field continues on the next line;
 * `""` inside quotes is a quote.
 */
export class CsvRowSplitter {
  private pending: string | undefined;
  private pendingLine = 0;

  get inQuotedField(): boolean {
    return this.pending !== undefined;
  }

  /** The row the line completes, or undefined when a quoted field continues on the next line. */
  feed(line: string, lineNo: number): CsvRow | undefined {
    const textSoFar = this.pending === undefined ? line : `${this.pending}\n${line}`;
    const first = this.pending === undefined ? lineNo : this.pendingLine;
    const parsed = splitRow(textSoFar);
    if (parsed === 'open') {
      if (textSoFar.length > MAX_ROW_CHARS) {
        this.pending = undefined;
        return { problem: 'unterminated quoted field', line: first };
      }
      this.pending = textSoFar;
      this.pendingLine = first;
      return undefined;
    }
    this.pending = undefined;
    return typeof parsed === 'string' ? { problem: parsed, line: first } : { fields: parsed, line: first };
  }

  /** A row still open when the input ends. */
  end(): CsvRow | undefined {
    if (this.pending === undefined) return undefined;
    this.pending = undefined;
    return { problem: 'unterminated quoted field', line: this.pendingLine };
  }
}

/** The fields of a row, `'open'` when a quoted field is not closed, or a problem. */
export function splitRow(row: string): string[] | 'open' | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (row.charCodeAt(i) === 0x22) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const quote = row.indexOf('"', from);
        if (quote < 0) return 'open';
        value += row.slice(from, quote);
        if (row.charCodeAt(quote + 1) === 0x22) {
          value += '"';
          from = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
      if (i === row.length) return fields;
      if (row.charCodeAt(i) !== 0x2c)
        return `unexpected text after the closing quote of field ${fields.length}`;
      i++;
    } else {
      const comma = row.indexOf(',', i);
      if (comma < 0) {
        fields.push(row.slice(i));
        return fields;
      }
      fields.push(row.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** The header: where each known column is. Throws InputError when the columns cannot make flows. */
export class CsvHeader {
  private readonly index = new Map<Column, number>();
  readonly width: number;

  constructor(fields: readonly string[], file: string, line: number) {
    this.width = fields.length;
    const problems: string[] = [];
    fields.forEach((raw, i) => {
      const name = raw.trim().toLowerCase() as Column;
      if (!(CSV_COLUMNS as readonly string[]).includes(name)) return;
      if (this.index.has(name)) problems.push(`column "${name}" appears twice`);
      else this.index.set(name, i);
    });
    const missing = (['protocol', 'port', 'verdict'] as const).filter((name) => !this.index.has(name));
    if (missing.length > 0)
      problems.push(`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    for (const side of ['src', 'dst'] as const) {
      if (!(['ip', 'pod', 'workload'] as const).some((part) => this.index.has(`${side}_${part}`))) {
        problems.push(
          `no column names the ${side === 'src' ? 'source' : 'destination'} (${side}_ip, ${side}_pod or ${side}_workload)`,
        );
      }
    }
    if (problems.length > 0) {
      throw new InputError(
        problems.map((problem) => ({
          severity: 'error',
          file,
          line,
          message: `flow CSV header: ${problem} (the header must name the columns; see docs/flows.md)`,
        })),
      );
    }
  }

  map(fields: readonly string[], at: RecordPlace): RecordResult {
    if (fields.length !== this.width) {
      return malformed(
        `${fields.length} field${fields.length === 1 ? '' : 's'}, the header has ${this.width}`,
      );
    }
    const get = (column: Column): string | undefined => {
      const i = this.index.get(column);
      const value = i === undefined ? undefined : fields[i]?.trim();
      return value === '' || value === '-' ? undefined : value;
    };
    const rawVerdict = get('verdict');
    if (rawVerdict === undefined) return malformed('verdict: empty');
    const verdict = VERDICTS.get(rawVerdict.toLowerCase());
    if (verdict === undefined)
      return malformed(`verdict: expected forwarded or dropped, not ${shown(rawVerdict)}`);
    const protocol = readProtocol(get('protocol'), 'protocol');
    if (typeof protocol !== 'string') return ignored(protocol.ignored);
    const rawPort = get('port');
    if (rawPort === undefined) return malformed('port: empty');
    const port = readPort(rawPort, 'port');
    const rawTime = get('time');
    const time = isoTime(rawTime);
    if (rawTime !== undefined && time === undefined) {
      return malformed(`time: not an ISO 8601 time or UNIX seconds: ${shown(rawTime)}`);
    }
    const end = (side: 'src' | 'dst'): FlowEndpoint =>
      endpoint({
        ip: readIp(get(`${side}_ip`), `${side}_ip`),
        namespace: text(get(`${side}_namespace`), `${side}_namespace`),
        pod: text(get(`${side}_pod`), `${side}_pod`),
        workload: text(get(`${side}_workload`), `${side}_workload`),
      });
    return flowOf(
      {
        time,
        src: end('src'),
        dst: end('dst'),
        protocol,
        port,
        verdict,
        count: readCount(get('count'), 'count'),
      },
      at,
    );
  }
}
