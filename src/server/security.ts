/** The security model of `phiwall serve` (docs/serve-api.md, "Security"). */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export const DEFAULT_PORT = 8750;
export const DEFAULT_HOST = '127.0.0.1';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers every response carries, errors and static files included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Whether binding to `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
  return false;
}

/** `Host` header values a loopback bind accepts: anything else may be a DNS-rebinding page. */
export function allowedHostHeaders(port: number): Set<string> {
  const names = ['127.0.0.1', 'localhost', '[::1]'];
  const hosts = new Set(names.map((name) => `${name}:${port}`));
  // Browsers leave the default port out of the Host header.
  if (port === 80) for (const name of names) hosts.add(name);
  return hosts;
}

/** A token for a non-loopback bind started without one: 128 bits, URL-safe. */
export function generateToken(): string {
  return randomBytes(16).toString('base64url');
}

/** Compares in constant time, whatever the lengths (hashing first makes them equal). */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The cookie that carries the token for requests the page cannot add it to (its scripts and styles):
 * set when a request brings the token in `?token=`. Cookies ignore ports, so the port is in its name.
 */
export function tokenCookieName(port: number): string {
  return `phiwall-token-${port}`;
}
