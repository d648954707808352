// Bundles the CLI into one ESM file so `bin/phiwall` starts without a TypeScript loader, then builds the
// UI of `phiwall serve` (web/) with Vite into dist/web.
import { build } from 'esbuild';

await build({
  // The analysis worker of `serve` is a file of its own: a worker thread starts from a file.
  entryPoints: {
    cli: 'src/cli/bin.ts',
    index: 'src/index.ts',
    'analysis-worker': 'src/server/analysis-worker.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // `serve` loads its server with import(): split, so other commands never load Hono at start-up.
  splitting: true,
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

let vite;
try {
  vite = await import('vite');
} catch (error) {
  // Vite is a devDependency: without it (a production install), the UI is not rebuilt.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  console.warn('vite is not installed: dist/web (the UI of phiwall serve) was not rebuilt');
}
if (vite) await vite.build({ configFile: 'web/vite.config.ts', logLevel: 'warn' });
