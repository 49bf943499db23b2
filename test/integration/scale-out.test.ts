import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { describeFetchError, startChildApp, type ChildApp } from '../helpers/child-app.js';
import {
  eventportPost,
  stagerEvent,
  stagerMessage,
  startFor,
} from '../helpers/contract-payloads.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '../helpers/postgres.js';
import { signStager, TEST_SECRETS } from '../helpers/test-app.js';

/**
 * Several Marquee processes on one PostgreSQL database (README, Scaling out): deliveries spread
 * across two instances, one of them SIGKILLed in the middle; every acknowledged delivery is
 * processed exactly once, and every instance serves the same bytes. Scheduled jobs run once per
 * schedule, whichever instance claims the run. Runs only with DATABASE_URL (a server on which it
 * may create and drop databases); each test gets a database of its own.
 */

const SERVER_URL = process.env.DATABASE_URL;

const DELIVERIES = 300;
const SENDERS = 8;
/** Acknowledged deliveries after which the first instance is killed. */
const KILL_AFTER = 120;
const STAGER_ORGANIZATIONS = 3;
const STAGER_EVENTS_PER_ORGANIZATION = 10;
const EVENTPORT_EVENTS = 15;
const UPDATED_BASE = Date.UTC(2026, 0, 1);
/** Generous bounds for asynchronous convergence (notifications, processing by another instance). */
const CONVERGE_MS = 30_000;

const OUTPUTS = [
  '/events.ics',
  '/events.rss',
  '/events.atom',
  '/events.json',
  '/api/events',
  '/',
  '/embed',
  '/events.ics?source=eventport&limit=5',
  '/api/events?city=München',
];

/** One event's page and calendar entry, compared once the event exists. */
const EVENT_OUTPUTS = ['/events/stager-101', '/events/stager-101.ics'];

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

interface Delivery {
  source: 'stager' | 'eventport';
  body: Buffer;
  /** Event id and title per event the delivery names; all share the delivery's update time. */
  events: [string, string][];
  updatedAt: number;
}

/**
 * The `index`-th delivery. Deliveries go in pairs (2m to the first instance, 2m+1 to the second)
 * that update the same events; update times grow with the index, so the newest stored delivery
 * of an event wins whatever order the instances process them in.
 */
function deliveryOf(index: number): Delivery {
  const pair = Math.floor(index / 2);
  const updatedAt = UPDATED_BASE + index * 1000;
  if (pair % 3 === 2) {
    const k = (pair * 7) % EVENTPORT_EVENTS;
    const id = `ScaleOut${String(k).padStart(3, '0')}`;
    const title = `Scale EP ${k} v${index}`;
    return {
      source: 'eventport',
      body: eventportPost({
        id,
        name: title,
        start: startFor(500 + k),
        changedOn: new Date(updatedAt),
      }),
      events: [[`eventport-${id}`, title]],
      updatedAt,
    };
  }
  const organization = Math.floor(pair / 3) % STAGER_ORGANIZATIONS;
  const ids = [
    ...new Set([0, 4].map((offset) => (pair * 3 + offset) % STAGER_EVENTS_PER_ORGANIZATION)),
  ].map((k) => stagerIdOf(organization, k));
  const titled = ids.map((id) => ({ id, title: `Scale ST ${id} v${index}` }));
  return {
    source: 'stager',
    body: stagerMessage(
      'UPDATE_EVENTS',
      organizationOf(organization),
      titled.map(({ id, title }) =>
        stagerEvent({ id, name: title, start: startFor(id), updatedAt: new Date(updatedAt) }),
      ),
    ),
    events: titled.map(({ id, title }) => [`stager-${id}`, title]),
    updatedAt,
  };
}

const stagerIdOf = (organization: number, k: number) => (organization + 1) * 100 + k + 1;
const organizationOf = (organization: number) => ({
  id: 9300 + organization,
  name: `Scale organization ${organization}`,
});

function post(app: ChildApp, delivery: Pick<Delivery, 'source' | 'body'>): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (delivery.source === 'stager') {
    headers['x-signature'] = signStager(delivery.body);
    return fetch(`${app.url}/webhooks/stager`, { method: 'POST', headers, body: delivery.body });
  }
  return fetch(`${app.url}/webhooks/eventport?accessToken=${TEST_SECRETS.eventportToken}`, {
    method: 'POST',
    headers,
    body: delivery.body,
  });
}

