import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE, seedPageEvents } from '../helpers/page-data.js';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

/** HTML pages over HTTP: status codes, filters, headers, caching, JSON-LD and escaping. */

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  await seedPageEvents(app);
});
afterAll(async () => {
  await app.close();
});

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
const PAGE_CSP =
  "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async function page(
  path: string,
  headers: Record<string, string> = BROWSER,
): Promise<{ response: Response; html: string }> {
  const response = await app.get(path, headers);
  return { response, html: await response.text() };
}

/** Event ids linked from a list, in order. */
function listedIds(html: string): string[] {
  return [
    ...html.matchAll(
      /<h3 class="event-title"><a href="(?:https:\/\/events\.example\.org)?\/events\/([^"]+)">/g,
    ),
  ].map((match) => decodeURIComponent(match[1]!));
}

/** Every start tag of the document: none may carry an event handler or a script URL. */
function startTags(html: string): string[] {
  return html.match(/<[a-zA-Z][^>]*>/g) ?? [];
}

function expectNoActiveContent(html: string): void {
  for (const tag of startTags(html)) {
    expect(tag, tag).not.toMatch(/^<(iframe|svg|object|embed|img src="?x)/i);
    // Attribute values may hold escaped text; names and URL schemes must be harmless.
    for (const [, name = '', value = ''] of tag.matchAll(/\s([^\s="]+)(?:="([^"]*)")?/g)) {
      expect(name, tag).not.toMatch(/^on/i);
      if (['href', 'src', 'action', 'data-copy'].includes(name))
        expect(value, tag).not.toMatch(/^\s*javascript:/i);
    }
    if (/^<script/i.test(tag)) {
      expect(tag, tag).toMatch(
        /^<script (src="\/assets\/[a-z-]+\.js\?v=[\w-]+" defer|type="application\/ld\+json")>$/,
      );
    }
  }
}

function jsonLd(html: string): Record<string, unknown> {
  const match = /<script type="application\/ld\+json">([^<]*)<\/script>/.exec(html);
  expect(match, 'JSON-LD element').not.toBeNull();
  return JSON.parse(match![1]!) as Record<string, unknown>;
}

const ALL_IDS = [
  'stager-700001',
  'stager-800001',
  'stager-700007',
  'stager-700004',
  'stager-700005',
  'stager-666',
  'eventport-K8qjtKSegBfbdGppg',
];

describe('GET /', () => {
  it('lists upcoming events grouped by day, with statuses marked, security headers and no cookies', async () => {
    const { response, html } = await page('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(listedIds(html)).toEqual(ALL_IDS);
    expect(html).toContain(
      '<h2 id="day-2026-12-05" class="day-heading">Saturday 5 December 2026</h2>',
    );
    expect(html).toContain(
      '<time class="event-time" datetime="2026-12-05T20:30:00+01:00">20:30–23:00</time>',
    );
    expect(html).toMatch(
      /<li class="event is-cancelled">[\s\S]*?<s>Lowland Choir<\/s>[\s\S]*?badge-cancelled">Cancelled</,
    );
    expect(html).toContain('Rescheduled <span class="badge-detail">(was Wed 9 Dec 20:00)</span>');
    expect(html).toContain('<span class="badge badge-relocated">New location</span>');
    expect(html).toMatch(/Utrecht Jazz Night[\s\S]*?badge-sold-out">Sold out</);
    expect(html).toContain('<title>Marquee</title>');
    // No external origin is loaded: every stylesheet and script is same-origin.
    for (const tag of startTags(html).filter((tag) =>
      /^<(script|link rel="stylesheet")/.test(tag),
    )) {
      expect(tag).toMatch(/(src|href)="\/assets\//);
    }
  });

  it('offers the cities, genres and organizers of the data as choices', async () => {
    const { html } = await page('/');
    const options = (name: string) => {
      const select = new RegExp(`<select id="f-${name}" name="${name}">([\\s\\S]*?)</select>`).exec(
        html,
      )![1]!;
      return [...select.matchAll(/<option value="([^"]*)"/g)].map((match) => match[1]);
    };
    expect(options('city')).toEqual(['', 'Amsterdam', 'Berlin', 'Munich', 'Utrecht']);
    expect(options('organizer')).toEqual(['', 'Eventport Testprofil', 'Paradiso', 'Tresor']);
    expect(options('genre')).toContain('Jazz');
    expect(html).toContain('<input id="f-from" type="date" name="from" value="">');
  });

  it.each([
    ['city=Berlin', ['stager-800001']],
    ['city=berlin', ['stager-800001']],
    ['city=Utrecht,Munich', ['stager-700007', 'eventport-K8qjtKSegBfbdGppg']],
    ['genre=jazz', ['stager-700007']],
    ['organizer=Tresor', ['stager-800001']],
    ['q=choir', ['stager-700004']],
    ['from=2026-12-08&to=2026-12-10', ['stager-700004', 'stager-700005']],
    ['city=Amsterdam&genre=Pop', ['stager-700005']],
  ])('filters with the feed parameters: %s', async (query, expected) => {
    const { response, html } = await page(`/?${query}`);
    expect(response.status).toBe(200);
    expect(listedIds(html)).toEqual(expected);
    // The same filter on the API gives the same events.
    const api = (await (await app.get(`/api/events?${query}`)).json()) as {
      events: { id: string }[];
    };
    expect(api.events.map((event) => event.id)).toEqual(expected);
  });

  it('keeps the chosen filters in the form and names them in the heading', async () => {
    const { html } = await page('/?city=Berlin&from=2026-12-06&to=2026-12-31&q=techno');
    expect(html).toContain('<option value="Berlin" selected>Berlin</option>');
    expect(html).toContain('<input id="f-from" type="date" name="from" value="2026-12-06">');
    expect(html).toContain('<input id="f-to" type="date" name="to" value="2026-12-31">');
    expect(html).toContain('value="techno"');
    expect(html).toContain('<h1>Events matching “techno” in Berlin</h1>');
    expect(html).toContain('<title>Events matching “techno” in Berlin · Marquee</title>');
    expect(html).toContain('<a class="reset" href="/">Clear filters</a>');
  });

  it('links feeds and subscriptions for the current filter', async () => {
    const { html } = await page('/?city=Berlin&genre=Techno');
    const query = 'city=Berlin&amp;genre=Techno';
    expect(html).toContain(
      `<link rel="alternate" type="application/rss+xml" title="RSS: Marquee: Techno in Berlin" href="https://events.example.org/events.rss?${query}">`,
    );
    expect(html).toContain(
      `type="application/atom+xml" title="Atom: Marquee: Techno in Berlin" href="https://events.example.org/events.atom?${query}">`,
    );
    expect(html).toContain(
      `type="application/feed+json" title="JSON Feed: Marquee: Techno in Berlin" href="https://events.example.org/events.json?${query}">`,
    );
    expect(html).toContain(
      `type="text/calendar" title="Calendar: Marquee: Techno in Berlin" href="https://events.example.org/events.ics?${query}">`,
    );
    const webcal = 'webcal://events.example.org/events.ics?city=Berlin&genre=Techno';
    expect(html).toContain(`href="${webcal.replace(/&/g, '&amp;')}"`);
    expect(html).toContain(
      `href="https://calendar.google.com/calendar/r?cid=${encodeURIComponent(`${webcal}&cancelled=visible`)}"`,
    );
    expect(html).toContain(
      `href="https://outlook.live.com/calendar/0/addfromweb?url=${encodeURIComponent('https://events.example.org/events.ics?city=Berlin&genre=Techno')}&amp;name=${encodeURIComponent('Marquee: Techno in Berlin')}"`,
    );
    // Four calendar links, three feeds, three announcement feeds and the embed code.
    expect(html.match(/<button type="button" class="copy" data-copy=/g)).toHaveLength(11);
    // The embed code for the same filter, shown as text to copy.
    expect(html).toContain(
      '<textarea id="embed-snippet" readonly rows="4">&lt;script src=&quot;https://events.example.org/embed.js&quot; data-city=&quot;Berlin&quot; data-genre=&quot;Techno&quot; data-limit=&quot;10&quot; async&gt;&lt;/script&gt;</textarea>',
    );
    expect(html).toMatch(/Google Calendar only about once or twice a day/);
  });

  it('accepts tracking parameters that shared links pick up, and leaves them out of its links', async () => {
    const tracked = await page('/?limit=3&utm_source=newsletter&utm_medium=email&fbclid=abc');
    expect(tracked.response.status).toBe(200);
    expect(listedIds(tracked.html)).toEqual(ALL_IDS.slice(0, 3));
    expect(tracked.html).not.toContain('utm_source');
    expect((await page('/?colour=red')).response.status).toBe(400);
  });

  it('pages long lists with "page" and shareable links', async () => {
    const first = await page('/?limit=3');
    expect(listedIds(first.html)).toEqual(ALL_IDS.slice(0, 3));
    expect(first.html).toContain('<p class="count">1–3 of 7 events</p>');
    expect(first.html).toContain('<a rel="next" href="/?limit=3&amp;page=2">More events →</a>');
    expect(first.html).not.toContain('rel="prev"');
    const second = await page('/?limit=3&page=2');
    expect(listedIds(second.html)).toEqual(ALL_IDS.slice(3, 6));
    expect(second.html).toContain('<a rel="prev" href="/?limit=3">← Earlier</a>');
    expect(second.html).toContain('<a rel="next" href="/?limit=3&amp;page=3">');
    const last = await page('/?limit=3&page=3');
    expect(listedIds(last.html)).toEqual(ALL_IDS.slice(6));
    expect(last.html).not.toContain('rel="next"');
    const beyond = await page('/?limit=3&page=9');
    expect(beyond.response.status).toBe(200);
    expect(beyond.html).toContain('No upcoming events');
  });

  it.each([
    ['/?bogus=1', 'unknown parameter &quot;bogus&quot;'],
    ['/?from=yesterday', '&quot;from&quot; must be an ISO date'],
    ['/?page=0', '&quot;page&quot; must be a whole number'],
    ['/?page=2&offset=3', 'use &quot;page&quot; or &quot;offset&quot;'],
    [
      '/?city=%3Cscript%3Ealert(1)%3C/script%3E&bogus=%3Cscript%3E',
      'unknown parameter &quot;bogus&quot;',
    ],
  ])('answers 400 with an HTML page for %s', async (path, message) => {
    const { response, html } = await page(path, {});
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(html).toContain(message);
    expectNoActiveContent(html);
  });

  it('answers 304 to a matching ETag and renders again after a change', async () => {
    const first = await app.get('/?city=Amsterdam', { 'accept-encoding': 'identity' });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('last-modified')).toBeTruthy();
    expect(first.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const again = await app.get('/?city=Amsterdam', {
      'if-none-match': etag,
      'accept-encoding': 'identity',
    });
    expect(again.status).toBe(304);
    expect(again.headers.get('content-security-policy')).toBe(PAGE_CSP);
    const gzip = await app.get('/?city=Amsterdam', { 'accept-encoding': 'gzip' });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect(await gzip.text()).toContain('Night Tapes');

    const other = await startTestApp();
    try {
      expect((await other.postStager(fixture('stager/update-events.json'))).status).toBe(202);
      await other.settle();
      const before = await other.get('/');
      expect(await before.text()).not.toContain('badge-cancelled');
      expect((await other.postStager(fixture('stager/cancelled-event.json'))).status).toBe(202);
      await other.settle();
      const after = await other.get('/', { 'if-none-match': before.headers.get('etag')! });
      expect(after.status).toBe(200);
      expect(await after.text()).toMatch(/<s>Floating Points \(DJ set\)<\/s>[\s\S]*?Cancelled/);
    } finally {
      await other.close();
    }
  });

  it('answers HEAD without a body', async () => {
    const response = await fetch(`${app.url}/`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });
});

describe('GET /events/:id', () => {
  it('shows the event with its details, Open Graph tags and an add-to-calendar link', async () => {
    const { response, html } = await page('/events/stager-700001');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(html).toContain('<title>Night Tapes · Marquee</title>');
    expect(html).toContain('<meta property="og:title" content="Night Tapes">');
    expect(html).toContain(
      '<meta property="og:url" content="https://events.example.org/events/stager-700001">',
    );
    expect(html).toContain(
      '<meta property="og:image" content="https://cdn.example/700001/main.jpg">',
    );
    expect(html).toContain('<meta property="og:description" content="About event 700001.">');
    expect(html).toContain('<h1>Night Tapes</h1>');
    expect(html).toContain(
      '<time datetime="2026-12-05T20:30:00+01:00">Saturday 5 December 2026<br><span class="nowrap">20:30–23:00</span></time>',
    );
    expect(html).toContain(
      '<img class="event-image" src="https://cdn.example/700001/main.jpg" alt="Night Tapes on stage"',
    );
    expect(html).toContain('Johan van Hasseltweg 20<br>1021 KN Amsterdam, NL');
    expect(html).toContain(
      'href="https://www.openstreetmap.org/?mlat=52.39250&amp;mlon=4.91680#map=17/52.39250/4.91680"',
    );
    expect(html).toContain(
      '<a href="/?genre=Indie">Indie</a>, <a href="/?genre=Electronic">Electronic</a>',
    );
    expect(html).toContain('<a href="/?organizer=Paradiso">Paradiso</a>');
    expect(html).toContain('€22.50 Regular');
    expect(html).toContain('href="https://tickets.example/e/700001"');
    expect(html).toContain(
      '<a class="button" href="/events/stager-700001.ics">Add to calendar (.ics)</a>',
    );
    expect((await app.get('/events/stager-700001.ics')).status).toBe(200);
  });

  it('carries schema.org Event JSON-LD', async () => {
    const data = jsonLd((await page('/events/stager-700001')).html);
    expect(data).toEqual({
      '@context': 'https://schema.org',
      '@type': 'Event',
      '@id': 'https://events.example.org/events/stager-700001',
      url: 'https://events.example.org/events/stager-700001',
      name: 'Night Tapes',
      description: 'About event 700001.',
      startDate: '2026-12-05T20:30:00+01:00',
      endDate: '2026-12-05T23:00:00+01:00',
      eventStatus: 'https://schema.org/EventScheduled',
      eventAttendanceMode: 'https://schema.org/OfflineEventAttendanceMode',
      location: {
        '@type': 'Place',
        name: 'Paradiso Noord',
        address: {
          '@type': 'PostalAddress',
          streetAddress: 'Johan van Hasseltweg 20',
          postalCode: '1021 KN',
          addressLocality: 'Amsterdam',
          addressCountry: 'NL',
        },
        geo: { '@type': 'GeoCoordinates', latitude: 52.3925, longitude: 4.9168 },
      },
      organizer: { '@type': 'Organization', name: 'Paradiso' },
      offers: [
        {
          '@type': 'Offer',
          name: 'Regular',
          price: 22.5,
          priceCurrency: 'EUR',
          url: 'https://tickets.example/e/700001',
          availability: 'https://schema.org/InStock',
        },
      ],
      image: ['https://cdn.example/700001/main.jpg'],
    });
  });

  it('marks cancelled, rescheduled, relocated and sold-out events, in the page and the JSON-LD', async () => {
    const cancelled = await page('/events/stager-700004');
    expect(cancelled.html).toContain('<h1><s>Lowland Choir</s></h1>');
    expect(cancelled.html).toContain('<span class="badge badge-cancelled">Cancelled</span>');
    expect(jsonLd(cancelled.html).eventStatus).toBe('https://schema.org/EventCancelled');

    const moved = await page('/events/stager-700005');
    expect(moved.html).toContain(
      'Rescheduled <span class="badge-detail">(was Wed 9 Dec 20:00)</span>',
    );
    const movedData = jsonLd(moved.html);
    expect(movedData.eventStatus).toBe('https://schema.org/EventRescheduled');
    expect(movedData.previousStartDate).toBe('2026-12-09T20:00:00+01:00');
    expect(movedData.startDate).toBe('2026-12-10T20:00:00+01:00');

    const relocated = await page('/events/eventport-K8qjtKSegBfbdGppg');
    expect(relocated.html).toContain('New location');
    expect(jsonLd(relocated.html).eventStatus).toBe('https://schema.org/EventScheduled');

    const soldOut = await page('/events/stager-700007');
    expect(soldOut.html).toContain('<dd>Sold out</dd>');
    expect(soldOut.html).not.toContain('Buy tickets');
    const offers = jsonLd(soldOut.html).offers as { availability: string }[];
    expect(offers.map((offer) => offer.availability)).toEqual(['https://schema.org/SoldOut']);
  });

  it('shows an event in another zone in its own time, saying which zone', async () => {
    const { html } = await page('/events/stager-800001');
    expect(html).toContain(
      'Sunday 6 December 2026<br><span class="nowrap">23:00–08:00 (next day)</span>',
    );
    expect(html).toContain('(Europe/Berlin time)');
    expect(jsonLd(html).startDate).toBe('2026-12-06T23:00:00+01:00');
  });

  it('answers 404 pages for unknown and malformed ids, and a 410 page once removed', async () => {
    for (const path of ['/events/stager-999999', '/events/nonsense', '/events/%3Cscript%3E']) {
      const { response, html } = await page(path, {});
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(html).toContain('<h1>Not found</h1>');
      expectNoActiveContent(html);
    }
    const other = await startTestApp();
    try {
      await other.postStager(fixture('stager/update-events.json'));
      await other.settle();
      expect((await other.get('/events/stager-583922')).status).toBe(200);
      await other.postStager(fixture('stager/organization-sync-removes-one.json'));
      await other.settle();
      const removed = await other.get('/events/stager-583922');
      expect(removed.status).toBe(410);
      expect(removed.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await removed.text()).toContain('<h1>This event was removed</h1>');
    } finally {
      await other.close();
    }
  });

  it('ignores query strings such as tracking parameters', async () => {
    expect((await app.get('/events/stager-700001?utm_source=newsletter')).status).toBe(200);
  });
});

describe('escaping', () => {
  it('renders script payloads from the source as text on the event page, list and embed', async () => {
    for (const path of ['/events/stager-666', '/', '/?q=evil', '/embed']) {
      const { response, html } = await page(path);
      expect(response.status, path).toBe(200);
      expectNoActiveContent(html);
      expect(html, path).toContain('&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; Evil');
    }
    const { html } = await page('/events/stager-666');
    // The description keeps its harmless parts only.
    expect(html).toContain('<div class="description"><p>Hello</p>click<p>Ends with </p></div>');
    expect(html).toContain(
      'Club &quot;X&quot; &lt;/script&gt;&lt;script&gt;alert(&quot;venue&quot;)&lt;/script&gt;',
    );
    expect(html).toContain('<dd>No ticket link given</dd>');
    // JSON-LD cannot be closed by a value, and still says exactly what the source said.
    const data = jsonLd(html);
    expect(data.name).toBe(HOSTILE.title);
    expect((data.location as { name: string }).name).toBe(HOSTILE.venue);
    // The javascript: ticket link never reaches the offers: they point at the event's page.
    expect(data.offers).toEqual([
      {
        '@type': 'Offer',
        name: 'Regular',
        price: 22.5,
        priceCurrency: 'EUR',
        url: 'https://events.example.org/events/stager-666',
        availability: 'https://schema.org/InStock',
      },
    ]);
  });
});

describe('GET /embed', () => {
  it('serves a compact list that any site may frame', async () => {
    const { response, html } = await page('/embed?city=Amsterdam&limit=2');
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain('frame-ancestors *');
    expect(csp).toContain("script-src 'self'");
    expect(response.headers.get('x-frame-options')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(listedIds(html)).toEqual(['stager-700001', 'stager-700004']);
    expect(html).toContain('<base target="_blank">');
    expect(html).toMatch(
      /<a href="https:\/\/events\.example\.org\/\?city=Amsterdam">2 more events<\/a>/,
    );
    expect(html).toContain(
      '<a href="https://events.example.org/?city=Amsterdam#subscribe">Subscribe</a>',
    );
    expect(html).toMatch(/<script src="\/assets\/embed-frame\.js\?v=[\w-]+" defer><\/script>/);
    expect(html).not.toContain('<html lang="en" data-theme');
    expect(html).not.toContain('<style>');
  });

  it('applies theme and accent, allowing exactly its style element by hash', async () => {
    const { response, html } = await page('/embed?theme=dark&accent=%23C03&genre=jazz');
    expect(response.status).toBe(200);
    expect(html).toContain('<html lang="en" data-theme="dark">');
    const style = /<style>([^<]*)<\/style>/.exec(html)![1]!;
    expect(style).toBe(':root{--accent:#c03}');
    const hash = createHash('sha256').update(style).digest('base64');
    expect(response.headers.get('content-security-policy')).toContain(
      `style-src 'self' 'sha256-${hash}'`,
    );
    expect(listedIds(html)).toEqual(['stager-700007']);
  });

  it.each([
    ['/embed?accent=red', '&quot;accent&quot; must be a hex colour'],
    ['/embed?accent=%23ff00', '&quot;accent&quot; must be a hex colour'],
    ['/embed?accent=%23fff;background:url(x)', '&quot;accent&quot; must be a hex colour'],
    ['/embed?theme=blue', '&quot;theme&quot; must be light or dark'],
    ['/embed?limit=500', '&quot;limit&quot; must be a whole number from 1 to 100'],
    ['/embed?colour=red', 'unknown parameter &quot;colour&quot;'],
  ])('answers 400 for %s with an HTML page that can show in the frame', async (path, message) => {
    const { response, html } = await page(path, {});
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(html).toContain(message);
  });

  it('only accepts theme and accent on /embed', async () => {
    expect((await app.get('/?theme=dark')).status).toBe(400);
    expect((await app.get('/events.rss?accent=%23fff')).status).toBe(400);
  });
});

describe('scripts, styles and error formats', () => {
  it('serves /embed.js for host pages and versioned assets with long cache lifetimes', async () => {
    const embedJs = await app.get('/embed.js');
    expect(embedJs.status).toBe(200);
    expect(embedJs.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(embedJs.headers.get('x-content-type-options')).toBe('nosniff');
    expect(embedJs.headers.get('cache-control')).toMatch(/max-age=3600/);
    expect(await embedJs.text()).toContain("'/embed'");

    const { html } = await page('/');
    const css = /href="(\/assets\/site\.css\?v=[\w-]+)"/.exec(html)![1]!;
    const versioned = await app.get(css);
    expect(versioned.status).toBe(200);
    expect(versioned.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const stale = await app.get('/assets/site.css?v=old');
    expect(stale.headers.get('cache-control')).toBe('public, max-age=300');
    const revalidated = await app.get(css, { 'if-none-match': versioned.headers.get('etag')! });
    expect(revalidated.status).toBe(304);
    expect((await app.get('/assets/nothing.js')).status).toBe(404);
    expect((await app.get('/assets/..%2Fhome.eta')).status).toBe(404);
  });

  it('keeps JSON errors for the API, feeds and non-browser clients, and sends no CSP with feeds', async () => {
    const api = await app.get('/api/events?bogus=1', BROWSER);
    expect(api.status).toBe(400);
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
    const feed = await app.get('/events.rss?bogus=1', BROWSER);
    expect(feed.headers.get('content-type')).toMatch(/^application\/json/);
    const missing = await app.get('/no-such-page');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no route for GET /no-such-page' });
    const missingHtml = await app.get('/no-such-page', BROWSER);
    expect(missingHtml.status).toBe(404);
    expect(missingHtml.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const rss = await app.get('/events.rss');
    expect(rss.headers.get('content-security-policy')).toBeNull();
    expect(rss.headers.get('access-control-allow-origin')).toBe('*');
  });
});
