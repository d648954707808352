// Both commands start here. The CLI is bundled into dist/ by the build (`npm ci` runs it): before that,
// say so rather than print a module-not-found stack.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('phiwall: it is not built yet (dist/cli.js is missing): run npm ci first\n');
  process.exit(2);
}
await import(cli.href);
