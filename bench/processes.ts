import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NODE_FLAGS } from '../src/node-flags.js';
import { BENCH_SECRETS } from './payloads.js';

/** Child processes under test: Marquee (the built app) and the bare Express baseline. */

const root = path.resolve(import.meta.dirname, '..');

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

export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Peak resident set size so far (VmHWM), in MB. */
  peakRssMb(): number;
  /** Starts the peak over from the current resident set size (Linux's clear_refs). */
  resetPeakRss(): void;
  stop(): Promise<void>;
}

function peakRss(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`bench: ${url} exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`bench: ${url} did not answer within ${timeoutMs} ms`);
}

function wrap(child: ChildProcess, url: string): ServerProcess {
  return {
    url,
    pid: child.pid as number,
    child,
    peakRssMb: () => peakRss(child.pid as number),
    resetPeakRss: () => fs.writeFileSync(`/proc/${child.pid}/clear_refs`, '5'),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `marquee-bench-${name}-`));
}

/**
 * Starts the built Marquee (dist/main.js, or `script` that starts it another way) as `npm start`
 * does (NODE_FLAGS), with its default configuration plus bench secrets; `env` names the database
 * (DATABASE_PATH or DATABASE_URL, see database.ts) and any other setting.
 */
export async function startMarquee(
  env: Record<string, string>,
  nodeOptions: string[] = [],
  script = 'dist/main.js',
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeOptions, path.join(root, script)], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: 'https://events.example.org',
      STAGER_SIGNING_KEYS: BENCH_SECRETS.stagerKey,
      EVENTPORT_TOKENS: BENCH_SECRETS.eventportToken,
      JOBS_ENABLED: 'false',
      ...env,
    },
    // Logs go where a service manager would take them; the bench does not read them.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, child);
  return wrap(child, url);
}

/** Starts the minimal Express 5 baseline in its own process. */
export async function startBaseline(): Promise<ServerProcess> {
  const port = await freePort();
  const dir = tempDir('baseline');
  const child = spawn(process.execPath, [path.join(root, 'bench/baseline-server.mjs')], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      DURABLE_DATABASE: path.join(dir, 'durable.db'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/empty`, child);
  return wrap(child, url);
}
