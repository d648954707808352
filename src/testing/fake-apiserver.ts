/**
 * Test support: an in-process stand-in for the Kubernetes API server, served from fixture objects on
 * 127.0.0.1 with an ephemeral port. It speaks enough of the real protocol (legacy discovery, list with
 * limit/continue, watch streams with resourceVersion, bookmarks and 410 Gone, Status errors) that both
 * `@kubernetes/client-node` 1.4 and the real `kubectl` (verified: 1.20, 1.27, 1.32, 1.33) work against it.
 * It is read-only over HTTP: only GET is served, fixtures change through apply()/delete().
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { stringify } from 'yaml';

export interface FakeApiServerOptions {
  /** Fixture objects (apiVersion+kind+metadata of a served kind), applied in order at start. */
  objects?: object[];
  /** Server-side cap on a list page when the client sends `limit`, so pagination is exercised. */
  pageSize?: number;
  /** RBAC denials: a matching request gets 403. `group` unset matches the resource in any group. */
  forbidden?: { verb: string; resource: string; group?: string }[];
  /** When set, every request must carry `Authorization: Bearer <token>`, else 401. */
  token?: string;
  serverVersion?: { major: string; minor: string; gitVersion: string };
  /**
   * Whether the CRD groups are installed: policy.networking.k8s.io (ANP/BANP v1alpha1, CNP v1alpha2),
   * projectcalico.org and cilium.io (CiliumCIDRGroup as v2alpha1, as before Cilium 1.18); default true.
   */
  crds?: boolean;
  /**
   * Serve HTTPS (url https://127.0.0.1:PORT, certificate FAKE_APISERVER_CA, put in kubeconfig()).
   * Needed for kubectl with a token: client-go sends bearer tokens only over TLS (kubectl issue 744).
   */
  tls?: boolean;
}

/**
 * Self-signed certificate for IP 127.0.0.1 and localhost (valid 2020-2120) with its key: test-only
 * material for a loopback server, not a secret. Trust it with `ca: FAKE_APISERVER_CA`.
 */
