/**
 * Test support, run as a child process: records `count` entries into a store, each different from the
 * last, and says `writing N` before each, so a test can kill it inside a write or run two at once.
 * Usage: node --import tsx history-recorder.ts DB CLUSTER COUNT PADDING
 */

import { parseStoreLocation } from '../history/db.ts';
import { recordCapture } from '../history/record.ts';
import { HistoryStore } from '../history/store.ts';
import { syntheticCapture } from './history-stores.ts';

const [db, cluster, count, padding] = process.argv.slice(2) as [string, string, string, string];
const store = await HistoryStore.open(parseStoreLocation(db));
for (let i = 0; i < Number(count); i++) {
  const capture = syntheticCapture({
    cluster,
    open: [`web>db:${1000 + i}`],
    objects: [`policy-${i}`],
    padding: Number(padding),
  });
  // Every padding object changes each time, so each entry writes that many state rows.
  for (const [key, value] of capture.states.object)
    capture.states.object.set(key, `${value.slice(0, -1)},"i":${i}}`);
  process.stdout.write(`writing ${i}\n`);
  await recordCapture(store, capture);
}
await store.close();
process.stdout.write('done\n');
