import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { backupFileName, listBackups, restoreBackup } from '../../src/jobs/backup.js';
import { JOB_NAMES, runJob } from '../../src/jobs/scheduler.js';
import { eventportCancel } from '../helpers/contract-payloads.js';
import {
  FIXED_NOW,
  fixture,
  startTestApp,
  tempDatabasePath,
  usingPostgres,
  type TestApp,
} from '../helpers/test-app.js';

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const app = await startTestApp(options);
  apps.push(app);
  return app;
}

const DAY = 86_400_000;
const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-jobs-'));

/** A clock the test moves forward. */
function movableClock(start = FIXED_NOW) {
  let current = start.getTime();
  return { now: () => new Date(current), advance: (ms: number) => (current += ms) };
}

describe('runJob', () => {
  it('lists the four jobs and refuses an unknown name', async () => {
    expect(JOB_NAMES).toEqual(['retention', 'backup', 'sync-watchdog', 'maintenance']);
    const app = await start();
    await expect(runJob(app.ctx, 'nope')).rejects.toThrow(/no job named nope/);
  });

  it('never overlaps a job with itself: a second run while one runs is skipped and logged', async () => {
    const app = await start();
    const [first, second] = await Promise.all([
      runJob(app.ctx, 'maintenance'),
      runJob(app.ctx, 'maintenance'),
    ]);
    expect(first.status).toBe('ok');
    expect(second.status).toBe('skipped');
    expect(app.logs.join('')).toContain('jobs: maintenance is still running; this run is skipped');
    expect((await runJob(app.ctx, 'maintenance')).status).toBe('ok');
  });

  it('logs the outcome with name, duration and result counts', async () => {
    const app = await start();
    await runJob(app.ctx, 'retention');
    const line = app.logs
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .find((entry) => entry.msg === 'jobs: retention finished');
    expect(line).toMatchObject({
      job: 'retention',
      trigger: 'direct',
      result: { deletedEvents: 0, purgedBodies: 0 },
    });
    expect(typeof line!.durationMs).toBe('number');
  });
});

describe('retention', () => {
  it('deletes events that ended over EVENT_RETENTION_DAYS ago and purges old bodies, keeping metadata', async () => {
    const clock = movableClock();
    const app = await start({
      now: clock.now,
      env: { EVENT_RETENTION_DAYS: '30', INBOX_RETENTION_DAYS: '10' },
    });
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await app.settle();
    expect((await app.query('select count(*) as n from events'))[0]).toEqual({ n: 3 });

    clock.advance(11 * DAY);
    let run = await runJob(app.ctx, 'retention');
    expect(run.result).toMatchObject({ deletedEvents: 0, purgedBodies: 1 });
    expect(
      await app.query(
        'select status, body, purged_at from deliveries left join delivery_bodies on delivery_id = id',
      ),
    ).toEqual([
      {
        status: 'processed',
        body: null,
        purged_at: new Date(FIXED_NOW.getTime() + 11 * DAY).toISOString(),
      },
    ]);

    // The fixture's events end in December 2026; 30 days after that they go, once a delivery
    // received since shows the clock agrees with the data.
    clock.advance(70 * DAY);
    expect((await app.postEventport(eventportCancel('never-seen'))).status).toBe(202);
    await app.settle();
    const version = app.ctx.caches.dataVersion.value;
    run = await runJob(app.ctx, 'retention');
    expect(run.result).toMatchObject({ deletedEvents: 3, purgedBodies: 0 });
    expect((await app.query('select count(*) as n from events'))[0]).toEqual({ n: 0 });
    expect((await app.query('select count(*) as n from deliveries'))[0]).toEqual({ n: 2 });
    expect(app.ctx.caches.dataVersion.value).toBeGreaterThan(version);
  });
});

