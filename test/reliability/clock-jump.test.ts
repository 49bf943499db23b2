import { afterEach, describe, expect, it } from 'vitest';
import { runRetention } from '../../src/jobs/retention.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import { FIXED_NOW, removeTempDatabases, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The clock jumps forward (a bad NTP answer, a VM restored from a snapshot) and comes back:
 * retention must not delete events or purge bodies on its word alone, and outputs cached while
 * it was ahead (empty lists) must not stay once it is back.
 */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  await removeTempDatabases();
});

const YEAR = 365 * 86_400_000;
const DELIVERIES = 30;

async function appWithDeliveries(clock: { now: Date }): Promise<TestApp> {
  const test = await startTestApp({ now: () => clock.now });
  for (let id = 1; id <= DELIVERIES; id += 1) {
    const body = stagerMessage('UPDATE_EVENTS', { id: 77, name: 'Jump Hall' }, [
      stagerEvent({ id, name: `Event ${id}`, start: startFor(id) }),
    ]);
    expect((await test.postStager(body)).status).toBe(202);
  }
  await test.settle();
  return test;
}

const count = async (test: TestApp, sqlText: string) =>
  Number((await test.query<{ n: number }>(sqlText))[0]!.n);

describe('a clock jumped forward', () => {
  it('makes retention delete no event that ended after the newest delivery and purge no more than half the bodies', async () => {
    const clock = { now: FIXED_NOW };
    app = await appWithDeliveries(clock);
    clock.now = new Date(FIXED_NOW.getTime() + 3 * YEAR);

    const run = await runJob(app.ctx, 'retention');
    expect(run.status).toBe('ok');
    expect(run.result).toMatchObject({ deletedEvents: 0, purgedBodies: 0 });
    expect(run.result?.refused).toEqual([expect.stringMatching(/^bodies: 30 would be purged/)]);
    expect(await count(app, 'select count(*) as n from events')).toBe(DELIVERIES);
    expect(await count(app, 'select count(*) as n from delivery_bodies')).toBe(DELIVERIES);
    expect(app.logs.join('')).toContain('jobs: retention refused');

    // An operator who checked the clock may force it.
    const forced = await runRetention(app.ctx, { force: true });
    expect(forced).toMatchObject({ deletedEvents: DELIVERIES, purgedBodies: DELIVERIES });
  });

  it('serves the events again once the clock is back, not what was cached while it ran ahead', async () => {
    const clock = { now: FIXED_NOW };
    app = await appWithDeliveries(clock);
    const titles = async () => {
      const response = await app!.get('/events.json');
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: unknown[] }).items.length;
    };
    const page = async () => (await app!.get('/')).text();
    expect(await titles()).toBe(DELIVERIES);
    const before = await page();
    expect(before).toContain('Jump Hall');

    clock.now = new Date(FIXED_NOW.getTime() + 3 * YEAR);
    expect(await titles()).toBe(0);
    expect(await page()).not.toContain('Event 1<');

    clock.now = FIXED_NOW;
    expect(await titles()).toBe(DELIVERIES);
    expect(await page()).toBe(before);
  });
});
