import type { KyselyPlugin } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { EventCache } from '../../src/cache/event-cache.js';
import { findEvents, type EventWindow } from '../../src/events/event-reads.js';
import { parseEventFilter } from '../../src/events/filter.js';
import { installedAt } from '../../src/http/feed-handlers.js';
import { CityAliases } from '../../src/events/text-key.js';
import { SOURCE_NAMES } from '../../src/sources/index.js';
import { FIXED_NOW, fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Re-rendering after one event changed reuses every other event's row and output text: the
 * results must be exactly what a cold read and render give.
 */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

const FEED_PATHS = ['/events.ics', '/events.rss', '/events.atom', '/events.json', '/api/events'];

async function appWithEvents(): Promise<TestApp> {
  const test = await startTestApp({ now: () => FIXED_NOW });
  expect((await test.postStager(fixture('stager/update-events.json'))).status).toBe(202);
  expect(
    (await test.postEventport(fixture('eventport/post-upcoming-munich-house.json'))).status,
  ).toBe(202);
  await test.settle();
  return test;
}

/** The Stager fixture with its first event renamed and updated later. */
function renamedFirstEvent(name: string): string {
  const message = JSON.parse(fixture('stager/update-events.json').toString('utf8')) as {
    messageContent: { events: { name: string; updatedAt: string }[] };
  };
  const first = message.messageContent.events[0];
  if (first === undefined) throw new Error('fixture changed');
  first.name = name;
  first.updatedAt = '2026-11-21T10:00:00+01:00';
  message.messageContent.events = [first];
  return JSON.stringify(message);
}

function allFilter() {
  return parseEventFilter(
    {},
    { defaultLimit: 100, timeZone: 'Europe/Amsterdam', sources: SOURCE_NAMES },
  );
}

function eventWindow(test: TestApp): EventWindow {
  return {
    now: FIXED_NOW,
    pastDays: test.ctx.config.pastDays,
    timeZone: test.ctx.config.timeZone,
    cityAliases: new CityAliases(test.ctx.config.cityAliases),
    installedAt: installedAt(test.ctx),
  };
}

async function bodies(test: TestApp): Promise<string[]> {
  return Promise.all(
    FEED_PATHS.map(async (path) =>
      (await test.get(path, { 'accept-encoding': 'identity' })).text(),
    ),
  );
}

describe('re-rendering after one event changed', () => {
  it('serves the same bytes as a render with every cache emptied', async () => {
    app = await appWithEvents();
    await bodies(app);
    expect((await app.postStager(renamedFirstEvent('Night Tapes (late show)'))).status).toBe(202);
    await app.settle();

    const warm = await bodies(app);
    expect(warm.every((body) => body.includes('Night Tapes (late show)'))).toBe(true);
    app.ctx.caches.clear();
    expect(await bodies(app)).toEqual(warm);
  });

  it('re-reads only the changed event, giving what an uncached read gives', async () => {
    app = await appWithEvents();
    const db = app.ctx.database.db;
    const cache = new EventCache();
    const before = await findEvents(db, allFilter(), eventWindow(app), cache);
    expect(before.events.length).toBeGreaterThan(2);

    expect((await app.postStager(renamedFirstEvent('Night Tapes (late show)'))).status).toBe(202);
    await app.settle();
    const after = await findEvents(db, allFilter(), eventWindow(app), cache);
    expect(after).toEqual(await findEvents(db, allFilter(), eventWindow(app)));
    for (const event of after.events) {
      const previous = before.events.find((candidate) => candidate.id === event.id);
      if (event.title === 'Night Tapes (late show)') expect(event).not.toBe(previous);
      else expect(event).toBe(previous);
    }
  });

  it('stays consistent when a write lands between reading the page and loading its rows', async () => {
    app = await appWithEvents();
    const test = app;
    const filter = allFilter();
    const page = await findEvents(test.ctx.database.db, filter, eventWindow(test));
    const target = page.events[1];
    if (target === undefined) throw new Error('fixture changed');

    // After the first page read, another writer changes one of its events.
    let pageReads = 0;
    const interloper: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        const isPageRead = args.result.rows.some(
          (row) =>
            typeof row === 'object' &&
            row !== null &&
            'revision' in row &&
            'effective_end_at' in row &&
            !('title' in row),
        );
        if (isPageRead && ++pageReads === 1) {
          await test.query(
            "update events set title = 'Changed meanwhile', revision = revision + 1, last_changed_at = ? where id = ?",
            '2026-11-22T12:00:01.000Z',
            target.id,
          );
        }
        return args.result;
      },
    };
    const result = await findEvents(
      test.ctx.database.db.withPlugin(interloper),
      filter,
      eventWindow(test),
      new EventCache(),
    );
    expect(pageReads).toBeGreaterThan(1);
    expect(result).toEqual(await findEvents(test.ctx.database.db, filter, eventWindow(test)));
    expect(result.events.find((event) => event.id === target.id)?.title).toBe('Changed meanwhile');
    expect(result.lastModified).toEqual(new Date('2026-11-22T12:00:01.000Z'));
  });

  it('summarizes every match whether or not the page holds them all', async () => {
    app = await appWithEvents();
    const all = await findEvents(app.ctx.database.db, allFilter(), eventWindow(app));
    expect(all.total).toBe(all.events.length);
    for (const limit of [all.total - 1, all.total]) {
      const page = await findEvents(
        app.ctx.database.db,
        { ...allFilter(), limit },
        eventWindow(app),
        new EventCache(),
      );
      expect(page).toEqual({ ...all, events: all.events.slice(0, limit) });
    }
  });

  it('reads the summary of a page past the end', async () => {
    app = await appWithEvents();
    const all = await findEvents(app.ctx.database.db, allFilter(), eventWindow(app));
    const past = await findEvents(
      app.ctx.database.db,
      { ...allFilter(), offset: 50 },
      eventWindow(app),
      new EventCache(),
    );
    expect(past).toEqual({ ...all, events: [] });
  });

  it('reloads the filter choices only after writes that may change them', async () => {
    app = await appWithEvents();
    const test = app;
    const choices = async () => {
      const page = await (await test.get('/', { 'accept-encoding': 'identity' })).text();
      return page.includes('>Utrecht<');
    };
    expect(await choices()).toBe(false);
    const facets = test.ctx.caches.dataVersion.facets;

    expect((await test.postStager(renamedFirstEvent('Renamed only'))).status).toBe(202);
    await test.settle();
    expect(test.ctx.caches.dataVersion.facets).toBe(facets);

    const moved = JSON.parse(renamedFirstEvent('Moved')) as {
      messageContent: { events: { location: { city: string }; updatedAt: string }[] };
    };
    const event = moved.messageContent.events[0]!;
    event.location.city = 'Utrecht';
    event.updatedAt = '2026-11-21T11:00:00+01:00';
    expect((await test.postStager(JSON.stringify(moved))).status).toBe(202);
    await test.settle();
    expect(test.ctx.caches.dataVersion.facets).not.toBe(facets);
    expect(await choices()).toBe(true);
  });
});
