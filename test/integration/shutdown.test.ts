import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/child-app.js';
import {
  databaseEnv,
  DEFAULT_TEST_ENV,
  fixture,
  queryDatabase,
  signStager,
  tempDatabase,
  tempDatabasePath,
} from '../helpers/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface Main {
  child: ChildProcessWithoutNullStreams;
  url: string;
  database: string;
  /** Everything written to stdout and stderr so far (log lines are batched: complete after exit). */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Main[] = [];
afterEach(() => {
  for (const main of running.splice(0))
    if (main.child.exitCode === null) main.child.kill('SIGKILL');
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `ready()` is true; fails with the output when the process ends or time runs out. */
async function until(
  main: Main,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    const { exitCode, signalCode } = main.child;
    if (exitCode !== null || signalCode !== null)
      throw new Error(
        `exited (${exitCode ?? signalCode}) before ${what}; output:\n${main.output()}`,
      );
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; output:\n${main.output()}`);
    await pause(50);
  }
}

/** True when /healthz answers 200; false while nothing listens. */
const healthy = (main: Main) => () =>
  fetch(`${main.url}/healthz`).then(
    (response) => response.ok,
    () => false,
  );

/** Starts `src/main.ts` as its own process (the way `npx tsx src/main.ts` would) on a fresh database. */
async function startMain(env: Record<string, string> = {}): Promise<Main> {
  const port = await freePort();
  const database = await tempDatabase();
  // A folder that goes with the test file, for the backups the scheduled jobs may write.
  const backupDir = path.join(path.dirname(tempDatabasePath()), 'backups');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      TMPDIR: os.tmpdir(),
      ...DEFAULT_TEST_ENV,
      JOBS_ENABLED: 'true',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...databaseEnv(database),
      BACKUP_DIR: backupDir,
      ...env,
    },
  });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const main: Main = {
    child,
    url: `http://127.0.0.1:${port}`,
    database,
    output: () => text,
    exited,
  };
  running.push(main);
  await until(main, '/healthz', healthy(main));
  return main;
}

const statuses = async (database: string) =>
  (
    await queryDatabase<{ status: string }>(database, 'select status from deliveries order by id')
  ).map((row) => row.status);

// Each test starts processes with tsx: seconds, or tens of seconds on a machine busy with other tests.
describe('process shutdown', { timeout: 180_000 }, () => {
  it('on SIGTERM processes the deliveries it acknowledged, stops jobs, closes the database and exits 0', async () => {
    const main = await startMain();
    const body = fixture('stager/update-events.json');
    const answers = await Promise.all(
      // Distinct bytes: a body identical to one already applied is ignored as a duplicate.
      Array.from({ length: 20 }, (_, index) => {
        const distinct = Buffer.concat([body, Buffer.from(' '.repeat(index))]);
        return fetch(`${main.url}/webhooks/stager`, {
          method: 'POST',
          headers: { 'x-signature': signStager(distinct) },
          body: distinct,
        });
      }),
    );
    expect(answers.map((response) => response.status)).toEqual(Array(20).fill(202));
    main.child.kill('SIGTERM');
    expect(await main.exited).toEqual({ code: 0, signal: null });
    expect(main.output()).toContain('jobs: scheduler started');
    expect(main.output()).toContain('marquee: shutting down');
    expect(main.output()).toContain('marquee: stopped');
    expect(await statuses(main.database)).toEqual(Array(20).fill('processed'));
  });

  it('does not let a stalled client hold shutdown past SHUTDOWN_TIMEOUT_SECONDS; a second signal exits at once', async () => {
    const stalled = (main: Main) => {
      // A request whose body never finishes keeps its connection busy.
      const request = http.request(`${main.url}/webhooks/stager`, {
        method: 'POST',
        headers: { 'content-length': '1000' },
      });
      request.on('error', () => undefined);
      request.write('{"messageType": ');
      return request;
    };

    const patient = await startMain({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const first = stalled(patient);
    await pause(200);
    const started = Date.now();
    patient.child.kill('SIGTERM');
    expect(await patient.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(patient.output()).toContain('marquee: stopped');
    first.destroy();

    const impatient = await startMain({ SHUTDOWN_TIMEOUT_SECONDS: '30' });
    const second = stalled(impatient);
    await pause(200);
    impatient.child.kill('SIGTERM');
    // Shutdown has begun once nothing accepts connections; the stalled request holds it there.
    await until(impatient, 'the listener to close', async () => !(await healthy(impatient)()));
    impatient.child.kill('SIGTERM');
    expect(await impatient.exited).toEqual({ code: 1, signal: null });
    expect(impatient.output()).toContain('marquee: second signal, exiting now');
    second.destroy();
  });
});
