import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';

export const FIXED_NOW = new Date('2026-11-22T12:00:00.000Z');

export const TEST_SECRETS = {
  stagerKeys: ['stager-key-staging-0123456789', 'stager-key-production-9876543210'],
  eventportToken: 'eventport-token-abcdefghijklmnop',
  basicUser: 'marquee',
  basicPassword: 'basic-password-qrstuvwxyz',
  adminToken: 'admin-token-0123456789abcdef',
};

export const DEFAULT_TEST_ENV: Record<string, string> = {
  STAGER_SIGNING_KEYS: TEST_SECRETS.stagerKeys.join(','),
  EVENTPORT_TOKENS: TEST_SECRETS.eventportToken,
  EVENTPORT_BASIC_AUTH: `${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`,
  PUBLIC_URL: 'https://events.example.org',
  TIMEZONE: 'Europe/Amsterdam',
  JOBS_ENABLED: 'false',
  LOG_LEVEL: 'info',
};

/** Every log line any test app wrote in this test file, for secret-leak assertions. */
export const capturedLogs: string[] = [];

/**
 * Every secret a test app was configured with and every credential the helpers sent (signatures,
 * tokens, Basic credentials, right or wrong). test/helpers/secret-scan.ts asserts that none of
 * them appears in `capturedLogs` after each test file.
 */
export const sentCredentials = new Set<string>();

export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', name));
}

export function signStager(
  body: Buffer | string,
  key = TEST_SECRETS.stagerKeys[0] as string,
): string {
  const signature = createHmac('sha256', key).update(body).digest('hex');
  sentCredentials.add(signature);
  return signature;
}

const tempDirs: string[] = [];

/** A database path in a fresh temporary folder, removed when the test file ends. */
export function tempDatabasePath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-test-'));
  tempDirs.push(dir);
  return path.join(dir, 'marquee.db');
}

/** Removes the folders tempDatabasePath made (called after each test file). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export interface TestApp extends RunningServer {
  databasePath: string;
  logs: string[];
  postStager(
    body: Buffer | string,
    options?: { signature?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
  postEventport(
    body: Buffer | string,
    options?: { token?: string | null; basic?: [string, string]; headers?: Record<string, string> },
  ): Promise<Response>;
  get(pathAndQuery: string, headers?: Record<string, string>): Promise<Response>;
  /** Waits until every stored delivery has been processed. */
  settle(): Promise<void>;
  /** Runs an SQL query on the database file (test inspection only). */
  query<T = Record<string, unknown>>(sqlText: string, ...params: unknown[]): T[];
}

/** Starts the real app over HTTP on a fresh (or given) SQLite file with a pinned clock. */
export async function startTestApp(
  options: { env?: Record<string, string>; now?: Date | (() => Date); databasePath?: string } = {},
): Promise<TestApp> {
  const databasePath = options.databasePath ?? tempDatabasePath();
  const config = loadConfig({ ...DEFAULT_TEST_ENV, DATABASE_PATH: databasePath, ...options.env });
  for (const secret of [
    ...config.stager.signingKeys,
    ...config.eventport.tokens,
    ...config.eventport.basicAuth.flatMap((pair) => [
      pair.password,
      Buffer.from(`${pair.user}:${pair.password}`).toString('base64'),
    ]),
    config.adminToken,
    config.metricsToken,
  ]) {
    if (secret) sentCredentials.add(secret);
  }
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const line = chunk.toString('utf8');
      logs.push(line);
      capturedLogs.push(line);
      callback();
    },
  });
  const appLogger = createLogger(config, sink);
  const clock = options.now ?? FIXED_NOW;
  const now = typeof clock === 'function' ? clock : () => new Date(clock.getTime());
  const running = await startServer({ config, logger: appLogger, now, port: 0, host: '127.0.0.1' });
  const sqlite = running.ctx.database.sqlite;
  return {
    ...running,
    databasePath,
    logs,
    postStager(body, { signature, headers } = {}) {
      const sig = signature === undefined ? signStager(body) : signature;
      if (sig) sentCredentials.add(sig);
      return fetch(`${running.url}/webhooks/stager`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(sig === null ? {} : { 'x-signature': sig }),
          ...headers,
        },
        body,
      });
    },
    postEventport(body, { token, basic, headers } = {}) {
      const value = token === undefined ? TEST_SECRETS.eventportToken : token;
      const query = value === null ? '' : `?accessToken=${encodeURIComponent(value)}`;
      const auth: Record<string, string> = basic
        ? { authorization: `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}` }
        : {};
      for (const credential of [
        value,
        basic?.[1],
        auth.authorization?.slice('Basic '.length),
        headers?.authorization,
      ]) {
        if (credential) sentCredentials.add(credential);
      }
      return fetch(`${running.url}/webhooks/eventport${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth, ...headers },
        body,
      });
    },
    get(pathAndQuery, headers = {}) {
      return fetch(`${running.url}${pathAndQuery}`, { headers });
    },
    async settle() {
      running.ctx.processor.notify();
      await running.ctx.processor.idle();
    },
    query<T>(sqlText: string, ...params: unknown[]) {
      return sqlite.prepare(sqlText).all(...params) as T[];
    },
  };
}
