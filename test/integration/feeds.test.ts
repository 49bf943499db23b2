import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import ICAL from 'ical.js';
import { SaxesParser } from 'saxes';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXED_NOW, fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

/** An app holding the Stager fixtures (Amsterdam) and two Munich events from Eventport. */
async function appWithEvents(
  env: Record<string, string> = {},
  now: () => Date = () => FIXED_NOW,
): Promise<TestApp> {
  const test = await startTestApp({ env, now });
  expect((await test.postStager(fixture('stager/update-events.json'))).status).toBe(202);
  expect(
    (await test.postEventport(fixture('eventport/post-upcoming-munich-house.json'))).status,
  ).toBe(202);
  expect(
    (await test.postEventport(fixture('eventport/post-upcoming-munich-english-spelling.json')))
      .status,
  ).toBe(202);
  await test.settle();
  return test;
}

interface ApiEvent {
  id: string;
  title: string;
  status: string;
  start: string;
  city: string;
}
interface ApiPage {
  total: number;
  limit: number;
  offset: number;
  events: ApiEvent[];
}

async function apiIds(test: TestApp, query: string): Promise<string[]> {
  const response = await test.get(`/api/events${query}`);
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as ApiPage).events.map((event) => event.id);
}

function parseXmlStrictly(xml: string): { elements: string[]; texts: Map<string, string[]> } {
  const parser = new SaxesParser({ xmlns: true });
  const elements: string[] = [];
  const texts = new Map<string, string[]>();
  const stack: string[] = [];
  parser.on('opentag', (tag) => {
    stack.push(tag.local);
    elements.push(stack.join('/'));
  });
  parser.on('closetag', () => stack.pop());
  const onText = (text: string) => {
    const path = stack.join('/');
    texts.set(path, [...(texts.get(path) ?? []), text]);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.write(xml).close();
  return { elements, texts };
}

describe('GET /api/events', () => {
  it('lists upcoming public events sorted by start with the full public model', async () => {
    app = await appWithEvents();
    const response = await app.get('/api/events');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('cache-control')).toBe(
      'public, max-age=300, stale-while-revalidate=600',
    );
    const page = (await response.json()) as ApiPage & { events: Record<string, unknown>[] };
    expect(page).toMatchObject({ total: 5, limit: 100, offset: 0 });
    expect(page.events.map((event) => event.id)).toEqual([
      'stager-583920',
      'eventport-MunichHouse000001',
      'stager-583921',
      'eventport-MunichSpelled0001',
      'stager-583922',
    ]);
    expect(page.events[0]).toMatchObject({
      title: 'Night Tapes',
      url: 'https://events.example.org/events/stager-583920',
      start: '2026-12-05T19:30:00.000Z',
      timeZone: 'Europe/Amsterdam',
      venue: { name: 'Paradiso Noord', city: 'Amsterdam', latitude: 52.3925 },
      prices: [
        { amount: 27, currency: 'EUR', label: 'Regular' },
        { amount: 28, currency: 'EUR', label: 'Door' },
      ],
      status: 'scheduled',
    });
    expect(page.events[0]).not.toHaveProperty('visibility');
  });

  it('pages with limit and offset', async () => {
    app = await appWithEvents();
    const page = (await (await app.get('/api/events?limit=2&offset=2')).json()) as ApiPage;
    expect(page).toMatchObject({ total: 5, limit: 2, offset: 2 });
    expect(page.events.map((event) => event.id)).toEqual([
      'stager-583921',
      'eventport-MunichSpelled0001',
    ]);
  });
});

