import { describe, expect, it } from 'vitest';
import { FacetsCache } from '../../src/cache/facets-cache.js';
import type { FacetsSnapshot } from '../../src/events/event-facets.js';

const snapshot = (city: string, validUntil: Date | null): FacetsSnapshot => ({
  facets: { cities: [city], genres: [], organizers: [] },
  validUntil,
});

describe('FacetsCache', () => {
  const end = new Date('2026-11-22T22:00:00.000Z');

  it('reloads when the data version changes or the first event ended, never on age alone', async () => {
    const cache = new FacetsCache<FacetsSnapshot>();
    let loads = 0;
    const load = (city: string) => async () => {
      loads += 1;
      return snapshot(city, end);
    };
    const at = (iso: string) => new Date(iso).getTime();

    expect((await cache.get(1, at('2026-11-22T12:00:00Z'), load('A'))).facets.cities).toEqual([
      'A',
    ]);
    // Hours later, same data, before the first end: the same choices.
    expect((await cache.get(1, at('2026-11-22T21:59:59Z'), load('B'))).facets.cities).toEqual([
      'A',
    ]);
    expect(loads).toBe(1);
    expect((await cache.get(2, at('2026-11-22T21:59:59Z'), load('C'))).facets.cities).toEqual([
      'C',
    ]);
    expect((await cache.get(2, at('2026-11-22T22:00:00Z'), load('D'))).facets.cities).toEqual([
      'D',
    ]);
    expect(loads).toBe(3);
  });

  it('forgets a failed load', async () => {
    const cache = new FacetsCache<FacetsSnapshot>();
    await expect(cache.get(1, 0, () => Promise.reject(new Error('database gone')))).rejects.toThrow(
      'database gone',
    );
    expect((await cache.get(1, 0, async () => snapshot('A', null))).facets.cities).toEqual(['A']);
  });

  it('shares one load between concurrent requests, and answers them when cleared meanwhile', async () => {
    const cache = new FacetsCache<FacetsSnapshot>();
    let loads = 0;
    let finish: (value: FacetsSnapshot) => void = () => undefined;
    const load = () => {
      loads += 1;
      return new Promise<FacetsSnapshot>((resolve) => (finish = resolve));
    };
    const first = cache.get(1, 0, load);
    const second = cache.get(1, 0, load);
    cache.clear();
    finish(snapshot('A', null));
    expect((await first).facets.cities).toEqual(['A']);
    expect((await second).facets.cities).toEqual(['A']);
    expect(loads).toBe(1);
  });
});
