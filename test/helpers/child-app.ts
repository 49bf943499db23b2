import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { databaseEnv, DEFAULT_TEST_ENV } from './test-app.js';

/**
 * Marquee as a real child process (`node NODE_FLAGS --import tsx src/main.ts`) on a given database (a SQLite
 * file or a PostgreSQL URL), for tests that kill it. The child runs on the same Node binary as
 * the tests, on the real clock.
 */

const root = path.resolve(import.meta.dirname, '..', '..');

/** A port nobody listens on right now (loopback). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A failed poll in a few words: fetch's message and the socket error under it (ECONNRESET...). */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause ? `${message} (${cause.code ?? cause.message ?? 'no cause'})` : message;
}

export interface ChildApp {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<string>;
  /** SIGKILL: no shutdown hook runs. */
  kill(): Promise<string>;
  /** SIGTERM: the orderly shutdown of main.ts. */
  stop(): Promise<string>;
  /** Polls /healthz until the inbox has no pending delivery. */
  waitForEmptyInbox(timeoutMs?: number): Promise<void>;
  /** Runs `work`; if it fails, the error says whether the process died, how, and what it wrote last. */
  diagnose<T>(work: Promise<T>): Promise<T>;
}

/** Starts Marquee on `database` with the test secrets and waits until /healthz answers. */
export async function startChildApp(
  database: string,
  env: Record<string, string> = {},
): Promise<ChildApp> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, '--import', 'tsx', path.join(root, 'src/main.ts')],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        ...DEFAULT_TEST_ENV,
        PORT: String(port),
        HOST: '127.0.0.1',
        ...databaseEnv(database),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`));
  });
  const url = `http://127.0.0.1:${port}`;
  const app: ChildApp = {
    url,
    child,
    output: () => Buffer.concat(chunks).toString('utf8'),
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async waitForEmptyInbox(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        // A busy or restarting process may reset or refuse one poll; only the deadline fails.
        let last: string;
        try {
          const response = await fetch(`${url}/healthz`);
          const health = (await response.json()) as { inboxBacklog?: number };
          if (response.status === 200 && health.inboxBacklog === 0) return;
          last = JSON.stringify(health);
        } catch (error) {
          last = describeFetchError(error);
        }
        if (Date.now() > deadline)
          throw new Error(`child-app: inbox not empty after ${timeoutMs} ms: ${last}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async diagnose(work) {
      try {
        return await work;
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const ended = child.exitCode !== null || child.signalCode !== null;
        const state = ended
          ? `the process ended (${child.signalCode ?? `exit ${child.exitCode}`})`
          : 'the process is still running';
        throw new Error(
          `${(error as Error).message}; ${state}; its last output:\n${app.output().slice(-2_000)}`,
          { cause: error },
        );
      }
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`child-app: exited during start (${await exited}):\n${app.output()}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return app;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await app.kill();
      throw new Error(`child-app: /healthz did not answer within 30 s:\n${app.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The resident memory of process `pid`, in MB (VmRSS of /proc/<pid>/status). */
export function residentMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}
