import { type ClusterConnection, LiveError, type WatchEvent } from './connection.ts';
import { type ClusterListing, type ListedResource, listResource, withType } from './list.ts';
import { listPath } from './resources.ts';

/** One object that changed in the cluster. */
export interface ObjectChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: string;
  namespace: string;
  name: string;
}

export interface WatchCallbacks {
  /** A batch of changes (events arriving close together are gathered), with the listing as it now is. */
  onChange(changes: ObjectChange[], listing: ClusterListing): void;
  /** Reconnections, relists and the like, for a status line. */
  onStatus?(text: string): void;
  /** A problem the watch cannot recover from (RBAC denies watch, say): watching stops. */
  onFatal?(error: Error): void;
}

export interface WatchOptions {
  /** How long to gather events before reporting a batch. */
  batchMs?: number;
  /** First wait before reconnecting a dropped watch; doubles up to 30 s while drops repeat. */
  retryMs?: number;
  pageSize?: number;
}

function keyOf(object: Record<string, unknown>): string {
  const metadata = (object.metadata ?? {}) as { namespace?: unknown; name?: unknown };
  return `${String(metadata.namespace ?? '')}/${String(metadata.name ?? '')}`;
}

function changeOf(type: ObjectChange['type'], object: Record<string, unknown>, kind: string): ObjectChange {
  const metadata = (object.metadata ?? {}) as { namespace?: unknown; name?: unknown };
  return { type, kind, namespace: String(metadata.namespace ?? ''), name: String(metadata.name ?? '') };
}

const FINISHED_PHASES = new Set(['Succeeded', 'Failed']);

/**
 * Keeps a listing current: one watch per resource from the resourceVersion its list returned, with
 * bookmarks; a dropped watch reconnects from the last version seen, and a version the server no longer
 * has (410 Gone) makes that resource be listed again, reporting what the relist changed.
 */
export class ClusterWatch {
  private readonly objects = new Map<ListedResource, Map<string, Record<string, unknown>>>();
  private readonly stops = new Map<ListedResource, () => void>();
  private pending: ObjectChange[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly listing: ClusterListing,
    private readonly callbacks: WatchCallbacks,
    private readonly options: WatchOptions = {},
  ) {
    for (const listed of listing.resources) {
      this.objects.set(listed, new Map(listed.items.map((item) => [keyOf(item), item])));
    }
  }

  start(): void {
    for (const listed of this.listing.resources) this.watch(listed, this.options.retryMs ?? 500);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const stop of this.stops.values()) stop();
  }

  /** The objects as they now are, in the listing's shape. */
  current(): ClusterListing {
    return {
      ...this.listing,
      resources: this.listing.resources.map((listed) => ({
        ...listed,
        items: [...(this.objects.get(listed)?.values() ?? [])],
      })),
    };
  }

  private watch(listed: ListedResource, retryMs: number): void {
    if (this.stopped) return;
    const { resource } = listed;
    const namespace = resource.clusterWide ? undefined : this.listing.namespace;
    let gone = false;
    let sawEvent = false;
    const handle = this.connection.watch(
      listPath(resource, namespace),
      { resourceVersion: listed.resourceVersion, allowWatchBookmarks: 'true' },
      (event) => {
        sawEvent = true;
        if (event.type === 'ERROR') {
          const code = (event.object as { code?: unknown }).code;
          if (code === 410) gone = true;
          else
            this.fatal(
              new LiveError(
                `the watch of ${resource.resource} failed: ${String((event.object as { message?: unknown }).message ?? code)}`,
              ),
            );
          return;
        }
        this.apply(listed, event);
      },
      (error) => {
        this.stops.delete(listed);
        if (this.stopped) return;
        if (error instanceof LiveError && /RBAC denies/.test(error.message)) return this.fatal(error);
        if (gone || (error instanceof LiveError && /answered 410/.test(error.message))) {
          this.callbacks.onStatus?.(
            `${resource.resource}: resourceVersion ${listed.resourceVersion} is too old (410 Gone); listing again`,
          );
          void this.relist(listed);
          return;
        }
        // A watch the server ends after its timeout is normal; a connection cut is retried with backoff.
        const next = sawEvent || !error ? (this.options.retryMs ?? 500) : Math.min(retryMs * 2, 30_000);
        this.callbacks.onStatus?.(
          `${resource.resource}: watch ${error ? `dropped (${error.message})` : 'ended'}; reconnecting from resourceVersion ${listed.resourceVersion}`,
        );
        const timer = setTimeout(() => this.watch(listed, next), error ? retryMs : 0);
        this.stops.set(listed, () => clearTimeout(timer));
      },
    );
    this.stops.set(listed, () => handle.stop());
  }

  private apply(listed: ListedResource, event: WatchEvent): void {
    const version = (event.object.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
    if (typeof version === 'string' && version !== '') listed.resourceVersion = version;
    if (event.type === 'BOOKMARK') return;
    const store = this.objects.get(listed) as Map<string, Record<string, unknown>>;
    const object = withType(event.object, listed.resource);
    const key = keyOf(object);
    const finished =
      listed.resource.kind === 'Pod' &&
      FINISHED_PHASES.has(String((object.status as { phase?: unknown } | undefined)?.phase));
    if (event.type === 'DELETED' || finished) {
      if (store.delete(key)) this.queue(changeOf('DELETED', object, listed.resource.kind));
      return;
    }
    const existed = store.has(key);
    store.set(key, object);
    this.queue(changeOf(existed ? 'MODIFIED' : 'ADDED', object, listed.resource.kind));
  }

  private async relist(listed: ListedResource): Promise<void> {
    try {
      const namespace = listed.resource.clusterWide ? undefined : this.listing.namespace;
      const fresh = await listResource(
        this.connection,
        listed.resource,
        namespace,
        this.options.pageSize ?? 500,
      );
      if (this.stopped) return;
      const store = this.objects.get(listed) as Map<string, Record<string, unknown>>;
      const next = new Map(fresh.items.map((item) => [keyOf(item), item]));
      for (const [key, object] of store) {
        if (!next.has(key)) this.queue(changeOf('DELETED', object, listed.resource.kind));
      }
      for (const [key, object] of next) {
        const before = store.get(key);
        if (!before) this.queue(changeOf('ADDED', object, listed.resource.kind));
        else if (JSON.stringify(before) !== JSON.stringify(object))
          this.queue(changeOf('MODIFIED', object, listed.resource.kind));
      }
      this.objects.set(listed, next);
      listed.resourceVersion = fresh.resourceVersion;
      this.watch(listed, this.options.retryMs ?? 500);
    } catch (error) {
      this.fatal(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private queue(change: ObjectChange): void {
    this.pending.push(change);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const batch = this.pending;
      this.pending = [];
      if (batch.length > 0 && !this.stopped) this.callbacks.onChange(batch, this.current());
    }, this.options.batchMs ?? 200);
  }

  private fatal(error: Error): void {
    if (this.stopped) return;
    this.stop();
    this.callbacks.onFatal?.(error);
  }
}