export const FAKE_APISERVER_CA = `-----BEGIN CERTIFICATE-----
MIIBpzCCAU2gAwIBAgICEAAwCgYIKoZIzj0EAwIwITEfMB0GA1UEAwwWcGhpd2Fs
bC1mYWtlLWFwaXNlcnZlcjAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAwMDAw
MFowITEfMB0GA1UEAwwWcGhpd2FsbC1mYWtlLWFwaXNlcnZlcjBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABOQaT5Z6U86IC74cQDwvEA5wBgQR/o0iVysPV/XHVCbw
NrUQ88GAA/pdEJVSJfOtRmJ0zuepHKtkVh7T5WoNqgWjczBxMBoGA1UdEQQTMBGH
BH8AAAGCCWxvY2FsaG9zdDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIC
hDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQU/QOme1KveisFGaNgAXec
HY19o9gwCgYIKoZIzj0EAwIDSAAwRQIgVtAFAzRAiRUcXLEliT4woWU5X4Va4n8Z
9LNy8tv/E2cCIQCELn6qnu5PWnvIEYHL08zhKcwDkrOeFfOQ4dDm9KQ5hA==
-----END CERTIFICATE-----
`;
export const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbo+wUxUuD3+RaxIA
hCp7IpGHA+aH5hsujJn5qT3fOfmhRANCAATkGk+WelPOiAu+HEA8LxAOcAYEEf6N
IlcrD1f1x1Qm8Da1EPPBgAP6XRCVUiXzrUZidM7nqRyrZFYe0+VqDaoF
-----END PRIVATE KEY-----
`;

type Obj = { apiVersion: string; kind: string; metadata: Metadata; [k: string]: unknown };
type Metadata = { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Served by a CRD: only when `crds` is on, and list items keep apiVersion/kind as real CRD lists do. */
  crd?: boolean;
  /** Field selectors beyond metadata.name/metadata.namespace (the real server rejects the rest). */
  fields?: string[];
}

/** Served types, one per line: group/version, resource, Kind, scope, short name. */
const RESOURCES: ResourceType[] = `
  v1 namespaces Namespace cluster ns
  v1 pods Pod namespaced po
  v1 services Service namespaced svc
  v1 nodes Node cluster no
  v1 configmaps ConfigMap namespaced cm
  v1 replicationcontrollers ReplicationController namespaced rc
  apps/v1 deployments Deployment namespaced deploy
  apps/v1 replicasets ReplicaSet namespaced rs
  apps/v1 statefulsets StatefulSet namespaced sts
  apps/v1 daemonsets DaemonSet namespaced ds
  batch/v1 jobs Job namespaced
  batch/v1 cronjobs CronJob namespaced cj
  networking.k8s.io/v1 networkpolicies NetworkPolicy namespaced netpol
  networking.k8s.io/v1 ingresses Ingress namespaced ing
  policy.networking.k8s.io/v1alpha1 adminnetworkpolicies AdminNetworkPolicy cluster anp
  policy.networking.k8s.io/v1alpha1 baselineadminnetworkpolicies BaselineAdminNetworkPolicy cluster banp
  policy.networking.k8s.io/v1alpha2 clusternetworkpolicies ClusterNetworkPolicy cluster cnp
  projectcalico.org/v3 networkpolicies NetworkPolicy namespaced cnp
  projectcalico.org/v3 globalnetworkpolicies GlobalNetworkPolicy cluster gnp
  projectcalico.org/v3 networksets NetworkSet namespaced netsets
  projectcalico.org/v3 globalnetworksets GlobalNetworkSet cluster
  projectcalico.org/v3 tiers Tier cluster
  projectcalico.org/v3 profiles Profile cluster
  cilium.io/v2 ciliumnetworkpolicies CiliumNetworkPolicy namespaced
  cilium.io/v2 ciliumclusterwidenetworkpolicies CiliumClusterwideNetworkPolicy cluster ccnp
  cilium.io/v2alpha1 ciliumcidrgroups CiliumCIDRGroup cluster ccg`
  .trim()
  .split('\n')
  .map((line) => {
    const [groupVersion, resource, kind, scope, short] = line.trim().split(' ') as [
      string,
      string,
      string,
      string,
      string?,
    ];
    const [group, version] = groupVersion.includes('/') ? groupVersion.split('/') : ['', groupVersion];
    return {
      group: group as string,
      version: version as string,
      resource,
      kind,
      namespaced: scope === 'namespaced',
      shortNames: short ? [short] : [],
      ...(['policy.networking.k8s.io', 'projectcalico.org', 'cilium.io'].includes(group as string)
        ? { crd: true }
        : {}),
      ...(resource === 'pods'
        ? { fields: ['status.phase', 'spec.nodeName', 'spec.serviceAccountName'] }
        : {}),
    };
  });

const USER = 'system:serviceaccount:phiwall:phiwall';
/** First resourceVersion handed out is BASE_RV+1, so "0" (meaning "any") never names a real version. */
const BASE_RV = 1000;

const gv = (r: ResourceType) => (r.group ? `${r.group}/${r.version}` : r.version);

/** Thrown inside request handling and turned into a Status response. */
class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
  toJSON() {
    const { code, reason, message, details, extra } = this;
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: extra,
      status: 'Failure',
      message,
      reason,
      details,
      code,
    };
  }
}

const notFound = () => new StatusError(404, 'NotFound', 'the server could not find the requested resource');
const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);
const tooOld = (rv: number, oldest: number) =>
  new StatusError(410, 'Expired', `too old resource version: ${rv} (${oldest})`);

interface HistoryEvent {
  rv: number;
  type: EventType;
  r: ResourceType;
  key: string;
  object: Obj;
  /** State before the event, so a past snapshot can be rebuilt by undoing events (consistent pages). */
  previous?: Obj;
}

interface Watcher {
  r: ResourceType;
  namespace?: string;
  matches: (o: Obj) => boolean;
  res: ServerResponse;
}

export class FakeApiServer {
  readonly url: string;
  readonly requests: { method: string; path: string; query: Record<string, string> }[] = [];
  private readonly objects = new Map<string, { r: ResourceType; object: Obj }>();
  private history: HistoryEvent[] = [];
  private rv = BASE_RV;
  /** Oldest resourceVersion a watch or consistent list may start from. */
  private oldestRv = BASE_RV;
  private readonly watchers = new Set<Watcher>();
  /**
   * Every socket, HTTP or not yet: closeAllConnections misses one still in its TLS handshake (a client
   * reconnecting its watch as close() begins), which would then hold close() open for good.
   */
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly options: FakeApiServerOptions,
  ) {
    const scheme = options.tls ? 'https' : 'http';
    this.url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    let self: FakeApiServer | undefined;
    const listener: RequestListener = (req, res) => self?.handle(req, res);
    const server = options.tls
      ? createTlsServer({ cert: FAKE_APISERVER_CA, key: TEST_KEY }, listener)
      : createServer(listener);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    self = new FakeApiServer(server, options);
    for (const object of options.objects ?? []) self.apply(object);
    return self;
  }

  /** Create or update an object: bumps the global resourceVersion and notifies watchers. */
  apply(object: object): void {
    const o = structuredClone(object) as Obj;
    const r = this.typeOf(o.apiVersion, o.kind);
    if (!o.metadata?.name) throw new Error(`FakeApiServer.apply: ${o.kind} without metadata.name`);
    if (r.namespaced) o.metadata.namespace ??= 'default';
    else delete o.metadata.namespace;
    const key = keyOf(r, o.metadata.namespace, o.metadata.name);
    const previous = this.objects.get(key)?.object;
    o.metadata.uid = previous?.metadata.uid ?? o.metadata.uid ?? randomUUID();
    o.metadata.creationTimestamp =
      previous?.metadata.creationTimestamp ??
      o.metadata.creationTimestamp ??
      new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.record(previous ? 'MODIFIED' : 'ADDED', r, key, o, previous);
  }

  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const r = this.typeOf(apiVersion, kind);
    const key = keyOf(r, r.namespaced ? (namespace ?? 'default') : undefined, name);
    const previous = this.objects.get(key)?.object;
    if (!previous) throw new Error(`FakeApiServer.delete: no ${kind} ${namespace ?? ''}/${name}`);
    // Like the real server, the DELETED event carries the last state stamped with the deletion's version.
    this.record('DELETED', r, key, structuredClone(previous), previous);
  }

  /** Abruptly end every open watch (socket destroyed mid-stream, as when an API server restarts). */
  dropWatches(): void {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
  }

  /** Forget event history: watches (and continue tokens) from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.history = [];
    this.oldestRv = this.rv;
  }

  /**
   * A kubeconfig for this server (current-context set). Over plain HTTP kubectl drops the token
   * (client-go sends credentials only over TLS): start with `tls: true` to test token auth with kubectl.
   */
  kubeconfig(options: { context?: string; token?: string } = {}): string {
    const context = options.context ?? 'fake-apiserver';
    const token = options.token ?? this.options.token;
    // client-node 1.4 refuses an http: server unless insecure-skip-tls-verify is set (kubectl ignores it).
    const ca = this.options.tls
      ? { 'certificate-authority-data': Buffer.from(FAKE_APISERVER_CA).toString('base64') }
      : { 'insecure-skip-tls-verify': true };
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake-apiserver', cluster: { server: this.url, ...ca } }],
      users: [{ name: 'fake-apiserver-user', user: token ? { token } : {} }],
      contexts: [{ name: context, context: { cluster: 'fake-apiserver', user: 'fake-apiserver-user' } }],
      'current-context': context,
      preferences: {},
    });
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Keep-alive and watch sockets of clients would otherwise hold close() open.
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private typeOf(apiVersion: string, kind: string): ResourceType {
    const r = RESOURCES.find((x) => gv(x) === apiVersion && x.kind === kind);
    if (!r) throw new Error(`FakeApiServer: ${apiVersion} ${kind} is not a served kind`);
    return r;
  }

  private served(r: ResourceType): boolean {
    return !r.crd || this.options.crds !== false;
  }

  private record(type: EventType, r: ResourceType, key: string, object: Obj, previous?: Obj): void {
    const rv = ++this.rv;
    object.metadata.resourceVersion = String(rv);
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, { r, object });
    const event: HistoryEvent = previous
      ? { rv, type, r, key, object, previous }
      : { rv, type, r, key, object };
    this.history.push(event);
    for (const w of this.watchers) this.send(w, event);
  }

  /** Writes an event as a watcher sees it: selector moves turn MODIFIED into ADDED/DELETED, as upstream. */
  private send(w: Watcher, e: HistoryEvent): void {
    if (e.r !== w.r || (w.namespace !== undefined && e.object.metadata.namespace !== w.namespace)) return;
    const was = e.previous !== undefined && w.matches(e.previous);
    const is = e.type !== 'DELETED' && w.matches(e.object);
    const type = was && is ? 'MODIFIED' : is ? 'ADDED' : was ? 'DELETED' : undefined;
    if (type) w.res.write(`${JSON.stringify({ type, object: e.object })}\n`);
  }

  /** The objects of one type as they were at resourceVersion `at`, rebuilt by undoing later events. */
  private snapshot(r: ResourceType, at: number): Map<string, Obj> {
    if (at < this.oldestRv) throw tooOld(at, this.oldestRv);
    const state = new Map<string, Obj>();
    for (const [key, v] of this.objects) if (v.r === r) state.set(key, v.object);
    for (let i = this.history.length - 1; i >= 0; i--) {
      const e = this.history[i] as HistoryEvent;
      if (e.rv <= at) break;
      if (e.r !== r) continue;
      if (e.previous) state.set(e.key, e.previous);
      else state.delete(e.key);
    }
    return state;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query });
    try {
      if (this.options.token !== undefined && req.headers.authorization !== `Bearer ${this.options.token}`) {
        throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      }
      if (req.method !== 'GET') {
        throw new StatusError(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
        );
      }
      const body = this.route(url.pathname.replace(/\/+$/, ''), query, res);
      if (body !== undefined) json(res, 200, body);
    } catch (err) {
      // A bug here becomes a 500 Status (as upstream) rather than an exception that kills the test run.
      const status = err instanceof StatusError ? err : new StatusError(500, 'InternalError', String(err));
      json(res, status.code, status);
    }
  }

  /** Returns the JSON body to send, or undefined when it answered itself (a watch stream). */
  private route(path: string, query: Record<string, string>, res: ServerResponse): unknown {
    if (path === '/version') return this.version();
    // Newer kubectl asks /api and /apis for aggregated discovery (apidiscovery.k8s.io/v2) first; plain
    // JSON with Content-Type application/json makes it fall back to this legacy discovery.
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups() };
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)(?:\/([^/]+))?)(?:\/(.*))?$/.exec(path);
    if (!m) throw notFound();
    const group = m[2] ?? '';
    const version = m[1] ?? m[3];
    const types = RESOURCES.filter((r) => r.group === group && this.served(r));
    if (!version) {
      const g = this.groups().find((x) => x.name === group);
      if (!g) throw notFound();
      return { kind: 'APIGroup', apiVersion: 'v1', ...g };
    }
    const inVersion = types.filter((r) => r.version === version);
    if (!inVersion.length) throw notFound();
    if (m[4] === undefined) return this.resourceList(group ? `${group}/${version}` : version, inVersion);

    // Collection or object: [namespaces/NS/]RESOURCE[/NAME]; "namespaces/NAME" alone is a Namespace.
    let parts = m[4].split('/').map(decodeURIComponent);
    let namespace: string | undefined;
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      namespace = parts[1];
      parts = parts.slice(2);
    }
    const [resource, name, ...rest] = parts;
    const r = inVersion.find((x) => x.resource === resource);
    if (!r || rest.length || (namespace !== undefined && !r.namespaced)) throw notFound();
    const watch = query.watch === 'true' || query.watch === '1';
    const verb = name !== undefined ? 'get' : watch ? 'watch' : 'list';
    this.authorize(verb, r, namespace, name);
    if (name !== undefined) {
      const found = this.objects.get(keyOf(r, namespace, name));
      if (!found || (r.namespaced && namespace === undefined)) {
        const details = { name, ...(group ? { group } : {}), kind: resource };
        throw new StatusError(404, 'NotFound', `${resource} "${name}" not found`, details);
      }
      return found.object;
    }
    const matches = selectors(r, query, namespace);
    if (watch) return this.watch(r, namespace, matches, query, res);
    return this.list(r, matches, query);
  }

  private version() {
    const v = this.options.serverVersion ?? { major: '1', minor: '32', gitVersion: 'v1.32.0' };
    return {
      ...v,
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2025-01-01T00:00:00Z',
      goVersion: 'go1.23.0',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }

  private groups() {
    const names = [...new Set(RESOURCES.filter((r) => r.group && this.served(r)).map((r) => r.group))];
    return names.map((name) => {
      // Highest version first, as the server orders them: v1alpha2 before v1alpha1.
      const versions = [...new Set(RESOURCES.filter((r) => r.group === name).map((r) => r.version))]
        .sort()
        .reverse()
        .map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions, preferredVersion: versions[0] };
    });
  }

  private resourceList(groupVersion: string, types: ResourceType[]) {
    const resources = types.map((r) => ({
      name: r.resource,
      singularName: r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ['get', 'list', 'watch'], // only what this server serves
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    }));
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
  }

  private authorize(verb: string, r: ResourceType, namespace: string | undefined, name: string | undefined) {
    const denied = this.options.forbidden?.some(
      (f) =>
        (f.verb === verb || f.verb === '*') && f.resource === r.resource && (f.group ?? r.group) === r.group,
    );
    if (!denied) return;
    const what = name === undefined ? r.resource : `${r.resource} "${name}"`;
    const scope = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
    throw new StatusError(
      403,
      'Forbidden',
      `${what} is forbidden: User "${USER}" cannot ${verb} resource "${r.resource}" in API group "${r.group}" ${scope}`,
      { ...(name === undefined ? {} : { name }), ...(r.group ? { group: r.group } : {}), kind: r.resource },
    );
  }

  private list(r: ResourceType, matches: (o: Obj) => boolean, query: Record<string, string>) {
    let at = this.rv;
    let start = '';
    if (query.continue) {
      ({ rv: at, start } = decodeContinue(query.continue));
      if (at < this.oldestRv) {
        throw new StatusError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
          {},
          { continue: encodeContinue(this.rv, start) },
        );
      }
    } else if (query.resourceVersion && query.resourceVersion !== '0') {
      // An exact read (resourceVersionMatch=Exact, or a paginated read at a version) comes from that
      // snapshot and 410s once compacted; otherwise any state at least that new will do, i.e. the current.
      const rv = parseRv(query.resourceVersion);
      if (
        query.resourceVersionMatch === 'Exact' ||
        (query.limit && query.resourceVersionMatch !== 'NotOlderThan')
      ) {
        at = rv;
      }
    }
    const state = this.snapshot(r, at);
    const keys = [...state.keys()].filter((k) => k >= start && matches(state.get(k) as Obj)).sort();
    const limit = query.limit ? Number(query.limit) : 0;
    if (!Number.isInteger(limit) || limit < 0) throw badRequest(`invalid limit: ${query.limit}`);
    const size = limit > 0 ? Math.min(limit, this.options.pageSize ?? limit) : keys.length;
    const page = keys.slice(0, size);
    const metadata: Record<string, unknown> = { resourceVersion: String(at) };
    if (page.length < keys.length) {
      metadata.continue = encodeContinue(at, `${page.at(-1)}\u0000`);
      // Like etcd-backed lists: the remaining count only when no selector narrowed the list.
      if (!query.labelSelector && !query.fieldSelector) {
        metadata.remainingItemCount = keys.length - page.length;
      }
    }
    const items = page.map((k) => {
      const o = state.get(k) as Obj;
      if (r.crd) return o; // CRD lists keep apiVersion/kind on items; built-in lists drop them
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    });
    return { kind: `${r.kind}List`, apiVersion: gv(r), metadata, items };
  }

  private watch(
    r: ResourceType,
    namespace: string | undefined,
    matches: (o: Obj) => boolean,
    query: Record<string, string>,
    res: ServerResponse,
  ): undefined {
    const w: Watcher = namespace === undefined ? { r, matches, res } : { r, namespace, matches, res };
    const bookmarks = query.allowWatchBookmarks === 'true';
    const bookmark = (annotations?: Record<string, string>) => {
      const metadata = { resourceVersion: String(this.rv), ...(annotations ? { annotations } : {}) };
      res.write(
        `${JSON.stringify({ type: 'BOOKMARK', object: { kind: r.kind, apiVersion: gv(r), metadata } })}\n`,
      );
    };
    const rvParam = query.resourceVersion ?? '';
    const from = rvParam === '' || rvParam === '0' ? undefined : parseRv(rvParam);
    // Headers go out at once: clients wait for them before they treat the watch as established.
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    if (from !== undefined && from < this.oldestRv) {
      // A too-old watch is not an HTTP 410: the stream opens and carries one ERROR event, then ends.
      res.end(`${JSON.stringify({ type: 'ERROR', object: tooOld(from, this.oldestRv) })}\n`);
      return;
    }
    if (from === undefined || query.sendInitialEvents === 'true') {
      // No version (or "0"): synthetic ADDED events for the current state, then changes.
      for (const o of this.snapshot(r, this.rv).values()) {
        if ((namespace === undefined || o.metadata.namespace === namespace) && matches(o)) {
          res.write(`${JSON.stringify({ type: 'ADDED', object: o })}\n`);
        }
      }
      if (query.sendInitialEvents === 'true' && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      for (const e of this.history) if (e.rv > from) this.send(w, e);
    }
    this.watchers.add(w);
    const timeout = Number(query.timeoutSeconds);
    const timer =
      timeout > 0
        ? setTimeout(() => {
            if (bookmarks) bookmark(); // the real server bookmarks just before a watch times out
            res.end();
            this.watchers.delete(w);
          }, timeout * 1000)
        : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      this.watchers.delete(w);
    });
    return undefined;
  }
}

function keyOf(r: ResourceType, namespace: string | undefined, name: string): string {
  // Sorted like the real storage keys: by namespace, then name; the type prefix keeps kinds apart.
  return `${r.group}/${r.resource}/${namespace ? `${namespace}/` : ''}${name}`;
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function parseRv(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  throw badRequest(`resourceVersion: Invalid value: "${value}": must be an integer`);
}

/** Continue tokens are opaque base64 JSON like upstream's: the snapshot version and the next key. */
function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (t.v === 'meta.k8s.io/v1' && Number.isInteger(t.rv) && typeof t.start === 'string') return t;
  } catch {}
  throw badRequest('continue key is not valid: not a continue token issued by this server');
}

/** Label and field selectors plus the namespace, as one predicate; bad selectors are a 400. */
function selectors(r: ResourceType, query: Record<string, string>, namespace?: string): (o: Obj) => boolean {
  const tests: ((o: Obj) => boolean)[] = [];
  if (namespace !== undefined) tests.push((o) => o.metadata.namespace === namespace);
  for (const req of splitTopLevel(query.labelSelector ?? '')) {
    let m = /^(!?)\s*([\w./-]+)$/.exec(req);
    if (m) {
      const [, not, key] = m;
      tests.push((o) => (o.metadata.labels?.[key as string] !== undefined) !== (not === '!'));
      continue;
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(req);
    if (m) {
      const [, key, op, value] = m;
      tests.push((o) => (o.metadata.labels?.[key as string] === value) !== (op === '!='));
      continue;
    }
    m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(req);
    if (!m) throw badRequest(`unable to parse requirement: ${JSON.stringify(req)}`);
    const [, key, op, list] = m;
    const values = (list as string).split(',').map((v) => v.trim());
    tests.push((o) => values.includes(o.metadata.labels?.[key as string] as string) !== (op === 'notin'));
  }
  for (const req of splitTopLevel(query.fieldSelector ?? '')) {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw badRequest(`invalid field selector: ${req}`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    if (!['metadata.name', 'metadata.namespace', ...(r.fields ?? [])].includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    const get = (o: Obj) =>
      field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], o);
    tests.push((o) => (String(get(o) ?? '') === value) !== (op === '!='));
  }
  return (o) => tests.every((t) => t(o));
}

function splitTopLevel(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    current += ch;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter(Boolean);
}
