/** Shared set-up of the server's tests: the clinic example as a served state, and an SSE reader. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAuditConfig } from '../compliance/config.ts';
import { DEFAULT_OPTIONS } from '../engine/endpoint.ts';
import { loadSnapshot } from '../load/snapshot.ts';
import { type AppOptions, createApp } from './app.ts';
import { ServeState } from './state.ts';

export const EXAMPLE = fileURLToPath(new URL('../../examples/hipaa-clinic/', import.meta.url));
export const CONFIG_FILE = `${EXAMPLE}phiwall.yaml`;
export const ORIGIN = 'http://127.0.0.1:8750';

/** The Content-Security-Policy docs/serve-api.md promises, written out rather than imported from the server. */
const EXPECTED_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The response carries the documented CSP, and no directive of it allows anything `unsafe-*`. */
export function assertStrictCsp(response: Response, what = 'the response'): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.equal(csp, EXPECTED_CSP, what);
  const unsafe = csp.split(';').filter((directive) => /unsafe-|\*/.test(directive));
  assert.deepEqual(unsafe, [], `${what}: no directive may allow unsafe-* sources or wildcards`);
}

export async function clinicState(version: 'insecure' | 'secure', flows?: string[]): Promise<ServeState> {
  return ServeState.create(loadSnapshot([`${EXAMPLE}${version}`]), {
    config: loadAuditConfig(CONFIG_FILE).config,
    engineOptions: DEFAULT_OPTIONS,
    source: { kind: 'files', label: `examples/hipaa-clinic/${version}` },
    flowFiles: flows,
  });
}

/** The app over a state, and `request(path, init)` that sends what a browser on 127.0.0.1:8750 sends. */
export function clinicApp(state: ServeState, options: Partial<AppOptions> = {}) {
  const app = createApp(state, { host: '127.0.0.1', port: 8750, webRoot: '/nonexistent', ...options });
  const request = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('host')) headers.set('host', '127.0.0.1:8750');
    return app.request(`${ORIGIN}${path}`, { ...init, headers });
  };
  return { app, request };
}

/** A copy of one version of the example in a temporary folder, for tests that edit it. */
export function exampleCopy(version: 'insecure' | 'secure'): string {
  const dir = mkdtempSync(join(tmpdir(), 'phiwall-serve-'));
  cpSync(`${EXAMPLE}${version}`, dir, { recursive: true });
  return dir;
}

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Reads server-sent events from a response body, one `next()` at a time. */
export class SseReader {
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  /** Comment lines seen (`: keep-alive`). */
  comments: string[] = [];

  constructor(response: Response) {
    if (!response.body) throw new Error('no body');
    this.reader = response.body.getReader();
  }

  /** The next event, or a rejection after `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '' };
        const data: string[] = [];
        let comment = true;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim());
            continue;
          }
          comment = false;
          const [field, ...rest] = line.split(':');
          const value = rest.join(':').replace(/^ /, '');
          if (field === 'event') event.event = value;
          else if (field === 'data') data.push(value);
          else if (field === 'id') event.id = value;
        }
        if (comment) continue;
        event.data = data.join('\n');
        return event;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), left);
        }),
      ]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error('the event stream ended');
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

/** Issue 13's example: of a Deployment's two pods, one is relabelled quarantine=true and isolated for egress. */
export const QUARANTINE = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: web}
spec: {template: {metadata: {labels: {app: api}}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: api-5c6b9d
  namespace: web
  ownerReferences: [{kind: Deployment, name: api, controller: true}]
spec: {template: {metadata: {labels: {app: api, pod-template-hash: 5c6b9d}}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-5c6b9d-ok
  namespace: web
  labels: {app: api, pod-template-hash: 5c6b9d}
  ownerReferences: [{kind: ReplicaSet, name: api-5c6b9d, controller: true}]
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-5c6b9d-q
  namespace: web
  labels: {app: api, pod-template-hash: 5c6b9d, quarantine: "true"}
  ownerReferences: [{kind: ReplicaSet, name: api-5c6b9d, controller: true}]
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: web, labels: {app: client}}
status: {podIP: 10.0.0.9}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: quarantine, namespace: web}
spec:
  podSelector: {matchLabels: {quarantine: "true"}}
  policyTypes: [Egress]
`;
