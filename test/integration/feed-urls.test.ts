import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SaxesParser } from 'saxes';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers');
const SYSTEM_PYTHON = '/usr/bin/python3';
const hasFeedparser =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import feedparser'], { stdio: 'ignore' }).status === 0;
const PUBLIC_URL = 'https://events.example.org';
const FEEDS = ['/events.ics', '/events.rss', '/events.atom', '/events.json'];
const C1 = /[\u0080-\u009F]/;
const ANCHOR_WITHOUT_HREF = /<a(?![^>]*\shref=)(?:\s[^>]*)?>/i;

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const ORGANIZER = 'Festival Sul, América';
const GENRE = 'Rock, Pop';
const TITLE = 'Uebel & Gefährlich <live> "2026"';

/** An app whose first Stager event has commas in its organizer and genre, and stray text. */
async function appWithCommaEvent(database?: string): Promise<{ app: TestApp; id: string }> {
  const app = await startTestApp(database === undefined ? {} : { database });
  apps.push(app);
  const payload = JSON.parse(fixture('stager/update-events.json').toString()) as {
    messageContent: { organization: { name: string }; events: Record<string, unknown>[] };
  };
  payload.messageContent.organization.name = ORGANIZER;
  const event = payload.messageContent.events[0]!;
  Object.assign(event, {
    name: `${TITLE}\u0085\u0093`,
    genres: [GENRE, 'Jazz'],
    description: {
      format: 'HTML',
      text: '<p>Hi\u0080 there</p><a href="javascript:alert(1)">click</a> <a>bare</a> <a href="https://example.org/x">ok</a>',
    },
  });
  expect((await app.postStager(JSON.stringify(payload))).status).toBe(202);
  await app.settle();
  return { app, id: `stager-${String(event.id)}` };
}

function parseStrictly(xml: string): void {
  new SaxesParser({ xmlns: true }).write(xml).close();
}

function hrefs(html: string, pattern: RegExp): string[] {
  return [...html.matchAll(pattern)].map((match) => match[1]!.replace(/&amp;/g, '&'));
}

function feedparser(xml: string): { title: string; self: string | null }[] {
  const read = spawnSync(SYSTEM_PYTHON, [join(HELPERS, 'feedparser-titles.py')], {
    input: xml,
    encoding: 'utf8',
  });
  expect(read.status, read.stderr).toBe(0);
  return read.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { title: string; self: string | null });
}

describe('filter values with commas', () => {
  it('follows the event page organizer and genre links back to the event in every format', async () => {
    const { app, id } = await appWithCommaEvent();
    const page = await (await app.get(`/events/${id}`)).text();
    const organizerLinks = hrefs(page, /href="(\/\?organizer=[^"]*)"/g);
    const genreLinks = hrefs(page, /href="(\/\?genre=[^"]*)"/g);
    expect(organizerLinks).toEqual(['/?organizer=%22Festival%20Sul%2C%20Am%C3%A9rica%22']);
    expect(genreLinks).toContain('/?genre=%22Rock%2C%20Pop%22');
    for (const link of [...organizerLinks, '/?genre=%22Rock%2C%20Pop%22']) {
      const query = link.slice(1);
      const list = await (await app.get(`/${query}`)).text();
      expect(list, link).toContain(`/events/${id}`);
      for (const feed of FEEDS) {
        const response = await app.get(`${feed}${query}`);
        expect(response.status, `${feed}${query}`).toBe(200);
        expect(await response.text(), `${feed}${query}`).toContain(id);
      }
      // The filter form offers the value so that submitting it selects it again.
      expect(list).toMatch(
        /<option value="&quot;(Festival Sul, América|Rock, Pop)&quot;" selected>/,
      );
    }
  });
});

describe('text in every output', () => {
  it.skipIf(!hasFeedparser)('reads RSS and Atom titles as plain text in feedparser', async () => {
    const { app } = await appWithCommaEvent();
    for (const feed of ['/events.rss', '/events.atom']) {
      const xml = await (await app.get(feed)).text();
      parseStrictly(xml);
      const titles = feedparser(xml).map((entry) => entry.title);
      expect(
        titles.some((title) => title.includes(TITLE)),
        `${feed}: ${titles.join(' | ')}`,
      ).toBe(true);
      expect(titles.join(' ')).not.toContain('&amp;');
    }
  });

  it('carries no C1 control, no anchor without href and no image/jpg anywhere', async () => {
    const { app, id } = await appWithCommaEvent();
    for (const path of [...FEEDS, '/api/events', '/', `/events/${id}`, '/embed']) {
      const text = await (await app.get(path)).text();
      expect(text, path).not.toMatch(C1);
      expect(text, path).not.toMatch(ANCHOR_WITHOUT_HREF);
      expect(text, path).not.toContain('image/jpg"');
      if (path === '/events.rss' || path === '/events.atom') parseStrictly(text);
    }
    const page = await (await app.get(`/events/${id}`)).text();
    expect(page).toContain('click bare <a href="https://example.org/x"');
  });
});