describe('the filter grammar', () => {
  it.each([
    ['?city=Amsterdam', ['stager-583920', 'stager-583921', 'stager-583922']],
    ['?city=munchen', ['eventport-MunichHouse000001']],
    [
      '?city=MÜNCHEN,amsterdam',
      ['stager-583920', 'eventport-MunichHouse000001', 'stager-583921', 'stager-583922'],
    ],
    ['?genre=house', ['eventport-MunichHouse000001', 'stager-583921']],
    ['?genre=house&city=amsterdam', ['stager-583921']],
    ['?genre=jazz&genre=indie', ['stager-583920', 'stager-583922']],
    ['?organizer=paradiso', ['stager-583920', 'stager-583921', 'stager-583922']],
    ['?organizer=1042', ['stager-583920', 'stager-583921', 'stager-583922']],
    ['?venue=paradiso%20noord', ['stager-583920', 'stager-583922']],
    ['?source=eventport', ['eventport-MunichHouse000001', 'eventport-MunichSpelled0001']],
    ['?q=night%20tapes', ['stager-583920']],
    ['?q=tapes%20night', ['stager-583920']],
    ['?q=fruhschoppen', ['eventport-MunichSpelled0001']],
    ['?q=100%25', []],
    [
      '?q=klein&q=brunch',
      ['eventport-MunichHouse000001', 'eventport-MunichSpelled0001', 'stager-583922'],
    ],
    // Events overlapping the range: the Munich night started on the 11th and is still running.
    [
      '?from=2026-12-12&to=2026-12-13',
      ['eventport-MunichHouse000001', 'stager-583921', 'eventport-MunichSpelled0001'],
    ],
    ['?to=2026-12-05', ['stager-583920']],
    [
      '?from=2026-12-12T23:00:00%2B01:00',
      ['stager-583921', 'eventport-MunichSpelled0001', 'stager-583922'],
    ],
  ])('%s', async (query, expected) => {
    app ??= await appWithEvents();
    expect(await apiIds(app, query)).toEqual(expected);
  });

  it('makes spellings listed in CITY_ALIASES match each other', async () => {
    app = await appWithEvents({ CITY_ALIASES: 'Munich=München,Muenchen=München' });
    const both = ['eventport-MunichHouse000001', 'eventport-MunichSpelled0001'];
    expect(await apiIds(app, '?city=munich')).toEqual(both);
    expect(await apiIds(app, '?city=München')).toEqual(both);
    expect(await apiIds(app, '?city=muenchen')).toEqual(both);
  });

  it.each([
    ['/api/events?colour=red', /unknown parameter "colour"/],
    ['/events.ics?from=2026-02-30', /"from" is not a valid date/],
    ['/events.rss?limit=0', /"limit" must be a whole number from 1 to 1000/],
    ['/events.atom?limit=5000', /"limit"/],
    ['/events.json?to=tomorrow', /"to" must be an ISO date/],
    ['/api/events?source=facebook', /"source" must be one of/],
    ["/api/events?city=x'%20OR%201=1--", null],
  ])('answers 400 naming the parameter for %s', async (path, message) => {
    app ??= await appWithEvents();
    const response = await app.get(path);
    if (message === null) {
      expect(response.status).toBe(200);
      expect(((await response.json()) as ApiPage).events).toEqual([]);
      return;
    }
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });
});

describe('the time window', () => {
  it('drops events once they have ended, keeps them PAST_DAYS longer when set, and open-ended ones for the default duration', async () => {
    let now = new Date('2026-12-05T22:00:00Z');
    app = await appWithEvents({}, () => now);
    expect((await apiIds(app, ''))[0]).toBe('stager-583920');
    now = new Date('2026-12-05T22:30:00Z');
    expect((await apiIds(app, ''))[0]).toBe('eventport-MunichHouse000001');
    // Sunday Brunch Jazz has no end: it counts as over 3 hours after its 12:00 start.
    now = new Date('2026-12-20T13:59:00Z');
    expect(await apiIds(app, '')).toContain('stager-583922');
    now = new Date('2026-12-20T14:00:00Z');
    expect(await apiIds(app, '')).not.toContain('stager-583922');
    await app.close();
    app = await startTestApp({
      database: app.database,
      env: { PAST_DAYS: '1' },
      now: () => new Date('2026-12-06T12:00:00Z'),
    });
    expect((await apiIds(app, ''))[0]).toBe('stager-583920');
  });
});

