import { DataVersion } from './data-version.js';
import { EventCache } from './event-cache.js';
import { FacetsCache, type ExpiringValue } from './facets-cache.js';
import { FragmentCache } from './fragment-cache.js';
import { ResponseStore } from './response-store.js';

/**
 * Everything Marquee keeps in memory between requests, and the data version it is valid for.
 * `Row` is the mapped event type and `Facets` the filter choices (both owned by src/events).
 */
export interface Caches<Row extends object = object, Facets extends ExpiringValue = ExpiringValue> {
  /** Changes on writes to events (here, and announced by other instances). */
  dataVersion: DataVersion;
  /** Rendered feeds and pages, keyed by format + filter, valid per data version. */
  responses: ResponseStore;
  /** Each event's feed output (VEVENTs, feed items, API objects) per revision, as UTF-8. */
  feedItems: FragmentCache<Uint8Array>;
  /** Each event's HTML list markup per revision. */
  listItems: FragmentCache<string>;
  /** Mapped events per stored row version. */
  rows: EventCache<Row>;
  /** The list page's filter choices. */
  facets: FacetsCache<Facets>;
  /** Empties every cache, so that the next render is cold. The data version stays. */
  clear(): void;
}

/** CACHE_MAX_BYTES by default: what the caches below may hold in all. */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Builds the caches. With `otherWriters` (instances sharing a PostgreSQL database), nothing cached
 * is trusted until the change listener connects (see events-changed.ts). `maxBytes`
 * (CACHE_MAX_BYTES) is shared out: 40% for whole responses, which every request of a URL hits;
 * the rest for their compressed bodies, the per-event fragments and the mapped events that make
 * re-renders cheap. Every cache counts its keys and a per-entry overhead, so a flood of distinct
 * URLs cannot hold more than its share; mapped events count what `rowBytes` says of each (by
 * count alone without it).
 */
export function createCaches<Row extends object, Facets extends ExpiringValue>(
  options: { otherWriters?: boolean; maxBytes?: number; rowBytes?: (row: Row) => number } = {},
): Caches<Row, Facets> {
  const dataVersion = new DataVersion();
  if (options.otherWriters) dataVersion.setSeeingAllWrites(false);
  const maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
  const share = (fraction: number) => Math.floor(maxBytes * fraction);
  const caches: Omit<Caches<Row, Facets>, 'clear'> = {
    dataVersion,
    responses: new ResponseStore({ maxBytes: share(0.4), maxEncodedBytes: share(0.1) }),
    feedItems: new FragmentCache<Uint8Array>({ maxBytes: share(0.25) }),
    listItems: new FragmentCache<string>({ maxEntries: 20_000, maxBytes: share(0.05) }),
    rows: new EventCache<Row>({ maxBytes: share(0.2), sizeOf: options.rowBytes }),
    facets: new FacetsCache<Facets>(),
  };
  return {
    ...caches,
    clear() {
      caches.responses.clear();
      caches.feedItems.clear();
      caches.listItems.clear();
      caches.rows.clear();
      caches.facets.clear();
    },
  };
}
