import { createHash } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, migrateToLatest } from '../../src/db/connection.js';
import { migrations } from '../../src/db/migrations/index.js';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import {
  databaseEnv,
  removeTempDatabases,
  startTestApp,
  tempDatabase,
} from '../helpers/test-app.js';

/**
 * Raw bodies live in `delivery_bodies`, apart from the delivery's row: a database rewrites a
 * whole row when one column changes, so with the body in the row every status change and
 * attempt count of a large sync copied its megabytes again. Databases made before the move keep
 * every body, purged ones stay purged, and the move can be undone.
 */

afterAll(removeTempDatabases);

const BEFORE = '0015-lookup-indexes';

function settingsOf(database: string) {
  const env = databaseEnv(database);
  return {
    databaseUrl: env.DATABASE_URL ?? null,
    databasePath: env.DATABASE_PATH ?? '',
    databasePoolSize: 2,
  };
}

describe('delivery bodies', () => {
  it('moves the bodies of an older database into their own table, and back', async () => {
    const database = await tempDatabase();
    const handle = openDatabase(settingsOf(database));
    try {
      const migrator = new Migrator({
        db: handle.db,
        provider: { getMigrations: async () => migrations },
      });
      expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
      const kept = Buffer.from('{"type":"UPDATE_EVENTS","events":[]}');
      for (const [body, purgedAt] of [
        [kept, null],
        [null, '2026-11-01T00:00:00.000Z'],
      ] as const) {
        await sql`insert into deliveries (source, received_at, headers, body, body_sha256,
          body_size, status, attempts, test, purged_at)
          values ('stager', '2026-10-01T00:00:00.000Z', '{}', ${body}, 'sha', ${kept.length},
          'processed', 1, 0, ${purgedAt})`.execute(handle.db);
      }

      expect(await migrateToLatest(handle.db)).toContain('0016-delivery-bodies');
      const bodies = await sql<{
        delivery_id: number;
        body: Buffer;
      }>`select delivery_id, body from delivery_bodies order by delivery_id`.execute(handle.db);
      expect(bodies.rows).toEqual([{ delivery_id: 1, body: kept }]);
      const rows = await sql<Record<string, unknown>>`select * from deliveries order by id`.execute(
        handle.db,
      );
      expect(rows.rows).toHaveLength(2);
      expect(Object.keys(rows.rows[0]!)).not.toContain('body');

      expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
      const restored = await sql<{
        id: number;
        body: Buffer | null;
      }>`select id, body from deliveries order by id`.execute(handle.db);
      expect(restored.rows).toEqual([
        { id: 1, body: kept },
        { id: 2, body: null },
      ]);
    } finally {
      await handle.close();
    }
  });

  it('stores each body of deliveries that share one commit with its own delivery', async () => {
    const app = await startTestApp();
    try {
      const bodies = Array.from({ length: 12 }, (_, index) =>
        stagerMessage('UPDATE_EVENTS', { id: 5300, name: 'Golf Hall' }, [
          stagerEvent({ id: 54_000 + index, name: `Golf ${index}`, start: startFor(index) }),
        ]),
      );
      // Sent at once, so that several arrive in one turn and share one insert.
      const statuses = await Promise.all(
        bodies.map(async (body) => (await app.postStager(body)).status),
      );
      expect(statuses.every((status) => status === 202)).toBe(true);
      await app.settle();
      const rows = await app.query<{ id: number; body_sha256: string; body: Buffer }>(
        `select id, body_sha256, body from deliveries
          join delivery_bodies on delivery_id = id order by id`,
      );
      expect(rows).toHaveLength(bodies.length);
      for (const row of rows) {
        expect(createHash('sha256').update(row.body).digest('hex')).toBe(row.body_sha256);
      }
      expect(new Set(rows.map((row) => row.body_sha256)).size).toBe(bodies.length);
    } finally {
      await app.close();
    }
  });

  it('processes a large sync and a repeat of it with the body stored once, apart from its row', async () => {
    const app = await startTestApp();
    try {
      const sync = stagerMessage(
        'ORGANIZATION_SYNC',
        { id: 5200, name: 'Foxtrot Hall' },
        Array.from({ length: 200 }, (_, index) =>
          stagerEvent({
            id: 53_000 + index,
            name: `Foxtrot ${index}`,
            start: startFor(index),
            description: 'A long evening. '.repeat(200),
          }),
        ),
      );
      expect(sync.length).toBeGreaterThan(600_000);
      for (let round = 0; round < 2; round += 1) {
        expect((await app.postStager(sync)).status).toBe(202);
        await app.settle();
      }
      expect(
        await app.query('select id, status, attempts, body_size from deliveries order by id'),
      ).toEqual([
        { id: 1, status: 'processed', attempts: 1, body_size: sync.length },
        { id: 2, status: 'ignored', attempts: 1, body_size: sync.length },
      ]);
      const stored = await app.query<{ delivery_id: number; body: Buffer }>(
        'select delivery_id, body from delivery_bodies order by delivery_id',
      );
      expect(stored.map((row) => row.delivery_id)).toEqual([1, 2]);
      for (const row of stored) expect(Buffer.compare(row.body, sync)).toBe(0);
      expect((await app.query('select count(*) as n from events'))[0]).toEqual({ n: 200 });
    } finally {
      await app.close();
    }
  });
});