describe('GET /events.ics', () => {
  it('is valid iCalendar with stable UIDs, sequences, zones and the source times', async () => {
    app = await appWithEvents();
    const response = await app.get('/events.ics?city=Amsterdam');
    expect(response.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    const text = await response.text();
    expect(text.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/\n/);
    const calendar = new ICAL.Component(ICAL.parse(text));
    expect(calendar.getFirstPropertyValue('x-wr-calname')).toBe('Marquee: Events in Amsterdam');
    expect(calendar.getFirstPropertyValue('method')).toBe('PUBLISH');
    expect(calendar.getFirstPropertyValue('x-wr-timezone')).toBe('Europe/Amsterdam');
    expect(text).toContain('REFRESH-INTERVAL;VALUE=DURATION:PT1H');
    expect(text).toContain('X-PUBLISHED-TTL:PT1H');
    const zones = calendar.getAllSubcomponents('vtimezone');
    expect(zones.map((zone) => zone.getFirstPropertyValue('tzid'))).toEqual(['Europe/Amsterdam']);
    for (const zone of zones) ICAL.TimezoneService.register(zone);
    const vevents = calendar
      .getAllSubcomponents('vevent')
      .map((component) => new ICAL.Event(component));
    expect(vevents.map((event) => event.uid)).toEqual([
      'stager-583920@events.example.org',
      'stager-583921@events.example.org',
      'stager-583922@events.example.org',
    ]);
    const night = vevents[0]!;
    expect(night.summary).toBe('Night Tapes (+ support)');
    expect(night.startDate.zone.tzid).toBe('Europe/Amsterdam');
    expect(night.startDate.toJSDate().toISOString()).toBe('2026-12-05T19:30:00.000Z');
    expect(night.endDate.toJSDate().toISOString()).toBe('2026-12-05T22:30:00.000Z');
    expect(night.sequence).toBe(1);
    expect(night.location).toContain('Paradiso Noord');
    expect(night.description).toContain('https://paradiso.stager.co/shop/default/events/583920');
    expect(night.component.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(night.component.getFirstPropertyValue('url')).toBe(
      'https://events.example.org/events/stager-583920',
    );
  });

  it('shows a cancellation with STATUS:CANCELLED, the prefix and a higher SEQUENCE', async () => {
    app = await appWithEvents({ CANCELLED_PREFIX: 'ABGESAGT: ' });
    expect((await app.postStager(fixture('stager/cancelled-event.json'))).status).toBe(202);
    await app.settle();
    const calendar = new ICAL.Component(
      ICAL.parse(await (await app.get('/events.ics?genre=techno&city=amsterdam')).text()),
    );
    const [event] = calendar
      .getAllSubcomponents('vevent')
      .map((component) => new ICAL.Event(component));
    expect(event!.summary).toBe('ABGESAGT: Floating Points (DJ set)');
    expect(event!.sequence).toBe(2);
    expect(event!.component.getFirstPropertyValue('status')).toBe('CANCELLED');
  });

  it('serves one event for "add to calendar", a tombstone once removed, 404 for unknown ids', async () => {
    app = await appWithEvents();
    const single = await app.get('/events/stager-583922.ics');
    expect(single.status).toBe(200);
    const calendar = new ICAL.Component(ICAL.parse(await single.text()));
    expect(calendar.getAllSubcomponents('vevent')).toHaveLength(1);
    expect((await app.get('/events/stager-999.ics')).status).toBe(404);
    expect((await app.get('/events/..%2F..%2Fetc%2Fpasswd.ics')).status).toBe(404);
    expect(
      (await app.postStager(fixture('stager/organization-sync-removes-one.json'))).status,
    ).toBe(202);
    await app.settle();
    const removed = await app.get('/events/stager-583922.ics');
    expect(removed.status).toBe(200);
    const [tombstone] = new ICAL.Component(ICAL.parse(await removed.text())).getAllSubcomponents(
      'vevent',
    );
    expect(tombstone!.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(tombstone!.getFirstPropertyValue('summary')).toBe('Removed: Sunday Brunch Jazz');
    expect((await app.get('/events/stager-583922')).status).toBe(410);
  });
});

describe('RSS, Atom and JSON Feed', () => {
  it('RSS parses strictly and carries one item per event in order', async () => {
    app = await appWithEvents();
    const response = await app.get('/events.rss?genre=house');
    expect(response.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const { elements, texts } = parseXmlStrictly(await response.text());
    for (const required of [
      'rss/channel/title',
      'rss/channel/link',
      'rss/channel/description',
      'rss/channel/item/title',
      'rss/channel/item/link',
      'rss/channel/item/guid',
    ]) {
      expect(elements).toContain(required);
    }
    expect(texts.get('rss/channel/title')).toEqual(['Marquee: house']);
    expect(texts.get('rss/channel/item/title')).toEqual([
      'Fri 11 Dec 23:00 · Deep House Nacht · Harry Klein, München',
      'Sat 12 Dec 23:00 · Floating Points (DJ set) · Paradiso Grote Zaal, Amsterdam',
    ]);
    expect(texts.get('rss/channel/item/link')).toEqual([
      'https://events.example.org/events/eventport-MunichHouse000001',
      'https://events.example.org/events/stager-583921',
    ]);
  });

  it('Atom parses strictly with ids, updated dates, author and a self link', async () => {
    app = await appWithEvents();
    const text = await (await app.get('/events.atom?city=amsterdam')).text();
    const { elements, texts } = parseXmlStrictly(text);
    for (const required of [
      'feed/id',
      'feed/title',
      'feed/updated',
      'feed/author/name',
      'feed/entry/id',
      'feed/entry/title',
      'feed/entry/updated',
      'feed/entry/link',
    ]) {
      expect(elements).toContain(required);
    }
    expect(texts.get('feed/entry/id')).toHaveLength(3);
    expect(text).toContain('href="https://events.example.org/events.atom?city=amsterdam"');
  });

  it('JSON Feed is version 1.1 with the _event extension', async () => {
    app = await appWithEvents();
    const response = await app.get('/events.json?source=stager&limit=1');
    expect(response.headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    const feed = (await response.json()) as {
      version: string;
      title: string;
      feed_url: string;
      items: { id: string; url: string; _event: Record<string, unknown> }[];
    };
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.title).toBe('Marquee: Events from stager');
    expect(feed.feed_url).toBe('https://events.example.org/events.json?source=stager&limit=1');
    expect(feed.items).toHaveLength(1);
    expect(feed.items[0]!._event).toMatchObject({
      start: '2026-12-05T19:30:00.000Z',
      end: '2026-12-05T22:30:00.000Z',
      timeZone: 'Europe/Amsterdam',
      status: 'scheduled',
      venue: { city: 'Amsterdam', latitude: 52.3925, longitude: 4.9168 },
      genres: ['Indie', 'Electronic'],
      ticketUrl: 'https://paradiso.stager.co/shop/default/events/583920',
      soldOut: false,
    });
  });

  it('says in every format that an end time was not announced', async () => {
    app = await appWithEvents();
    const rss = await (await app.get('/events.rss?genre=jazz')).text();
    expect(rss).toContain('<description><![CDATA[<p>End time not announced</p>');
    const atom = await (await app.get('/events.atom?genre=jazz')).text();
    expect(atom).toContain('<content type="html"><![CDATA[<p>End time not announced</p>');
    const json = (await (await app.get('/events.json?genre=jazz')).json()) as {
      items: { content_html: string; content_text: string }[];
    };
    expect(json.items[0]!.content_html).toMatch(/^<p>End time not announced<\/p>/);
    expect(json.items[0]!.content_text).toMatch(/^End time not announced(\n|$)/);
    const ics = await (await app.get('/events.ics?genre=jazz')).text();
    expect(ics).toContain('DESCRIPTION:End time not announced');
  });

  it('shows cancellation and sync removal in every format', async () => {
    app = await appWithEvents();
    expect((await app.postStager(fixture('stager/cancelled-event.json'))).status).toBe(202);
    expect(
      (await app.postStager(fixture('stager/organization-sync-removes-one.json'))).status,
    ).toBe(202);
    await app.settle();
    const rss = await (await app.get('/events.rss?source=stager')).text();
    expect(rss).toContain('Cancelled: Sat 12 Dec 23:00 · Floating Points');
    expect(rss).not.toContain('Sunday Brunch Jazz');
    const atom = await (await app.get('/events.atom?source=stager')).text();
    expect(atom).toContain('Cancelled: Sat 12 Dec 23:00 · Floating Points');
    expect(atom).not.toContain('Sunday Brunch Jazz');
    const json = (await (await app.get('/events.json?source=stager')).json()) as {
      items: { title: string; _event: { status: string } }[];
    };
    expect(json.items.map((item) => item._event.status)).toEqual(['scheduled', 'cancelled']);
    const api = (await (await app.get('/api/events?source=stager')).json()) as ApiPage;
    expect(api.events.map((event) => [event.id, event.status])).toEqual([
      ['stager-583920', 'scheduled'],
      ['stager-583921', 'cancelled'],
    ]);
    // The calendar keeps the removed event as a cancelled tombstone (see tombstones.test.ts).
    expect(await (await app.get('/events.ics?source=stager')).text()).toContain(
      'SUMMARY:Removed: Sunday Brunch Jazz',
    );
  });
});

describe('HTTP caching', () => {
  const formats = ['/events.ics', '/events.rss', '/events.atom', '/events.json', '/api/events'];

  it.each(formats)(
    '%s answers 304 to If-None-Match and If-Modified-Since, and changes ETag after a write',
    async (path) => {
      app = await appWithEvents();
      const first = await app.get(path);
      const etag = first.headers.get('etag')!;
      const lastModified = first.headers.get('last-modified')!;
      expect(etag).toMatch(/^"[\w-]+"$/);
      expect(new Date(lastModified).getTime()).toBeGreaterThan(0);
      const again = await app.get(path);
      expect(again.headers.get('etag')).toBe(etag);
      expect(await again.text()).toBe(await first.text());

      const notModified = await app.get(path, { 'if-none-match': etag });
      expect(notModified.status).toBe(304);
      expect(await notModified.text()).toBe('');
      expect((await app.get(path, { 'if-modified-since': lastModified })).status).toBe(304);
      expect((await app.get(path, { 'if-none-match': '"other"' })).status).toBe(200);

      expect((await app.postStager(fixture('stager/cancelled-event.json'))).status).toBe(202);
      await app.settle();
      const changed = await app.get(path, { 'if-none-match': etag });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
    },
  );

  it('moves Last-Modified to the end of an event that left the window without a write', async () => {
    let now = new Date('2026-12-05T20:00:00Z');
    app = await appWithEvents({}, () => now);
    const first = (await (await app.get('/api/events?limit=1')).json()) as {
      events: { id: string; end: string }[];
    };
    expect(first.events[0]?.id).toBe('stager-583920');
    const end = new Date(first.events[0]!.end).getTime();
    const before = new Date((await app.get('/events.rss')).headers.get('last-modified')!).getTime();
    expect(before).toBeLessThan(end);
    now = new Date(end + 60_000);
    const response = await app.get('/events.rss');
    expect(new Date(response.headers.get('last-modified')!).getTime()).toBe(end);
    expect(await response.text()).not.toContain('stager-583920');
  });

  it('never moves Last-Modified backwards when an event is removed', async () => {
    let now = FIXED_NOW;
    app = await appWithEvents({}, () => now);
    const before = new Date((await app.get('/events.rss')).headers.get('last-modified')!).getTime();
    now = new Date('2026-11-23T02:00:00Z');
    expect(
      (await app.postStager(fixture('stager/organization-sync-removes-one.json'))).status,
    ).toBe(202);
    await app.settle();
    const after = new Date((await app.get('/events.rss')).headers.get('last-modified')!).getTime();
    expect(after).toBeGreaterThanOrEqual(before);
    expect(after).toBe(now.getTime());
  });

  it('compresses with brotli or gzip on request, with ETags per encoding', async () => {
    app = await appWithEvents();
    const plain = Buffer.from(await (await app.get('/events.ics')).arrayBuffer());
    const raw = (encoding: string) =>
      new Promise<{
        status: number;
        headers: Record<string, string | string[] | undefined>;
        body: Buffer;
      }>((resolve, reject) => {
        import('node:http').then(({ get }) =>
          get(`${app!.url}/events.ics`, { headers: { 'accept-encoding': encoding } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks),
              }),
            );
          }).on('error', reject),
        );
      });
    const br = await raw('gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(Buffer.compare(brotliDecompressSync(br.body), plain)).toBe(0);
    const gzip = await raw('gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(Buffer.compare(gunzipSync(gzip.body), plain)).toBe(0);
    expect(gzip.headers.etag).not.toBe(br.headers.etag);
    expect(
      (await app.get('/events.ics', { 'if-none-match': String(br.headers.etag) })).status,
    ).toBe(304);
  });

  it('serves repeated requests from the cache, from the second on', async () => {
    app = await appWithEvents();
    await app.get('/events.rss');
    await app.get('/events.rss');
    const hitsBefore = app.ctx.caches.responses.stats.hits;
    for (let index = 0; index < 5; index += 1) await app.get('/events.rss');
    expect(app.ctx.caches.responses.stats.hits - hitsBefore).toBe(5);
  });
});

describe('hostile content', () => {
  it('comes out inert in every format', async () => {
    app = await startTestApp();
    const hostile = JSON.parse(fixture('stager/update-events.json').toString()) as {
      messageContent: { events: Record<string, unknown>[] };
    };
    const event = hostile.messageContent.events[0]!;
    Object.assign(event, {
      id: 666,
      name: '<script>alert(1)</script> ]]> Night \u0001 Tapes',
      description: {
        format: 'HTML',
        text: '<p onclick="alert(2)">Hi</p><img src=x onerror="alert(3)"><iframe src="https://evil.example"></iframe><a href="javascript:alert(4)">x</a> ]]> ]]>',
      },
      location: { name: 'Venue <b onmouseover=alert(5)>', city: 'Amsterdam' },
    });
    hostile.messageContent.events = [event];
    expect((await app.postStager(JSON.stringify(hostile))).status).toBe(202);
    await app.settle();
    for (const path of ['/events.rss', '/events.atom']) {
      const xml = await (await app.get(path)).text();
      // Markup in text is escaped in the document.
      expect(xml).not.toMatch(/<script|<iframe|<img/i);
      const { texts } = parseXmlStrictly(xml);
      // Item titles are plain text: the markup is text a reader shows as it is.
      const title = path === '/events.rss' ? 'rss/channel/item/title' : 'feed/entry/title';
      expect(texts.get(title)).toEqual([
        'Sat 5 Dec 20:30 · <script>alert(1)</script> ]]> Night Tapes (+ support) · Venue <b onmouseover=alert(5)>, Amsterdam',
      ]);
      // The rest is HTML or plain text without markup; live tags or handlers would run.
      const all = [...texts]
        .filter(([name]) => name !== title)
        .flatMap(([, list]) => list)
        .join('\n');
      expect(all).not.toMatch(/<script|<iframe|<img|<[^>]+\son\w+\s*=|javascript:/i);
    }
    const json = await (await app.get('/events.json')).text();
    expect(json).not.toMatch(/onerror|onclick|<iframe|javascript:/i);
    const ics = await (await app.get('/events.ics')).text();
    expect(() => ICAL.parse(ics)).not.toThrow();
    expect(ics).not.toMatch(/onerror|<iframe|javascript:/i);
    expect(ics).not.toContain('\u0001');
  });
});
