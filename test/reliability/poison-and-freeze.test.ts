import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildApp } from '../helpers/child-app.js';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import {
  queryDatabase,
  removeTempDatabases,
  signStager,
  startTestApp,
  tempDatabase,
  tempDatabasePath,
  usingPostgres,
} from '../helpers/test-app.js';

/**
 * What an authenticated sender sends must not freeze or kill the server: a poison message
 * (deep nesting, a huge description) is cut to the field limits and recorded as cut; a delivery
 * interrupted too often is set aside; SIGTERM is honoured during a long processing; a cached
 * feed keeps its latency while a large sync is processed; an outside write lock on the SQLite
 * file neither freezes serving nor loses a delivery.
 *
 * Scale with MARQUEE_SYNC_EVENTS (default 4,000; 40,000 is the figure in the README) and
 * MARQUEE_LOCK_SECONDS (default 4; 30 in the README).
 */

const SYNC_EVENTS = Number(process.env.MARQUEE_SYNC_EVENTS ?? 4_000);
const LOCK_SECONDS = Number(process.env.MARQUEE_LOCK_SECONDS ?? 4);
// A freeze shows as whole seconds (before slicing a sync held the thread for seconds). The
// 100 ms goal is measured by the bench on a quiet machine; here the suite runs in parallel on
// CI's two cores, so the bound only catches a freeze (see README, Reliability).
const FEED_P99_MS = Number(process.env.MARQUEE_FEED_P99_MS ?? 1_000);

afterAll(removeTempDatabases);

function syncBody(count: number, organization = 9100): Buffer {
  const events = Array.from({ length: count }, (_, index) =>
    stagerEvent({
      id: 500_000 + index,
      name: `Sync event ${index}`,
      start: startFor(index),
      description: `**Sync event ${index}**, night ${index % 97}.`,
    }),
  );
  return stagerMessage('ORGANIZATION_SYNC', { id: organization, name: 'Big House' }, events);
}

