/** The HTTP app of `phiwall serve`: the API of docs/serve-api.md and the built UI, behind its security model. */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { InputError } from '../load/diagnostics.ts';
import { BadRequest } from './details.ts';
import {
  allowedHostHeaders,
  isLoopbackHost,
  SECURITY_HEADERS,
  tokenCookieName,
  tokensEqual,
} from './security.ts';
import { errorLines, type ServeEvent, type ServeState } from './state.ts';
import { hasIndex, NOT_BUILT_TEXT, staticResponse } from './static.ts';
import { parseWhatIfRequest } from './what-if.ts';

export interface AppOptions {
  /** Every request must carry it (Bearer header, `?token=`, or the cookie set from `?token=`). */
  token?: string;
  /** The address the server binds: a loopback one turns on the Host-header check. */
  host: string;
  /** The port the server listens on; read at every request, so it may be set once listening (port 0). */
  port: number;
  /** The built UI (dist/web). */
  webRoot: string;
  /** Milliseconds between keep-alive comments on `/api/events` (default 15 s). */
  keepAliveMs?: number;
  /** Served over HTTPS: the token cookie is then `Secure`. */
  secureCookie?: boolean;
}

const MAX_BODY = 5 * 1024 * 1024;

function bearerOf(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1];
}

export function createApp(state: ServeState, options: AppOptions) {
  const app = new Hono();

  // Outermost, so that every answer carries them: errors, 401s, 403s, 404s and static files too.
  app.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });

  // DNS rebinding: a page on evil.example that resolves to 127.0.0.1 sends its own name as Host.
  app.use('*', async (c, next) => {
    if (isLoopbackHost(options.host)) {
      const host = (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase();
      if (!allowedHostHeaders(options.port).has(host))
        return c.text(
          `403: this server only answers requests for 127.0.0.1:${options.port} or localhost:${options.port}\n`,
          403,
        );
    }
    await next();
  });

  app.use('*', async (c, next) => {
    const expected = options.token;
    if (expected === undefined) return next();
    const cookieName = tokenCookieName(options.port);
    const query = c.req.query('token');
    const candidates = [bearerOf(c.req.header('authorization')), query, getCookie(c, cookieName)];
    // Every candidate is compared, so the time taken does not tell which one was tried.
    const ok = candidates.map((t) => t !== undefined && tokensEqual(t, expected)).some(Boolean);
    if (!ok) {
      c.header('WWW-Authenticate', 'Bearer realm="phiwall"');
      return c.text(
        '401: this server needs its token: open the URL phiwall serve printed, with its ?token=\n',
        401,
      );
    }
    await next();
    // The page's scripts and styles are loaded without the query: the cookie carries the token for them.
    if (query !== undefined && tokensEqual(query, expected))
      c.res.headers.append(
        'Set-Cookie',
        `${cookieName}=${encodeURIComponent(expected)}; Path=/; HttpOnly; SameSite=Strict${options.secureCookie ? '; Secure' : ''}`,
      );
  });

  app.onError((error, c) => {
    if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
    return c.json(
      { error: `internal error: ${error instanceof Error ? error.message : String(error)}` },
      500,
    );
  });

  // Large answers come as JSON text, serialized where they were computed (a worker), not per request.
  const json = (text: string) => new Response(text, { headers: { 'content-type': 'application/json' } });

  app.get('/api/graph', () => json(state.graphJson()));

  app.get('/api/workloads/*', async (c) => {
    const raw = new URL(c.req.url).pathname.slice('/api/workloads/'.length);
    let id: string;
    try {
      id = decodeURIComponent(raw);
    } catch {
      return c.json({ error: 'the workload id is not URL-encoded correctly' }, 400);
    }
    const details = await state.workload(id);
    return details ? c.json(details) : c.json({ error: `unknown workload "${id}"` }, 404);
  });

  app.get('/api/explain', async (c) =>
    c.json(
      await state.explain({
        from: c.req.query('from'),
        to: c.req.query('to'),
        port: c.req.query('port'),
        protocol: c.req.query('protocol'),
      }),
    ),
  );

  app.get('/api/findings', () => json(state.findingsJson()));

  app.get('/api/flows', (c) => {
    const flows = state.flowsJson();
    if (!flows) return c.json({ error: 'no flow logs: start phiwall serve with --flows FILE...' }, 404);
    return json(flows);
  });

  app.post(
    '/api/what-if',
    bodyLimit({
      maxSize: MAX_BODY,
      onError: (c) => c.json({ errors: ['request: the body is over 5 MB'] }, 413),
    }),
    async (c) => {
      // JSON only: a cross-site form cannot send it without a preflight, which this server never answers.
      if (!/^application\/json\b/i.test(c.req.header('content-type') ?? ''))
        return c.json({ errors: ['request: send the body as application/json'] }, 415);
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ errors: ['request: the body is not valid JSON'] }, 400);
      }
      try {
        return json(await state.whatIf(parseWhatIfRequest(body)));
      } catch (error) {
        if (error instanceof InputError) return c.json({ errors: errorLines(error) }, 400);
        throw error;
      }
    },
  );

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const pending: ServeEvent[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = state.subscribe((event) => {
        pending.push(event);
        wake?.();
      });
      const keepAlive = setInterval(() => {
        void stream.write(': keep-alive\n\n');
      }, options.keepAliveMs ?? 15_000);
      stream.onAbort(() => wake?.());
      try {
        // A first comment, so that the client knows the stream is open before anything changes.
        await stream.write(`: phiwall generation ${state.generation}\n\n`);
        while (!stream.aborted) {
          const event = pending.shift();
          if (!event) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
            continue;
          }
          await stream.writeSSE({
            event: event.type,
            data: JSON.stringify(event.data),
            ...(event.type === 'change' ? { id: String(event.data.generation) } : {}),
          });
        }
      } finally {
        clearInterval(keepAlive);
        unsubscribe();
      }
    }),
  );

  app.all('/api/*', (c) =>
    c.json({ error: `no such API: ${c.req.method} ${new URL(c.req.url).pathname}` }, 404),
  );

  app.get('*', async (c) => {
    const pathname = new URL(c.req.url).pathname;
    if (!hasIndex(options.webRoot)) {
      return pathname === '/' ? c.text(NOT_BUILT_TEXT, 200) : c.text('404: not found\n', 404);
    }
    const response = await staticResponse(options.webRoot, pathname);
    return response ?? c.text('404: not found\n', 404);
  });

  app.notFound((c) => c.text('404: not found\n', 404));
  return app;
}
