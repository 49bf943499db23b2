import { SaxesParser } from 'saxes';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FeedChannel } from '../../src/render/channel.js';
import { STATUS_WORDS } from '../../src/render/status-words.js';
import { renderAtom, renderJsonFeed, renderRss } from '../../src/render/syndication.js';
import { expectGolden } from '../helpers/golden.js';
import { buildEvent, sampleChannel, sampleEvents } from '../helpers/sample-events.js';

const ATOM_NS = 'http://www.w3.org/2005/Atom';

interface XmlElement {
  local: string;
  uri: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses with saxes in strict, namespace-aware mode; throws on any well-formedness error. */
function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parser.on('error', (error) => {
    throw error;
  });
  parser.on('opentag', (tag) => {
    const attributes: Record<string, string> = {};
    for (const attribute of Object.values(tag.attributes)) {
      attributes[attribute.local] = attribute.value;
    }
    const element: XmlElement = {
      local: tag.local,
      uri: tag.uri,
      attributes,
      children: [],
      text: '',
    };
    stack.at(-1)?.children.push(element);
    root ??= element;
    stack.push(element);
  });
  parser.on('text', (text) => {
    const current = stack.at(-1);
    if (current) current.text += text;
  });
  parser.on('cdata', (cdata) => {
    const current = stack.at(-1);
    if (current) current.text += cdata;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(xml).close();
  if (root === undefined) throw new Error('no root element');
  return root;
}

function children(element: XmlElement, local: string, uri?: string): XmlElement[] {
  return element.children.filter(
    (child) => child.local === local && (uri === undefined || child.uri === uri),
  );
}

function child(element: XmlElement, local: string, uri?: string): XmlElement {
  const found = children(element, local, uri)[0];
  if (found === undefined) throw new Error(`<${element.local}> has no <${local}>`);
  return found;
}

function textOf(element: XmlElement, local: string, uri?: string): string {
  return child(element, local, uri).text.trim();
}

/** Fails when HTML (as a reader would render it) holds script, frames, handlers or js: URLs. */
function expectNoLiveMarkup(html: string): void {
  expect(html).not.toMatch(/<\s*script/i);
  expect(html).not.toMatch(/<\s*iframe/i);
  expect(html).not.toMatch(/<\s*img/i);
  expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
  expect(html).not.toMatch(/\b(href|src)\s*=\s*["']?\s*javascript:/i);
}

// eslint-disable-next-line no-control-regex
const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;

const HOSTILE_URL = 'https://marquee.test/events/stager-evil%2C1%3Bx%5Cy';
/** The hostile event's item id: a tag URI, with what a URI may not hold percent-encoded. */
const HOSTILE_ID = 'tag:marquee.test,2026-01-01:stager-evil,1;x%5Cy';

/** The feed item id of an event: the installation's tag URI, not a URL of the site. */
function itemId(event: { id: string }): string {
  if (event.id === 'stager-evil,1;x\\y') return HOSTILE_ID;
  return `tag:marquee.test,2026-01-01:${event.id}`;
}

function hostileTitleText(): string {
  return (
    'Sat 5 Dec 20:30 · <script>alert(1)</script> Night ]]> Tapes ]]> 🎸 ' +
    'X-INJECTED:1 (<img src=x onerror=alert(1)>) · Club "X" <iframe src=//evil>, Amster]]>dam'
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe('renderRss', () => {
  const render = (): string => renderRss(sampleEvents(), sampleChannel('rss'));

  it('matches the golden file', () => {
    expectGolden('events.rss', render());
  });

  it('is well-formed RSS 2.0 with the channel elements', () => {
    const channel = sampleChannel('rss');
    const rss = parseXml(render());
    expect(rss.local).toBe('rss');
    expect(rss.attributes.version).toBe('2.0');
    const feed = child(rss, 'channel');
    expect(textOf(feed, 'title')).toBe(channel.title);
    expect(textOf(feed, 'link')).toBe(channel.htmlUrl);
    expect(textOf(feed, 'description')).toBe(channel.description);
    expect(textOf(feed, 'generator')).toBe('Marquee');
    expect(textOf(feed, 'lastBuildDate')).toBe(channel.updated.toUTCString());
    const self = child(feed, 'link', ATOM_NS);
    expect(self.attributes).toMatchObject({ rel: 'self', href: channel.selfUrl });
  });

  it('has one item per event, in order, with title, link and guid', () => {
    const events = sampleEvents();
    const items = children(child(parseXml(render()), 'channel'), 'item');
    expect(items).toHaveLength(events.length);
    items.forEach((item, index) => {
      const event = events[index];
      if (event === undefined) throw new Error('fixture changed');
      const url = `https://marquee.test/events/${encodeURIComponent(event.id)}`;
      expect(textOf(item, 'link')).toBe(url);
      expect(textOf(item, 'guid')).toBe(itemId(event));
      expect(child(item, 'guid').attributes.isPermaLink).toBe('false');
      expect(textOf(item, 'title')).not.toBe('');
      expect(textOf(item, 'pubDate')).toBe(event.firstSeenAt.toUTCString());
    });
    const first = items[0];
    if (first === undefined) throw new Error('no items');
    expect(textOf(first, 'title')).toBe(
      'Sat 5 Dec 20:30 · Night Tapes (+ support) · Paradiso Noord, Amsterdam',
    );
    expect(children(first, 'category').map((category) => category.text)).toEqual([
      'Indie',
      'Electronic',
    ]);
    expect(child(first, 'enclosure').attributes).toMatchObject({
      url: 'https://images.stager.test/night-tapes.jpg',
      type: 'image/jpeg',
      length: '0',
    });
    expect(textOf(first, 'description')).toContain(
      '<a href="https://tickets.stager.test/night-tapes?utm_source=marquee&amp;seat=any"',
    );
    expect(textOf(first, 'description')).toContain('Prices: €24.50 Regular, €19.50 Student');
  });

  it('prefixes cancelled items and keeps & in categories', () => {
    const items = children(child(parseXml(render()), 'channel'), 'item');
    const cancelled = items[2];
    if (cancelled === undefined) throw new Error('fixture changed');
    expect(textOf(cancelled, 'title')).toBe(
      "Cancelled: Fri 18 Dec 20:00 · Lowland Choir · Muziekgebouw aan 't IJ, Amsterdam",
    );
    expect(children(cancelled, 'category').map((category) => category.text)).toEqual([
      'Classical',
      'R&B',
    ]);
  });

  it('turns hostile payloads into escaped text and inert HTML', () => {
    const xml = render();
    expect(xml).not.toMatch(/<script|<iframe|<img|javascript:/i);
    expect(xml).not.toMatch(XML_ILLEGAL);
    const items = children(child(parseXml(xml), 'channel'), 'item');
    const hostile = items.find((item) => textOf(item, 'link') === HOSTILE_URL);
    if (hostile === undefined) throw new Error('no hostile item');
    // RSS titles are plain text (escaped in the XML, which the check above covers), not HTML.
    expect(textOf(hostile, 'title')).toBe(hostileTitleText());
    const description = textOf(hostile, 'description');
    expectNoLiveMarkup(description);
    expect(description).toContain('<p>Hi ]]&gt; there ]]&gt;</p>');
    expect(description).toContain('🎸');
    expect(children(hostile, 'category').map((category) => category.text)).toEqual([
      '<b>bold</b>',
      'R&B',
      'a,b;c',
    ]);
    expect(child(hostile, 'enclosure').attributes.url).toBe(
      'https://evil.test/pic.png?a=1&b=%22%3E%3Cscript%3Ealert(1)%3C/script%3E',
    );
  });

  it('renders identical bytes twice, and never reads the clock', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const first = render();
    vi.setSystemTime(new Date('2031-06-15T12:34:56Z'));
    expect(render()).toBe(first);
    expect(first).not.toMatch(/2030|2031/);
  });
});

describe('renderAtom', () => {
  const render = (): string => renderAtom(sampleEvents(), sampleChannel('atom'));

  it('matches the golden file', () => {
    expectGolden('events.atom', render());
  });

  it('is well-formed Atom with the required feed elements', () => {
    const channel = sampleChannel('atom');
    const feed = parseXml(render());
    expect(feed.local).toBe('feed');
    expect(feed.uri).toBe(ATOM_NS);
    expect(textOf(feed, 'id', ATOM_NS)).toBe(
      'tag:marquee.test,2026-01-01:events?city=amsterdam&city=berlin',
    );
    expect(textOf(feed, 'title', ATOM_NS)).toBe(channel.title);
    expect(textOf(feed, 'subtitle', ATOM_NS)).toBe(channel.description);
    expect(textOf(feed, 'updated', ATOM_NS)).toBe(channel.updated.toISOString());
    expect(textOf(child(feed, 'author', ATOM_NS), 'name', ATOM_NS)).toBe('Marquee');
    const links = children(feed, 'link', ATOM_NS).map((link) => link.attributes);
    expect(links).toContainEqual({ rel: 'self', href: channel.selfUrl });
    expect(links).toContainEqual({ rel: 'alternate', href: channel.htmlUrl });
  });

  it('has one entry per event, in order, with id, title, updated and link', () => {
    const events = sampleEvents();
    const entries = children(parseXml(render()), 'entry', ATOM_NS);
    expect(entries).toHaveLength(events.length);
    entries.forEach((entry, index) => {
      const event = events[index];
      if (event === undefined) throw new Error('fixture changed');
      const url = `https://marquee.test/events/${encodeURIComponent(event.id)}`;
      expect(textOf(entry, 'id', ATOM_NS)).toBe(itemId(event));
      expect(new URL(textOf(entry, 'id', ATOM_NS)).protocol).toBe('tag:');
      // Plain text: Atom's default title type.
      expect(child(entry, 'title', ATOM_NS).attributes.type).toBeUndefined();
      expect(textOf(entry, 'title', ATOM_NS)).not.toBe('');
      expect(textOf(entry, 'updated', ATOM_NS)).toBe(event.lastChangedAt.toISOString());
      expect(textOf(entry, 'published', ATOM_NS)).toBe(event.firstSeenAt.toISOString());
      expect(children(entry, 'link', ATOM_NS).map((link) => link.attributes)).toContainEqual({
        href: url,
      });
    });
    const cancelled = entries[2];
    if (cancelled === undefined) throw new Error('fixture changed');
    expect(
      children(cancelled, 'category', ATOM_NS).map((category) => category.attributes.term),
    ).toEqual(['Classical', 'R&B']);
  });

  it('links images only when their URL gives a usable type', () => {
    const entries = children(parseXml(render()), 'entry', ATOM_NS);
    const enclosures = entries.map((entry) =>
      children(entry, 'link', ATOM_NS)
        .map((link) => link.attributes)
        .filter((link) => link.rel === 'enclosure'),
    );
    expect(enclosures[0]).toEqual([
      { rel: 'enclosure', href: 'https://images.stager.test/night-tapes.jpg', type: 'image/jpeg' },
    ]);
    // The cancelled event's image URL has no extension.
    expect(enclosures[2]).toEqual([]);
  });

  it('turns hostile payloads into escaped text and inert HTML', () => {
    const xml = render();
    expect(xml).not.toMatch(/<script|<iframe|<img|javascript:/i);
    expect(xml).not.toMatch(XML_ILLEGAL);
    const entries = children(parseXml(xml), 'entry', ATOM_NS);
    const hostile = entries.find((entry) => textOf(entry, 'id', ATOM_NS) === HOSTILE_ID);
    if (hostile === undefined) throw new Error('no hostile entry');
    expect(textOf(hostile, 'title', ATOM_NS)).toBe(hostileTitleText());
    const content = textOf(hostile, 'content', ATOM_NS);
    expectNoLiveMarkup(content);
    expect(content).toContain('<p>Hi ]]&gt; there ]]&gt;</p>');
    expect(
      children(hostile, 'category', ATOM_NS).map((category) => category.attributes.term),
    ).toEqual(['<b>bold</b>', 'R&B', 'a,b;c']);
  });

  it('renders identical bytes twice, and never reads the clock', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const first = render();
    vi.setSystemTime(new Date('2031-06-15T12:34:56Z'));
    expect(render()).toBe(first);
    expect(first).not.toMatch(/2030|2031/);
  });

  it('keeps a literal "&amp;" in text', () => {
    const channel: FeedChannel = { ...sampleChannel('atom'), title: 'Tom &amp; Jerry' };
    const feed = parseXml(renderAtom([buildEvent({ title: 'A &amp; B' })], channel));
    expect(textOf(feed, 'title', ATOM_NS)).toBe('Tom &amp; Jerry');
    expect(textOf(child(feed, 'entry', ATOM_NS), 'title', ATOM_NS)).toContain('A &amp; B');
  });
});

describe('renderJsonFeed', () => {
  const render = (): string => renderJsonFeed(sampleEvents(), sampleChannel('json'));

  interface JsonFeed {
    version: string;
    title: string;
    home_page_url: string;
    feed_url: string;
    authors: { name: string }[];
    items: {
      id: string;
      url: string;
      title: string;
      content_html: string;
      content_text?: string;
      image?: string;
      date_published: string;
      date_modified: string;
      tags: string[];
      _event: Record<string, unknown>;
    }[];
  }

  const parse = (): JsonFeed => JSON.parse(render()) as JsonFeed;

  it('matches the golden file', () => {
    expectGolden('events.json', render());
  });

  it('is JSON Feed 1.1 with the required fields', () => {
    const channel = sampleChannel('json');
    const events = sampleEvents();
    const feed = parse();
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.title).toBe(channel.title);
    expect(feed.home_page_url).toBe(channel.htmlUrl);
    expect(feed.feed_url).toBe(channel.selfUrl);
    expect(feed.authors).toEqual([{ name: 'Marquee', url: 'https://marquee.test' }]);
    expect(feed.items.map((item) => item.id)).toEqual(events.map((event) => itemId(event)));
    for (const [index, item] of feed.items.entries()) {
      const event = events[index];
      if (event === undefined) throw new Error('fixture changed');
      expect(typeof item.content_html).toBe('string');
      expect(item.date_modified).toBe(event.lastChangedAt.toISOString());
      expect(item.date_published).toBe(event.firstSeenAt.toISOString());
    }
  });

  it('carries the event in an _event extension', () => {
    const [first, openEnded, , rescheduled] = parse().items;
    expect(first?.image).toBe('https://images.stager.test/night-tapes.jpg');
    expect(first?.tags).toEqual(['Indie', 'Electronic']);
    expect(first?._event).toEqual({
      about: 'https://marquee.test/assets/json-feed-event.html',
      start: '2026-12-05T19:30:00.000Z',
      end: '2026-12-05T22:00:00.000Z',
      timeZone: 'Europe/Amsterdam',
      status: 'scheduled',
      venue: {
        name: 'Paradiso Noord',
        street: 'Distelweg 83',
        postalCode: '1031 HH',
        city: 'Amsterdam',
        country: 'NL',
        latitude: 52.3947,
        longitude: 4.9225,
      },
      organizer: { id: 'org-7', name: 'Paradiso' },
      genres: ['Indie', 'Electronic'],
      ticketUrl: 'https://tickets.stager.test/night-tapes?utm_source=marquee&seat=any',
      prices: [
        { amount: 24.5, currency: 'EUR', label: 'Regular' },
        { amount: 19.5, currency: 'EUR', label: 'Student' },
      ],
      soldOut: false,
      doorsOpen: '2026-12-05T18:30:00.000Z',
      previousStart: null,
      subtitle: '+ support',
      sources: [
        {
          source: sampleEvents()[0]?.source,
          externalId: sampleEvents()[0]?.externalId,
          url: 'https://tickets.stager.test/night-tapes?utm_source=marquee&seat=any',
        },
      ],
    });
    expect(openEnded?._event).toMatchObject({ end: null, timeZone: 'Europe/Berlin' });
    expect(rescheduled?._event).toMatchObject({
      status: 'rescheduled',
      previousStart: '2027-06-12T12:00:00.000Z',
      soldOut: true,
    });
  });

  it('keeps hostile payloads out of HTML and URLs', () => {
    const hostile = parse().items.find((item) => item.id === HOSTILE_ID);
    if (hostile === undefined) throw new Error('no hostile item');
    expectNoLiveMarkup(hostile.content_html);
    expect(hostile.content_html).not.toContain('javascript:');
    // JSON Feed titles are plain text: the characters are kept, cleaned of control characters.
    expect(hostile.title).toBe(
      'Sat 5 Dec 20:30 · <script>alert(1)</script> Night ]]> Tapes ]]> 🎸 X-INJECTED:1 ' +
        '(<img src=x onerror=alert(1)>) · Club "X" <iframe src=//evil>, Amster]]>dam',
    );
    expect(hostile._event.ticketUrl).toBeNull();
    expect(JSON.stringify(hostile)).not.toMatch(/\\u000[0-8b]|\\u001/i);
  });

  it('renders identical bytes twice, and never reads the clock', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const first = render();
    vi.setSystemTime(new Date('2031-06-15T12:34:56Z'));
    expect(render()).toBe(first);
    expect(first).not.toMatch(/2030|2031/);
  });
});

describe('status in words', () => {
  // A new location, a reschedule whose earlier start is unknown, an end not announced: each is
  // said in the item's content, in the words of the HTML badges.
  const cases = [
    { event: buildEvent({ status: 'relocated' }), words: [STATUS_WORDS.relocated] },
    { event: buildEvent({ status: 'rescheduled' }), words: [STATUS_WORDS.rescheduled] },
    { event: buildEvent({ endsAt: null }), words: [STATUS_WORDS.openEnded] },
    {
      event: buildEvent({
        status: 'relocated',
        endsAt: null,
        descriptionText: null,
        descriptionHtml: null,
      }),
      words: [STATUS_WORDS.relocated, STATUS_WORDS.openEnded],
    },
  ];

  it.each(cases)('RSS, Atom and JSON Feed state $words', ({ event, words }) => {
    const rssItem = child(
      child(parseXml(renderRss([event], sampleChannel('rss'))), 'channel'),
      'item',
    );
    expect(textOf(rssItem, 'description')).toMatch(new RegExp(`^<p>${words.join('<br>')}</p>`));
    const entry = child(parseXml(renderAtom([event], sampleChannel('atom'))), 'entry', ATOM_NS);
    expect(textOf(entry, 'content', ATOM_NS)).toMatch(new RegExp(`^<p>${words.join('<br>')}</p>`));
    const item = (
      JSON.parse(renderJsonFeed([event], sampleChannel('json'))) as {
        items: { content_html: string; content_text?: string }[];
      }
    ).items[0]!;
    expect(item.content_html).toMatch(new RegExp(`^<p>${words.join('<br>')}</p>`));
    expect(item.content_text).toMatch(new RegExp(`^${words.join('\\n')}(\\n\\n|$)`));
  });

  it('says nothing of a scheduled event with an end, or a reschedule whose earlier start shows', () => {
    const events = [
      buildEvent(),
      buildEvent({ status: 'rescheduled', previousStartsAt: new Date('2026-11-28T19:30:00Z') }),
    ];
    for (const text of [
      renderRss(events, sampleChannel('rss')),
      renderAtom(events, sampleChannel('atom')),
      renderJsonFeed(events, sampleChannel('json')),
    ]) {
      for (const word of [STATUS_WORDS.relocated, STATUS_WORDS.openEnded]) {
        expect(text).not.toContain(word);
      }
      expect(text).not.toMatch(/<p>Rescheduled(<br>|<\/p>)/);
      expect(text).toContain('Rescheduled from: Sat 28 Nov 20:30');
    }
  });
});
