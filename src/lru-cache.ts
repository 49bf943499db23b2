/**
 * A bounded least-recently-used map with string keys, bounded by entry count and, optionally,
 * by a total weight (for example characters of cached text).
 *
 * A hit only stamps the entry with a use counter; when a bound is exceeded, the least recently
 * used entries are dropped in one pass, down to a tenth below the bounds, so that neither a hit
 * nor a miss costs more than a few map operations on average.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; weight: number; used: number }>();
  private weight = 0;
  private clock = 0;

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
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    entry.used = ++this.clock;
    return entry.value;
  }

  /** Stores `value`, dropping the least recently used entries beyond the bounds. */
  set(key: string, value: V): void {
    this.delete(key);
    const weight = this.weigh(key, value);
    this.entries.set(key, { value, weight, used: ++this.clock });
    this.weight += weight;
    if (this.entries.size > this.maxEntries || this.weight > this.maxWeight) this.evict();
  }

  /** Removes `key`; true when it was present. */
  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.weight -= entry.weight;
    return true;
  }

  /** Empties the cache. */
  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }

  private evict(): void {
    const maxEntries = this.maxEntries - Math.floor(this.maxEntries / 10);
    const maxWeight = this.maxWeight * 0.9;
    const byAge = [...this.entries].sort((a, b) => a[1].used - b[1].used);
    for (const [key] of byAge) {
      if (this.entries.size <= maxEntries && this.weight <= maxWeight) break;
      this.delete(key);
    }
  }
}
