import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distanceKm } from '../../src/events/filter-predicate.js';
import { PARADISO, stagerEvent, stagerUpdate } from '../helpers/page-data.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * `days`, `order` and `near`/`radius` over HTTP in every format: relative windows that move on
 * at midnight in TIMEZONE, announcements beyond `limit`, and great-circle radius searches.
 */

const PARADISO_POINT = { latitude: 52.3925, longitude: 4.9168 };
const UTRECHT_POINT = { latitude: 52.0907, longitude: 5.1214 };
const BERLIN_POINT = { latitude: 52.5125, longitude: 13.4197 };

// Tuesday 1 December 2026, 11:00 in Amsterdam: today is day 1 of `days`.
let clock = new Date('2026-12-01T10:00:00.000Z');
let app: TestApp;

const venue = (city: string, point: { latitude: number; longitude: number } | null) => ({
  name: `${city} Hall`,
  city,
  country: city === 'Berlin' ? 'DE' : 'NL',
  ...(point ?? {}),
});

beforeAll(async () => {
  app = await startTestApp({ now: () => new Date(clock.getTime()) });
  const early = [
    stagerEvent(910001, {
      name: 'Alpha Tonight Amsterdam',
      startsAt: '2026-12-01T20:00:00+01:00',
      endsAt: '2026-12-01T23:00:00+01:00',
      location: venue('Amsterdam', PARADISO_POINT),
    }),
    stagerEvent(910002, {
      name: 'Bravo Nowhere Known',
      startsAt: '2026-12-02T20:00:00+01:00',
      endsAt: '2026-12-02T23:00:00+01:00',
      location: venue('Amsterdam', null),
    }),
    stagerEvent(910003, {
      name: 'Charlie Utrecht Sunday',
      startsAt: '2026-12-07T21:00:00+01:00',
      endsAt: '2026-12-07T23:30:00+01:00',
      location: venue('Utrecht', UTRECHT_POINT),
    }),
    stagerEvent(910004, {
      name: 'Delta Monday Amsterdam',
      startsAt: '2026-12-08T20:00:00+01:00',
      endsAt: '2026-12-08T23:00:00+01:00',
      location: venue('Amsterdam', PARADISO_POINT),
    }),
  ];
  expect((await app.postStager(stagerUpdate(PARADISO, early))).status).toBe(202);
  await app.settle();
  // Announced a minute later, for next autumn: last by start, first by announcement.
  clock = new Date(clock.getTime() + 60_000);
  const late = stagerEvent(910005, {
    name: 'Echo Berlin Autumn',
    startsAt: '2027-10-01T20:00:00+02:00',
    endsAt: '2027-10-01T23:00:00+02:00',
    timeZone: 'Europe/Berlin',
    location: venue('Berlin', BERLIN_POINT),
  });
  expect((await app.postStager(stagerUpdate(PARADISO, [late]))).status).toBe(202);
  await app.settle();
});
afterAll(async () => {
  await app.close();
});

const TITLES = {
  alpha: 'Alpha Tonight Amsterdam',
  bravo: 'Bravo Nowhere Known',
  charlie: 'Charlie Utrecht Sunday',
  delta: 'Delta Monday Amsterdam',
  echo: 'Echo Berlin Autumn',
};
type Name = keyof typeof TITLES;

const FORMATS = [
  '/events.ics',
  '/events.rss',
  '/events.atom',
  '/events.json',
  '/api/events',
  '/',
  '/embed',
] as const;

/** The seeded events an output lists, in the order of their titles in the body. */
async function listed(path: string): Promise<Name[]> {
  const response = await app.get(path);
  const body = await response.text();
  expect(response.status, `${path}: ${body.slice(0, 300)}`).toBe(200);
  return (Object.keys(TITLES) as Name[])
    .filter((name) => body.includes(TITLES[name]))
    .sort((a, b) => body.indexOf(TITLES[a]) - body.indexOf(TITLES[b]));
}

const sorted = (names: Name[]) => [...names].sort();

