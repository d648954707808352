/** phiwall's history: a hash-chained, optionally signed record of connectivity and findings over time. */
export { type Capture, captureOf, captureSnapshot, type RecordedInput, type SourceInfo } from './capture.ts';
export { DEFAULT_DB_FILE, parseStoreLocation, StoreError, type StoreLocation } from './db.ts';
export { migrate, SCHEMA_VERSION } from './migrations.ts';
export { historyLog, type LogItem, parsePort, type ReachInterval, reachableSince } from './questions.ts';
export { type EntryChanges, type RecordResult, recordCapture } from './record.ts';
export { entrySources, type ReplayedEntry, replayEntry } from './replay.ts';
export { DEFAULT_RETENTION, prune, retentionCutoff } from './retention.ts';
export { loadSigner, loadVerifier, type Signer, type Verifier } from './signing.ts';
export { fileSource, liveSource } from './source-info.ts';
export { type EntryRow, HistoryStore } from './store.ts';
export { type VerifyResult, verifyChain } from './verify.ts';
