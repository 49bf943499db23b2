import { afterEach, describe, expect, it } from 'vitest';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import { processorOn } from '../helpers/processor.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** Far longer than posting a few deliveries takes, so that what is asserted is not a race. */
const SPACING_MS = 2_000;

describe('processing batches', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** A processor of its own on the app's database (the app's is stopped), counting its batches. */
  async function processorOnApp() {
    app = await startTestApp();
    const test = app;
    await test.ctx.inbox.stop();
    const batches: number[] = [];
    const processed: number[] = [];
    const processor = processorOn(test, {
      batchSpacingMs: SPACING_MS,
      hooks: {
        onEventsChanged: () => batches.push(performance.now()),
        onProcessed: () => processed.push(performance.now()),
      },
    });
    const post = async (id: number, notify = true) => {
      const body = stagerMessage('UPDATE_EVENTS', { id: 42, name: 'Paradiso' }, [
        stagerEvent({ id, name: `Event ${id}`, start: startFor(id % 20) }),
      ]);
      expect((await test.postStager(body)).status).toBe(202);
      if (notify) processor.notify();
    };
    return { processor, post, batches, processed };
  }

  it('processes a delivery after a quiet spell at once, and a stream that follows in one batch', async () => {
    const { processor, post, batches, processed } = await processorOnApp();
    const first = performance.now();
    await post(1);
    await processor.idle();
    expect(processed[0]! - first).toBeLessThan(SPACING_MS);
    expect(batches).toHaveLength(1);

    // Arriving one by one right after a batch, they wait for the rest of the spacing together.
    for (const id of [2, 3, 4, 5]) await post(id);
    await processor.idle();
    expect(processed).toHaveLength(5);
    expect(batches).toHaveLength(2);
    expect(batches[1]! - batches[0]!).toBeGreaterThanOrEqual(SPACING_MS / 2);
    const events = (await (await app!.get('/api/events')).json()) as { total: number };
    expect(events.total).toBe(5);
  });

  it('goes on at once while a full batch waits', async () => {
    const { processor, post, batches, processed } = await processorOnApp();
    await post(1);
    await processor.idle();
    // A backlog of more than a batch takes, stored before the processor hears of it.
    for (let id = 2; id <= 52; id += 1) await post(id, false);
    processor.notify();
    await processor.idle();
    expect(processed).toHaveLength(52);
    // The full batch went on at once; the one delivery left over waited for the spacing.
    expect(batches).toHaveLength(3);
    expect(batches[1]! - batches[0]!).toBeLessThan(SPACING_MS / 2);
    expect(batches[2]! - batches[1]!).toBeGreaterThanOrEqual(SPACING_MS / 2);
  });
});
