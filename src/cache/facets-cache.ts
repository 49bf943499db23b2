import { LRUCache } from 'lru-cache';

/** A value computed from the data that also goes out of date at a known instant. */
export interface ExpiringValue {
  /** When the value changes without a write (its first event ended); null: never. */
  validUntil: Date | null;
}

type Load<F> = () => Promise<F>;

interface Loaded<F> {
  value: F;
  /** The clock (epoch ms) when it was loaded. */
  loadedAt: number;
}

/**
 * The list page's filter choices, taken from every upcoming event: recomputed when a write may
 * have changed them (`version` is DataVersion.facets) or the first event they come from ended.
 * Both are facts of the data, not of this process's timing, so every instance sharing a database
 * renders the same choices. Concurrent requests share one load; a failed load is forgotten.
 */
export class FacetsCache<F extends ExpiringValue> {
  // One version is current at a time; the previous one is of no use once a newer one is asked for.
  // A load evicted (or cleared) while running still answers the requests waiting for it.
  private readonly entries = new LRUCache<number, Loaded<F>, { load: Load<F>; now: number }>({
    max: 1,
    ignoreFetchAbort: true,
    fetchMethod: async (_version, _stale, { context }) => ({
      value: await context.load(),
      loadedAt: context.now,
    }),
  });

  /**
   * The choices at `version` and `now` (epoch ms), loaded with `load` when missing or ended, or
   * when the clock went back since they were loaded (choices taken while it ran ahead, perhaps
   * empty, must not stay until it catches up again).
   */
  async get(version: number, now: number, load: Load<F>): Promise<F> {
    const context = { load, now };
    const loaded = await this.entries.forceFetch(version, { context });
    const { value } = loaded;
    const ended = value.validUntil !== null && now >= value.validUntil.getTime();
    if (!ended && now >= loaded.loadedAt) return value;
    return (await this.entries.forceFetch(version, { context, forceRefresh: true })).value;
  }

  /** Forgets the choices. */
  clear(): void {
    this.entries.clear();
  }
}