describe('days', () => {
  it('keeps events that start from today to the end of day N in TIMEZONE, in every format', async () => {
    for (const format of FORMATS) {
      const separator = format.includes('?') ? '&' : '?';
      expect(sorted(await listed(`${format}${separator}days=7`)), format).toEqual([
        'alpha',
        'bravo',
        'charlie',
      ]);
      expect(sorted(await listed(`${format}?days=1`)), format).toEqual(['alpha']);
      expect(sorted(await listed(`${format}?days=8`)), format).toEqual([
        'alpha',
        'bravo',
        'charlie',
        'delta',
      ]);
    }
  });

  it('intersects with from and to, and with the other filters', async () => {
    expect(sorted(await listed('/events.rss?days=30&to=2026-12-05'))).toEqual(['alpha', 'bravo']);
    expect(sorted(await listed('/events.rss?days=7&from=2026-12-05'))).toEqual(['charlie']);
    expect(await listed('/events.rss?days=7&from=2026-12-20')).toEqual([]);
    expect(sorted(await listed('/events.rss?days=7&city=Amsterdam'))).toEqual(['alpha', 'bravo']);
  });

  it('describes the window in feed titles', async () => {
    const rss = await (await app.get('/events.rss?days=7&city=Utrecht')).text();
    expect(rss).toContain('Events in Utrecht in the next 7 days');
    const json = (await (await app.get('/events.json?days=1')).json()) as { title: string };
    expect(json.title).toBe('Marquee: Events today');
  });

  it('moves on at midnight in TIMEZONE without a write, through the response cache', async () => {
    const saved = clock;
    try {
      // With `from`, no event leaves this window: only the day boundary changes it.
      const path = '/events.ics?days=7&from=2026-12-03';
      const first = await app.get(path);
      const etag = first.headers.get('etag') ?? '';
      expect(await first.text()).not.toContain(TITLES.delta);
      // 23:59:59 in Amsterdam: still Tuesday, the cached calendar stands.
      clock = new Date('2026-12-01T22:59:59.000Z');
      expect((await app.get(path, { 'if-none-match': etag })).status).toBe(304);
      // Midnight in Amsterdam (23:00 UTC): Monday 8 December is now the seventh day.
      clock = new Date('2026-12-01T23:00:00.000Z');
      const after = await app.get(path, { 'if-none-match': etag });
      expect(after.status).toBe(200);
      expect(after.headers.get('etag')).not.toBe(etag);
      expect(await after.text()).toContain(TITLES.delta);
      const lastModified = new Date(after.headers.get('last-modified') ?? 0);
      expect(lastModified.getTime()).toBeGreaterThanOrEqual(
        new Date('2026-12-01T23:00:00.000Z').getTime(),
      );
      // Alpha ended at 23:00 on Tuesday (PAST_DAYS is 0).
      for (const format of FORMATS) {
        expect(sorted(await listed(`${format}?days=7`)), format).toEqual([
          'bravo',
          'charlie',
          'delta',
        ]);
      }
    } finally {
      clock = saved;
    }
  });
});

describe('order', () => {
  it('gives the newest announcement first, beyond limit, on RSS, Atom, JSON Feed and the API', async () => {
    for (const format of ['/events.rss', '/events.atom', '/events.json', '/api/events']) {
      expect(await listed(`${format}?limit=2`), format).toEqual(['alpha', 'bravo']);
      expect(await listed(`${format}?limit=2&order=start`), format).toEqual(['alpha', 'bravo']);
      const announced = await listed(`${format}?limit=2&order=announced`);
      expect(announced[0], format).toBe('echo');
      expect(announced, format).toHaveLength(2);
    }
    // Same first-seen instant: the id breaks the tie, newest id first.
    expect(await listed('/api/events?order=announced')).toEqual([
      'echo',
      'delta',
      'charlie',
      'bravo',
      'alpha',
    ]);
  });

  it('selects by announcement in calendars and pages too, shown there by start', async () => {
    expect(sorted(await listed('/events.ics?limit=1&order=announced'))).toEqual(['echo']);
    expect(await listed('/?limit=2&order=announced')).toEqual(['delta', 'echo']);
    expect(await listed('/embed?limit=2&order=announced')).toEqual(['delta', 'echo']);
  });

  it('names announcement feeds as such', async () => {
    const atom = await (await app.get('/events.atom?order=announced')).text();
    expect(atom).toContain('<title>Marquee: New announcements: Events</title>');
    expect(atom).toContain('events.atom?order=announced');
  });
});

