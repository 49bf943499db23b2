import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { tempDir } from './processes.js';

/**
 * A fresh database for one bench section: a SQLite file in a temporary folder, or a database of
 * its own on the PostgreSQL server given with `--postgres`. Either way `drop()` removes it.
 */
export interface BenchDatabase {
  dialect: 'sqlite' | 'postgres';
  /** The variables that point Marquee at this database (DATABASE_PATH or DATABASE_URL). */
  env: Record<string, string>;
  /** Stored deliveries, and those not yet processed. */
  countDeliveries(): Promise<{ total: number; pending: number }>;
  drop(): Promise<void>;
}

export async function createBenchDatabase(
  name: string,
  postgresUrl: string | null,
): Promise<BenchDatabase> {
  return postgresUrl ? createPostgresDatabase(name, postgresUrl) : createSqliteDatabase(name);
}

function createSqliteDatabase(name: string): BenchDatabase {
  const dir = tempDir(name);
  const databasePath = path.join(dir, 'marquee.db');
  return {
    dialect: 'sqlite',
    env: { DATABASE_PATH: databasePath },
    async countDeliveries() {
      const db = new SqliteDatabase(databasePath, { readonly: true });
      try {
        return db
          .prepare(
            "select count(*) as total, coalesce(sum(status = 'pending'), 0) as pending from deliveries",
          )
          .get() as { total: number; pending: number };
      } finally {
        db.close();
      }
    },
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function createPostgresDatabase(name: string, serverUrl: string): Promise<BenchDatabase> {
  const database = `marquee_bench_${name}_${process.pid}_${randomBytes(3).toString('hex')}`;
  await onServer(serverUrl, (client) =>
    client.query(`create database ${pg.escapeIdentifier(database)}`),
  );
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  return {
    dialect: 'postgres',
    env: { DATABASE_URL: url.toString() },
    async countDeliveries() {
      const { rows } = await pool.query<{ total: string; pending: string }>(
        "select count(*) as total, count(*) filter (where status = 'pending') as pending from deliveries",
      );
      return { total: Number(rows[0]?.total), pending: Number(rows[0]?.pending) };
    },
    async drop() {
      await pool.end();
      await onServer(serverUrl, (client) =>
        client.query(`drop database if exists ${pg.escapeIdentifier(database)} with (force)`),
      );
    },
  };
}

/** The server's version and the settings that decide what a commit costs, for the report. */
export async function describePostgres(serverUrl: string): Promise<string> {
  return onServer(serverUrl, async (client) => {
    const { rows } = await client.query<{ name: string; setting: string }>(
      "select name, setting from pg_settings where name in ('server_version', 'fsync', 'synchronous_commit')",
    );
    const setting = (key: string) => rows.find((row) => row.name === key)?.setting ?? '?';
    const host = new URL(serverUrl).hostname;
    return `PostgreSQL ${setting('server_version')} on ${host}, fsync=${setting('fsync')}, synchronous_commit=${setting('synchronous_commit')}`;
  });
}
