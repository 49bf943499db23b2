import { LRUCache } from 'lru-cache';
import { eventRevisionKey } from './revision-key.js';

/**
 * Mapped events by revision, so that reading a page again after one event changed loads and maps
 * only that event's row. `stamp` names the stored row version (the repository's stamp columns);
 * an entry of an older revision is never returned and ages out.
 */
export class EventCache<E extends object = object> {
  // Typed by the methods used (not as LRUCache<string, E>, which is invariant in E), so that an
  // EventCache<Event> is accepted where the repository asks for any EventCache.
  private readonly entries: {
    get(key: string): E | undefined;
    set(key: string, value: E): unknown;
    clear(): void;
    readonly size: number;
  };

  constructor(maxEntries = 10_000) {
    this.entries = new LRUCache<string, E>({ max: Math.max(1, maxEntries) });
  }

  /** Number of cached events. */
  get size(): number {
    return this.entries.size;
  }

  /** The cached event stored as `stamp`, if any. */
  get(id: string, stamp: string): E | undefined {
    return this.entries.get(eventRevisionKey(id, stamp));
  }

  /** Stores the event mapped from the row version `stamp`. */
  set(id: string, stamp: string, event: E): void {
    this.entries.set(eventRevisionKey(id, stamp), event);
  }

  /** Empties the cache. */
  clear(): void {
    this.entries.clear();
  }
}
