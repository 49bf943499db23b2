import { LRUCache } from 'lru-cache';
import { eventRevisionKey } from './revision-key.js';

/** What an entry holds besides its key and the event's own size (`sizeOf`). */
const ENTRY_OVERHEAD_BYTES = 64;

/**
 * Mapped events by revision, so that reading a page again after one event changed loads and maps
 * only that event's row. `stamp` names the stored row version (the repository's stamp columns);
 * an entry of an older revision is never returned and ages out. Bounded by count and, with
 * `sizeOf`, by bytes: descriptions of up to 64 KB each must not let a few thousand events hold
 * hundreds of megabytes.
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

  constructor(
    options: { maxEntries?: number; maxBytes?: number; sizeOf?: (event: E) => number } = {},
  ) {
    const { maxEntries = 10_000, maxBytes, sizeOf } = options;
    this.entries =
      maxBytes === undefined || sizeOf === undefined
        ? new LRUCache<string, E>({ max: Math.max(1, maxEntries) })
        : new LRUCache<string, E>({
            max: Math.max(1, maxEntries),
            maxSize: maxBytes,
            sizeCalculation: (event, key) =>
              Math.min(maxBytes, ENTRY_OVERHEAD_BYTES + key.length + sizeOf(event)),
          });
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
