import { afterEach, describe, expect, it } from 'vitest';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

describe('processing that fails outside a delivery', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('keeps the deliveries pending, logs, and retries after a pause instead of crashing', async () => {
    app = await startTestApp();
    const db = app.ctx.database.db;
    const selectFrom = db.selectFrom.bind(db);
    let failures = 1;
    db.selectFrom = ((...args: Parameters<typeof selectFrom>) => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('connection to the database lost');
      }
      return selectFrom(...args);
    }) as typeof db.selectFrom;

    const response = await app.postStager(fixture('stager/update-events.json'));
    expect(response.status).toBe(202);
    await app.ctx.processor.idle();
    expect(app.logs.join('')).toContain('inbox: processing failed');

    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const pending = await fetch(`${app.url}/healthz`).then(
        (health) => health.json() as Promise<{ inboxBacklog: number }>,
      );
      if (pending.inboxBacklog === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const events = (await (await app.get('/api/events')).json()) as { total: number };
    expect(events.total).toBeGreaterThan(0);
  });
});