// Backups and restores are copies of the SQLite file; a PostgreSQL server is backed up with its
// own tools, and the job says so.
describe('backup and restore', () => {
  it('names backups by UTC time', () => {
    expect(backupFileName(new Date('2026-11-22T05:04:03.999Z'))).toBe('marquee-20261122-050403.db');
  });

  it.runIf(usingPostgres)('skips the backup job on PostgreSQL, writing nothing', async () => {
    const backupDir = tempDir();
    const app = await start({ env: { BACKUP_DIR: backupDir } });
    const run = await runJob(app.ctx, 'backup');
    expect(run).toMatchObject({
      status: 'ok',
      result: { skipped: expect.stringMatching(/pg_dump/) },
    });
    expect(fs.readdirSync(backupDir)).toEqual([]);
  });

  it.skipIf(usingPostgres)(
    'backs up while serving, keeps BACKUP_KEEP, and a restored copy serves the same events',
    async () => {
      const backupDir = tempDir();
      const clock = movableClock();
      const app = await start({ now: clock.now, env: { BACKUP_DIR: backupDir, BACKUP_KEEP: '2' } });
      expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
      expect((await app.postEventport(fixture('eventport/post-full-example.json'))).status).toBe(
        202,
      );
      await app.settle();
      const before = await app.query('select id, title, revision from events order by id');
      expect(before.length).toBeGreaterThan(0);

      const files: string[] = [];
      for (let index = 0; index < 3; index += 1) {
        const run = await runJob(app.ctx, 'backup');
        expect(run.status).toBe('ok');
        files.push(String(run.result!.file));
        clock.advance(60_000);
      }
      expect(files[0]).toBe(path.join(backupDir, 'marquee-20261122-120000.db'));
      expect(listBackups(backupDir)).toEqual([files[2], files[1]]);
      expect(fs.readdirSync(backupDir).filter((name) => name.endsWith('.partial'))).toEqual([]);

      // The live database is open: restoring over it is refused even with force.
      expect(() => restoreBackup(files[2]!, app.database, { force: true })).toThrow(
        /open in another process/,
      );

      const restoredPath = tempDatabasePath();
      restoreBackup(files[2]!, restoredPath);
      const restored = await start({ database: restoredPath });
      expect(await restored.query('select id, title, revision from events order by id')).toEqual(
        before,
      );
      const health = (await (await restored.get('/healthz')).json()) as { status: string };
      expect(health.status).toBe('ok');
    },
  );

  it.skipIf(usingPostgres)(
    'refuses files that are not sound Marquee databases and an existing database without force',
    async () => {
      const dir = tempDir();
      const notSqlite = path.join(dir, 'notes.db');
      fs.writeFileSync(notSqlite, 'just text, not a database at all'.repeat(100));
      expect(() => restoreBackup(notSqlite, path.join(dir, 'target.db'))).toThrow(
        /not a readable SQLite database|cannot open/,
      );
      expect(() =>
        restoreBackup(path.join(dir, 'missing.db'), path.join(dir, 'target.db')),
      ).toThrow(/does not exist/);

      const other = path.join(dir, 'other.db');
      const { default: Sqlite } = await import('better-sqlite3');
      const foreign = new Sqlite(other);
      foreign.exec('create table something (x)');
      foreign.close();
      expect(() => restoreBackup(other, path.join(dir, 'target.db'))).toThrow(
        /not a Marquee database \(no deliveries, events table\)/,
      );

      const app = await start({ env: { BACKUP_DIR: dir } });
      const backup = String((await runJob(app.ctx, 'backup')).result!.file);
      await app.close();
      const target = path.join(dir, 'existing.db');
      fs.writeFileSync(target, 'old');
      fs.writeFileSync(`${target}-wal`, 'stale wal');
      fs.writeFileSync(`${target}-shm`, 'stale shm');
      expect(() => restoreBackup(backup, target)).toThrow(/already exists; pass --force/);
      const result = restoreBackup(backup, target, { force: true });
      expect(result.replaced).toBe(`${target}.pre-restore`);
      expect(fs.readFileSync(`${target}.pre-restore`, 'utf8')).toBe('old');
      expect(fs.existsSync(`${target}-wal`)).toBe(false);
      expect(fs.existsSync(`${target}-shm`)).toBe(false);
      expect(fs.readFileSync(target).equals(fs.readFileSync(backup))).toBe(true);
    },
  );
});

