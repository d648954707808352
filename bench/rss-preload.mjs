// Loaded with `node --import` in front of ./bin/phiwall, so the CLI's peak memory can be measured without
// changing the CLI: at exit the process reports its own maximum resident set size (in KiB).
import { writeFileSync } from 'node:fs';

const out = process.env.PHIWALL_BENCH_OUT;
if (out) {
  process.on('exit', () => {
    writeFileSync(out, JSON.stringify({ phases: [], info: {}, maxRSS: process.resourceUsage().maxRSS }));
  });
}
