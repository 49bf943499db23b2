/**
 * A bounded least-recently-used map with string keys, bounded by entry count and, optionally,
 * by a total weight (for example characters of cached text).
 */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();
  private weight = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxWeight = Number.POSITIVE_INFINITY,
    private readonly weigh: (key: string, value: V) => number = () => 0,
  ) {}

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /** Total weight of the entries. */
  get totalWeight(): number {
    return this.weight;
  }

  /** The value for `key`, marking it recently used. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** Stores `value`, dropping the least recently used entries beyond the bounds. */
  set(key: string, value: V): void {
    this.delete(key);
    this.entries.set(key, value);
    this.weight += this.weigh(key, value);
    while (this.entries.size > this.maxEntries || this.weight > this.maxWeight) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  /** Removes `key`; true when it was present. */
  delete(key: string): boolean {
    const value = this.entries.get(key);
    if (value === undefined) return false;
    this.entries.delete(key);
    this.weight -= this.weigh(key, value);
    return true;
  }

  /** Empties the cache. */
  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }
}
