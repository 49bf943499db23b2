import { afterAll, describe, expect, it } from 'vitest';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import { removeTempDatabases, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Syncs skip copies of events that did not change since they were stored (a stored hash of each
 * raw copy), and still withdraw what they no longer list, bring back what they list again, apply
 * what changed, and read everything again after a replay.
 */

afterAll(removeTempDatabases);

const ORGANIZATION = { id: 4200, name: 'Skip House' };
// Large enough to be processed in slices, the path that looks stored hashes up (over 256 KB).
const COUNT = 400;
const FIRST_ID = 42_000;

function copyOf(id: number, revision = 0): Record<string, unknown> {
  return stagerEvent({
    id,
    name: `Skip event ${id}${revision > 0 ? ` (revised ${revision})` : ''}`,
    start: startFor(id),
    description: `**Skip event ${id}** plays the whole album. ${'More words. '.repeat(40)}`,
  });
}

function syncOf(ids: readonly number[], revisionOf: (id: number) => number = () => 0): Buffer {
  const body = stagerMessage(
    'ORGANIZATION_SYNC',
    ORGANIZATION,
    ids.map((id) => copyOf(id, revisionOf(id))),
  );
  expect(body.length).toBeGreaterThan(256_000);
  return body;
}

const ALL = Array.from({ length: COUNT }, (_, index) => FIRST_ID + index);

interface Summary {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
}

async function syncAndSummary(app: TestApp, body: Buffer): Promise<Summary> {
  expect((await app.postStager(body)).status).toBe(202);
  await app.settle();
  const [row] = await app.query<{ result: string; status: string }>(
    'select result, status from deliveries order by id desc limit 1',
  );
  expect(row?.status).toBe('processed');
  return JSON.parse(row?.result ?? '{}') as Summary;
}

async function visibilityOf(app: TestApp, externalId: number): Promise<{ v: string; r: number }> {
  const [row] = await app.query<{ v: string; r: number }>(
    'select visibility as v, revision as r from events where id = ?',
    `stager-${externalId}`,
  );
  return row as { v: string; r: number };
}

describe('syncs of unchanged events', () => {
  it('skip unchanged copies, apply changed ones and withdraw unlisted ones', async () => {
    const app = await startTestApp();
    try {
      expect(await syncAndSummary(app, syncOf(ALL))).toMatchObject({ created: COUNT });

      // The same copies listed in another order (an identical body would be a duplicate).
      const again = await syncAndSummary(app, syncOf([...ALL].reverse()));
      expect(again).toMatchObject({ created: 0, updated: 0, unchanged: COUNT, removed: 0 });
      const [{ hashed } = { hashed: 0 }] = await app.query<{ hashed: number }>(
        'select count(*) as hashed from events where source_hash is not null',
      );
      expect(Number(hashed)).toBe(COUNT);

      // One changed, one left out: the change applies and the unlisted event is withdrawn.
      const changedId = ALL[7] as number;
      const leftOut = ALL[8] as number;
      const third = await syncAndSummary(
        app,
        syncOf(
          ALL.filter((id) => id !== leftOut),
          (id) => (id === changedId ? 1 : 0),
        ),
      );
      expect(third).toMatchObject({ updated: 1, unchanged: COUNT - 2, removed: 1 });
      expect(await visibilityOf(app, leftOut)).toMatchObject({ v: 'removed' });
      expect(await visibilityOf(app, changedId)).toMatchObject({ r: 2 });
      const feed = await (await app.get('/api/events?limit=1000')).json();
      expect((feed as { total: number }).total).toBe(COUNT - 1);

      // Listed again with the very copy it had before its removal: it comes back.
      const fourth = await syncAndSummary(
        app,
        syncOf(ALL, (id) => (id === changedId ? 1 : 0)),
      );
      expect(fourth).toMatchObject({ updated: 1, unchanged: COUNT - 1, removed: 0 });
      expect(await visibilityOf(app, leftOut)).toMatchObject({ v: 'public' });
    } finally {
      await app.close();
    }
  });

  it('reads every copy again after a replay', async () => {
    const app = await startTestApp();
    try {
      await syncAndSummary(app, syncOf(ALL));
      await syncAndSummary(app, syncOf([...ALL].reverse()));
      // A row that its copy would no longer give (as after a fix of the reading), its copy's
      // hash kept: only a reading of the copy restores it.
      const id = `stager-${ALL[3] as number}`;
      await app.query("update events set title = 'Stale', content_hash = 'stale' where id = ?", id);
      // As `marquee replay --all` does.
      expect(await app.ctx.inbox.replay({ scope: 'all', since: null })).toBe(2);
      await app.settle();
      const [row] = await app.query<{ title: string }>('select title from events where id = ?', id);
      expect(row?.title).toBe(`Skip event ${ALL[3] as number}`);
      const [{ hashed } = { hashed: 0 }] = await app.query<{ hashed: number }>(
        'select count(*) as hashed from events where source_hash is not null',
      );
      expect(Number(hashed)).toBe(COUNT);
    } finally {
      await app.close();
    }
  });
});