describe('near and radius', () => {
  it('measures Amsterdam to Utrecht as about 36 km', () => {
    const km = distanceKm(PARADISO_POINT, UTRECHT_POINT);
    expect(km).toBeGreaterThan(36.3);
    expect(km).toBeLessThan(36.4);
    expect(distanceKm(PARADISO_POINT, BERLIN_POINT)).toBeGreaterThan(500);
  });

  it('keeps events within the great-circle radius, never those without coordinates', async () => {
    const near = `near=${PARADISO_POINT.latitude},${PARADISO_POINT.longitude}`;
    for (const format of FORMATS) {
      expect(sorted(await listed(`${format}?${near}&radius=30`)), format).toEqual([
        'alpha',
        'delta',
      ]);
      expect(sorted(await listed(`${format}?${near}&radius=40`)), format).toEqual([
        'alpha',
        'charlie',
        'delta',
      ]);
      // The default radius is 25 km.
      expect(sorted(await listed(`${format}?${near}`)), format).toEqual(['alpha', 'delta']);
    }
    // 500 km does not reach Berlin (about 580 km away), and combines with days.
    expect(sorted(await listed(`/events.rss?${near}&radius=500`))).toEqual([
      'alpha',
      'charlie',
      'delta',
    ]);
    expect(sorted(await listed(`/events.rss?${near}&radius=40&days=7`))).toEqual([
      'alpha',
      'charlie',
    ]);
    expect(await listed('/events.rss?near=52.5,13.4&radius=10')).toEqual(['echo']);
    // Around Utrecht, inclusion follows the exact distance, not the bounding box.
    expect(sorted(await listed('/events.rss?near=52.0907,5.1214&radius=36.4'))).toEqual([
      'alpha',
      'charlie',
      'delta',
    ]);
    expect(sorted(await listed('/events.rss?near=52.0907,5.1214&radius=36.3'))).toEqual([
      'charlie',
    ]);
  });

  it('describes the radius and keeps it in links', async () => {
    const rss = await (await app.get('/events.rss?near=52.0907,5.1214&radius=40')).text();
    expect(rss).toContain('Events within 40 km of 52.0907, 5.1214');
    const html = await (await app.get('/?near=52.0907,5.1214&radius=40')).text();
    expect(html).toContain('events.rss?near=52.0907%2C5.1214&amp;radius=40');
    expect(html).toContain('<input type="hidden" name="near" value="52.0907,5.1214">');
    expect(html).toContain('<input type="hidden" name="radius" value="40">');
  });
});

describe('the filter form and subscribe panel', () => {
  it('offers next 7 and 30 days and the announcement feeds of the filter', async () => {
    const html = await (await app.get('/?city=Amsterdam&days=7')).text();
    expect(html).toContain('<option value="7" selected>Next 7 days</option>');
    expect(html).toContain('<option value="30">Next 30 days</option>');
    for (const path of ['events.rss', 'events.atom', 'events.json']) {
      expect(html).toContain(
        `href="https://events.example.org/${path}?city=Amsterdam&amp;days=7&amp;order=announced"`,
      );
    }
    const other = await (await app.get('/?days=14')).text();
    expect(other).toContain('<option value="14" selected>Next 14 days</option>');
  });
});

describe('bad values', () => {
  const cases: [string, string][] = [
    ['days=0', '"days" must be a whole number from 1 to 366'],
    ['days=367', '"days" must be a whole number from 1 to 366'],
    ['days=week', '"days" must be a whole number from 1 to 366'],
    ['order=newest', '"order" must be "start"'],
    ['near=91,0', '"near" latitude must be from -90 to 90'],
    ['near=0,180.5', '"near" longitude must be from -180 to 180'],
    ['near=amsterdam', '"near" must be a latitude and longitude'],
    ['near=52.3', '"near" must be a latitude and longitude'],
    ['near=52,4&near=53,5', '"near" must be a latitude and longitude'],
    ['near=52,4&radius=0', '"radius" must be a number of kilometres above 0 and at most 500'],
    ['near=52,4&radius=-3', '"radius" must be a number of kilometres above 0 and at most 500'],
    ['near=52,4&radius=500.1', '"radius" must be a number of kilometres above 0 and at most 500'],
    ['radius=10', '"radius" needs "near"'],
  ];
  it.each(cases)('%s answers 400 in every format', async (query, message) => {
    for (const format of FORMATS) {
      const response = await app.get(`${format}?${query}`);
      expect(response.status, `${format}?${query}`).toBe(400);
      const body = await response.text();
      const text = body.replaceAll('&quot;', '"').replaceAll('\\"', '"');
      expect(text, `${format}?${query}`).toContain(message);
    }
  });
});
