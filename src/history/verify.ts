import type { Verifier } from './signing.ts';
import {
  type Checkpoint,
  changesDigest,
  type EntryRow,
  entryHash,
  GENESIS,
  rowChange,
  type StateRow,
} from './store.ts';

/** What verify reads: a store, or a bundle. */
export interface ChainReader {
  entriesAfter(afterSeq: number, limit: number): Promise<EntryRow[]>;
  stateRows(from: number, to: number): Promise<StateRow[]>;
  seqOfHash(hash: string): Promise<number | undefined>;
  checkpoint(): Promise<Checkpoint | undefined>;
}

export type ProblemKind = 'changed' | 'removed' | 'reordered' | 'inserted' | 'signature' | 'unsigned';

export interface VerifyProblem {
  kind: ProblemKind;
  /** The first entry found wrong (for `removed`: the first one missing). */
  seq: number;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  first?: number;
  last?: number;
  signed: number;
  /** What the first entry was found chained to. */
  anchor: string;
  problem?: VerifyProblem;
}

const PAGE = 2000;

/**
 * Walks the chain in order and stops at the first entry that was changed, removed, reordered or
 * inserted, or whose signature does not verify. `trustStart`: the chain may start anywhere (a bundle);
 * its first entry's link to the entry before it is taken as given and reported.
 */
export async function verifyChain(
  reader: ChainReader,
  options: { verifier?: Verifier; trustStart?: boolean } = {},
): Promise<VerifyResult> {
  const checkpoint = options.trustStart ? undefined : await reader.checkpoint();
  const result: VerifyResult = { ok: true, entries: 0, signed: 0, anchor: 'the start of the chain' };
  const fail = (problem: VerifyProblem): VerifyResult => ({ ...result, ok: false, problem });
  let previous: EntryRow | undefined;
  let beforePrevious: EntryRow | undefined;
  let page = await reader.entriesAfter(0, PAGE);
  const first = page[0];
  if (!first) return result;
  let expectedPrev = GENESIS;
  let expectedSeq = 1;
  if (options.trustStart) {
    expectedPrev = first.prev_hash;
    expectedSeq = first.seq;
    result.anchor =
      first.prev_hash === GENESIS ? 'the start of the chain' : `an entry with hash ${first.prev_hash}`;
  } else if (checkpoint && first.seq > 1) {
    expectedPrev = checkpoint.lastHash;
    expectedSeq = checkpoint.through + 1;
    result.anchor = `the checkpoint of entries up to #${checkpoint.through} (pruned, ${checkpoint.from} to ${checkpoint.to})`;
    const carried = await reader.stateRows(0, checkpoint.through);
    if (changesDigest(carried.map(rowChange)) !== checkpoint.carried.digest) {
      return fail({
        kind: 'changed',
        seq: checkpoint.through,
        message: `the state kept from the pruned entries (up to #${checkpoint.through}) differs from what the checkpoint recorded`,
      });
    }
  }
  while (page.length > 0) {
    const rows = await reader.stateRows((page[0] as EntryRow).seq, (page[page.length - 1] as EntryRow).seq);
    const rowsBySeq = new Map<number, StateRow[]>();
    for (const row of rows) {
      const list = rowsBySeq.get(row.seq);
      if (list) list.push(row);
      else rowsBySeq.set(row.seq, [row]);
    }
    for (const entry of page) {
      const problem = await checkEntry(
        entry,
        { previous, beforePrevious, expectedPrev, expectedSeq },
        reader,
      );
      if (problem) return fail(problem);
      const mine = rowsBySeq.get(entry.seq) ?? [];
      rowsBySeq.delete(entry.seq);
      const recorded = (JSON.parse(entry.content) as { delta?: { digest: string } }).delta?.digest;
      let digest: string | undefined;
      try {
        digest = changesDigest(mine.map(rowChange));
      } catch {
        digest = undefined;
      }
      if (digest !== recorded) {
        return fail({
          kind: 'changed',
          seq: entry.seq,
          message: `entry #${entry.seq} was changed: its stored state rows differ from those it recorded`,
        });
      }
      if (options.verifier) {
        if (!entry.signature) {
          return fail({ kind: 'unsigned', seq: entry.seq, message: `entry #${entry.seq} is not signed` });
        }
        if (!options.verifier.verify(entry.hash, entry.signature)) {
          return fail({
            kind: 'signature',
            seq: entry.seq,
            message: `entry #${entry.seq}: the signature does not verify with the public key (${options.verifier.keyId}; the entry names ${entry.key_id ?? 'no key'})`,
          });
        }
      }
      if (entry.signature) result.signed++;
      result.entries++;
      result.first ??= entry.seq;
      result.last = entry.seq;
      beforePrevious = previous;
      previous = entry;
      expectedPrev = entry.hash;
      expectedSeq = entry.seq + 1;
    }
    const [orphan] = [...rowsBySeq.keys()].sort((a, b) => a - b);
    if (orphan !== undefined) {
      return fail({
        kind: 'removed',
        seq: orphan,
        message: `entry #${orphan} was removed: its state rows are still stored`,
      });
    }
    page = await reader.entriesAfter((previous as EntryRow).seq, PAGE);
  }
  return result;
}

async function checkEntry(
  entry: EntryRow,
  at: { previous?: EntryRow; beforePrevious?: EntryRow; expectedPrev: string; expectedSeq: number },
  reader: ChainReader,
): Promise<VerifyProblem | undefined> {
  const { seq } = entry;
  let content: { seq?: number };
  try {
    content = JSON.parse(entry.content);
  } catch {
    content = {};
  }
  if (entryHash(entry.prev_hash, entry.content) !== entry.hash || content.seq === undefined) {
    return {
      kind: 'changed',
      seq,
      message: `entry #${seq} was changed: its hash does not match its content`,
    };
  }
  if (entry.prev_hash !== at.expectedPrev) {
    if (at.previous && at.beforePrevious && entry.prev_hash === at.beforePrevious.hash) {
      return {
        kind: 'inserted',
        seq: at.previous.seq,
        message: `entry #${at.previous.seq} was inserted: #${seq} after it was chained to #${at.beforePrevious.seq}`,
      };
    }
    const owner = await reader.seqOfHash(entry.prev_hash);
    if (owner !== undefined && owner > seq) {
      return {
        kind: 'reordered',
        seq,
        message: `entries were reordered: #${seq} holds the entry recorded as #${content.seq}, which follows #${owner}`,
      };
    }
    const missing = seq > at.expectedSeq ? at.expectedSeq : seq - 1;
    return {
      kind: 'removed',
      seq: missing,
      message:
        seq > at.expectedSeq + 1
          ? `entries #${at.expectedSeq} to #${seq - 1} were removed`
          : `entry #${missing} was removed: #${seq} is chained to an entry that is not stored`,
    };
  }
  if (seq !== at.expectedSeq) {
    return {
      kind: 'removed',
      seq: at.expectedSeq,
      message: `entry #${at.expectedSeq} was removed (the chain was rebuilt around the gap)`,
    };
  }
  if (content.seq !== seq) {
    return {
      kind: 'reordered',
      seq,
      message: `entries were reordered: #${seq} holds the entry recorded as #${content.seq}`,
    };
  }
  return undefined;
}
