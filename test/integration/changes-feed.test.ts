import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * /changes.json, /changes.atom, /changes.rss: one entry per published revision, newest first,
 * saying in plain words what changed, with the filter grammar of every feed.
 */

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers');
const SYSTEM_PYTHON = '/usr/bin/python3';
const hasFeedparser =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import feedparser'], { stdio: 'ignore' }).status === 0;
if (!hasFeedparser) {
  console.warn('changes-feed: skipping the feedparser check (apt-get install python3-feedparser)');
}

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** update-events.json with Night Tapes moved a day later, as a newer update. */
function rescheduled(): string {
  const message = JSON.parse(fixture('stager/update-events.json').toString('utf8')) as {
    messageContent: { events: Record<string, unknown>[] };
  };
  const [nightTapes] = message.messageContent.events;
  return JSON.stringify({
    ...message,
    messageContent: {
      ...message.messageContent,
      events: [
        {
          ...nightTapes,
          startsAt: '2026-12-06T20:30:00+01:00',
          endsAt: '2026-12-06T23:30:00+01:00',
          doorsOpenAt: '2026-12-06T19:30:00+01:00',
          updatedAt: '2026-11-21T09:00:00+01:00',
        },
      ],
    },
  });
}

/** An app that took in: three new events, a reschedule, a cancellation, a sync removing one. */
async function appWithHistory(): Promise<TestApp> {
  const app = await startTestApp();
  apps.push(app);
  for (const body of [
    fixture('stager/update-events.json'),
    rescheduled(),
    fixture('stager/cancelled-event.json'),
    fixture('stager/organization-sync-removes-one.json'),
  ]) {
    expect((await app.postStager(body)).status).toBe(202);
    await app.settle();
  }
  return app;
}

interface JsonFeedItem {
  id: string;
  title: string;
  content_text: string;
  tags: string[];
  _change: { event: string; kind: string; revision: number };
}

async function jsonItems(app: TestApp, query = ''): Promise<JsonFeedItem[]> {
  const response = await app.get(`/changes.json${query}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('application/feed+json');
  const feed = (await response.json()) as { version: string; items: JsonFeedItem[] };
  expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
  return feed.items;
}

describe('changes feed', () => {
  it('lists every published revision newest first, in plain words', async () => {
    const app = await appWithHistory();
    const items = await jsonItems(app);
    expect(items.map((item) => [item._change.event, item._change.kind])).toEqual([
      ['stager-583922', 'removed'],
      ['stager-583921', 'cancelled'],
      ['stager-583920', 'rescheduled'],
      ['stager-583922', 'created'],
      ['stager-583921', 'created'],
      ['stager-583920', 'created'],
    ]);
    const reschedule = items.find((item) => item._change.kind === 'rescheduled')!;
    expect(reschedule.content_text).toContain(
      'Start moved from Sat 5 Dec 20:30 to Sun 6 Dec 20:30',
    );
    expect(reschedule.title).toBe('Rescheduled: Night Tapes (+ support)');
    expect(reschedule.id).toMatch(/^tag:events\.example\.org,\d{4}-\d{2}-\d{2}:stager-583920#r2$/);
    const cancelled = items.find((item) => item._change.kind === 'cancelled')!;
    expect(cancelled.content_text).toMatch(/^Cancelled/);
    const removed = items.find((item) => item._change.kind === 'removed')!;
    expect(removed.content_text).toBe('Removed: no longer listed by the organizer');
    const created = items.find(
      (item) => item._change.event === 'stager-583920' && item._change.kind === 'created',
    )!;
    expect(created.content_text).toBe('Announced: Sat 5 Dec 20:30 at Paradiso Noord, Amsterdam');
    // Every entry id is unique: one per revision.
    expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
  });

  it('takes the filter grammar of every feed, and limit', async () => {
    const app = await appWithHistory();
    const jazz = await jsonItems(app, '?genre=Jazz');
    expect(jazz.map((item) => item._change.kind)).toEqual(['removed', 'created']);
    expect(new Set(jazz.map((item) => item._change.event))).toEqual(new Set(['stager-583922']));
    expect(await jsonItems(app, '?limit=2')).toHaveLength(2);
    expect((await app.get('/changes.json?colour=red')).status).toBe(400);
  });

  it.skipIf(!hasFeedparser)(
    'reads back in feedparser as the same entries (RSS and Atom)',
    async () => {
      const app = await appWithHistory();
      const expected = (await jsonItems(app)).map((item) => item.id);
      for (const path of ['/changes.atom', '/changes.rss']) {
        const response = await app.get(path);
        expect(response.status).toBe(200);
        const read = spawnSync(SYSTEM_PYTHON, [join(HELPERS, 'feedparser-ids.py')], {
          input: Buffer.from(await response.arrayBuffer()),
        });
        expect(read.status, read.stderr.toString()).toBe(0);
        const entries = read.stdout
          .toString()
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { id: string; link: string });
        expect(entries.map((entry) => entry.id)).toEqual(expected);
        expect(entries[0]!.link).toBe('https://events.example.org/events/stager-583922');
      }
    },
  );
});
