/** The built UI's files (dist/web), served read-only: no listing, nothing outside the folder. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export const NOT_BUILT_TEXT =
  'phiwall serve: the web UI is not built. Run `npm run build` in the phiwall folder, then reload this page.\nThe API answers under /api/ (see docs/serve-api.md).\n';

/**
 * The package's root: the nearest folder above `from` whose package.json names phiwall. The CLI bundle
 * (dist/cli.js) and the sources run by tsx (src/server/*.ts) both find it.
 */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if (JSON.parse(readFileSync(manifest, 'utf8')).name === 'phiwall') return dir;
      } catch {
        // Not ours, or unreadable: keep walking up.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** `dist/web` of the package this module belongs to. */
export function defaultWebRoot(): string {
  const root = packageRoot();
  return root ? join(root, 'dist', 'web') : resolve('dist', 'web');
}

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Whether the UI has been built into `webRoot`. */
export function hasIndex(webRoot: string): boolean {
  try {
    return statSync(join(webRoot, 'index.html')).isFile();
  } catch {
    return false;
  }
}

/**
 * The file `pathname` names under `webRoot`, or undefined: for a path outside it (`..`, encoded or
 * not), a folder, a dotfile, or nothing at all. `/` is `index.html`.
 */
export function staticFile(webRoot: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const relative = decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, '');
  if (relative.split('/').some((part) => part === '..' || part.startsWith('.'))) return undefined;
  const root = resolve(webRoot);
  const file = resolve(root, relative);
  if (!file.startsWith(root + sep)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a static file into a response, or undefined when there is no such file. */
export async function staticResponse(webRoot: string, pathname: string): Promise<Response | undefined> {
  const file = staticFile(webRoot, pathname);
  if (!file) return undefined;
  const hashed = relative(resolve(webRoot), file).startsWith(`assets${sep}`);
  const body = await readFile(file);
  return new Response(body, {
    headers: {
      'Content-Type': contentTypeOf(file),
      // Vite names assets by content hash; the page itself must be fetched again to find new ones.
      'Cache-Control': hashed ? 'private, max-age=31536000, immutable' : 'no-cache',
    },
  });
}