/** Runs one statement on `database` over a connection of the test's own; returns its rows. */
async function query<T>(database: TestPostgresDatabase, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

const running: ChildApp[] = [];
const databases: TestPostgresDatabase[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((app) => app.kill()));
  for (const database of databases.splice(0)) await database.drop();
});

async function newDatabase(): Promise<TestPostgresDatabase> {
  const database = await createTestPostgresDatabase(SERVER_URL as string, 'marquee_scale');
  databases.push(database);
  return database;
}

async function startInstance(database: TestPostgresDatabase, env: Record<string, string> = {}) {
  const app = await startChildApp(database.url, env);
  running.push(app);
  return app;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = CONVERGE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A busy instance may reset one connection; only the deadline fails.
    let failure = '';
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      failure = `; last poll: ${describeFetchError(error)}`;
    }
    if (Date.now() > deadline)
      throw new Error(`scale-out: ${what} within ${timeoutMs} ms${failure}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Served {
  status: number;
  etag: string | null;
  lastModified: string | null;
  contentType: string | null;
  body: string;
}

async function fetchOutput(app: ChildApp, path: string): Promise<Served> {
  // identity: compare the bytes rendered, not what a compressor made of them.
  const response = await fetch(`${app.url}${path}`, { headers: { 'accept-encoding': 'identity' } });
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    lastModified: response.headers.get('last-modified'),
    contentType: response.headers.get('content-type'),
    body: await response.text(),
  };
}

/**
 * Every output of `apps`, once they serve the same bytes. Another instance's write reaches an
 * instance's render cache through an asynchronous notification, so this polls; the last
 * difference is asserted, so a lasting one fails with a readable diff.
 */
async function identicalOutputs(apps: ChildApp[]): Promise<Map<string, Served>> {
  const deadline = Date.now() + CONVERGE_MS;
  for (;;) {
    let served: Map<string, Served>[];
    try {
      served = await Promise.all(
        apps.map(async (app) => {
          const outputs = new Map<string, Served>();
          for (const path of [...OUTPUTS, ...EVENT_OUTPUTS])
            outputs.set(path, await fetchOutput(app, path));
          return outputs;
        }),
      );
    } catch (error) {
      // A reset connection is retried like a difference; at the deadline it is the failure.
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    const [first, ...others] = served as [Map<string, Served>, ...Map<string, Served>[]];
    const differing = [...OUTPUTS, ...EVENT_OUTPUTS].filter((path) =>
      others.some(
        (outputs) => JSON.stringify(outputs.get(path)) !== JSON.stringify(first.get(path)),
      ),
    );
    if (differing.length === 0 || Date.now() > deadline) {
      for (const path of differing)
        for (const outputs of others) expect(outputs.get(path), path).toEqual(first.get(path));
      return first;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface DeliveryRow {
  id: number;
  body_sha256: string;
  status: string;
  attempts: number;
}

describe.skipIf(!SERVER_URL)(
  'scale-out: several instances on one PostgreSQL (DATABASE_URL)',
  () => {
    it(
      `processes ${DELIVERIES} deliveries spread over two instances exactly once, one of them SIGKILLed midway; both serve the same bytes`,
      { timeout: 120_000 },
      async () => {
        const database = await newDatabase();
        const [first, second] = await Promise.all([
          startInstance(database),
          startInstance(database),
        ]);
        let a: ChildApp = first;
        const b: ChildApp = second;

        const bySha = new Map<string, number>();
        const acknowledged = new Map<number, { id: number; sha: string }>();
        const failures: string[] = [];
        let unanswered = 0;
        let killed: Promise<void> | null = null;
        let pendingAtKill = 0;
        let next = 0;

        const killFirst = async () => {
          await a.kill();
          pendingAtKill = Number(
            (
              await query<{ n: string }>(
                database,
                "select count(*) as n from deliveries where status = 'pending'",
              )
            )[0]?.n,
          );
        };

        // Senders take deliveries in order; even ones go to the first instance until it is killed.
        const sender = async () => {
          while (next < DELIVERIES) {
            const index = next++;
            const delivery = deliveryOf(index);
            const sha = sha256(delivery.body);
            bySha.set(sha, index);
            const target = killed === null && index % 2 === 0 ? a : b;
            let response: Response;
            let answer: { delivery?: number };
            try {
              response = await post(target, delivery);
              answer = (await response.json()) as { delivery?: number };
            } catch (error) {
              // Killed while this one was in flight: it may or may not have been stored.
              if (target === a) unanswered += 1;
              else failures.push(`delivery ${index} to the survivor: ${(error as Error).message}`);
              continue;
            }
            if (response.status !== 202 || typeof answer.delivery !== 'number') {
              failures.push(`delivery ${index}: ${response.status} ${JSON.stringify(answer)}`);
              continue;
            }
            acknowledged.set(index, { id: answer.delivery, sha });
            if (acknowledged.size >= KILL_AFTER && killed === null) killed = killFirst();
          }
        };

        // Readers keep both render caches warm, so other instances' writes must invalidate them.
        let sending = true;
        let reads = 0;
        const reader = async () => {
          while (sending) {
            const app = killed === null && reads % 2 === 0 ? a : b;
            const path = OUTPUTS[reads % OUTPUTS.length] as string;
            reads += 1;
            try {
              const served = await fetchOutput(app, path);
              if (served.status !== 200) failures.push(`GET ${path}: ${served.status}`);
            } catch (error) {
              if (app !== a)
                failures.push(`GET ${path} from the survivor: ${(error as Error).message}`);
            }
          }
        };
        const readers = Promise.all([reader(), reader()]);
        await b.diagnose(Promise.all(Array.from({ length: SENDERS }, sender)));
        sending = false;
        await readers;
        expect(killed, 'the first instance was killed midway').not.toBeNull();
        expect(await a.exited).toBe('SIGKILL');
        await killed;
        expect(failures).toEqual([]);

        a = await startInstance(database);
        await a.diagnose(a.waitForEmptyInbox());
        await b.diagnose(b.waitForEmptyInbox());

        // Every delivery answered 2xx is stored under its id, once, and processed exactly once.
        const rows = await query<DeliveryRow>(
          database,
          'select id, body_sha256, status, attempts from deliveries order by id',
        );
        const rowsBySha = new Map(rows.map((row) => [row.body_sha256, row]));
        expect(rowsBySha.size, 'no body is stored twice').toBe(rows.length);
        for (const [index, { id, sha }] of acknowledged) {
          expect(rowsBySha.get(sha)?.id, `acknowledged delivery ${index}`).toBe(id);
        }
        expect(
          rows.filter((row) => row.status !== 'processed' || row.attempts !== 1),
          'every stored delivery processed, in one attempt',
        ).toEqual([]);
        // Beyond the acknowledged ones, only deliveries in flight at the kill may be stored.
        expect(rows.every((row) => bySha.has(row.body_sha256))).toBe(true);
        expect(rows.length).toBeGreaterThanOrEqual(acknowledged.size);
        expect(rows.length).toBeLessThanOrEqual(acknowledged.size + unanswered);
        expect(acknowledged.size + unanswered).toBe(DELIVERIES);

        // Each event carries the title of the newest stored delivery that named it.
        const expected = new Map<string, { title: string; updatedAt: number }>();
        for (const row of rows) {
          const delivery = deliveryOf(bySha.get(row.body_sha256) as number);
          for (const [id, title] of delivery.events) {
            const known = expected.get(id);
            if (!known || known.updatedAt < delivery.updatedAt)
              expected.set(id, { title, updatedAt: delivery.updatedAt });
          }
        }
        const events = await query<{ id: string; title: string }>(
          database,
          'select id, title from events',
        );
        expect(new Map(events.map((event) => [event.id, event.title]))).toEqual(
          new Map([...expected].map(([id, { title }]) => [id, title])),
        );

        const served = await identicalOutputs([a, b]);
        for (const [path, output] of served) expect(output.status, path).toBe(200);
        const api = JSON.parse(served.get('/api/events')?.body ?? '{}') as { total?: number };
        expect(api.total).toBe(expected.size);

        // A write through one instance reaches the other's cached outputs.
        const changedId = stagerIdOf(0, 0);
        const finalTitle = 'Scale-out final update';
        const response = await post(a, {
          source: 'stager',
          body: stagerMessage('UPDATE_EVENTS', organizationOf(0), [
            stagerEvent({
              id: changedId,
              name: finalTitle,
              start: startFor(changedId),
              updatedAt: new Date(UPDATED_BASE + DELIVERIES * 1000),
            }),
          ]),
        });
        expect(response.status).toBe(202);
        await until('the other instance serves the update', async () => {
          const output = await fetchOutput(b, '/api/events');
          return output.body.includes(finalTitle) ? output : undefined;
        });
        const after = await identicalOutputs([a, b]);
        for (const path of [
          '/events.ics',
          '/events.rss',
          '/events.atom',
          '/events.json',
          '/',
          '/events/stager-101',
        ]) {
          expect(after.get(path)?.body, path).toContain(finalTitle);
          expect(after.get(path)?.etag, path).not.toBe(served.get(path)?.etag);
        }

        console.log(
          `scale-out: ${DELIVERIES} deliveries over 2 instances (${SENDERS} connections), first killed after ${KILL_AFTER} acknowledged ` +
            `(${pendingAtKill} pending at the kill, ${unanswered} in flight to it); ${acknowledged.size} acknowledged, ${rows.length} stored, ` +
            `all processed once; ${reads} reads during the load; ${events.length} events; ${OUTPUTS.length + EVENT_OUTPUTS.length} outputs identical on both`,
        );
      },
    );

    it(
      'runs a scheduled job once per scheduled second across two instances',
      { timeout: 90_000 },
      async () => {
        const database = await newDatabase();
        // Four runs, one second apart, far enough ahead for both processes to have started. A finite
        // list, so no run is scheduled while the instances stop.
        const LEAD_MS = 12_000;
        const firstSlot = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
        const slots = [0, 1, 2, 3].map((offset) => firstSlot + offset * 1000);
        const seconds = slots.map((slot) => new Date(slot).getUTCSeconds());
        const env = {
          JOBS_ENABLED: 'true',
          SCHEDULE_RETENTION: `${seconds.join(',')} * * * * *`,
          SCHEDULE_BACKUP: 'off',
          SCHEDULE_SYNC_WATCHDOG: 'off',
          SCHEDULE_MAINTENANCE: 'off',
          // The instance that loses a claim says so at debug level.
          LOG_LEVEL: 'debug',
        };
        const instances = await Promise.all([
          startInstance(database, env),
          startInstance(database, env),
        ]);
        const bothScheduling = Date.now();
        const contested = slots.filter((slot) => slot > bothScheduling);
        expect(contested.length, 'both instances started before most runs').toBeGreaterThanOrEqual(
          2,
        );

        const claimsOf = () =>
          query<{ job: string; scheduled_for: string; instance: string }>(
            database,
            'select job, scheduled_for, instance from job_claims order by scheduled_for',
          );
        const linesOf = (app: ChildApp) =>
          app
            .output()
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as { msg?: string; trigger?: string });
        const finishedIn = (app: ChildApp) =>
          linesOf(app).filter(
            (line) => line.msg === 'jobs: retention finished' && line.trigger === 'schedule',
          ).length;
        const declinedIn = (app: ChildApp) =>
          linesOf(app).filter((line) => line.msg === 'jobs: retention is run by another instance')
            .length;

        const claims = await until(
          'every scheduled run is claimed and finished',
          async () => {
            if (Date.now() < (slots.at(-1) as number) + 1000) return undefined;
            const rows = await claimsOf();
            const finished = instances.reduce((sum, app) => sum + finishedIn(app), 0);
            return rows.length >= contested.length && finished >= rows.length ? rows : undefined;
          },
          LEAD_MS + 30_000,
        );
        const statuses = await Promise.all(instances.map((app) => app.stop()));
        expect(statuses).toEqual(['exit 0', 'exit 0']);

        // One claim per scheduled second: every contested one, none that was not scheduled.
        const claimed = claims.map((claim) => Date.parse(claim.scheduled_for));
        expect(claims.every((claim) => claim.job === 'retention')).toBe(true);
        expect(claimed.filter((slot) => !slots.includes(slot))).toEqual([]);
        expect(contested.filter((slot) => !claimed.includes(slot))).toEqual([]);
        // Each claimed run ran once in total, on the instance that claimed it; the other declined.
        for (const app of instances) {
          const own = claims.filter((claim) =>
            claim.instance.includes(`:${app.child.pid}:`),
          ).length;
          expect(finishedIn(app), `runs of process ${app.child.pid}`).toBe(own);
        }
        expect(instances.reduce((sum, app) => sum + finishedIn(app), 0)).toBe(claims.length);
        const declined = instances.reduce((sum, app) => sum + declinedIn(app), 0);
        expect(declined).toBeGreaterThanOrEqual(contested.length);
        expect(declined).toBeLessThanOrEqual(claims.length);
      },
    );
  },
);
