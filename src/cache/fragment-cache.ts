import { LRUCache } from 'lru-cache';
import { keyOfEvent, type EventRevision } from './revision-key.js';

/** What an entry holds besides its key and value bytes, counted against the bound. */
const ENTRY_OVERHEAD_BYTES = 64;

/**
 * Per-event output, keyed by a namespace (the output kind and everything else it depends on) and
 * the event's revision, so that after one event changed a render redoes that event only. Feed
 * items are kept as UTF-8 bytes, HTML list items as text.
 */
export class FragmentCache<V extends string | Uint8Array> {
  private readonly entries: LRUCache<string, V>;
  /** Names are built from settings, not requests; bounded by their bytes all the same. */
  private readonly namespaces = new LRUCache<string, string>({
    max: 1000,
    maxSize: 1024 * 1024,
    sizeCalculation: (prefix, name) => ENTRY_OVERHEAD_BYTES + name.length + prefix.length,
  });
  private namespaceCount = 0;

  constructor(options: { maxEntries?: number; maxBytes?: number } = {}) {
    this.entries = new LRUCache<string, V>({
      max: options.maxEntries ?? 50_000,
      maxSize: options.maxBytes ?? 32 * 1024 * 1024,
      sizeCalculation: (value, key) =>
        ENTRY_OVERHEAD_BYTES +
        key.length +
        (typeof value === 'string' ? value.length : value.byteLength),
    });
  }

  /**
   * A short key prefix standing for `name`, so that entry keys stay short. Never reused for
   * another name, so entries of a forgotten name are only orphaned (and age out).
   */
  namespace(name: string): string {
    let prefix = this.namespaces.get(name);
    if (prefix === undefined) {
      prefix = `${++this.namespaceCount}`;
      this.namespaces.set(name, prefix);
    }
    return prefix;
  }

  /** The key of `event`'s current revision within `namespace`. */
  keyOf(namespace: string, event: EventRevision): string {
    return `${namespace}:${keyOfEvent(event)}`;
  }

  /** The cached fragment under `key`, marking it recently used. */
  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Stores a fragment, dropping the least recently used beyond the bounds. */
  set(key: string, value: V): void {
    this.entries.set(key, value);
  }

  /** Number of cached fragments. */
  get size(): number {
    return this.entries.size;
  }

  /** Empties the cache. */
  clear(): void {
    this.entries.clear();
    this.namespaces.clear();
  }
}
