import { type ClusterConnection, LiveError } from './connection.ts';
import { apiVersionOf, LIVE_RESOURCES, type LiveResource, listPath } from './resources.ts';

/** What one list of one resource returned: its objects (kind and apiVersion restored) and where to watch from. */
export interface ListedResource {
  resource: LiveResource;
  items: Record<string, unknown>[];
  resourceVersion: string;
}

export interface ClusterListing {
  context: string;
  server: string;
  serverVersion: string;
  takenAt: string;
  /** Undefined: every namespace. */
  namespace?: string;
  resources: ListedResource[];
  /** Optional resources whose CRDs are not installed. */
  absent: string[];
}

/** Said, not silent: on a Cilium cluster without its CRDs served, say, the policies were not read. */
export function absentNote(listing: ClusterListing): string | undefined {
  return listing.absent.length > 0
    ? `phiwall: not served by this cluster (CRD not installed), so not read: ${listing.absent.join(', ')}\n`
    : undefined;
}

export interface ListOptions {
  namespace?: string;
  /** Page size asked of the server (`limit`): large clusters arrive in pages, never in one answer. */
  pageSize?: number;
  /** Called with a line of progress, at most once a second, once listing has taken over a second. */
  progress?: (text: string) => void;
  now?: () => Date;
}

const FINISHED_PHASES = new Set(['Succeeded', 'Failed']);

/** Lists every resource phiwall reads, page by page. */
export async function listCluster(
  connection: ClusterConnection,
  options: ListOptions = {},
): Promise<ClusterListing> {
  const started = Date.now();
  let lastReport = 0;
  let count = 0;
  const report = (what: string) => {
    const now = Date.now();
    if (!options.progress || now - started < 1000 || now - lastReport < 1000) return;
    lastReport = now;
    options.progress(`listing ${what}: ${count} objects so far (${((now - started) / 1000).toFixed(0)} s)`);
  };
  const version = await connection.get('/version');
  const serverVersion = String(version.gitVersion ?? `${version.major}.${version.minor}`);
  const takenAt = (options.now?.() ?? new Date()).toISOString();
  const resources: ListedResource[] = [];
  const absent: string[] = [];
  const installed = new Map<string, Promise<readonly unknown[]>>();
  for (const resource of LIVE_RESOURCES) {
    const preferred = resource.unlessServedBy && { ...resource, ...resource.unlessServedBy };
    if (preferred && (await isServed(connection, preferred, installed))) continue;
    if (resource.optional && !(await isServed(connection, resource, installed))) {
      absent.push(`${resource.resource}.${resource.group}`);
      continue;
    }
    const namespace = resource.clusterWide ? undefined : options.namespace;
    const listed = await listResource(connection, resource, namespace, options.pageSize ?? 500, (n) => {
      count += n;
      report(resource.resource);
    });
    resources.push(listed);
  }
  // A resource read in another version of its group (ciliumcidrgroups v2alpha1) is not absent.
  const read = new Set(resources.map((r) => `${r.resource.resource}.${r.resource.group}`));
  if (options.progress && Date.now() - started >= 1000)
    options.progress(`listed ${count} objects in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    context: connection.context,
    server: connection.server,
    serverVersion,
    takenAt,
    namespace: options.namespace,
    resources,
    absent: [...new Set(absent)].filter((name) => !read.has(name)),
  };
}

/** Whether the API group serves the resource (its CRD is installed), read from discovery once per group version. */
async function isServed(
  connection: ClusterConnection,
  resource: LiveResource,
  cache: Map<string, Promise<readonly unknown[]>>,
): Promise<boolean> {
  const key = `${resource.group}/${resource.version}`;
  let names = cache.get(key);
  if (!names) {
    names = connection
      .getOptional(`/apis/${key}`)
      .then((discovery) =>
        Array.isArray(discovery?.resources)
          ? (discovery.resources as { name?: unknown }[]).map((r) => r.name)
          : [],
      );
    cache.set(key, names);
  }
  return (await names).includes(resource.resource);
}

export async function listResource(
  connection: ClusterConnection,
  resource: LiveResource,
  namespace: string | undefined,
  pageSize: number,
  onPage: (count: number) => void = () => {},
): Promise<ListedResource> {
  const items: Record<string, unknown>[] = [];
  let token: string | undefined;
  let resourceVersion = '';
  const path = listPath(resource, namespace);
  do {
    const query: Record<string, string> = { limit: String(pageSize) };
    if (token) query.continue = token;
    // Finished pods are dropped by the server when it can, and below in any case.
    if (resource.kind === 'Pod') query.fieldSelector = 'status.phase!=Succeeded,status.phase!=Failed';
    const page = await connection.get(path, query);
    const metadata = (page.metadata ?? {}) as { continue?: unknown; resourceVersion?: unknown };
    if (!Array.isArray(page.items)) throw new LiveError(`GET ${path} answered without an items list`);
    const objects = (page.items as Record<string, unknown>[])
      .filter(
        (item) =>
          resource.kind !== 'Pod' ||
          !FINISHED_PHASES.has(String((item.status as { phase?: unknown } | undefined)?.phase)),
      )
      .map((item) => withType(item, resource));
    items.push(...objects);
    onPage(objects.length);
    // The list's resourceVersion is that of its first page: a watch from it misses nothing.
    if (!resourceVersion) resourceVersion = String(metadata.resourceVersion ?? '');
    token = typeof metadata.continue === 'string' && metadata.continue !== '' ? metadata.continue : undefined;
  } while (token);
  return { resource, items, resourceVersion };
}

/** Items of a list come without kind and apiVersion; objects of a watch with them. */
export function withType(item: Record<string, unknown>, resource: LiveResource): Record<string, unknown> {
  return { apiVersion: apiVersionOf(resource), kind: resource.kind, ...item };
}

/** The listing as one `kind: List`, with what an auditor needs to know about when and where it was taken. */
export function listingDocument(listing: ClusterListing): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'List',
    metadata: {},
    phiwall: {
      takenAt: listing.takenAt,
      context: listing.context,
      server: listing.server,
      serverVersion: listing.serverVersion,
      namespace: listing.namespace ?? null,
      resources: listing.resources.map((r) => ({
        resource: `${r.resource.resource}${r.resource.group ? `.${r.resource.group}` : ''}`,
        apiVersion: apiVersionOf(r.resource),
        count: r.items.length,
        resourceVersion: r.resourceVersion,
      })),
      absent: listing.absent,
    },
    items: listing.resources.flatMap((r) => r.items),
  };
}
