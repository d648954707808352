// The floor every step is compared with: a bare Node process that only reads and parses the cluster file,
// which no analysis of it can avoid. Plain JavaScript, so nothing but Node itself is loaded.
import { readFileSync, writeFileSync } from 'node:fs';

const start = performance.now();
const list = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const ms = performance.now() - start;
const out = process.env.PHIWALL_BENCH_OUT;
if (out) {
  const phases = [{ name: 'read+parse', ms, maxRSS: process.resourceUsage().maxRSS }];
  const info = { items: Array.isArray(list.items) ? list.items.length : 0 };
  writeFileSync(out, JSON.stringify({ phases, info, maxRSS: process.resourceUsage().maxRSS }));
}