function postSigned(url: string, body: Buffer): Promise<Response> {
  return fetch(`${url}/webhooks/stager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signStager(body) },
    body,
  });
}

/**
 * GETs over one kept-alive connection, one after another: the latencies (ms) of answers from
 * the cache as it was when polling began (same ETag: the first rendering of the changed feed,
 * after the sync, is not "while it is processed"), and any error or reset.
 */
async function pollLatencies(
  url: string,
  until: () => boolean,
): Promise<{ latencies: number[]; errors: string[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const errors: string[] = [];
  let firstTag: string | undefined;
  while (!until()) {
    const started = performance.now();
    try {
      const tag = await new Promise<string>((resolve, reject) => {
        http
          .get(url, { agent }, (response) => {
            response.resume();
            response.on('end', () =>
              response.statusCode === 200
                ? resolve(String(response.headers.etag))
                : reject(new Error(`status ${response.statusCode}`)),
            );
          })
          .on('error', reject);
      });
      firstTag ??= tag;
      if (tag === firstTag) latencies.push(performance.now() - started);
    } catch (error) {
      errors.push(String(error));
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  agent.destroy();
  return { latencies, errors };
}

const p99 = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil(values.length * 0.99) - 1)] ?? 0;

describe('poison messages', () => {
  it('cuts a huge, deeply nested description to the limits, fast, and records the cut', async () => {
    const app = await startTestApp();
    try {
      const nested = `${'<div>'.repeat(100_000)}deep${'</div>'.repeat(100_000)}`;
      const huge = `<p>${'Lorem ipsum dolor sit amet. '.repeat(180_000)}</p>`;
      const body = stagerMessage('UPDATE_EVENTS', { id: 9200, name: 'Poison' }, [
        {
          ...stagerEvent({ id: 9201, name: 'Nested', start: startFor(1) }),
          description: { format: 'HTML', text: nested },
        },
        {
          ...stagerEvent({ id: 9202, name: 'Huge', start: startFor(2) }),
          description: { format: 'HTML', text: huge },
        },
      ]);
      expect(body.length).toBeGreaterThan(5_000_000);
      const started = Date.now();
      expect((await app.postStager(body)).status).toBe(202);
      await app.settle();
      expect(Date.now() - started).toBeLessThan(5_000);
      const [delivery] = await app.query<{ status: string; result: string }>(
        'select status, result from deliveries order by id desc limit 1',
      );
      expect(delivery?.status).toBe('processed');
      const result = JSON.parse(delivery?.result ?? '{}') as {
        created: number;
        cut: { externalId: string; fields: string[] }[];
      };
      expect(result.created).toBe(2);
      expect(result.cut).toEqual([
        {
          externalId: '9201',
          fields: [
            expect.stringContaining('cut to 262144 before reading'),
            expect.stringContaining('nested deeper than 50'),
          ],
        },
        {
          externalId: '9202',
          fields: [
            expect.stringContaining('cut to 262144 before reading'),
            expect.stringContaining('cut to 65536'),
          ],
        },
      ]);
      const [huge9202] = await app.query<{ description_text: string }>(
        "select description_text from events where external_id = '9202'",
      );
      expect(huge9202?.description_text.length).toBeLessThanOrEqual(65_536);
    } finally {
      await app.close();
    }
  }, 30_000);

  it('sets aside at start a delivery whose processing began too often without finishing', async () => {
    const database = await tempDatabase();
    const first = await startTestApp({ database });
    const body = syncBody(3);
    expect((await first.postStager(body)).status).toBe(202);
    await first.settle();
    // Five interrupted attempts, as left by crashes or hangs during its processing.
    await first.query(
      "update deliveries set status = 'pending', attempts = 5, result = null where id = (select max(id) from deliveries)",
    );
    await first.close();
    const second = await startTestApp({ database });
    try {
      await second.settle();
      const [row] = await second.query<{ status: string; error: string; attempts: number }>(
        'select status, error, attempts from deliveries order by id desc limit 1',
      );
      expect(row?.status).toBe('failed');
      expect(row?.error).toMatch(/began 5 times without finishing.*replay/);
      // Replayable after a fix: the count starts again.
      expect(await second.ctx.inbox.replay({ scope: 'failed', since: null })).toBe(1);
      const [replayed] = await second.query<{ status: string }>(
        'select status from deliveries order by id desc limit 1',
      );
      expect(replayed?.status).toBe('processed');
    } finally {
      await second.close();
    }
  }, 30_000);
});

describe('processing never freezes serving', () => {
  it('exits within SHUTDOWN_TIMEOUT_SECONDS when SIGTERM arrives during a long processing', async () => {
    const database = await tempDatabase();
    const app = await startChildApp(database, { SHUTDOWN_TIMEOUT_SECONDS: '2' });
    try {
      const response = await app.diagnose(
        postSigned(app.url, syncBody(Math.max(SYNC_EVENTS, 4_000))),
      );
      expect(response.status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      const exited = await app.stop();
      expect(Date.now() - started).toBeLessThan(2_000 + 500);
      expect(exited).toMatch(/^exit [01]$/);
    } finally {
      await app.kill();
    }
    const rows = await queryDatabase<{ status: string; attempts: number }>(
      database,
      'select status, attempts from deliveries',
    );
    // Either it finished in time, or it stays pending for the next start, its attempt counted.
    expect(rows).toHaveLength(1);
    expect(['processed', 'pending']).toContain(rows[0]?.status);
  }, 60_000);

  it('keeps a cached feed answering fast, without resets, while a large sync is processed', async () => {
    const database = await tempDatabase();
    const app = await startChildApp(database);
    try {
      const feed = `${app.url}/events.ics`;
      expect((await fetch(feed)).status).toBe(200);
      expect((await fetch(`${app.url}/events.rss`)).status).toBe(200);
      const body = syncBody(SYNC_EVENTS);
      let done = false;
      const polling = pollLatencies(feed, () => done);
      expect((await app.diagnose(postSigned(app.url, body))).status).toBe(202);
      // The receive itself (reading and hashing the body) is not processing: measure after it.
      const measured = pollLatencies(`${app.url}/events.rss`, () => done);
      await app.waitForEmptyInbox(120_000);
      done = true;
      const [, during] = await Promise.all([polling, measured]);
      console.log(
        `sync of ${SYNC_EVENTS} events: ${during.latencies.length} cached answers, p99 ${p99(during.latencies).toFixed(1)} ms, ${during.errors.length} errors`,
      );
      expect(during.errors).toEqual([]);
      expect(during.latencies.length).toBeGreaterThan(10);
      expect(p99(during.latencies)).toBeLessThan(FEED_P99_MS);
      const total = (await (await fetch(`${app.url}/api/events?limit=1`)).json()) as {
        total?: number;
      };
      expect(total.total ?? SYNC_EVENTS).toBeGreaterThan(0);
    } finally {
      await app.stop();
    }
  }, 180_000);
});

describe.skipIf(usingPostgres)('an outside write lock on the SQLite file', () => {
  it('spools deliveries durably (202), keeps feeds answering, and imports them once after', async () => {
    const database = await tempDatabase();
    const app = await startChildApp(database);
    const locker = new SqliteDatabase(database);
    try {
      expect((await fetch(`${app.url}/events.ics`)).status).toBe(200);
      locker.exec('BEGIN IMMEDIATE');
      const bodies: Buffer[] = [];
      const feedLatencies: number[] = [];
      const lockEnds = Date.now() + LOCK_SECONDS * 1000;
      let sequence = 0;
      while (Date.now() < lockEnds) {
        const body = stagerMessage(
          'UPDATE_EVENTS',
          { id: 9300, name: 'Locked' },
          [
            stagerEvent({
              id: 9300 + sequence,
              name: `Locked ${sequence}`,
              start: startFor(sequence),
            }),
          ],
          { nonce: sequence },
        );
        sequence += 1;
        bodies.push(body);
        const response = await app.diagnose(postSigned(app.url, body));
        expect(response.status).toBe(202);
        const started = performance.now();
        expect((await fetch(`${app.url}/events.ics`)).status).toBe(200);
        feedLatencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      locker.exec('ROLLBACK');
      console.log(
        `write lock of ${LOCK_SECONDS} s: ${bodies.length} deliveries answered 202, feed p99 ${p99(feedLatencies).toFixed(1)} ms`,
      );
      expect(bodies.length).toBeGreaterThan(5);
      expect(p99(feedLatencies)).toBeLessThan(FEED_P99_MS);
      await app.waitForEmptyInbox(30_000);
      const deadline = Date.now() + 15_000;
      let rows: { body_sha256: string; status: string }[] = [];
      while (Date.now() < deadline) {
        rows = await queryDatabase(
          database,
          'select body_sha256, status from deliveries order by id',
        );
        if (rows.length >= bodies.length && rows.every((row) => row.status === 'processed')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(rows.map((row) => row.body_sha256)).toEqual(
        bodies.map((body) => createHash('sha256').update(body).digest('hex')),
      );
      expect(rows.every((row) => row.status === 'processed')).toBe(true);
    } finally {
      if (locker.inTransaction) locker.exec('ROLLBACK');
      locker.close();
      await app.stop();
    }
  }, 120_000);
});

describe.runIf(usingPostgres)('no spool on PostgreSQL', () => {
  // The spool answers SQLite's write lock; instances sharing PostgreSQL answer 503 instead.
  it('keeps no spool directory beside DATABASE_PATH and stores deliveries in the database', async () => {
    const databasePath = tempDatabasePath();
    const app = await startTestApp({ env: { DATABASE_PATH: databasePath } });
    try {
      const body = stagerMessage('UPDATE_EVENTS', { id: 9400, name: 'Shared' }, [
        stagerEvent({ id: 9400, name: 'Shared 1', start: startFor(1) }),
      ]);
      expect((await postSigned(app.url, body)).status).toBe(202);
      await app.settle();
      const rows = await app.query<{ status: string }>('select status from deliveries');
      expect(rows.map((row) => row.status)).toEqual(['processed']);
      expect(fs.existsSync(`${databasePath}.spool`)).toBe(false);
    } finally {
      await app.close();
    }
  });
});
