import { describe, expect, it } from 'vitest';
import type { FacetsSnapshot } from '../../src/events/event-facets.js';
import { cachedFacets, createPageCaches } from '../../src/http/page-caches.js';

const snapshot = (city: string, validUntil: Date | null): FacetsSnapshot => ({
  facets: { cities: [city], genres: [], organizers: [] },
  validUntil,
});

describe('cachedFacets', () => {
  const end = new Date('2026-11-22T22:00:00.000Z');

  it('reloads when the data version changes or the first event ended, never on age alone', async () => {
    const caches = createPageCaches();
    let loads = 0;
    const load = (city: string) => async () => {
      loads += 1;
      return snapshot(city, end);
    };
    const at = (iso: string) => new Date(iso).getTime();

    expect(
      (await cachedFacets(caches, 1, at('2026-11-22T12:00:00Z'), load('A'))).facets.cities,
    ).toEqual(['A']);
    // Hours later, same data, before the first end: the same choices.
    expect(
      (await cachedFacets(caches, 1, at('2026-11-22T21:59:59Z'), load('B'))).facets.cities,
    ).toEqual(['A']);
    expect(loads).toBe(1);
    expect(
      (await cachedFacets(caches, 2, at('2026-11-22T21:59:59Z'), load('C'))).facets.cities,
    ).toEqual(['C']);
    expect(
      (await cachedFacets(caches, 2, at('2026-11-22T22:00:00Z'), load('D'))).facets.cities,
    ).toEqual(['D']);
    expect(loads).toBe(3);
  });

  it('forgets a failed load', async () => {
    const caches = createPageCaches();
    await expect(
      cachedFacets(caches, 1, 0, () => Promise.reject(new Error('database gone'))),
    ).rejects.toThrow('database gone');
    expect(
      (await cachedFacets(caches, 1, 0, async () => snapshot('A', null))).facets.cities,
    ).toEqual(['A']);
  });
});
