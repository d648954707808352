/**
 * The client of the `phiwall serve` API. The token of the page URL (`?token=`) goes on every request
 * as a bearer token, and on the EventSource URL (EventSource cannot set headers). URLs are relative
 * to the page, so the UI also works behind a path prefix.
 */
import type {
  ChangeEvent,
  Explanation,
  Finding,
  FlowsReport,
  Graph,
  WhatIfRequest,
  WhatIfResult,
  WorkloadDetail,
} from './types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: string[] = [],
  ) {
    super(message);
  }
}

function pageToken(search: string = location.search): string | undefined {
  return new URLSearchParams(search).get('token') ?? undefined;
}

/**
 * The page URL's token, read once; the address bar then drops it, so that it stays out of the history,
 * bookmarks and screenshots (a reload authenticates with the cookie the server set).
 */
const TOKEN: string | undefined = (() => {
  const token = pageToken();
  if (token !== undefined) {
    const url = new URL(location.href);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url);
  }
  return token;
})();

function apiUrl(path: string, query: Record<string, string | undefined> = {}): string {
  const url = new URL(`api/${path}`, location.href);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

async function request<T>(
  path: string,
  init: RequestInit = {},
  query: Record<string, string | undefined> = {},
) {
  const token = TOKEN;
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  if (token) headers.set('Authorization', `Bearer ${token}`);
  const response = await fetch(apiUrl(path, query), { ...init, headers, credentials: 'same-origin' });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const record = (body ?? {}) as { error?: unknown; errors?: unknown; message?: unknown };
    const errors = Array.isArray(record.errors) ? record.errors.map(String) : [];
    const message =
      typeof record.error === 'string'
        ? record.error
        : typeof record.message === 'string'
          ? record.message
          : (errors[0] ?? `${response.status} ${response.statusText}`);
    throw new ApiError(response.status, message, errors);
  }
  return body as T;
}

export const api = {
  graph: () => request<Graph>('graph'),
  workload: (id: string) => request<WorkloadDetail>(`workloads/${encodeURIComponent(id)}`),
  explain: (from: string, to: string, port?: string, protocol?: string) =>
    request<Explanation>('explain', {}, { from, to, port, protocol }),
  findings: async () => {
    const body = await request<Finding[] | { findings: Finding[] }>('findings');
    return Array.isArray(body) ? body : body.findings;
  },
  whatIf: (body: WhatIfRequest) =>
    request<WhatIfResult>('what-if', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    }),
  /** The flows report, or undefined when the server was started without `--flows`. */
  flows: async () => {
    try {
      return await request<FlowsReport>('flows');
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  },
};

export interface EventHandlers {
  change: (event: ChangeEvent) => void;
  error: (message: string) => void;
  connection: (open: boolean) => void;
}

/** Subscribes to `/api/events`; EventSource reconnects by itself after a dropped connection. */
export function subscribe(handlers: EventHandlers): () => void {
  const source = new EventSource(apiUrl('events', { token: TOKEN }));
  source.addEventListener('open', () => handlers.connection(true));
  source.addEventListener('change', (event) => {
    try {
      handlers.change(JSON.parse((event as MessageEvent<string>).data) as ChangeEvent);
    } catch {
      // A malformed event is ignored; the next one reloads the graph anyway.
    }
  });
  source.addEventListener('error', (event) => {
    const data = (event as MessageEvent<string>).data;
    if (typeof data === 'string' && data) {
      try {
        handlers.error(String((JSON.parse(data) as { message?: unknown }).message ?? data));
      } catch {
        handlers.error(data);
      }
    } else {
      handlers.connection(source.readyState === EventSource.OPEN);
    }
  });
  return () => source.close();
}
