import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** The database or an open transaction on it: what every repository function takes. */
export type Queryable = Db | Transaction<Database>;

interface HandleBase {
  db: Db;
  /** Where the data lives, safe to log: the file path, or the URL without its password. */
  location: string;
  close(): Promise<void>;
}

export interface SqliteHandle extends HandleBase {
  dialect: 'sqlite';
  /** The driver handle, for what Kysely does not cover: online backup, pragmas. */
  sqlite: SqliteDatabase.Database;
  path: string;
}

export interface PostgresHandle extends HandleBase {
  dialect: 'postgres';
  pool: pg.Pool;
  /** Connection settings for clients outside the pool (the change listener). */
  connection: pg.ClientConfig;
}

export type DatabaseHandle = SqliteHandle | PostgresHandle;

export interface DatabaseSettings {
  databasePath: string;
  databaseUrl: string | null;
  databasePoolSize: number;
}

/** Opens the configured database: PostgreSQL when DATABASE_URL is set, else the SQLite file. */
export function openDatabase(settings: DatabaseSettings): DatabaseHandle {
  return settings.databaseUrl
    ? openPostgresDatabase(settings.databaseUrl, settings.databasePoolSize)
    : openSqliteDatabase(settings.databasePath);
}

/** Opens (creating if needed) the SQLite database with the pragmas Marquee relies on. */
export function openSqliteDatabase(databasePath: string): SqliteHandle {
  if (databasePath !== ':memory:') {
    fs.mkdirSync(path.dirname(path.resolve(databasePath)), { recursive: true });
  }
  const sqlite = new SqliteDatabase(databasePath);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before the webhook is answered 2xx; nothing acknowledged is lost.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  let closed = false;
  return {
    dialect: 'sqlite',
    db,
    sqlite,
    path: databasePath,
    location: databasePath,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    dialect: 'postgres',
    db,
    pool,
    connection,
    location: redactUrl(url),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** The URL without its password, for logs and status pages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
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
