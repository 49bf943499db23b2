import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildApp, type ChildApp } from '../helpers/child-app.js';
import {
  eventportPost,
  stagerEvent,
  stagerMessage,
  startFor,
} from '../helpers/contract-payloads.js';
import { parseIcs, parseXmlStrict } from '../helpers/output-checks.js';
import { rawRequest } from '../helpers/raw-http.js';
import { queryDatabase, signStager, tempDatabase, TEST_SECRETS } from '../helpers/test-app.js';

/**
 * A bounded load test on loopback: deliveries and feed requests at the same time, against
 * Marquee in its own process (the machine's second core). MARQUEE_LOAD_SCALE=1 sends 20,000 of
 * each; the default (0.25: 5,000 of each) keeps CI time reasonable on a 2-core machine whose
 * disk takes about 3.5 ms per fsync (every delivery costs at least one: see README, Reliability).
 * Expected: zero 5xx (zero non-2xx at all), zero lost deliveries, every feed well-formed, and
 * the final events exactly what the acknowledged deliveries say.
 */

const SCALE = Number(process.env.MARQUEE_LOAD_SCALE ?? 0.25);
const DELIVERIES = Math.round(20_000 * SCALE);
const FEED_REQUESTS = Math.round(20_000 * SCALE);
const CONCURRENCY = Number(process.env.MARQUEE_LOAD_CONCURRENCY ?? 16);
const ORGANIZATIONS = 10;
const STAGER_POOL = 400;
const EVENTPORT_POOL = 100;

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

const FEEDS = [
  '/events.ics?limit=50',
  '/events.rss?limit=50',
  '/events.atom?limit=50',
  '/events.json?limit=50',
  '/api/events?limit=50',
  '/api/events?city=Amsterdam&limit=20',
  '/events.rss?source=eventport&limit=20',
  '/events.ics?genre=Indie&limit=20',
  '/?page=1',
  '/embed?limit=10',
];

interface Expected {
  title: string;
  version: number;
}

/** The `index`-th delivery: Stager updates of 1-3 events, or an Eventport post; version = index. */
function delivery(index: number): {
  source: 'stager' | 'eventport';
  body: Buffer;
  events: [string, string][];
} {
  const updatedAt = new Date(Date.UTC(2026, 0, 1) + index * 1000);
  if (index % 4 === 3) {
    const k = (index * 7) % EVENTPORT_POOL;
    const id = `LoadEventport${String(k).padStart(4, '0')}`;
    const title = `Load EP ${k} v${index}`;
    return {
      source: 'eventport',
      body: eventportPost({ id, name: title, start: startFor(k), changedOn: updatedAt }),
      events: [[`eventport-${id}`, title]],
    };
  }
  const count = 1 + (index % 3);
  const events = Array.from(
    { length: count },
    (_, offset) => (index * 13 + offset * 101) % STAGER_POOL,
  );
  const unique = [...new Set(events)];
  const organization = index % ORGANIZATIONS;
  const list = unique.map((k) => {
    const id = organization * 10_000 + k;
    return { id, title: `Load ST ${id} v${index}` };
  });
  return {
    source: 'stager',
    body: stagerMessage(
      'UPDATE_EVENTS',
      { id: 9100 + organization, name: `Load organization ${organization}` },
      list.map(({ id, title }) =>
        stagerEvent({
          id,
          name: title,
          start: startFor(id),
          updatedAt,
          city: id % 10 === 0 ? 'Amsterdam' : 'Utrecht',
        }),
      ),
    ),
    events: list.map(({ id, title }) => [`stager-${id}`, title]),
  };
}

/** Runs `total` jobs with `concurrency` workers. */
async function pool(
  total: number,
  concurrency: number,
  job: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await job(next++);
    }),
  );
}

