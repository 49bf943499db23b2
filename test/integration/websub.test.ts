import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { saveShortFeed, shortFeedId } from '../../src/events/short-feeds.js';
import {
  fixture,
  startTestApp,
  tempDatabase,
  usingPostgres,
  type TestApp,
} from '../helpers/test-app.js';

/**
 * WebSub: feeds name the hub and themselves, and a change that alters a feed is announced to
 * the hub (a local one here) with the feed's canonical URL.
 */

const SYSTEM_PYTHON = '/usr/bin/python3';
const hasFeedparser =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import feedparser'], { stdio: 'ignore' }).status === 0;
if (!hasFeedparser) {
  console.warn('websub: skipping the feedparser check (apt-get install python3-feedparser)');
}

const PUBLIC_URL = 'https://events.example.org';
const UNFILTERED = ['/events.rss', '/events.atom', '/events.json'].map((path) => PUBLIC_URL + path);

interface Ping {
  contentType: string | undefined;
  params: URLSearchParams;
  status: number;
}

/** A hub that records publish pings; it answers 500 to the first `failures` requests. */
async function startHub(failures = 0): Promise<{
  url: string;
  pings: Ping[];
  /** hub.url of each ping it answered 2xx. */
  accepted(): string[];
  close(): Promise<void>;
}> {
  const pings: Ping[] = [];
  let refused = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const status = refused < failures ? 500 : 204;
      if (status === 500) refused += 1;
      pings.push({
        contentType: req.headers['content-type'],
        params: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hub`,
    pings,
    accepted: () =>
      pings
        .filter((ping) => ping.status < 300)
        .map((ping) => ping.params.get('hub.url') as string)
        .sort(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(
  hubUrl: string,
  env: Record<string, string> = {},
  database?: string,
): Promise<TestApp> {
  const app = await startTestApp({
    database,
    env: {
      WEBSUB_HUB_URL: hubUrl,
      WEBSUB_DELAY_SECONDS: '0.05',
      WEBSUB_RETRY_BASE_SECONDS: '0.05',
      ...env,
    },
  });
  cleanups.push(() => app.close());
  // The unfiltered feeds' ETags are taken at start: what the first change is compared with.
  await app.ctx.websub.idle();
  return app;
}

/** Processes what was posted, then waits for the announcement round and its pings. */
async function settled(app: TestApp): Promise<void> {
  await app.settle();
  await app.ctx.websub.idle();
}

/** The URLs of a Link header, by rel. */
function links(header: string | null): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of (header ?? '').matchAll(/<([^>]*)>;\s*rel="([^"]*)"/g)) {
    found[match[2] as string] = match[1] as string;
  }
  return found;
}

describe('WebSub announcements', () => {
  it('pings the hub with each unfiltered feed after a delivery changes them', async () => {
    const hub = await startHub();
    cleanups.push(hub.close);
    const app = await start(hub.url);
    expect(hub.pings).toEqual([]);

    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(app);
    expect(hub.accepted()).toEqual([...UNFILTERED].sort());
    for (const ping of hub.pings) {
      expect(ping.contentType).toBe('application/x-www-form-urlencoded');
      expect(ping.params.get('hub.mode')).toBe('publish');
      expect(ping.params.get('hub.topic')).toBe(ping.params.get('hub.url'));
    }
  });

  it('sends no ping when a delivery changes nothing a feed shows', async () => {
    const hub = await startHub();
    cleanups.push(hub.close);
    const app = await start(hub.url);
    const rounds: number[] = [];
    app.ctx.websub.on('round', (round) => rounds.push(round.announced));
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(app);
    const before = hub.pings.length;
    expect(before).toBe(3);

    // The same delivery again: nothing stored changes.
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(app);
    // An event that is not public: stored, but no feed shows it.
    expect((await app.postStager(fixture('stager/option-event-not-public.json'))).status).toBe(202);
    await settled(app);
    expect(hub.pings.length).toBe(before);
    // The private event did change stored events: a round compared the feeds and found none.
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    expect(rounds.slice(1).every((announced) => announced === 0)).toBe(true);
  });

  it('pings a filtered feed fetched lately only when its content changed', async () => {
    const hub = await startHub();
    cleanups.push(hub.close);
    const app = await start(hub.url);
    // Fetched while empty, in a non-canonical spelling: announced under its canonical URL.
    const response = await app.get('/events.atom?city=m%C3%BCnchen');
    expect(response.status).toBe(200);
    const self = links(response.headers.get('link')).self as string;
    expect(self.startsWith(`${PUBLIC_URL}/events.atom?`)).toBe(true);
    expect(self).not.toContain('m%C3%BCnchen&');
    const other = await app.get('/events.rss?city=Amsterdam');
    const amsterdam = links(other.headers.get('link')).self as string;

    // Amsterdam events: the Munich feed stays the same.
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(app);
    expect(hub.accepted()).toEqual([...UNFILTERED, amsterdam].sort());

    // A Munich event: now the Munich feed changed, and the Amsterdam one did not.
    hub.pings.length = 0;
    expect(
      (await app.postEventport(fixture('eventport/post-upcoming-munich-house.json'))).status,
    ).toBe(202);
    await settled(app);
    expect(hub.accepted()).toEqual([...UNFILTERED, self].sort());
  });

  it('announces a short feed URL fetched lately under its own URL', async () => {
    const hub = await startHub();
    cleanups.push(hub.close);
    const app = await start(hub.url);
    const saved = await saveShortFeed(app.ctx.database.db, '?city=Amsterdam', new Date());
    expect(saved).toBe(shortFeedId('?city=Amsterdam'));
    const response = await app.get(`/f/${saved}.json`);
    expect(response.status).toBe(200);
    expect(links(response.headers.get('link')).self).toBe(`${PUBLIC_URL}/f/${saved}.json`);

    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(app);
    expect(hub.accepted()).toEqual([...UNFILTERED, `${PUBLIC_URL}/f/${saved}.json`].sort());
  });

  it('retries pings the hub answered 500 until it recovers, and counts them', async () => {
    const hub = await startHub(4);
    cleanups.push(hub.close);
    const app = await start(hub.url);
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(app);
    expect(hub.pings.filter((ping) => ping.status === 500)).toHaveLength(4);
    expect(hub.accepted()).toEqual([...UNFILTERED].sort());
    expect(app.logs.some((line) => line.includes('websub: hub ping failed; retrying'))).toBe(true);
    const metrics = await (await app.get('/metrics')).text();
    expect(metrics).toContain('marquee_websub_pings_total{outcome="retrying"} 4');
    expect(metrics).toContain('marquee_websub_pings_total{outcome="sent"} 3');
  });

  it('gives up after the last retry, logged and counted as failed', async () => {
    const hub = await startHub(1000);
    cleanups.push(hub.close);
    const app = await start(hub.url, { WEBSUB_RETRY_BASE_SECONDS: '0.01' });
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(app);
    // Five attempts for each of the three feeds.
    expect(hub.pings).toHaveLength(15);
    const metrics = await (await app.get('/metrics')).text();
    expect(metrics).toContain('marquee_websub_pings_total{outcome="failed"} 3');
    expect(app.logs.some((line) => line.includes('websub: hub refused the ping; given up'))).toBe(
      true,
    );
  });

  it('announces nothing, and links no hub, without WEBSUB_HUB_URL', async () => {
    const app = await startTestApp();
    cleanups.push(() => app.close());
    expect(app.ctx.websub.enabled).toBe(false);
    const rss = await app.get('/events.rss');
    expect(rss.headers.get('link')).toBeNull();
    expect(await rss.text()).not.toContain('rel="hub"');
    const json = (await (await app.get('/events.json')).json()) as Record<string, unknown>;
    expect(json.hubs).toBeUndefined();
  });
});

describe('WebSub discovery', () => {
  it('names the hub and the feed itself in RSS, Atom, JSON Feed and Link headers', async () => {
    const hub = await startHub();
    cleanups.push(hub.close);
    const app = await start(hub.url);
    const hubUrl = new URL(hub.url).href;
    for (const path of ['/events.rss', '/events.atom', '/events.json', '/events.rss?city=Berlin']) {
      const response = await app.get(path);
      expect(response.status).toBe(200);
      const header = links(response.headers.get('link'));
      expect(header.hub).toBe(hubUrl);
      expect(header.self).toBe(PUBLIC_URL + path);
    }
    const json = (await (await app.get('/events.json')).json()) as Record<string, unknown>;
    expect(json.hubs).toEqual([{ type: 'WebSub', url: hubUrl }]);
    expect(json.feed_url).toBe(`${PUBLIC_URL}/events.json`);
    // The calendar carries no hub: no reader would push it.
    expect((await app.get('/events.ics')).headers.get('link')).toBeNull();
  });

  it.skipIf(!hasFeedparser)('reads as hub and self links in feedparser', async () => {
    const hub = await startHub();
    cleanups.push(hub.close);
    const app = await start(hub.url);
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(app);
    const hubUrl = new URL(hub.url).href;
    for (const path of ['/events.rss', '/events.atom']) {
      const read = spawnSync(
        SYSTEM_PYTHON,
        [
          '-c',
          [
            'import sys, json, feedparser',
            'feed = feedparser.parse(sys.stdin.buffer.read())',
            'print(json.dumps({"bozo": bool(feed.bozo), "entries": len(feed.entries),',
            '  "links": [{"rel": l.get("rel"), "href": l.get("href")} for l in feed.feed.links]}))',
          ].join('\n'),
        ],
        { input: await (await app.get(path)).text(), encoding: 'utf8' },
      );
      expect(read.status, read.stderr).toBe(0);
      const parsed = JSON.parse(read.stdout) as {
        bozo: boolean;
        entries: number;
        links: { rel: string; href: string }[];
      };
      expect(parsed.bozo).toBe(false);
      expect(parsed.entries).toBeGreaterThan(0);
      expect(parsed.links).toContainEqual({ rel: 'hub', href: hubUrl });
      expect(parsed.links).toContainEqual({ rel: 'self', href: PUBLIC_URL + path });
    }
  });
});

describe.skipIf(!usingPostgres)('WebSub with several instances on PostgreSQL', () => {
  it('announces each change from the instance that processed it only', async () => {
    const hub = await startHub();
    cleanups.push(hub.close);
    const database = await tempDatabase();
    const first = await start(hub.url, {}, database);
    const second = await start(hub.url, {}, database);
    expect((await first.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await settled(first);
    await settled(second);
    expect(hub.accepted()).toEqual([...UNFILTERED].sort());

    hub.pings.length = 0;
    expect(
      (await second.postEventport(fixture('eventport/post-upcoming-munich-house.json'))).status,
    ).toBe(202);
    await settled(second);
    await settled(first);
    expect(hub.accepted()).toEqual([...UNFILTERED].sort());
  });
});
