import { CompiledQuery } from 'kysely';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { openPostgresDatabase, type PostgresHandle } from '../../src/db/connection.js';
import { createLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createTestPostgresDatabase, type TestPostgresDatabase } from './postgres.js';

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

/**
 * With DATABASE_URL set, the suite runs against that PostgreSQL server: every test database is
 * a new database created on it (the URL's user needs CREATEDB) and dropped after the test file.
 */
const postgresServerUrl = process.env.DATABASE_URL || null;
export const usingPostgres = postgresServerUrl !== null;

// The log scan looks for the server's password too.
if (postgresServerUrl) {
  const password = decodeURIComponent(new URL(postgresServerUrl).password);
  if (password) sentCredentials.add(password);
}

const tempPostgresDatabases: TestPostgresDatabase[] = [];

/** True when `database` names a PostgreSQL database (a URL) rather than a SQLite file. */
function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//.test(database);
}

/**
 * A fresh, empty database for one test app: a SQLite file path, or with DATABASE_URL the URL of
 * a new PostgreSQL database. Removed (dropped) when the test file ends.
 */
export async function tempDatabase(): Promise<string> {
  if (!postgresServerUrl) return tempDatabasePath();
  const database = await createTestPostgresDatabase(postgresServerUrl, 'marquee_test');
  tempPostgresDatabases.push(database);
  return database.url;
}

/**
 * Takes a database made by tempDatabase away from whoever uses it, as an outage would: it stops
 * accepting connections and the open ones are terminated. PostgreSQL only.
 */
export async function cutOffPostgresDatabase(url: string): Promise<void> {
  if (!postgresServerUrl) throw new Error('cutOffPostgresDatabase: DATABASE_URL is not set');
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  // From the server's own database: a session cannot disallow connections to its own.
  const server = new pg.Client({ connectionString: postgresServerUrl });
  await server.connect();
  try {
    await server.query(`alter database ${pg.escapeIdentifier(name)} allow_connections false`);
    await server.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1',
      [name],
    );
  } finally {
    await server.end();
  }
}

/** The environment that points Marquee at `database` (a file path or a PostgreSQL URL). */
export function databaseEnv(database: string): Record<string, string> {
  return isPostgresUrl(database) ? { DATABASE_URL: database } : { DATABASE_PATH: database };
}

/** Connections of the tests' own, apart from the apps', kept per database until the file ends. */
const inspectors = new Map<string, PostgresHandle>();

function inspector(url: string): PostgresHandle {
  let handle = inspectors.get(url);
  if (!handle) {
    // Opened like the app opens its pool, so rows come back typed as the app reads them.
    handle = openPostgresDatabase(url, 2);
    inspectors.set(url, handle);
  }
  return handle;
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...`; question marks inside '...' literals stay. */
function numberedPlaceholders(sqlText: string): string {
  let index = 0;
  return sqlText.replace(/'(?:[^']|'')*'|\?/g, (match) =>
    match === '?' ? `$${(index += 1)}` : match,
  );
}

/** Runs a statement on an open SQLite connection: its rows, or none for a statement without. */
function runSqlite<T>(sqlite: SqliteDatabase.Database, sqlText: string, params: unknown[]): T[] {
  const statement = sqlite.prepare(sqlText);
  if (statement.reader) return statement.all(...params) as T[];
  statement.run(...params);
  return [];
}

/**
 * Runs one SQL statement (`?` placeholders) on `database`, a SQLite file or a PostgreSQL URL,
 * over a connection of the test's own; returns its rows. A SQLite file is opened read-write,
 * which after a SIGKILL is what recovers its WAL; it writes nothing else.
 */
export async function queryDatabase<T = Record<string, unknown>>(
  database: string,
  sqlText: string,
  ...params: unknown[]
): Promise<T[]> {
  if (isPostgresUrl(database)) {
    const result = await inspector(database).db.executeQuery<T>(
      CompiledQuery.raw(numberedPlaceholders(sqlText), params),
    );
    return [...result.rows];
  }
  const sqlite = new SqliteDatabase(database, { fileMustExist: true });
  try {
    return runSqlite<T>(sqlite, sqlText, params);
  } finally {
    sqlite.close();
  }
}

/**
 * Removes what tempDatabasePath and tempDatabase made (called after each test file, once its
 * apps are closed); leftover connections, such as a killed child's, are dropped with them.
 */
export async function removeTempDatabases(): Promise<void> {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  const handles = [...inspectors.values()];
  inspectors.clear();
  await Promise.all(handles.map((handle) => handle.close()));
  for (const database of tempPostgresDatabases.splice(0)) await database.drop();
}

export interface TestApp extends RunningServer {
  /** The app's database: its SQLite file, or its PostgreSQL URL. */
  database: string;
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
  /**
   * Runs an SQL statement (`?` placeholders) on the app's database and returns its rows (test
   * inspection, and writes standing in for another writer). SQLite: on the app's own connection.
   */
  query<T = Record<string, unknown>>(sqlText: string, ...params: unknown[]): Promise<T[]>;
}

/**
 * Starts the real app over HTTP with a pinned clock on a fresh database (SQLite, or PostgreSQL
 * with DATABASE_URL), or on `database` (a path or URL) to start again where another app stopped.
 */
export async function startTestApp(
  options: { env?: Record<string, string>; now?: Date | (() => Date); database?: string } = {},
): Promise<TestApp> {
  const database = options.database ?? (await tempDatabase());
  const config = loadConfig({ ...DEFAULT_TEST_ENV, ...databaseEnv(database), ...options.env });
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
  const handle = running.ctx.database;
  return {
    ...running,
    database,
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
      running.ctx.inbox.notify();
      await running.ctx.inbox.idle();
    },
    async query<T>(sqlText: string, ...params: unknown[]) {
      if (handle.dialect === 'sqlite') return runSqlite<T>(handle.sqlite, sqlText, params);
      return queryDatabase<T>(database, sqlText, ...params);
    },
  };
}
