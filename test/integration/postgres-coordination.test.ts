import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { findEventById } from '../../src/events/event-reads.js';
import { claimJobRun } from '../../src/jobs/job-claims.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../helpers/postgres.js';
import { DEFAULT_TEST_ENV, signStager } from '../helpers/test-app.js';

/**
 * Instances sharing one PostgreSQL database, in one process: change announcements between their
 * render caches, the listener's reconnection, exactly-once processing when both process at once,
 * and job claims. (test/integration/scale-out.test.ts does it with real processes and SIGKILL.)
 */

const serverUrl = process.env.DATABASE_URL;

describe.skipIf(!serverUrl)('instances sharing one PostgreSQL database', () => {
  let database: TestPostgresDatabase;
  let databaseUrl = '';
  const running: RunningServer[] = [];
  let a: RunningServer;
  let b: RunningServer;

  const start = async (): Promise<RunningServer> => {
    const config = loadConfig({
      ...DEFAULT_TEST_ENV,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
    });
    const quiet = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const server = await startServer({
      config,
      logger: createLogger(config, quiet),
      port: 0,
      host: '127.0.0.1',
    });
    running.push(server);
    return server;
  };

  const query = async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  };

  const postStager = (server: RunningServer, body: Buffer) =>
    fetch(`${server.url}/webhooks/stager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signStager(body) },
      body,
    });

  const update = (id: number, name: string, updatedAt: Date) =>
    stagerMessage('UPDATE_EVENTS', { id: 42, name: 'Paradiso' }, [
      stagerEvent({ id, name, start: startFor(id), updatedAt }),
    ]);

  const feed = async (server: RunningServer) => {
    const response = await fetch(`${server.url}/events.json`);
    return { body: await response.text(), etag: response.headers.get('etag') };
  };

  const waitFor = async (check: () => Promise<boolean>, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    database = await createTestPostgresDatabase(serverUrl as string, 'marquee_test_coord');
    databaseUrl = database.url;
    a = await start();
    b = await start();
  });

  afterAll(async () => {
    await Promise.all(running.map((server) => server.close()));
    await database.drop();
  });

  it('drops cached feeds when another instance changes events, and serves the same bytes', async () => {
    expect(
      (await postStager(a, update(1, 'First title', new Date(Date.now() - 60_000)))).status,
    ).toBe(202);
    await waitFor(async () => (await feed(b)).body.includes('First title'));
    const cached = await feed(b);
    expect(await feed(b)).toEqual(cached);

    expect((await postStager(a, update(1, 'Second title', new Date()))).status).toBe(202);
    await waitFor(async () => (await feed(b)).body.includes('Second title'));
    expect(await feed(b)).toEqual(await feed(a));
  });

  it('reconnects a listener that lost its connection and hears announcements again', async () => {
    const listener = `marquee listener ${b.ctx.instanceId}`.slice(0, 63);
    const terminated = await query<{ ok: boolean }>(
      'select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1',
      [listener],
    );
    expect(terminated).toEqual([{ ok: true }]);
    await waitFor(
      async () =>
        (await query('select 1 from pg_stat_activity where application_name = $1', [listener]))
          .length === 1,
    );

    expect(
      (await postStager(a, update(1, 'Third title', new Date(Date.now() + 1000)))).status,
    ).toBe(202);
    await waitFor(async () => (await feed(b)).body.includes('Third title'));
    expect(await feed(b)).toEqual(await feed(a));
  });

  it('processes each delivery once when both instances process the same inbox at once', async () => {
    const base = Date.now() + 10_000;
    const sends: Promise<Response>[] = [];
    for (let round = 0; round < 20; round += 1) {
      for (const id of [101, 102, 103]) {
        const body = update(id, `Event ${id} round ${round}`, new Date(base + round * 1000));
        sends.push(postStager(round % 2 === 0 ? a : b, body));
      }
    }
    const statuses = (await Promise.all(sends)).map((response) => response.status);
    expect(statuses.every((status) => status === 202)).toBe(true);
    a.ctx.inbox.notify();
    b.ctx.inbox.notify();
    await waitFor(
      async () => (await query("select 1 from deliveries where status = 'pending'")).length === 0,
    );
    await Promise.all([a.ctx.inbox.idle(), b.ctx.inbox.idle()]);

    const deliveries = await query<{ status: string; attempts: number }>(
      'select status, attempts from deliveries where id in (select id from deliveries order by id desc limit 60)',
    );
    expect(deliveries).toHaveLength(60);
    expect(deliveries.every((row) => row.status === 'processed' && row.attempts === 1)).toBe(true);
    const titles = await query<{ id: string; title: string }>(
      "select id, title from events where id in ('stager-101', 'stager-102', 'stager-103') order by id",
    );
    expect(titles).toEqual([
      { id: 'stager-101', title: 'Event 101 round 19' },
      { id: 'stager-102', title: 'Event 102 round 19' },
      { id: 'stager-103', title: 'Event 103 round 19' },
    ]);
    await waitFor(async () => (await feed(a)).body === (await feed(b)).body);
  });

  it('lets one instance claim each scheduled run of a job', async () => {
    const scheduledFor = new Date('2026-11-23T03:30:00.000Z');
    const claim = (server: RunningServer) =>
      claimJobRun(server.ctx.database.db, {
        job: 'retention',
        scheduledFor,
        instance: server.ctx.instanceId,
        now: new Date(),
      });
    const results = await Promise.all([claim(a), claim(b), claim(a), claim(b)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const next = await claimJobRun(b.ctx.database.db, {
      job: 'retention',
      scheduledFor: new Date(scheduledFor.getTime() + 86_400_000),
      instance: b.ctx.instanceId,
      now: new Date(),
    });
    expect(next).toBe(true);
  });

  it('keeps answering when a table changes under its prepared statements (another instance migrated)', async () => {
    const read = () => findEventById(b.ctx.database.db, 'stager-1');
    const before = await read();
    expect(before?.id).toBe('stager-1');
    // Named (prepared) from their second use on a connection; the pool has several.
    for (let round = 0; round < 20; round += 1) await read();
    await query('alter table events add column added_by_a_later_migration text');
    for (let round = 0; round < 20; round += 1) expect(await read()).toEqual(before);
  });
});
