import type { KyselyPlugin } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import { processorOn } from '../helpers/processor.js';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

describe('processing failures', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('keeps the deliveries pending, logs, and retries after a pause instead of crashing', async () => {
    app = await startTestApp();
    const db = app.ctx.database.db;
    const startTransaction = db.startTransaction.bind(db);
    let failures = 1;
    db.startTransaction = () => {
      if (failures > 0) {
        failures -= 1;
        throw new Error('connection to the database lost');
      }
      return startTransaction();
    };

    const response = await app.postStager(fixture('stager/update-events.json'));
    expect(response.status).toBe(202);
    await app.ctx.inbox.idle();
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

  it('undoes a delivery that failed half-way through its writes, and keeps the others of its batch', async () => {
    app = await startTestApp();
    const test = app;
    // Deliveries wait in the inbox until the processor below takes them as one batch.
    await test.ctx.inbox.stop();
    const update = (id: number) =>
      stagerMessage('UPDATE_EVENTS', { id: 42, name: 'Paradiso' }, [
        stagerEvent({ id, name: `Event ${id}`, start: startFor(id) }),
      ]);
    for (const id of [1, 2, 3]) expect((await test.postStager(update(id))).status).toBe(202);

    // The second delivery's event row is written, then writing its genres fails, every time.
    const failSecondGenreWrite: KyselyPlugin = {
      transformQuery: (args) => {
        const node = args.node;
        if (
          node.kind === 'InsertQueryNode' &&
          node.into?.table.identifier.name === 'event_genres' &&
          JSON.stringify(node.values).includes('"stager-2"')
        ) {
          throw new Error('disk full while writing genres');
        }
        return node;
      },
      transformResult: async (args) => args.result,
    };
    const processor = processorOn(test, {
      db: test.ctx.database.db.withPlugin(failSecondGenreWrite),
    });
    processor.notify();
    await processor.idle();

    const deliveries = await test.query<{ status: string; error: string | null }>(
      "select status, error from deliveries where source = 'stager' order by id",
    );
    expect(deliveries).toEqual([
      { status: 'processed', error: null },
      { status: 'failed', error: 'disk full while writing genres' },
      { status: 'processed', error: null },
    ]);
    const events = await test.query<{ id: string }>('select id from events order by id');
    expect(events.map((event) => event.id)).toEqual(['stager-1', 'stager-3']);
  });
});
