import type { Facets } from '../events/event-repository.js';
import { LruCache } from '../lru-cache.js';

/** What HTML pages keep between renders, beside the response cache. */
export interface PageCaches {
  /** Each event's list markup, per revision: a change to one event re-renders that one only. */
  items: LruCache<string>;
  /** The list page's filter choices, taken from every upcoming event. */
  facets: { version: number; at: number; value: Promise<Facets> } | null;
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
 * The filter choices, recomputed when the data changed (at most every 10 s under a stream of
 * writes, since they scan every upcoming event) and at least every minute (events end).
 */
export function cachedFacets(
  caches: PageCaches,
  version: number,
  now: number,
  load: () => Promise<Facets>,
): Promise<Facets> {
  const memo = caches.facets;
  const age = memo ? now - memo.at : Number.POSITIVE_INFINITY;
  if (!memo || age > 60_000 || (memo.version !== version && age > 10_000)) {
    const value = load();
    const entry = { version, at: now, value };
    value.catch(() => {
      if (caches.facets === entry) caches.facets = null;
    });
    caches.facets = entry;
    return value;
  }
  return memo.value;
}
