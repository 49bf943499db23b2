import { afterAll, describe, expect, it } from 'vitest';
import { appliedDuplicateQuery } from '../../src/inbox/inbox-repository.js';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import { removeTempDatabases, startTestApp, usingPostgres } from '../helpers/test-app.js';

/**
 * A delivery identical to one already applied is recorded as such and not applied again, and
 * finding that earlier delivery is one index lookup that reads no stored body: with large syncs
 * stored before it, a lookup that read rows walked megabytes of body for each small delivery.
 */

afterAll(removeTempDatabases);

const ORGANIZATION = { id: 5100, name: 'Echo Hall' };

function update(id: number): Buffer {
  return stagerMessage('UPDATE_EVENTS', ORGANIZATION, [
    stagerEvent({ id, name: `Echo ${id}`, start: startFor(id) }),
  ]);
}

describe('identical deliveries', () => {
  it('records a repeat of an applied body as identical, after large syncs, without applying it', async () => {
    const app = await startTestApp();
    try {
      // Two different large syncs, both applied: the second renames one event.
      const syncOf = (round: number) =>
        stagerMessage(
          'ORGANIZATION_SYNC',
          ORGANIZATION,
          Array.from({ length: 300 }, (_, index) =>
            stagerEvent({
              id: 51_000 + index,
              name: `Echo sync ${index}${index === 0 ? ` (${round})` : ''}`,
              start: startFor(index),
              description: 'A long evening. '.repeat(200),
            }),
          ),
        );
      for (let round = 0; round < 2; round += 1) {
        const sync = syncOf(round);
        expect(sync.length).toBeGreaterThan(1_000_000);
        expect((await app.postStager(sync)).status).toBe(202);
        await app.settle();
      }
      for (const body of [update(52_000), update(52_001), update(52_000)]) {
        expect((await app.postStager(body)).status).toBe(202);
        await app.settle();
      }
      const rows = await app.query<{ id: number; status: string; result: string }>(
        'select id, status, result from deliveries order by id',
      );
      expect(rows.map((row) => row.status)).toEqual([
        'processed',
        'processed',
        'processed',
        'processed',
        'ignored',
      ]);
      const repeat = rows.at(-1)!;
      expect(repeat.result).toContain(String(rows[2]!.id));
      const [revision] = await app.query<{ revision: number }>(
        'select revision from events where id = ?',
        'stager-52000',
      );
      expect(revision?.revision).toBe(1);

      const [latest] = await app.query<{ body_sha256: string }>(
        'select body_sha256 from deliveries where id = ?',
        repeat.id,
      );
      const compiled = appliedDuplicateQuery(app.ctx.database.db, {
        id: repeat.id,
        source: 'stager',
        test: 0,
        body_sha256: latest!.body_sha256,
      }).compile();
      if (usingPostgres) return;
      const plan = await app.query<{ detail: string }>(
        `explain query plan ${compiled.sql}`,
        ...compiled.parameters,
      );
      expect(plan.map((step) => step.detail)).toEqual([
        expect.stringMatching(
          /^SEARCH deliveries USING COVERING INDEX deliveries_body_sha256_lookup/,
        ),
      ]);
    } finally {
      await app.close();
    }
  }, 60_000);
});
