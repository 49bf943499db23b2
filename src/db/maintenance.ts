import fs from 'node:fs';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import type { DatabaseHandle, SqliteHandle } from './connection.js';

/**
 * Upkeep that Kysely does not cover, most of it SQLite's: online backup, file checks, optimize
 * and WAL checkpoints. A PostgreSQL server does its own (autovacuum, its operator's backups).
 */

export interface DatabaseSize {
  dialect: DatabaseHandle['dialect'];
  /** The file path, or the URL without its password. */
  location: string;
  bytes: number;
  /** SQLite's write-ahead log; null on PostgreSQL. */
  walBytes: number | null;
}

/** How much space the database takes. */
export async function measureDatabase(handle: DatabaseHandle): Promise<DatabaseSize> {
  if (handle.dialect === 'sqlite') {
    return {
      dialect: 'sqlite',
      location: handle.location,
      bytes: fileSize(handle.path),
      walBytes: fileSize(`${handle.path}-wal`),
    };
  }
  const { rows } = await sql<{
    bytes: number;
  }>`select pg_database_size(current_database()) as bytes`.execute(handle.db);
  return {
    dialect: 'postgres',
    location: handle.location,
    bytes: Number(rows[0]?.bytes ?? 0),
    walBytes: null,
  };
}

/** Tables a Marquee database has; a file without them is not one. */
const REQUIRED_TABLES = ['deliveries', 'events'];

/** Copies the live database into `file` with SQLite's online backup API; writers are not blocked. */
export async function backupDatabase(
  handle: SqliteHandle,
  file: string,
  onProgress?: (pages: { copied: number; total: number }) => void,
): Promise<void> {
  // Heard before each step of 100 pages (better-sqlite3's default), and once at the end.
  const { totalPages } = await handle.sqlite.backup(file, {
    progress: ({ totalPages: total, remainingPages }) => {
      onProgress?.({ copied: total - remainingPages, total });
      return 100;
    },
  });
  onProgress?.({ copied: totalPages, total: totalPages });
}

/** Runs `PRAGMA optimize`, which refreshes query planner statistics where they are stale. */
export function optimizeDatabase(handle: SqliteHandle): void {
  handle.sqlite.pragma('optimize');
}

export interface CheckpointResult {
  /** 1 when a reader or writer kept the checkpoint from completing. */
  busy: number;
  log: number;
  checkpointed: number;
}

/** Copies the WAL into the database and truncates it to zero bytes (when no reader holds it). */
export function checkpointWal(handle: SqliteHandle): CheckpointResult {
  const [row] = handle.sqlite.pragma('wal_checkpoint(TRUNCATE)') as CheckpointResult[];
  return row ?? { busy: 1, log: -1, checkpointed: -1 };
}

/** Size in bytes of a file, 0 when it does not exist. */
export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Problems that make `file` unusable as a Marquee database; empty when it is a sound one. */
export function inspectDatabaseFile(file: string): string[] {
  let sqlite: SqliteDatabase.Database;
  try {
    sqlite = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    return [`cannot open ${file}: ${error instanceof Error ? error.message : String(error)}`];
  }
  try {
    const tables = new Set(
      (
        sqlite.prepare("select name from sqlite_master where type = 'table'").all() as {
          name: string;
        }[]
      ).map((row) => row.name),
    );
    const missing = REQUIRED_TABLES.filter((table) => !tables.has(table));
    if (missing.length > 0)
      return [`${file} is not a Marquee database (no ${missing.join(', ')} table)`];
    const checks = (sqlite.pragma('integrity_check') as { integrity_check: string }[]).map(
      (row) => row.integrity_check,
    );
    return checks.length === 1 && checks[0] === 'ok'
      ? []
      : checks.slice(0, 10).map((problem) => `integrity: ${problem}`);
  } catch (error) {
    // "file is not a database" surfaces on the first query, not on open.
    return [
      `${file} is not a readable SQLite database: ${error instanceof Error ? error.message : String(error)}`,
    ];
  } finally {
    sqlite.close();
  }
}

/**
 * True when another connection (a running Marquee) has the database open: taking an exclusive
 * lock fails while any WAL reader is attached. False when the file does not exist.
 */
export function isDatabaseInUse(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  let sqlite: SqliteDatabase.Database | null = null;
  try {
    sqlite = new SqliteDatabase(file, { fileMustExist: true });
    sqlite.pragma('busy_timeout = 0');
    sqlite.pragma('locking_mode = EXCLUSIVE');
    sqlite.exec('BEGIN EXCLUSIVE');
    sqlite.exec('COMMIT');
    return false;
  } catch (error) {
    return (
      (error as { code?: string }).code === 'SQLITE_BUSY' ||
      (error as { code?: string }).code === 'SQLITE_LOCKED'
    );
  } finally {
    sqlite?.close();
  }
}