/** Checks a feed body is well-formed for its format; a full parse for every 10th, structure for the rest. */
function checkFeed(path: string, body: string, full: boolean): void {
  const format = path.split('?')[0]!;
  if (format === '/events.rss' || format === '/events.atom') {
    if (full) parseXmlStrict(body);
    else expect(body.trimEnd()).toMatch(format === '/events.rss' ? /<\/rss>$/ : /<\/feed>$/);
  } else if (format === '/events.ics') {
    expect(body.startsWith('BEGIN:VCALENDAR\r\n') && body.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(body.split('BEGIN:VEVENT').length).toBe(body.split('END:VEVENT').length);
    if (full) parseIcs(body);
  } else if (format === '/events.json' || format === '/api/events') {
    JSON.parse(body);
  } else {
    expect(body).toMatch(/^<!doctype html>/i);
    expect(body.trimEnd()).toMatch(/<\/html>$/i);
  }
}

let app: ChildApp | null = null;
afterAll(async () => {
  await app?.stop();
});

describe('load', () => {
  it(
    `takes ${DELIVERIES} deliveries and ${FEED_REQUESTS} feed requests at the same time: no 5xx, nothing lost, every feed well-formed`,
    // On SQLite on a 2-core machine the default scale takes about 60 s (180 req/s: every feed
    // request after a delivery is a re-render); the test checks what is answered and stored,
    // not speed, which the bench measures.
    { timeout: 120_000 + 600_000 * SCALE },
    async () => {
      const database = await tempDatabase();
      app = await startChildApp(database);
      const url = app.url;
      const statuses = new Map<string, number>();
      const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
      const acknowledged = new Map<number, { id: number; sha: string }>();
      const failures: string[] = [];
      const latencies: number[] = [];
      const started = Date.now();

      const deliveries = pool(DELIVERIES, CONCURRENCY, async (index) => {
        const { source, body } = delivery(index);
        const headers: [string, string][] = [['content-type', 'application/json']];
        let path = '/webhooks/eventport?accessToken=' + TEST_SECRETS.eventportToken;
        if (source === 'stager') {
          headers.push(['x-signature', signStager(body, TEST_SECRETS.stagerKeys[index % 2])]);
          path = '/webhooks/stager';
        }
        const t0 = performance.now();
        const response = await rawRequest(url, { method: 'POST', path, headers, body });
        latencies.push(performance.now() - t0);
        count(`POST ${response.status}`);
        if (response.status !== 202) {
          failures.push(
            `delivery ${index}: ${response.status} ${response.body.toString('utf8').slice(0, 200)}`,
          );
          return;
        }
        const { delivery: id } = JSON.parse(response.body.toString('utf8')) as { delivery: number };
        acknowledged.set(index, { id, sha: sha256(body) });
      });

      let feedBytes = 0;
      const feeds = pool(FEED_REQUESTS, CONCURRENCY, async (index) => {
        const path = FEEDS[index % FEEDS.length]!;
        const response = await rawRequest(url, {
          path,
          headers: [['accept-encoding', 'identity']],
        });
        count(`GET ${response.status}`);
        if (response.status !== 200) {
          failures.push(
            `GET ${path}: ${response.status} ${response.body.toString('utf8').slice(0, 200)}`,
          );
          return;
        }
        feedBytes += response.body.length;
        try {
          checkFeed(path, response.body.toString('utf8'), index % 10 === 0);
        } catch (error) {
          failures.push(`GET ${path}: malformed: ${(error as Error).message}`);
        }
      });

      await app.diagnose(Promise.all([deliveries, feeds]));
      const loadSeconds = (Date.now() - started) / 1000;
      await app.diagnose(app.waitForEmptyInbox(60_000 + 300_000 * SCALE));
      const drainedSeconds = (Date.now() - started) / 1000;

      expect(failures.slice(0, 10)).toEqual([]);
      expect([...statuses.keys()].filter((key) => !/ 20[02]$/.test(key))).toEqual([]);
      expect(acknowledged.size).toBe(DELIVERIES);

      // Nothing lost: every acknowledged delivery is stored under its id, with its body, processed.
      const inbox = await queryDatabase<{ id: number; body_sha256: string; status: string }>(
        database,
        'select id, body_sha256, status from deliveries',
      );
      const events = await queryDatabase<{ id: string; title: string }>(
        database,
        'select id, title from events',
      );
      const byId = new Map(inbox.map((row) => [row.id, row]));
      expect(inbox).toHaveLength(DELIVERIES);
      for (const [index, { id, sha }] of acknowledged) {
        const row = byId.get(id);
        expect(row?.body_sha256, `delivery ${index}`).toBe(sha);
        expect(row?.status, `delivery ${index}`).toBe('processed');
      }
      // Applied: each event carries the title of the newest delivery that named it.
      const expected = new Map<string, Expected>();
      for (let index = 0; index < DELIVERIES; index += 1) {
        for (const [id, title] of delivery(index).events) {
          const known = expected.get(id);
          if (!known || known.version < index) expected.set(id, { title, version: index });
        }
      }
      expect(new Map(events.map((row) => [row.id, row.title]))).toEqual(
        new Map([...expected].map(([id, { title }]) => [id, title])),
      );

      latencies.sort((a, b) => a - b);
      const p = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
      console.log(
        `load (scale ${SCALE}, ${CONCURRENCY}+${CONCURRENCY} connections): ${DELIVERIES} deliveries and ${FEED_REQUESTS} feed/page requests in ${loadSeconds.toFixed(1)} s ` +
          `(${Math.round((DELIVERIES + FEED_REQUESTS) / loadSeconds)} req/s), inbox drained at ${drainedSeconds.toFixed(1)} s; ` +
          `statuses ${[...statuses].map(([key, value]) => `${key}×${value}`).join(', ')}; ` +
          `delivery latency p50 ${p(0.5)} ms, p99 ${p(0.99)} ms; ${(feedBytes / 1e6).toFixed(0)} MB of feeds checked; ` +
          `${acknowledged.size} acknowledged, ${inbox.length} stored, 0 lost; ${events.length} events`,
      );
      expect(await app.stop()).toBe('exit 0');
      app = null;
    },
  );
});
