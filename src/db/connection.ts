import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  sql,
  type PostgresPool,
  type PostgresPoolClient,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** The database or an open transaction on it: what every repository function takes. */
export type Queryable = Db | Transaction<Database>;

/** The latest integrity check of the database file, reported in /healthz and the admin page. */
export interface IntegrityReport {
  /** `quick`: PRAGMA quick_check (at start); `full`: PRAGMA integrity_check (maintenance job). */
  mode: 'quick' | 'full';
  checkedAt: Date;
  /** Empty when the file is sound; at most 10 lines of SQLite's findings. */
  problems: string[];
}

interface HandleBase {
  db: Db;
  /** The latest integrity check of the file (db/integrity.ts); null until one ran, or on PostgreSQL. */
  integrity: IntegrityReport | null;
  /** Where the data lives, safe to log: the file path, or the URL without its password. */
  location: string;
  close(): Promise<void>;
}

export interface SqliteHandle extends HandleBase {
  dialect: 'sqlite';
  /** The driver handle, for what Kysely does not cover: online backup, pragmas. */
  sqlite: SqliteDatabase.Database;
  path: string;
  /**
   * SQLite's `PRAGMA data_version` on this connection: changes when another connection (another
   * process) commits to the file, never for this connection's own writes.
   */
  dataVersion(): number;
}

export interface PostgresHandle extends HandleBase {
  dialect: 'postgres';
  /** Connection settings for clients outside the pool (the change listener). */
  connection: pg.ClientConfig;
}

export type DatabaseHandle = SqliteHandle | PostgresHandle;

export interface DatabaseSettings {
  databasePath: string;
  databaseUrl: string | null;
  databasePoolSize: number;
}

/**
 * How long a write on the server's SQLite connection waits for another process's write lock.
 * better-sqlite3 waits synchronously, so every request waits with it: the server keeps this
 * short, treats a busy database as "try later" (deliveries go to the spool, processing retries),
 * and never freezes. The CLI, which serves nobody while it waits, keeps the 5 s set here.
 */
export const SERVER_BUSY_TIMEOUT_MS = 25;

/** Opens the configured database: PostgreSQL when DATABASE_URL is set, else the SQLite file. */
export function openDatabase(settings: DatabaseSettings): DatabaseHandle {
  return settings.databaseUrl
    ? openPostgresDatabase(settings.databaseUrl, settings.databasePoolSize)
    : openSqliteDatabase(settings.databasePath);
}

