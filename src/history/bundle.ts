import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { InputError } from '../load/diagnostics.ts';
import { VERSION } from '../version.ts';
import { StoreError } from './db.ts';
import type { EntryRow, HistoryStore, StateRow } from './store.ts';
import type { ChainReader } from './verify.ts';

const BUNDLE = 'phiwall-history-bundle';
const PAGE = 2000;

/** `--from/--to`: an entry number, or an ISO date (the first entry at or after it / the last at or before it). */
async function resolveBound(
  store: HistoryStore,
  text: string | undefined,
  edge: 'from' | 'to',
): Promise<number> {
  if (text === undefined) {
    const rows = await store.db.all<{ seq: number | null }>(
      `SELECT ${edge === 'from' ? 'min' : 'max'}(seq) AS seq FROM entries`,
    );
    return Number(rows[0]?.seq ?? 0);
  }
  if (/^#?\d+$/.test(text)) return Number(text.replace('#', ''));
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new StoreError(`--${edge}: expected an entry number or an ISO date, got "${text}"`);
  const rows = await store.db.all<{ seq: number | null }>(
    edge === 'from'
      ? 'SELECT min(seq) AS seq FROM entries WHERE at >= ?'
      : 'SELECT max(seq) AS seq FROM entries WHERE at <= ?',
    [date.toISOString()],
  );
  return Number(rows[0]?.seq ?? 0);
}

/**
 * Entries `from`..`to` with their state rows, one JSON object a line: what `history verify --bundle`
 * checks offline. The first entry's link to the one before it is recorded, not proven, by a bundle.
 */
export async function exportBundle(
  store: HistoryStore,
  file: string,
  range: { from?: string; to?: string },
): Promise<{ first: number; last: number; entries: number }> {
  const first = await resolveBound(store, range.from, 'from');
  const last = await resolveBound(store, range.to, 'to');
  if (!first || !last || first > last) throw new StoreError('the history holds no entries in that range');
  const fd = openSync(file, 'w', 0o600);
  let entries = 0;
  try {
    writeSync(
      fd,
      `${JSON.stringify({ bundle: BUNDLE, version: 1, phiwall: VERSION, exportedAt: new Date().toISOString(), first, last })}\n`,
    );
    let after = first - 1;
    while (after < last) {
      const page = (await store.entriesAfter(after, PAGE)).filter((e) => e.seq <= last);
      if (page.length === 0) break;
      for (const entry of page) writeSync(fd, `${JSON.stringify({ entry })}\n`);
      const to = (page[page.length - 1] as EntryRow).seq;
      for (const row of await store.stateRows(after + 1, to)) {
        writeSync(
          fd,
          `${JSON.stringify({ state: { ...row, value: row.value === null ? null : Buffer.from(row.value).toString('base64') } })}\n`,
        );
      }
      entries += page.length;
      after = to;
    }
  } finally {
    closeSync(fd);
  }
  return { first, last, entries };
}

/** A bundle read back, as verify reads a store. */
export function readBundle(file: string): ChainReader {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InputError([{ severity: 'error', file, message: 'cannot read the bundle' }]);
  }
  const entries: EntryRow[] = [];
  const states: StateRow[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let record: { bundle?: string; entry?: EntryRow; state?: StateRow & { value: string | null } };
    try {
      record = JSON.parse(line);
    } catch {
      throw new InputError([{ severity: 'error', file, line: i + 1, message: 'not a JSON line' }]);
    }
    if (i === 0 && record.bundle !== BUNDLE) {
      throw new InputError([
        {
          severity: 'error',
          file,
          line: 1,
          message: `not a phiwall history bundle (no "bundle": "${BUNDLE}")`,
        },
      ]);
    }
    if (record.entry) entries.push(record.entry);
    if (record.state) {
      const { value } = record.state;
      states.push({ ...record.state, value: value === null ? null : Buffer.from(value, 'base64') });
    }
  });
  // A bundle lists entries in order; one edited out of order is verify's to find, so keep the file's order.
  return {
    async entriesAfter(afterSeq, limit) {
      const start = afterSeq === 0 ? 0 : entries.findIndex((e) => e.seq === afterSeq) + 1;
      return entries.slice(start, start + limit);
    },
    async stateRows(from, to) {
      return states.filter((s) => s.seq >= from && s.seq <= to);
    },
    async seqOfHash(hash) {
      return entries.find((e) => e.hash === hash)?.seq;
    },
    async checkpoint() {
      return undefined;
    },
  };
}
