import { afterEach, describe, expect, it } from 'vitest';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import { FIXED_NOW, removeTempDatabases, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Data must not be rolled back: a replayed signed message (Stager's carry no timestamp or nonce)
 * changes nothing, a sync cannot undo what a later-received message did, and a removal is a
 * version that an update sent before it but received after it cannot undo.
 */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  await removeTempDatabases();
});

const ORG = { id: 9001, name: 'Replay Hall' };
const event = (id: number, name: string, extra: { status?: string; updatedAt?: Date } = {}) =>
  stagerEvent({ id, name, start: startFor(id), ...extra });

interface Row {
  id: string;
  title: string;
  visibility: string;
}

async function events(test: TestApp): Promise<Record<string, Omit<Row, 'id'>>> {
  const rows = await test.query<Row>('select id, title, visibility from events order by id');
  return Object.fromEntries(rows.map(({ id, ...rest }) => [id, rest]));
}

async function post(test: TestApp, body: Buffer): Promise<void> {
  expect((await test.postStager(body)).status).toBe(202);
  await test.settle();
}

describe('message order', () => {
  it('ignores a replayed ORGANIZATION_SYNC: no event created since is removed, none unpublished since comes back', async () => {
    app = await startTestApp();
    const captured = stagerMessage('ORGANIZATION_SYNC', ORG, [
      event(1, 'Kept'),
      event(2, 'Unpublished later'),
    ]);
    await post(app, captured);
    await post(app, stagerMessage('UPDATE_EVENTS', ORG, [event(3, 'Created since')]));
    await post(
      app,
      stagerMessage('UPDATE_EVENTS', ORG, [event(2, 'Unpublished later', { status: 'OPTION' })]),
    );
    const before = await events(app);
    expect(before['stager-3']?.visibility).toBe('public');
    expect(before['stager-2']?.visibility).not.toBe('public');

    await post(app, captured);
    expect(await events(app)).toEqual(before);
    const [last] = await app.query<{ status: string; result: string }>(
      'select status, result from deliveries order by id desc limit 1',
    );
    expect(last!.status).toBe('ignored');
    expect(JSON.parse(last!.result)).toMatchObject({ ignored: 'duplicate', duplicateOf: 1 });
  });

  it('does not roll back content without updatedAt when an older message is replayed', async () => {
    app = await startTestApp();
    const first = stagerMessage('UPDATE_EVENTS', ORG, [event(4, 'First title')]);
    await post(app, first);
    await post(app, stagerMessage('UPDATE_EVENTS', ORG, [event(4, 'Second title')]));
    await post(app, first);
    expect((await events(app))['stager-4']?.title).toBe('Second title');
  });

  it('an older delivery replayed after newer ones (failed, replayed after a fix) undoes nothing they did', async () => {
    app = await startTestApp();
    await post(app, stagerMessage('ORGANIZATION_SYNC', ORG, [event(5, 'A'), event(6, 'B')]));
    await post(app, stagerMessage('UPDATE_EVENTS', ORG, [event(7, 'Created after the sync')]));
    await post(app, stagerMessage('UPDATE_EVENTS', ORG, [event(5, 'A, renamed')]));
    await post(app, stagerMessage('ORGANIZATION_SYNC', ORG, [event(5, 'A, renamed')]));
    await post(app, stagerMessage('UPDATE_EVENTS', ORG, [event(6, 'B, back')]));
    const before = await events(app);
    expect(before['stager-6']).toEqual({ title: 'B, back', visibility: 'public' });
    expect(before['stager-7']?.visibility).toBe('removed');

    // The first sync had failed (standing in for a bug since fixed); the operator replays it.
    await app.query("update deliveries set status = 'failed' where id = 1");
    expect(await app.ctx.inbox.replay({ scope: 'failed', since: null })).toBe(1);
    expect(await events(app)).toEqual(before);

    await app.ctx.inbox.replay({ scope: 'all', since: null });
    expect(await events(app)).toEqual(before);
  });

  it('keeps an event removed by a sync when an update sent before the sync arrives after it', async () => {
    app = await startTestApp();
    const before = new Date(FIXED_NOW.getTime() - 3_600_000);
    await post(
      app,
      stagerMessage('ORGANIZATION_SYNC', ORG, [
        event(8, 'Stays', { updatedAt: before }),
        event(9, 'Removed', { updatedAt: before }),
      ]),
    );
    await post(
      app,
      stagerMessage('ORGANIZATION_SYNC', ORG, [event(8, 'Stays', { updatedAt: before })]),
    );
    expect((await events(app))['stager-9']?.visibility).toBe('removed');

    // Sent half an hour before the sync, delivered after it.
    const late = new Date(FIXED_NOW.getTime() - 1_800_000);
    await post(
      app,
      stagerMessage('UPDATE_EVENTS', ORG, [event(9, 'Removed, late', { updatedAt: late })]),
    );
    expect((await events(app))['stager-9']).toEqual({ title: 'Removed', visibility: 'removed' });

    // A change made after the removal publishes it again.
    const after = new Date(FIXED_NOW.getTime() + 60_000);
    await post(app, stagerMessage('UPDATE_EVENTS', ORG, [event(9, 'Back', { updatedAt: after })]));
    expect((await events(app))['stager-9']).toEqual({ title: 'Back', visibility: 'public' });
  });
});