/** Opens (creating if needed) the SQLite database with the pragmas Marquee relies on. */
export function openSqliteDatabase(databasePath: string): SqliteHandle {
  if (databasePath !== ':memory:') prepareDataDirectory(databasePath);
  const sqlite = new SqliteDatabase(databasePath);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before the webhook is answered 2xx; nothing acknowledged is lost.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  const dataVersion = sqlite.prepare<[], number>('PRAGMA data_version').pluck();
  let closed = false;
  let lastDataVersion = 0;
  return {
    dialect: 'sqlite',
    db,
    integrity: null,
    sqlite,
    path: databasePath,
    location: databasePath,
    dataVersion() {
      // A request finishing during shutdown may ask after the connection closed.
      if (!closed) lastDataVersion = dataVersion.get() as number;
      return lastDataVersion;
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/**
 * Creates the folder of the database file if needed and checks that this user can write there
 * (SQLite adds its -wal and -shm files beside the database), so that the error names the folder
 * and the remedy rather than SQLite's "unable to open database file".
 */
function prepareDataDirectory(databasePath: string): void {
  const directory = path.dirname(path.resolve(databasePath));
  const remedy = `make it writable for the user Marquee runs as (uid ${process.getuid?.() ?? '?'}), or set DATABASE_PATH to a file in a writable folder`;
  try {
    fs.mkdirSync(directory, { recursive: true });
    fs.accessSync(directory, fs.constants.W_OK | fs.constants.X_OK);
    if (fs.existsSync(databasePath))
      fs.accessSync(databasePath, fs.constants.R_OK | fs.constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const subject =
      (error as NodeJS.ErrnoException).path === path.resolve(databasePath) ||
      (error as NodeJS.ErrnoException).path === databasePath
        ? `the database file ${path.resolve(databasePath)}`
        : `the data directory ${directory}`;
    throw new Error(`db: ${subject} is not writable (${code}); ${remedy}`, { cause: error });
  }
}

/**
 * Column types whose JavaScript form must match SQLite's so that both dialects hand the same
 * values to the same code: counts (int8) as numbers, not strings. No count here nears 2^53.
 */
const postgresTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Connects a pool to PostgreSQL; nothing is opened until the first query. */
export function openPostgresDatabase(url: string, poolSize = 10): PostgresHandle {
  const connection: pg.ClientConfig = {
    connectionString: url,
    types: postgresTypes,
    application_name: 'marquee',
  };
  const pool = new pg.Pool({ ...connection, max: poolSize, idleTimeoutMillis: 30_000 });
  // An idle client losing its server is reported here; the pool replaces it on next use.
  pool.on('error', () => undefined);
  // A checked-out client whose server dies emits 'error' on itself, not on the pool: without a
  // listener that kills the process. The query in flight fails with that error, and the pool
  // drops the broken client when it is released.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: withPreparedStatements(pool) }),
  });
  let closed = false;
  return {
    dialect: 'postgres',
    db,
    integrity: null,
    connection,
    location: withoutPassword(url),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** Texts sent at least twice get a name; the texts counted are bounded. */
const MAX_COUNTED_TEXTS = 5_000;
/** Named statements one connection keeps on the server, at most. */
const MAX_NAMED_PER_CONNECTION = 500;
/** PostgreSQL: "cached plan must not change result type" (a table changed under a statement). */
const CACHED_PLAN_CHANGED = '0A000';

/**
 * Kysely's PostgreSQL driver sends every query unnamed, so the server parses and plans it again
 * each time; for the wide event upsert that costs more than running it. Texts seen before go as
 * named prepared statements instead: each connection has the server parse them once. Names are
 * bounded per connection, since texts vary with the number of rows or ids bound. A statement
 * whose table changed since it was prepared (another instance migrated) is sent unnamed from
 * then on, and at once again when no transaction was aborted by it.
 */
function withPreparedStatements(pool: pg.Pool): PostgresPool {
  const seen = new Map<string, { uses: number; name: string }>();
  const unnamed = new Set<string>();
  const namedBy = new WeakMap<pg.PoolClient, Set<string>>();
  const nameFor = (client: pg.PoolClient, text: string): string | null => {
    if (unnamed.has(text)) return null;
    let statement = seen.get(text);
    if (!statement) {
      if (seen.size >= MAX_COUNTED_TEXTS) seen.clear();
      statement = {
        uses: 0,
        name: `marquee_${createHash('sha1').update(text).digest('base64url')}`,
      };
      seen.set(text, statement);
    }
    statement.uses += 1;
    let named = namedBy.get(client);
    if (!named) namedBy.set(client, (named = new Set()));
    if (named.has(statement.name)) return statement.name;
    if (statement.uses < 2 || named.size >= MAX_NAMED_PER_CONNECTION) return null;
    named.add(statement.name);
    return statement.name;
  };
  const inTransaction = new WeakSet<pg.PoolClient>();
  const query = async (client: pg.PoolClient, text: string, values: readonly unknown[]) => {
    if (/^(begin|start transaction)\b/i.test(text)) inTransaction.add(client);
    else if (/^(commit|rollback)$/i.test(text)) inTransaction.delete(client);
    const name = nameFor(client, text);
    if (name === null) return client.query(text, [...values]);
    try {
      return await client.query({ name, text, values: [...values] });
    } catch (error) {
      if ((error as { code?: string }).code !== CACHED_PLAN_CHANGED) throw error;
      unnamed.add(text);
      // Outside a transaction nothing was aborted: the statement can simply go again.
      if (inTransaction.has(client)) throw error;
      return client.query(text, [...values]);
    }
  };
  return {
    async connect() {
      const client = await pool.connect();
      const wrapped = {
        query: (textOrCursor: unknown, values: readonly unknown[] = []) =>
          typeof textOrCursor === 'string'
            ? query(client, textOrCursor, values)
            : client.query(textOrCursor as pg.Submittable),
        release: () => client.release(),
      };
      return wrapped as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

/** The URL without its password, for logs and status pages. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** The cheapest round trip to the database (`select 1`): resolves when it answers. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/** True when `db` talks to PostgreSQL; for the few statements that differ by dialect. */
export function isPostgres(db: Queryable): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running most of
 * ours. Statements are cached by SQL text (bounded). Safe because the driver runs each statement
 * to completion synchronously and nothing here streams results.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDatabase.Database {
  const statements = new Map<string, SqliteDatabase.Statement>();
  const prepare = (source: string) => {
    let statement = statements.get(source);
    if (!statement) {
      statement = sqlite.prepare(source);
      if (statements.size >= 2000) statements.clear();
      statements.set(source, statement);
    }
    return statement;
  };
  return new Proxy(sqlite, {
    get(target, property) {
      if (property === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

function migrator(db: Db): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(
      `db: migration ${failed?.migrationName ?? '(unknown)'} failed: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}

/** Names of migrations this build knows but the database has not applied. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all
    .filter((migration) => migration.executedAt === undefined)
    .map((migration) => migration.name);
}

/** The latest migration applied to the database (its schema version); null on an empty one. */
export async function appliedSchemaVersion(db: Db): Promise<string | null> {
  const all = await migrator(db).getMigrations();
  return all.filter((migration) => migration.executedAt !== undefined).at(-1)?.name ?? null;
}

/** The latest migration this build knows: the schema version it migrates databases to. */
export function latestSchemaVersion(): string {
  return Object.keys(migrations).at(-1) as string;
}

/**
 * Opens one connection to the PostgreSQL server and closes it again; throws an error naming
 * host:port and the cause (refused, unknown host, timed out, authentication failed...).
 */
export async function checkPostgresReachable(
  handle: PostgresHandle,
  timeoutMs = 10_000,
): Promise<void> {
  const client = new pg.Client({ ...handle.connection, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    const { host, port } = postgresAddress(handle.connection.connectionString ?? '');
    const code = (error as { code?: string }).code;
    const cause = error instanceof Error && error.message ? error.message : String(code ?? error);
    throw new Error(
      `db: cannot connect to PostgreSQL at ${host}:${port} (DATABASE_URL): ${cause}${code && !cause.includes(code) ? ` (${code})` : ''}`,
      { cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The host and port a PostgreSQL URL points at, with libpq's defaults. */
function postgresAddress(url: string): { host: string; port: string } {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
    return { host, port: parsed.port || parsed.searchParams.get('port') || '5432' };
  } catch {
    return { host: '(unparsable URL)', port: '?' };
  }
}
