import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventportPost, stagerEvent, stagerMessage } from '../helpers/contract-payloads.js';
import {
  parseIcs,
  parseXmlStrict,
  unsafeHtml,
  xmlNodes,
  type XmlNode,
} from '../helpers/output-checks.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Output safety: titles, subtitles, descriptions (HTML, Markdown, plain), venue names, genres
 * and links carrying script, event-handler, `javascript:`, CDATA-breaking, template and
 * line-injection payloads are inert in every output: HTML pages and embed, RSS, Atom, JSON Feed,
 * the API and iCalendar. Every XML output still parses with a strict parser.
 */

const PAYLOADS = [
  '<script>alert("xss-1")</script>',
  '"><img src=x onerror=alert("xss-2")>',
  "'><svg onload=alert('xss-3')>",
  '</script><script>alert("xss-4")</script>',
  ']]><script>alert("xss-5")</script><![CDATA[',
  '<![CDATA[</title><script>alert("xss-6")</script>]]>',
  '<iframe src="javascript:alert(\'xss-7\')"></iframe>',
  '<a href="javascript:alert(\'xss-8\')">click</a>',
  '<a href="jav&#x09;ascript:alert(\'xss-9\')">tab</a>',
  '<a href=" javascript:alert(\'xss-10\')">space</a>',
  '<math><mi xlink:href="javascript:alert(\'xss-11\')">m</mi></math>',
  '<style>@import "javascript:alert(\'xss-12\')";</style>',
  '<div style="background:url(javascript:alert(\'xss-13\'))">s</div>',
  '<%= 7*7 %>tmpl {{7*7}} ${7*7}',
  '<!-- <script>alert("xss-14")</script> -->',
  '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=javascript:alert(\'xss-15\')">',
  '\r\nX-INJECTED:1\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected',
  '\u0000\u0001\u000B\uFFFE\uD800 controls',
  '[markdown link](javascript:alert("xss-16")) and ![img](javascript:alert("xss-17"))',
  '<object data="data:text/html,<script>alert(\'xss-18\')</script>"></object>',
];
const ALL = PAYLOADS.join(' ');
/** Titles are capped at 1,000 characters (longer ones are skipped): the first ten payloads. */
const TITLE = PAYLOADS.slice(0, 10).join(' ');
const MARKER = /xss-\d+/;

let app: TestApp;
const ids: string[] = [];

beforeAll(async () => {
  app = await startTestApp();
  const start = (day: number) => new Date(Date.UTC(2026, 11, day, 19, 0));
  const events = [
    stagerEvent({
      id: 9001,
      name: `Title ${TITLE}`,
      start: start(3),
      description: ALL,
      venue: `Venue ${ALL}`,
      city: `City ${PAYLOADS[1]}`,
    }),
    {
      ...stagerEvent({ id: 9002, name: PAYLOADS[3]!, start: start(4), venue: PAYLOADS[4]! }),
      description: { format: 'HTML', text: ALL },
      subtitle: PAYLOADS[2],
    },
    {
      ...stagerEvent({ id: 9003, name: PAYLOADS[4]!, start: start(5) }),
      description: { format: 'TEXT', text: ALL },
      genres: PAYLOADS.slice(0, 5),
      tags: PAYLOADS.slice(5, 8),
    },
    {
      ...stagerEvent({ id: 9004, name: PAYLOADS[16]!, start: start(6), status: 'CANCELLED' }),
      ticketShopUrl: 'javascript:alert("xss-19")',
      images: [{ type: 'MAIN', url: 'javascript:alert("xss-20")', altText: PAYLOADS[1] }],
      location: {
        name: PAYLOADS[0],
        street: PAYLOADS[16],
        city: PAYLOADS[4],
        country: PAYLOADS[1],
        latitude: 'x',
        longitude: 1e9,
      },
    },
  ];
  expect(
    (
      await app.postStager(
        stagerMessage('UPDATE_EVENTS', { id: 66, name: `Org ${PAYLOADS[0]}` }, events),
      )
    ).status,
  ).toBe(202);
  const eventport = [
    eventportPost({
      id: 'HostileEvent00001',
      name: `Party ${TITLE}`,
      start: start(7),
      description: ALL,
      venue: PAYLOADS[5]!,
      city: PAYLOADS[13]!,
    }),
    eventportPost({
      id: 'HostileEvent00002',
      name: PAYLOADS[0]!,
      start: start(8),
      description: `<p>looks like html</p>${ALL}`,
    }),
  ];
  for (const body of eventport) expect((await app.postEventport(body)).status).toBe(202);
  await app.settle();
  const failed = await app.query<{ error: string }>(
    "select error from deliveries where status != 'processed'",
  );
  expect(failed).toEqual([]);
  const skipped = (await app.query<{ result: string }>('select result from deliveries')).flatMap(
    (row) => (JSON.parse(row.result) as { skipped: unknown[] }).skipped,
  );
  expect(skipped).toEqual([]);
  ids.push(
    ...(
      await app.query<{ id: string }>(
        "select id from events where visibility = 'public' order by id",
      )
    ).map((row) => row.id),
  );
  expect(ids).toHaveLength(6);
});

