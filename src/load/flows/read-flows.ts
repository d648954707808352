import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { FlowReadStats, ObservedFlow } from '../../model/flows.ts';
import { InputError } from '../diagnostics.ts';
import { mapCalicoRecord } from './calico.ts';
import { CALICO_COUNTING, CalicoReporters } from './calico-reporters.ts';
import { CsvHeader, CsvRowSplitter } from './csv.ts';
import { mapHubbleRecord } from './hubble.ts';
import { HUBBLE_COUNTING, HubbleConnections } from './hubble-connections.ts';
import { JsonArraySplitter, MAX_RECORD_CHARS } from './json-array.ts';
import { guarded, type RecordPlace, type RecordResult } from './records.ts';

export type FlowFormat = 'hubble' | 'calico' | 'csv';

export const FLOW_FORMATS: readonly FlowFormat[] = ['hubble', 'calico', 'csv'];

export interface ReadFlowOptions {
  /** Skips detection. */
  format?: FlowFormat;
  /** Called at most every 250 ms while reading, and once at the end; totalBytes is 0 when unknown (stdin). */
  progress?: (readBytes: number, totalBytes: number) => void;
  /** What `-` reads; process.stdin by default. */
  stdin?: NodeJS.ReadableStream;
}

/** The name flows read from standard input carry as their file. */
export const STDIN_NAME = '<stdin>';

const SUPPORTED =
  'Cilium Hubble JSON (hubble observe -o json), Calico flow logs (JSON) or phiwall flow CSV (see docs/flows.md)';

/** A line longer than this is reported and skipped, so that a file without line breaks cannot fill memory. */
const MAX_LINE_CHARS = 16 * MAX_RECORD_CHARS;

const PROGRESS_INTERVAL_MS = 250;

const COUNTING: Record<FlowFormat, string> = {
  hubble: HUBBLE_COUNTING,
  calico: CALICO_COUNTING,
  csv: 'CSV: the count column per row (1 when empty)',
};

const MAX_IGNORED_REASONS = 50;

/** How much of the start of a file detection may look at. */
const DETECT_MAX_LINES = 200;
const DETECT_MAX_CHARS = 64 * 1024;

// Keys only one of the JSON formats has (Calico's `dest_port` is Hubble's `destination_port`).
const CALICO_KEYS =
  /"(source_name_aggr|dest_name_aggr|dest_port|destPort|dest_type|destType|source_type|sourceType|num_flows|reporter|dest_namespace|destNamespace|source_namespace|sourceNamespace)"\s*:/;
const HUBBLE_KEYS =
  /"(verdict|traffic_direction|is_reply|l4|IP|event_type|Summary|node_status|lost_events|debug_event|agent_event)"\s*:/;
const CSV_VERDICT_COLUMN = /(^|,)\s*"?verdict"?\s*(,|$)/i;

/**
 * The format of a flow file from its first lines (and, for CSV, its name): a CSV header with a `verdict`
 * column, JSON with Calico's keys, JSON with Hubble's, or a `.csv` name. Undefined when it is none of them.
 * A first line cut in half (a log read from the middle) does not hide the JSON lines after it.
 */
