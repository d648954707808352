// Bundles the CLI into one ESM file so `bin/phiwall` starts without a TypeScript loader.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'src/cli/bin.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