describe('sync-watchdog', () => {
  it('flags organizations whose last full sync is older than SYNC_STALE_HOURS, shown by /healthz', async () => {
    const clock = movableClock();
    const app = await start({ now: clock.now });
    expect(
      (await app.postStager(fixture('stager/organization-sync-removes-one.json'))).status,
    ).toBe(202);
    await app.settle();

    let run = await runJob(app.ctx, 'sync-watchdog');
    expect(run.result).toEqual({ organizations: 1, stale: 0, newlyStale: 0, recovered: 0 });
    let health = (await (await app.get('/healthz')).json()) as { staleOrganizations: unknown[] };
    expect(health.staleOrganizations).toEqual([]);

    clock.advance(27 * 3_600_000);
    run = await runJob(app.ctx, 'sync-watchdog');
    expect(run.result).toEqual({ organizations: 1, stale: 1, newlyStale: 1, recovered: 0 });
    expect(app.logs.join('')).toContain('jobs: organization sync is stale');
    const response = await app.get('/healthz');
    expect(response.status).toBe(200);
    health = (await response.json()) as { staleOrganizations: unknown[] };
    expect(health.staleOrganizations).toEqual([
      { source: 'stager', id: '1042', name: 'Paradiso', lastSyncAt: FIXED_NOW.toISOString() },
    ]);

    // Warned once: the next run does not warn again.
    run = await runJob(app.ctx, 'sync-watchdog');
    expect(run.result).toMatchObject({ stale: 1, newlyStale: 0 });
  });
});

describe('maintenance', () => {
  it.skipIf(usingPostgres)('optimizes and checkpoints only a large WAL', async () => {
    const app = await start();
    const run = await runJob(app.ctx, 'maintenance');
    expect(run.status).toBe('ok');
    expect(run.result).toMatchObject({ optimized: true, checkpointed: false });
  });

  it.runIf(usingPostgres)('is skipped on PostgreSQL, whose autovacuum does this', async () => {
    const app = await start();
    const run = await runJob(app.ctx, 'maintenance');
    expect(run.status).toBe('ok');
    expect(run.result).toEqual({ skipped: 'PostgreSQL maintains itself (autovacuum)' });
  });
});

describe('the scheduler', () => {
  it('starts with JOBS_ENABLED, runs a job on its cron schedule, and stops with the server', async () => {
    const app = await start({
      env: {
        JOBS_ENABLED: 'true',
        SCHEDULE_MAINTENANCE: '* * * * * *',
        SCHEDULE_BACKUP: 'off',
        SCHEDULE_TIMEZONE: 'UTC',
      },
    });
    expect(app.logs.join('')).toContain('jobs: scheduler started');
    const deadline = Date.now() + 5_000;
    while (!app.ctx.jobs.lastRun('maintenance') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.ctx.jobs.lastRun('maintenance')).toMatchObject({
      status: 'ok',
      trigger: 'schedule',
    });
    await app.close();
    const runs = app.logs.filter((line) => line.includes('jobs: maintenance finished')).length;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(app.logs.filter((line) => line.includes('jobs: maintenance finished')).length).toBe(
      runs,
    );
  });

  it('rejects a malformed schedule in the configuration', () => {
    expect(() => loadConfig({ SCHEDULE_BACKUP: 'every night' })).toThrow(ConfigError);
    expect(() => loadConfig({ SCHEDULE_BACKUP: 'every night' })).toThrow(
      /SCHEDULE_BACKUP: must be a cron expression/,
    );
    expect(loadConfig({ SCHEDULE_BACKUP: 'off' }).schedules.backup).toBe('off');
  });
});
