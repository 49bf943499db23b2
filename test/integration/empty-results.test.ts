import { spawnSync } from 'node:child_process';
import ICAL from 'ical.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXED_NOW, fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

/** A filter that matches nothing: the calendar and feeds stay valid and carry real dates. */

const SYSTEM_PYTHON = '/usr/bin/python3';
const hasPythonIcalendar =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import icalendar'], { stdio: 'ignore' }).status === 0;
if (!hasPythonIcalendar) {
  console.warn('empty-results: skipping Python icalendar (apt-get install python3-icalendar)');
}

// Python icalendar parses the calendar and prints its components' names, one a line.
const PYTHON_COMPONENTS = [
  'import sys',
  'from icalendar import Calendar',
  'calendar = Calendar.from_ical(sys.stdin.buffer.read())',
  'print("\\n".join(component.name for component in calendar.subcomponents))',
].join('\n');

const INSTALLED_AT = new Date(`${FIXED_NOW.toISOString().slice(0, 10)}T00:00:00.000Z`);

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

describe('a filter that matches no event', () => {
  it('gives a calendar with a component that ical.js and Python icalendar read', async () => {
    app = await startTestApp();
    const response = await app.get('/events.ics?city=Nowhere');
    expect(response.status).toBe(200);
    const text = await response.text();

    const calendar = new ICAL.Component(ICAL.parse(text));
    expect(calendar.getAllSubcomponents('vevent')).toHaveLength(0);
    const zones = calendar.getAllSubcomponents('vtimezone');
    expect(zones.map((zone) => zone.getFirstPropertyValue('tzid'))).toEqual([
      app.ctx.config.timeZone,
    ]);

    if (hasPythonIcalendar) {
      const parsed = spawnSync(SYSTEM_PYTHON, ['-c', PYTHON_COMPONENTS], {
        input: text,
        encoding: 'utf8',
      });
      expect(parsed.status, parsed.stderr).toBe(0);
      expect(parsed.stdout.trim().split('\n')).toEqual(['VTIMEZONE']);
    }
  });

  it('dates the feeds from the installation, not 1970 or the clock', async () => {
    let now = FIXED_NOW;
    app = await startTestApp({ now: () => now });
    const lastModifieds = new Set<string>();
    const check = async (path: string) => {
      const response = await app!.get(path);
      expect(response.status).toBe(200);
      lastModifieds.add(response.headers.get('last-modified') ?? '');
      return response.text();
    };
    const rss = await check('/events.rss?city=Nowhere');
    const atom = await check('/events.atom?city=Nowhere');
    await check('/events.ics?city=Nowhere');
    await check('/events.json?city=Nowhere');
    await check('/api/events?city=Nowhere');
    await check('/?city=Nowhere');
    expect([...lastModifieds]).toEqual([INSTALLED_AT.toUTCString()]);
    expect(rss).toContain(`<lastBuildDate>${INSTALLED_AT.toUTCString()}</lastBuildDate>`);
    expect(atom).toContain(`<updated>${INSTALLED_AT.toISOString()}</updated>`);

    // A day later the empty result still says the same: the date is the data's, not the clock's.
    now = new Date(FIXED_NOW.getTime() + 86_400_000);
    app.ctx.caches.clear();
    const later = await app.get('/events.rss?city=Nowhere');
    expect(later.headers.get('last-modified')).toBe(INSTALLED_AT.toUTCString());
  });

  it('moves Last-Modified forward once an event matches', async () => {
    app = await startTestApp();
    const empty = await app.get('/events.ics?city=Amsterdam');
    const before = new Date(empty.headers.get('last-modified')!).getTime();
    expect(before).toBe(INSTALLED_AT.getTime());
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await app.settle();
    const after = new Date(
      (await app.get('/events.ics?city=Amsterdam')).headers.get('last-modified')!,
    ).getTime();
    expect(after).toBeGreaterThan(before);
  });
});
