import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from '../../src/db/migrations/index.js';
import {
  databaseEnv,
  FIXED_NOW,
  fixture,
  queryDatabase,
  startTestApp,
  tempDatabase,
  tempDatabasePath,
  TEST_SECRETS,
  usingPostgres,
  type TestApp,
} from '../helpers/test-app.js';
import { cli, spawnCli } from '../helpers/cli.js';

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** A database with processed events and one failed delivery, closed again. */
async function preparedDatabase(): Promise<string> {
  const app = await startTestApp();
  expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
  expect(
    (await app.postStager(JSON.stringify({ messageType: 'UPDATE_EVENTS', messageContent: {} })))
      .status,
  ).toBe(202);
  await app.settle();
  await app.close();
  return app.database;
}

const ALL_MIGRATIONS = Object.keys(migrations).join(', ');

// The commands run in process (runCli) on the pinned clock; one test spawns the real bin.
describe('marquee (the command line)', { timeout: 30_000 }, () => {
  // The spawn starts tsx (about a second, more on a busy machine), hence the longer timeout.
  it(
    'runs as a bin: arguments, environment, standard input and output, exit code',
    { timeout: 60_000 },
    async () => {
      const dump = await cli(['export'], databaseEnv(await preparedDatabase()));
      expect(dump.code).toBe(0);
      const target = await tempDatabase();
      const imported = await spawnCli(
        ['import', '-'],
        databaseEnv(target),
        Buffer.from(dump.stdout),
      );
      expect(imported).toMatchObject({ code: 0, stderr: '' });
      expect(imported.stdout).toContain(`applied: ${ALL_MIGRATIONS}\n`);
      expect(imported.stdout).toContain('imported 2 deliveries, ');
    },
  );

  it('prints the version and the schema it migrates to', async () => {
    const { version } = JSON.parse(
      fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    const latest = Object.keys(migrations).at(-1) as string;
    for (const flag of ['--version', '-V']) {
      expect(await cli([flag])).toEqual({
        code: 0,
        stdout: `marquee ${version}\nschema ${latest}\n`,
        stderr: '',
      });
    }
    const status = await cli(['status'], databaseEnv(await preparedDatabase()));
    expect(status.stdout).toContain(`\nmarquee ${version}, schema ${latest}\n`);
  });

  it('prints help for the CLI and for each command; exit 2 on misuse', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'send-test',
      'replay',
      'backup',
      'restore',
      'migrate',
      'prune',
      'status',
      'job',
      'export',
      'import',
    ]) {
      expect(help.stdout).toContain(`  ${command} `);
    }
    const commandHelp = await cli(['replay', '--help']);
    expect(commandHelp.code).toBe(0);
    expect(commandHelp.stdout).toContain('marquee replay [--failed | --all] [--since DATE]');

    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const badOption = await cli(['backup', '--nope']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('usage: marquee backup');
  });

  it('prints configuration errors and exits 1', async () => {
    const result = await cli(['status'], { PORT: 'eighty', SCHEDULE_BACKUP: 'nightly' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('config: invalid environment');
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('SCHEDULE_BACKUP');
  });

  // A SQLite file is created by `migrate`; a PostgreSQL database exists (empty) beforehand.
  it.skipIf(usingPostgres)(
    'migrates a new database; other commands refuse a missing one',
    async () => {
      const databasePath = tempDatabasePath();
      const missing = await cli(['status'], { DATABASE_PATH: databasePath });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no database at');
      expect(fs.existsSync(databasePath)).toBe(false);

      const first = await cli(['migrate'], { DATABASE_PATH: databasePath });
      expect(first).toMatchObject({ code: 0, stdout: `applied: ${ALL_MIGRATIONS}\n` });
    },
  );

  it.runIf(usingPostgres)(
    'migrates an empty PostgreSQL database; other commands refuse it until then',
    async () => {
      const env = databaseEnv(await tempDatabase());
      const unmigrated = await cli(['status'], env);
      expect(unmigrated.code).toBe(1);
      expect(unmigrated.stderr).toContain(
        `the database schema is behind (pending: ${ALL_MIGRATIONS})`,
      );

      const first = await cli(['migrate'], env);
      expect(first).toMatchObject({ code: 0, stdout: `applied: ${ALL_MIGRATIONS}\n` });
      const again = await cli(['migrate'], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/: schema is up to date\n$/);
    },
  );

  it.runIf(usingPostgres)('refuses backup and restore on PostgreSQL, naming pg_dump', async () => {
    const env = databaseEnv(await tempDatabase());
    for (const args of [['backup'], ['restore', 'marquee-20261122-120000.db']]) {
      const refused = await cli(args, env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('pg_dump');
    }
  });

  // Backups are copies of the SQLite file.
  it.skipIf(usingPostgres)(
    'backs up and restores, refusing to overwrite without --force',
    async () => {
      const databasePath = await preparedDatabase();
      const backupDir = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-cli-backups-'));
      const backup = await cli(['backup'], { DATABASE_PATH: databasePath, BACKUP_DIR: backupDir });
      expect(backup.code).toBe(0);
      const file = /backup written: (\S+)/.exec(backup.stdout)?.[1];
      expect(file).toBeDefined();
      expect(path.dirname(file!)).toBe(backupDir);

      const target = tempDatabasePath();
      const restored = await cli(['restore', file!], { DATABASE_PATH: target });
      expect(restored.code).toBe(0);
      expect(await queryDatabase(target, 'select id, revision from events order by id')).toEqual(
        await queryDatabase(databasePath, 'select id, revision from events order by id'),
      );

      const refused = await cli(['restore', file!], { DATABASE_PATH: target });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('already exists; pass --force');
      const forced = await cli(['restore', file!, '--force'], { DATABASE_PATH: target });
      expect(forced.code).toBe(0);
      expect(forced.stdout).toContain('.pre-restore');
    },
  );

  it('replays failed deliveries, or all since a date, and prints the outcome', async () => {
    const database = await preparedDatabase();
    const failed = await cli(['replay'], databaseEnv(database));
    // A delivery still fails: exit 1.
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('requeued 1 failed deliveries');
    expect(failed.stdout).toContain('processed 0, ignored 0, failed 1');

    const all = await cli(['replay', '--all', '--since', '2026-11-01'], databaseEnv(database));
    expect(all.code).toBe(1);
    expect(all.stdout).toContain('requeued 2 deliveries received since 2026-11-01T00:00:00.000Z');
    expect(all.stdout).toContain('processed 1, ignored 0, failed 1');
    expect(await queryDatabase(database, 'select status from deliveries order by id')).toEqual([
      { status: 'processed' },
      { status: 'failed' },
    ]);

    expect((await cli(['replay', '--all', '--failed'], databaseEnv(database))).code).toBe(2);
  });

  it('exits 0 from a replay after which no delivery fails', async () => {
    const database = await preparedDatabase();
    await queryDatabase(
      database,
      "update deliveries set status = 'processed' where status = 'failed'",
    );
    const none = await cli(['replay'], databaseEnv(database));
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('requeued 0 failed deliveries');
  });

  it('shows progress on a terminal only, and a summary with the time taken', async () => {
    const database = await preparedDatabase();
    // Each reading of the clock is 250 ms after the last: every update is drawn.
    let tick = FIXED_NOW.getTime();
    const clock = () => new Date((tick += 250));
    const terminal = { stderrIsTerminal: true };
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-progress-'));
    const dump = path.join(folder, 'dump.jsonl.gz');

    const exported = await cli(
      ['export', '--out', dump],
      databaseEnv(database),
      undefined,
      clock,
      terminal,
    );
    expect(exported.code).toBe(0);
    // Each drawing starts with a carriage return and "erase line"; the last one is erased.
    const eraseLine = '\r\x1b[2K';
    expect(exported.stderr.startsWith(`${eraseLine}exporting: `)).toBe(true);
    expect(exported.stderr).toMatch(/exporting: \d+ rows written \(\d+\.\d s\)/);
    expect(exported.stderr.endsWith(eraseLine)).toBe(true);
    expect(exported.stdout).toMatch(
      /^exported 2 deliveries, .* to .*dump\.jsonl\.gz in \d+\.\d s\n$/,
    );
    // Not a terminal: no progress line, the summary alone.
    const quiet = await cli(
      ['export', '--out', path.join(folder, 'again.jsonl')],
      databaseEnv(database),
      undefined,
      clock,
    );
    expect(quiet.stderr).toBe('');
    // The dump on standard output: the summary goes to standard error.
    const piped = await cli(['export'], databaseEnv(database), undefined, clock);
    expect(piped.stderr).toMatch(/^exported 2 deliveries, .* in \d+\.\d s\n$/);

    const target = tempDatabasePath();
    const imported = await cli(['import', dump], databaseEnv(target), undefined, clock, terminal);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/importing: \d+ rows read, \d+% of .*dump\.jsonl\.gz \(/);
    expect(imported.stdout).toMatch(/imported 2 deliveries, .* in \d+\.\d s\n$/);

    const replayed = await cli(
      ['replay', '--all'],
      databaseEnv(target),
      undefined,
      clock,
      terminal,
    );
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toContain('replaying: 1 of 2 deliveries processed, ');
    expect(replayed.stderr).toContain('replaying: 2 of 2 deliveries processed, 1 failed (');
    expect(replayed.stdout).toMatch(/processed 1, ignored 0, failed 1 in \d+\.\d s\n/);

    const backup = await cli(
      ['backup'],
      { ...databaseEnv(target), BACKUP_DIR: path.join(folder, 'backups') },
      undefined,
      clock,
      terminal,
    );
    expect(backup.code).toBe(0);
    expect(backup.stderr).toMatch(/backing up: (\d+) of \1 pages \(100%\)/);
    expect(backup.stdout).toMatch(/^backup written: .* bytes\) in \d+\.\d s\n/);
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('prints the status, as text and as JSON, and prunes', async () => {
    const env = databaseEnv(await preparedDatabase());
    const text = await cli(['status'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('stager: configured');
    expect(text.stdout).toContain(
      'accepted 2, processed 1, ignored 0, failed 1, rejected 0, pending 0',
    );
    expect(text.stdout).toContain('inbox backlog: 0');
    const json = await cli(['status', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      inboxBacklog: 0,
      sources: [{ name: 'stager' }, { name: 'eventport' }],
    });

    const prune = await cli(['prune'], env);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toMatch(/events deleted \(ended before .*\): 0/);
    const job = await cli(['job', 'sync-watchdog'], env);
    expect(job.code).toBe(0);
    expect(job.stdout).toContain('sync-watchdog finished');
  });

  it('sends signed and authenticated test deliveries to a running Marquee', async () => {
    const app = await startTestApp();
    apps.push(app);
    const stager = await cli(['send-test', 'stager', '--url', app.url]);
    expect(stager.code).toBe(0);
    expect(stager.stdout).toContain(`POST ${app.url}/webhooks/stager`);
    expect(stager.stdout).toContain('HTTP 202');

    const token = await cli(['send-test', 'eventport', '--url', `${app.url}/webhooks/eventport`]);
    expect(token.code).toBe(0);
    expect(token.stdout).toContain('accessToken=[redacted]');
    expect(token.stdout).not.toContain(TEST_SECRETS.eventportToken);
    const basicAuth = await cli(['send-test', 'eventport', '--basic', '--url', app.url]);
    expect(basicAuth.stdout).toContain('HTTP 202');
    const file = await cli([
      'send-test',
      'stager',
      'test/fixtures/stager/update-events.json',
      '--url',
      app.url,
    ]);
    expect(file.stdout).toContain('from test/fixtures/stager/update-events.json');

    await app.settle();
    expect(await app.query('select source, status from deliveries order by id')).toEqual([
      { source: 'stager', status: 'processed' },
      { source: 'eventport', status: 'processed' },
      { source: 'eventport', status: 'processed' },
      { source: 'stager', status: 'processed' },
    ]);
    expect(
      await app.query("select visibility from events where id = 'stager-marquee-send-test'"),
    ).toEqual([{ visibility: 'hidden' }]);
    expect(
      await app.query("select title from events where id = 'eventport-marquee-send-test'"),
    ).toEqual([{ title: 'Marquee test event' }]);

    const wrongKey = await cli(['send-test', 'stager', '--url', app.url], {
      STAGER_SIGNING_KEYS: 'some-other-key-0123456789',
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toContain('HTTP 401');
    const unreachable = await cli(['send-test', 'stager', '--url', 'http://127.0.0.1:9']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('request failed');
  });
});
