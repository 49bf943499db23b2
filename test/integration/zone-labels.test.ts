import { afterEach, describe, expect, it } from 'vitest';
import { stagerEvent, stagerUpdate } from '../helpers/page-data.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Times shown as text read as on the event's page and in the calendar: an event whose zone
 * reads another clock than TIMEZONE is shown in its own zone, labelled; the others as always.
 */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

const BRUNCH = 'New York Brunch';
const ORGANIZATION = { id: 5150, name: 'Zones' };

async function appWithZones(): Promise<TestApp> {
  const test = await startTestApp({ env: { TIMEZONE: 'Europe/Berlin' } });
  const body = stagerUpdate(ORGANIZATION, [
    stagerEvent(515001, {
      name: BRUNCH,
      startsAt: '2026-12-13T11:00:00-05:00',
      endsAt: '2026-12-13T14:00:00-05:00',
      timeZone: 'America/New_York',
      location: { name: 'Sunny Side', city: 'New York', country: 'US' },
    }),
    // Europe/Amsterdam reads the same clock as Europe/Berlin: no label.
    stagerEvent(515002, { name: 'Amsterdam Night' }),
  ]);
  expect((await test.postStager(body)).status).toBe(202);
  await test.settle();
  return test;
}

async function text(test: TestApp, path: string): Promise<string> {
  const response = await test.get(path);
  expect(response.status, path).toBe(200);
  return response.text();
}

describe('times with their zone', () => {
  it('titles feed items in the event zone with its abbreviation', async () => {
    app = await appWithZones();
    const brunch = `Sun 13 Dec 11:00 EST · ${BRUNCH} · Sunny Side, New York`;
    const night = 'Sat 5 Dec 20:30 · Amsterdam Night · Paradiso Noord, Amsterdam';
    for (const path of ['/events.rss', '/events.atom']) {
      const feed = await text(app, path);
      expect(feed, path).toContain(`<title>${brunch}</title>`);
      expect(feed, path).toContain(`<title>${night}</title>`);
      expect(feed, path).not.toContain('17:00');
    }
    const json = JSON.parse(await text(app, '/events.json')) as { items: { title: string }[] };
    expect(json.items.map((item) => item.title)).toEqual([night, brunch]);
  });

  it('shows list and embed times in the event zone with its abbreviation', async () => {
    app = await appWithZones();
    const list = await text(app, '/');
    expect(list).toContain('datetime="2026-12-13T11:00:00-05:00">11:00–14:00 EST</time>');
    expect(list).toContain('datetime="2026-12-05T20:30:00+01:00">20:30–23:00</time>');
    const embed = await text(app, '/embed');
    expect(embed).toContain('datetime="2026-12-13T11:00:00-05:00">11:00 EST</time>');
    expect(embed).toContain('datetime="2026-12-05T20:30:00+01:00">20:30</time>');
    // The event page says the same.
    const page = await text(app, '/events/stager-515001');
    expect(page).toContain('11:00–14:00');
    expect(page).toContain('(America/New_York time)');
  });
});