afterAll(async () => {
  await app?.close();
});

async function text(path: string): Promise<string> {
  const response = await app.get(path, { 'accept-encoding': 'identity' });
  expect(response.status, path).toBe(200);
  return response.text();
}

function expectSafeUrl(value: string | null | undefined, where: string): void {
  if (value === null || value === undefined || value === '') return;
  expect(value.trim(), where).toMatch(/^(https?:\/\/|\/|#|mailto:)/i);
}

describe('HTML pages', () => {
  const pages = () => [
    '/',
    '/?q=script',
    '/embed',
    '/embed?theme=dark&accent=%23c03',
    ...ids.map((id) => `/events/${id}`),
  ];

  it('carry no script, handler, script URL or embedding element from the data', async () => {
    for (const path of pages()) {
      const html = await text(path);
      // The page head has meta tags and the list page a filter form; neither may come from the data.
      const problems = unsafeHtml(html, { allowedElements: ['meta', 'form'] });
      expect(problems, path).toEqual([]);
      expect(html, path).not.toMatch(/<meta[^>]+http-equiv/i);
      expect(html, path).not.toMatch(/<base[^>]+href/i);
      // Templates print data, never evaluate it.
      expect(html).not.toContain('49tmpl');
    }
  });

  it('keep JSON-LD valid JSON that cannot close its script element', async () => {
    for (const id of ids) {
      const html = await text(`/events/${id}`);
      const blocks = [
        ...html.matchAll(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/gi),
      ].map((match) => match[1] ?? '');
      expect(blocks.length, id).toBeGreaterThan(0);
      for (const block of blocks) {
        expect(block).not.toMatch(/<\/script|<!--/i);
        expect(() => JSON.parse(block)).not.toThrow();
      }
    }
  });
});

describe('XML feeds', () => {
  function htmlBearing(nodes: XmlNode[]): string[] {
    return nodes
      .filter(
        (node) =>
          node.name === 'description' ||
          node.name === 'content:encoded' ||
          ((node.name === 'content' || node.name === 'summary' || node.name === 'title') &&
            node.attributes.type === 'html'),
      )
      .map((node) => node.text);
  }

  it.each(['/events.rss', '/events.atom', '/events.rss?q=script', '/events.atom?city=amsterdam'])(
    '%s parses strictly and its HTML content is inert',
    async (path) => {
      const xml = await text(path);
      const root = parseXmlStrict(xml);
      const nodes = xmlNodes(root);
      for (const html of htmlBearing(nodes))
        expect(unsafeHtml(html), html.slice(0, 200)).toEqual([]);
      for (const node of nodes) {
        // No element or attribute came from the data.
        expect(['script', 'iframe', 'img', 'svg', 'a', 'object']).not.toContain(
          node.name.toLowerCase(),
        );
        for (const [name, value] of Object.entries(node.attributes)) {
          expect(name).not.toMatch(/^on/i);
          if (name === 'href' || name === 'url' || name === 'src')
            expectSafeUrl(value, `${node.name}@${name}`);
        }
        if (node.name === 'link' && node.text) expectSafeUrl(node.text.trim(), 'link');
      }
      const items = nodes.filter((node) => node.name === 'item' || node.name === 'entry');
      if (!path.includes('?')) expect(items).toHaveLength(ids.length);
      else expect(items.length).toBeGreaterThan(0);
    },
  );
});

describe('JSON outputs', () => {
  it('JSON Feed: content_html is inert, URLs are http(s), titles are data', async () => {
    const feed = JSON.parse(await text('/events.json')) as { items: Record<string, unknown>[] };
    expect(feed.items).toHaveLength(ids.length);
    for (const item of feed.items) {
      expect(unsafeHtml(String(item.content_html ?? ''))).toEqual([]);
      for (const key of ['url', 'external_url', 'image', 'banner_image'])
        expectSafeUrl(item[key] as string | undefined, key);
      expect(typeof item.title).toBe('string');
    }
  });

  it('API: description.html is inert and links are http(s)', async () => {
    const api = JSON.parse(await text('/api/events')) as {
      events: {
        description: { html: string | null };
        ticketUrl: string | null;
        image: { url: string } | null;
        organizer: { url: string | null };
        url: string;
      }[];
    };
    expect(api.events).toHaveLength(ids.length);
    for (const event of api.events) {
      expect(unsafeHtml(event.description.html ?? '')).toEqual([]);
      expectSafeUrl(event.ticketUrl, 'ticketUrl');
      expectSafeUrl(event.image?.url, 'image');
      expectSafeUrl(event.organizer.url, 'organizer.url');
      expectSafeUrl(event.url, 'url');
    }
  });

  it('are served as JSON with nosniff-safe types, never as HTML', async () => {
    for (const path of ['/api/events', '/events.json']) {
      const response = await app.get(path);
      expect(response.headers.get('content-type')).toMatch(/^application\/(feed\+)?json/);
    }
  });
});

describe('iCalendar', () => {
  it.each(['/events.ics', '/events.ics?q=script'])(
    '%s: one VEVENT per event, no injected property or component',
    async (path) => {
      const ics = await text(path);
      expect(ics).not.toMatch(/^(X-INJECTED|SUMMARY:injected)/m);
      expect(ics.match(/^BEGIN:VEVENT\r$/gm)).toHaveLength(ids.length);
      const events = parseIcs(ics);
      expect(events).toHaveLength(ids.length);
      for (const event of events) {
        expect(event.getFirstProperty('x-injected')).toBeNull();
        expectSafeUrl(event.getFirstPropertyValue('url') as string | null, 'URL');
        for (const property of event.getAllProperties()) {
          const value = String(property.getFirstValue() ?? '');
          // eslint-disable-next-line no-control-regex
          expect(value, property.name).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
        }
      }
    },
  );

  it('single-event calendars are as safe', async () => {
    for (const id of ids) {
      const ics = await text(`/events/${id}.ics`);
      expect(ics).not.toMatch(/^X-INJECTED/m);
      expect(parseIcs(ics)).toHaveLength(1);
    }
  });
});

describe('the payloads are kept as text, not lost', () => {
  it('shows the script payload escaped in the page and as text in the API', async () => {
    const api = JSON.parse(await text('/api/events')) as { events: { title: string }[] };
    expect(api.events.some((event) => MARKER.test(event.title))).toBe(true);
    const page = await text(`/events/${ids.find((id) => id === 'stager-9001')}`);
    expect(page).toContain('&lt;script&gt;alert(');
  });
});

describe('the checker itself', () => {
  it.each([
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<svg/onload=alert(1)>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<iframe src="https://example.org"></iframe>',
    '<base href="https://evil.example/">',
    '<div style="background:url(javascript:alert(1))">',
    '<script type="application/ld+json">{"a":"</script><script>alert(1)</script>"}</script>',
  ])('flags %s', (html) => {
    expect(unsafeHtml(html)).not.toEqual([]);
  });

  it.each([
    '&lt;script&gt;alert(1)&lt;/script&gt;',
    '<p title="&lt;img onerror=x&gt;">onerror=alert(1)</p>',
    '<a href="https://example.org/?q=javascript:">x</a>',
    '<!-- <script>alert(1)</script> -->',
  ])('passes %s', (html) => {
    expect(unsafeHtml(html)).toEqual([]);
  });
});
