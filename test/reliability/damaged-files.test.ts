import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runJob } from '../../src/jobs/scheduler.js';
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
 * Files an operator's bad day leaves behind: a database damaged in the middle of the file must
 * not report itself healthy, and a backup killed half-way must not leave its `.partial` file for
 * ever.
 */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  await removeTempDatabases();
});

const PAGE = 4096;

describe.skipIf(usingPostgres)('damaged files', () => {
  it('starts on a database damaged in the middle, and says so in /healthz, the admin page and the maintenance job', async () => {
    const database = tempDatabasePath();
    app = await startTestApp({ database });
    for (let id = 1; id <= 60; id += 1) {
      const body = stagerMessage('UPDATE_EVENTS', { id: 12, name: 'Damage Hall' }, [
        stagerEvent({
          id,
          name: `Event ${id}`,
          start: startFor(id),
          description: 'x'.repeat(3000),
        }),
      ]);
      expect((await app.postStager(body)).status).toBe(202);
    }
    await app.settle();
    expect((await app.get('/healthz')).status).toBe(200);
    await app.close();
    app = null;

    // Garbage over a page in the middle of the file: the header and schema stay readable.
    const pages = fs.statSync(database).size / PAGE;
    expect(pages).toBeGreaterThan(20);
    const fd = fs.openSync(database, 'r+');
    fs.writeSync(fd, Buffer.alloc(PAGE, 0x5a), 0, PAGE, Math.floor(pages * 0.6) * PAGE);
    fs.closeSync(fd);

    app = await startTestApp({ database, env: { ADMIN_TOKEN: TEST_SECRETS.adminToken } });
    const health = await app.get('/healthz');
    expect(health.status).toBe(503);
    const report = (await health.json()) as { status: string; problems: string[] };
    expect(report.status).toBe('degraded');
    expect(report.problems.length).toBeGreaterThan(0);
    expect(app.logs.join('')).toContain('the database file is damaged');
    const page = await (
      await app.get('/admin', { authorization: `Bearer ${TEST_SECRETS.adminToken}` })
    ).text();
    expect(page).toContain('The database file is damaged');

    const run = await runJob(app.ctx, 'maintenance');
    expect(run.result).toMatchObject({ integrityProblems: expect.any(Number) });
    expect(Number(run.result?.integrityProblems)).toBeGreaterThan(0);
  });

  it('removes the .partial files of backups killed half-way, at start and at the next backup', async () => {
    const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-partials-'));
    try {
      const abandoned = path.join(backupDir, 'marquee-20261101-040000.db.partial');
      const running = path.join(backupDir, 'marquee-20261122-040000.db.partial');
      const unrelated = path.join(backupDir, 'notes.partial');
      for (const file of [abandoned, running, unrelated]) fs.writeFileSync(file, 'half a backup');
      const hourAgo = new Date(Date.now() - 3_600_000);
      fs.utimesSync(abandoned, hourAgo, hourAgo);
      fs.utimesSync(unrelated, hourAgo, hourAgo);

      app = await startTestApp({ env: { BACKUP_DIR: backupDir } });
      expect(fs.readdirSync(backupDir).sort()).toEqual([
        'marquee-20261122-040000.db.partial',
        'notes.partial',
      ]);

      fs.writeFileSync(abandoned, 'another half');
      fs.utimesSync(abandoned, hourAgo, hourAgo);
      const run = await runJob(app.ctx, 'backup');
      expect(run.status).toBe('ok');
      const left = fs.readdirSync(backupDir);
      expect(left).not.toContain('marquee-20261101-040000.db.partial');
      expect(left).toContain('marquee-20261122-040000.db.partial');
      expect(left.filter((name) => name.endsWith('.db'))).toHaveLength(1);
    } finally {
      fs.rmSync(backupDir, { recursive: true, force: true });
    }
  });
});
