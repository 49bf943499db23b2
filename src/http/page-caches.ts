import type { FacetsSnapshot } from '../events/event-facets.js';
import { LruCache } from '../lru-cache.js';

/** What HTML pages keep between renders, beside the response cache. */
export interface PageCaches {
  /** Each event's list markup, per revision: a change to one event re-renders that one only. */
  items: LruCache<string>;
  /** The list page's filter choices, taken from every upcoming event. */
  facets: { version: number; value: Promise<FacetsSnapshot> } | null;
}

export function createPageCaches(): PageCaches {
  return {
    items: new LruCache<string>(
      20_000,
      16 * 1024 * 1024,
      (key, value) => key.length + value.length,
    ),
    facets: null,
  };
}

/**
 * The filter choices, recomputed when a write may have changed them (`version` is
 * DataVersion.facets) or the first event they come from ended. Both are facts of the data, not of
 * this process's timing, so every instance sharing a database renders the same choices.
 */
export async function cachedFacets(
  caches: PageCaches,
  version: number,
  now: number,
  load: () => Promise<FacetsSnapshot>,
): Promise<FacetsSnapshot> {
  const memo = caches.facets;
  if (memo && memo.version === version) {
    const snapshot = await memo.value.catch(() => null);
    if (snapshot && (snapshot.validUntil === null || now < snapshot.validUntil.getTime())) {
      return snapshot;
    }
  }
  const value = load();
  const entry = { version, value };
  value.catch(() => {
    if (caches.facets === entry) caches.facets = null;
  });
  caches.facets = entry;
  return value;
}