export function detectFlowFormat(firstLines: string, path: string): FlowFormat | undefined {
  const head = firstLines.replace(/^\uFEFF/, '').trimStart();
  const firstLine = head.slice(0, head.search(/\r?\n|$/));
  if (!/^[{[]/.test(firstLine) && CSV_VERDICT_COLUMN.test(firstLine)) return 'csv';
  if (/^\s*[{[]/m.test(head)) {
    if (CALICO_KEYS.test(head)) return 'calico';
    if (HUBBLE_KEYS.test(head)) return 'hubble';
  }
  if (/\.csv$/i.test(path)) return 'csv';
  return undefined;
}

/**
 * Streams a flow file line by line (never the whole file in memory), calls onFlow per record, returns stats.
 * `-` reads standard input. Broken records are counted in `malformed` and valid records phiwall does not
 * compare in `ignored`; neither stops the reading. Throws InputError when the file cannot be read, its
 * format cannot be told, or (CSV) its header cannot make flows.
 */
export async function readFlowFile(
  path: string,
  onFlow: (flow: ObservedFlow) => void,
  options: ReadFlowOptions = {},
): Promise<FlowReadStats> {
  const fromStdin = path === '-';
  const file = fromStdin ? STDIN_NAME : path;
  let totalBytes = 0;
  let stream: NodeJS.ReadableStream;
  let ownStream: { destroy(): void } | undefined;
  if (fromStdin) {
    stream = options.stdin ?? process.stdin;
  } else {
    const info = await stat(path).catch((error: unknown) => {
      throw unreadable(file, error);
    });
    if (info.isDirectory()) throw fileError(file, 'cannot read the flow file: it is a directory');
    totalBytes = info.size;
    const fileStream = createReadStream(path, { highWaterMark: 256 * 1024 });
    stream = fileStream;
    ownStream = fileStream;
  }

  const reader = new FlowReader(file, onFlow, options.format);
  const progress = options.progress;
  let readBytes = 0;
  let lastProgress = performance.now();
  const decoder = new StringDecoder('utf8');
  // The start of the current line, in pieces: joined once its end arrives, so that a long line costs its
  // length once, not once per chunk.
  let rest: string[] = [];
  let restChars = 0;
  let lineNo = 0;
  let skippingLongLine = false;
  let atStart = true;
  const endLine = (text: string) => {
    lineNo++;
    if (skippingLongLine) {
      skippingLongLine = false;
      reader.longLine(lineNo);
    } else {
      reader.line(text.endsWith('\r') ? text.slice(0, -1) : text, lineNo);
    }
  };
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      let text = decoder.write(bytes);
      if (atStart && text !== '') {
        atStart = false;
        text = text.replace(/^\uFEFF/, '');
      }
      readBytes += bytes.length;
      let start = 0;
      let nl = text.indexOf('\n');
      if (nl >= 0 && rest.length > 0) {
        rest.push(text.slice(0, nl));
        endLine(skippingLongLine ? '' : rest.join(''));
        rest = [];
        restChars = 0;
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      for (; nl >= 0; nl = text.indexOf('\n', start)) {
        endLine(text.slice(start, nl));
        start = nl + 1;
      }
      if (start < text.length && !skippingLongLine) {
        rest.push(text.slice(start));
        restChars += text.length - start;
        if (restChars > MAX_LINE_CHARS) {
          skippingLongLine = true;
          rest = [''];
          restChars = 0;
        }
      }
      if (progress !== undefined && performance.now() - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = performance.now();
        progress(readBytes, totalBytes);
      }
    }
  } catch (error) {
    if (error instanceof InputError || !isSystemError(error)) throw error;
    throw unreadable(file, error);
  } finally {
    ownStream?.destroy();
  }
  const last = rest.join('') + decoder.end();
  if (skippingLongLine || last !== '') endLine(last);
  const stats = reader.end(lineNo);
  progress?.(readBytes, totalBytes);
  return stats;
}

/** Turns lines into records of the format, records into flows, and keeps the count. */
class FlowReader {
  private readonly stats: FlowReadStats;
  private processor: LineProcessor | undefined;
  /** Lines held while the format is not known yet. */
  private held: { text: string; line: number }[] = [];
  private readonly hubble = new HubbleConnections((result, line) => this.count(result, line));
  private readonly calico = new CalicoReporters((result, line) => this.count(result, line));
  private heldChars = 0;
  private sawContent = false;

  constructor(
    private readonly file: string,
    private readonly onFlow: (flow: ObservedFlow) => void,
    format: FlowFormat | undefined,
  ) {
    this.stats = {
      file,
      format: format ?? 'hubble',
      lines: 0,
      flows: 0,
      connections: 0,
      events: 0,
      counting: COUNTING.hubble,
      malformed: { count: 0 },
      ignored: {},
    };
    if (format !== undefined) this.processor = this.processorFor(format);
  }

  line(text: string, line: number): void {
    this.stats.lines = line;
    if (this.processor !== undefined) {
      this.processor.line(text, line);
      return;
    }
    this.held.push({ text, line });
    this.heldChars += text.length;
    if (text.trim() !== '') this.sawContent = true;
    if (this.sawContent && this.canDetect()) this.detect();
  }

  longLine(line: number): void {
    this.stats.lines = line;
    this.report({ kind: 'malformed', problem: `line longer than ${MAX_LINE_CHARS >> 20} MiB` }, line);
  }

  end(lines: number): FlowReadStats {
    this.stats.lines = lines;
    if (this.processor === undefined) {
      if (!this.sawContent) {
        throw fileError(this.file, `no flow records: the file is empty (it should hold ${SUPPORTED})`);
      }
      this.detect();
    }
    this.processor?.end(lines);
    this.hubble.end();
    this.calico.end();
    return this.stats;
  }

  /** Most files are told by their first line; a JSON array, or a log whose first line is cut, by a few more. */
  private canDetect(): boolean {
    if (this.held.length >= DETECT_MAX_LINES || this.heldChars >= DETECT_MAX_CHARS) return true;
    return detectFlowFormat(this.held.map((held) => held.text).join('\n'), this.file) !== undefined;
  }

  private detect(): void {
    const head = this.held.map((held) => held.text).join('\n');
    const format = detectFlowFormat(head, this.file);
    if (format === undefined) {
      throw fileError(this.file, `cannot tell the format of the flow file: expected ${SUPPORTED}`);
    }
    this.stats.format = format;
    this.stats.counting = COUNTING[format];
    this.processor = this.processorFor(format);
    const held = this.held;
    this.held = [];
    for (const { text, line } of held) this.processor.line(text, line);
  }

  private processorFor(format: FlowFormat): LineProcessor {
    this.stats.counting = COUNTING[format];
    const report = (result: RecordResult, line: number) => this.report(result, line);
    if (format === 'csv') return new CsvProcessor(this.file, report);
    return new JsonProcessor(this.file, format === 'hubble' ? mapHubbleRecord : mapCalicoRecord, report);
  }

  /** A record's result: the reports of one connection go to their format's merger first. */
  private report(result: RecordResult, line: number): void {
    if (result.kind === 'ignored' && result.answer) this.hubble.learn(result.answer);
    if (result.kind === 'flow' && result.part !== undefined) {
      if (result.part.format === 'hubble') this.hubble.add(result.flow, result.part);
      else this.calico.add(result.flow, result.part);
      return;
    }
    this.count(result, line);
  }

  private count(result: RecordResult, line: number): void {
    switch (result.kind) {
      case 'flow':
        this.stats.flows++;
        this.stats.connections += result.flow.count;
        this.stats.events += result.flow.events;
        this.onFlow(result.flow);
        return;
      case 'ignored': {
        const ignored = this.stats.ignored;
        // Reasons can carry text from the log (a protocol's name); a broken log must not grow them forever.
        const reason =
          Object.hasOwn(ignored, result.reason) || Object.keys(ignored).length < MAX_IGNORED_REASONS
            ? result.reason
            : 'other';
        ignored[reason] = (ignored[reason] ?? 0) + (result.records ?? 1);
        return;
      }
      case 'malformed': {
        const malformed = this.stats.malformed;
        if (malformed.count === 0) {
          malformed.firstLine = line;
          malformed.firstProblem = result.problem;
        }
        malformed.count++;
      }
    }
  }
}

interface LineProcessor {
  line(text: string, line: number): void;
  end(lines: number): void;
}

type Report = (result: RecordResult, line: number) => void;

/** One JSON record per line, or the elements of a JSON array. */
class JsonProcessor implements LineProcessor {
  private array: JsonArraySplitter | undefined;
  private started = false;

  constructor(
    private readonly file: string,
    private readonly map: (value: unknown, at: RecordPlace) => RecordResult,
    private readonly report: Report,
  ) {}

  line(text: string, line: number): void {
    if (this.array !== undefined) {
      for (const item of this.array.feed(text, line)) this.item(item);
      return;
    }
    const trimmed = text.trim();
    if (trimmed === '') return;
    if (!this.started) {
      this.started = true;
      if (trimmed.startsWith('[')) {
        this.array = new JsonArraySplitter();
        this.line(text, line);
        return;
      }
    }
    this.record(trimmed, line);
  }

  end(lines: number): void {
    for (const item of this.array?.end(lines) ?? []) this.item(item);
  }

  private item(item: { text: string; line: number } | { problem: string; line: number }): void {
    if ('problem' in item) this.report({ kind: 'malformed', problem: item.problem }, item.line);
    else this.record(item.text, item.line);
  }

  private record(text: string, line: number): void {
    if (text.length > MAX_RECORD_CHARS) {
      this.report({ kind: 'malformed', problem: `record larger than ${MAX_RECORD_CHARS >> 20} MiB` }, line);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      this.report({ kind: 'malformed', problem: `not valid JSON (${jsonProblem(error)})` }, line);
      return;
    }
    const at = { file: this.file, line };
    this.report(
      guarded(() => this.map(value, at)),
      line,
    );
  }
}

/** The header row, then one flow per row. */
class CsvProcessor implements LineProcessor {
  private readonly rows = new CsvRowSplitter();
  private header: CsvHeader | undefined;

  constructor(
    private readonly file: string,
    private readonly report: Report,
  ) {}

  line(text: string, line: number): void {
    if (!this.rows.inQuotedField && text.trim() === '') return;
    const row = this.rows.feed(text, line);
    if (row !== undefined) this.row(row);
  }

  end(): void {
    const row = this.rows.end();
    if (row !== undefined) this.row(row);
  }

  private row(row: { fields: string[]; line: number } | { problem: string; line: number }): void {
    if ('problem' in row) {
      if (this.header === undefined) throw fileError(this.file, `flow CSV header: ${row.problem}`, row.line);
      this.report({ kind: 'malformed', problem: row.problem }, row.line);
      return;
    }
    if (this.header === undefined) {
      this.header = new CsvHeader(row.fields, this.file, row.line);
      return;
    }
    const header = this.header;
    const at = { file: this.file, line: row.line };
    this.report(
      guarded(() => header.map(row.fields, at)),
      row.line,
    );
  }
}

/** JSON.parse's message, without the echo of the text that newer engines add. */
function jsonProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const short = message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
  return short.length > 80 ? `${short.slice(0, 77)}...` : short;
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

function fileError(file: string, message: string, line?: number): InputError {
  return new InputError([{ severity: 'error', file, ...(line !== undefined ? { line } : {}), message }]);
}

function unreadable(file: string, error: unknown): InputError {
  const code = isSystemError(error) ? error.code : undefined;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : error instanceof Error
            ? error.message
            : String(error);
  return fileError(file, `cannot read the flow file: ${why}`);
}
