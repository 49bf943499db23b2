import express from 'express';
import pg from 'pg';
import pino from 'pino';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/http/error-handler.js';
import { freePort } from '../helpers/child-app.js';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import {
  removeTempDatabases,
  startTestApp,
  tempDatabasePath,
  TEST_SECRETS,
  usingPostgres,
  type TestApp,
} from '../helpers/test-app.js';

/**
 * "Try later" is 503 with Retry-After, never 500: a full disk, a locked file, a PostgreSQL server
 * that is down or restarting. 500 stays for bugs. Concurrent admin replays never deadlock.
 */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  await removeTempDatabases();
});

const ADMIN = {
  authorization: `Bearer ${TEST_SECRETS.adminToken}`,
  accept: 'application/json',
};

/** Answers of an app whose one route throws `error`. */
async function answerTo(error: unknown): Promise<{ status: number; retryAfter: string | null }> {
  const tiny = express();
  tiny.get('/', () => {
    throw error;
  });
  tiny.use(errorHandler(pino({ level: 'silent' })));
  const server = tiny.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return { status: response.status, retryAfter: response.headers.get('retry-after') };
  } finally {
    server.close();
  }
}

/** The error a real driver call throws, caught. */
async function caught(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('fault answers', () => {
  it('maps the drivers’ real "try later" errors to 503 with Retry-After, and a bug to 500', async () => {
    const file = tempDatabasePath();
    const holder = new SqliteDatabase(file);
    const other = new SqliteDatabase(file, { timeout: 0 });
    try {
      holder.exec('create table if not exists t (x); begin immediate; insert into t values (1)');
      const busy = await caught(() => other.exec('begin immediate'));
      expect((busy as { code: string }).code).toBe('SQLITE_BUSY');
      expect(await answerTo(busy)).toEqual({ status: 503, retryAfter: '5' });
    } finally {
      holder.close();
      other.close();
    }

    const closedPort = await freePort();
    const client = new pg.Client({ host: '127.0.0.1', port: closedPort, user: 'nobody' });
    const refused = await caught(() => client.connect());
    expect(await answerTo(refused)).toEqual({ status: 503, retryAfter: '5' });

    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const ioerr = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
    const shutdown = Object.assign(
      new Error('terminating connection due to administrator command'),
      {
        code: '57P01',
      },
    );
    const pgDiskFull = Object.assign(new Error('could not extend file'), { code: '53100' });
    const terminated = new Error('Connection terminated unexpectedly');
    for (const error of [full, ioerr, shutdown, pgDiskFull, terminated]) {
      expect(await answerTo(error)).toEqual({ status: 503, retryAfter: '5' });
    }
    expect(await answerTo(new TypeError('x is undefined'))).toEqual({
      status: 500,
      retryAfter: null,
    });
    const constraint = Object.assign(new Error('UNIQUE constraint failed'), {
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    });
    expect((await answerTo(constraint)).status).toBe(500);
  });

  it.skipIf(usingPostgres)(
    'answers an admin replay 503 with Retry-After while another process holds the write lock',
    { timeout: 30_000 },
    async () => {
      app = await startTestApp({ env: { ADMIN_TOKEN: TEST_SECRETS.adminToken } });
      const locker = new SqliteDatabase(app.database);
      try {
        locker.exec('begin immediate');
        const response = await fetch(`${app.url}/admin/replay`, { method: 'POST', headers: ADMIN });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
      } finally {
        locker.exec('rollback');
        locker.close();
      }
      const again = await fetch(`${app.url}/admin/replay`, { method: 'POST', headers: ADMIN });
      expect(again.status).toBe(200);
    },
  );

  it.runIf(usingPostgres)(
    'runs concurrent admin replays on PostgreSQL without a deadlock',
    { timeout: 60_000 },
    async () => {
      app = await startTestApp({ env: { ADMIN_TOKEN: TEST_SECRETS.adminToken } });
      // Half of them fail again at every replay: replays and processing race over the same rows.
      for (let id = 1; id <= 60; id += 1) {
        const body =
          id % 2 === 0
            ? Buffer.from(JSON.stringify({ messageType: id }))
            : stagerMessage('UPDATE_EVENTS', { id: 3, name: 'Replay Hall' }, [
                stagerEvent({ id, name: `Event ${id}`, start: startFor(id) }),
              ]);
        expect((await app.postStager(body)).status).toBe(202);
      }
      await app.settle();
      for (let round = 0; round < 6; round += 1) {
        await app.query("update deliveries set status = 'failed' where id % 4 = 1");
        const answers = await Promise.all(
          Array.from({ length: 16 }, () =>
            fetch(`${app!.url}/admin/replay`, { method: 'POST', headers: ADMIN }),
          ),
        );
        expect(answers.map((response) => response.status)).toEqual(Array(16).fill(200));
        await app.settle();
      }
      expect(app.logs.join('')).not.toContain('deadlock');
    },
  );
});