describe('self links', () => {
  it('are the canonical URL, %20 and all, whatever form the request had', async () => {
    const { app } = await appWithCommaEvent();
    const canonical = '?organizer=%22Festival%20Sul%2C%20Am%C3%A9rica%22';
    for (const [feed, self] of [
      ['/events.atom', /<link rel="self" href="([^"]*)"/],
      ['/events.rss', /<atom:link href="([^"]*)" rel="self"/],
      ['/events.json', /"feed_url": "([^"]*)"/],
    ] as const) {
      const plus = await (
        await app.get(`${feed}?organizer=%22Festival+Sul,+Am%C3%A9rica%22`)
      ).text();
      const exact = await (await app.get(`${feed}${canonical}`)).text();
      expect(self.exec(plus)?.[1]?.replace(/&amp;/g, '&'), feed).toBe(
        `${PUBLIC_URL}${feed}${canonical}`,
      );
      // The validator fetches the self link: it serves the same document.
      expect(exact, feed).toBe(plus);
    }
  });
});

describe('short feed URLs', () => {
  const organizers = Array.from({ length: 8 }, (_, i) => `Organizer number ${i}, with a long name`);
  const longQuery = `?organizer=${encodeURIComponent(organizers.map((name) => `"${name}"`).join(','))}&genre=${encodeURIComponent(`"${GENRE}"`)}`;

  it('offers only links of at most 256 characters, through ids stable across instances', async () => {
    const { app } = await appWithCommaEvent();
    const html = await (await app.get(`/${longQuery}`)).text();
    const subscribe = html.slice(html.indexOf('id="subscribe"'), html.indexOf('embed-code'));
    const links = hrefs(subscribe, /href="([^"]*)"/g);
    // Seven subscription links and the three "New announcements" feeds.
    expect(links.length).toBe(10);
    for (const link of links) expect(link.length, link).toBeLessThanOrEqual(256);
    const webcal = links.find((link) => link.startsWith('webcal:'))!;
    const short = /^webcal:\/\/events\.example\.org\/f\/([A-Za-z0-9_-]{12})\.ics$/.exec(webcal);
    expect(short, webcal).not.toBeNull();
    const id = short![1]!;

    // The short URL serves the long URL's output; only the self link differs.
    for (const [feed, extension] of [
      ['/events.ics', '.ics'],
      ['/events.rss', '.rss'],
      ['/events.atom', '.atom'],
      ['/events.json', '.json'],
    ] as const) {
      const long = await (await app.get(`${feed}${longQuery}`)).text();
      const shortResponse = await app.get(`/f/${id}${extension}`);
      expect(shortResponse.status).toBe(200);
      const shortUrl = `${PUBLIC_URL}/f/${id}${extension}`;
      const body = await shortResponse.text();
      if (feed !== '/events.ics') expect(body).toContain(shortUrl);
      // The long URL's self link (a calendar has none), in the canonical form.
      const longSelf = new RegExp(`${PUBLIC_URL}${feed.replace('.', '\\.')}\\?[^"<\\s]*`).exec(
        long,
      )?.[0];
      expect(body.replaceAll(shortUrl, longSelf ?? shortUrl), feed).toBe(long);
    }
    expect((await app.get('/f/AAAAAAAAAAAA.ics')).status).toBe(404);
    expect((await app.get('/f/nonsense.rss')).status).toBe(404);
    expect((await app.get(`/f/${id}.ics?city=x`)).status).toBe(400);

    // Another instance on the same database gives the filter the same id and serves it.
    const other = await startTestApp({ database: app.database });
    apps.push(other);
    const again = await (await other.get(`/${longQuery}`)).text();
    expect(again).toContain(`/f/${id}.ics`);
    expect((await other.get(`/f/${id}.json`)).status).toBe(200);
    const rows = await app.query<{ count: number }>('select count(*) as count from short_feeds');
    // The plain filter, Google's (cancelled=visible) and the announcements (order=announced).
    expect(Number(rows[0]!.count)).toBe(3);
  });
});
