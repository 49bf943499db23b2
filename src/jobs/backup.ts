import fs from 'node:fs';
import path from 'node:path';
import { backupDatabase, inspectDatabaseFile, isDatabaseInUse } from '../db/maintenance.js';
import type { JobContext, JobDefinition } from './types.js';

const BACKUP_NAME = /^marquee-\d{8}-\d{6}\.db$/;
const PARTIAL_NAME = /^marquee-\d{8}-\d{6}\.db\.partial$/;
/** A partial file untouched this long belongs to no running backup (one writes continuously). */
const ABANDONED_PARTIAL_MS = 10 * 60_000;

/** `marquee-YYYYMMDD-HHMMSS.db` in UTC, so names sort by time whatever the server's zone. */
export function backupFileName(at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `marquee-${stamp}.db`;
}

/** The file names in `dir`; none when it does not exist yet (no backup was ever made). */
function namesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Backup files in `dir`, newest first (their names sort by time). */
export function listBackups(dir: string): string[] {
  return namesIn(dir)
    .filter((name) => BACKUP_NAME.test(name))
    .sort()
    .reverse()
    .map((name) => path.join(dir, name));
}

/**
 * Deletes `.partial` files left in `dir` by a backup killed half-way (a crash, SIGKILL, a full
 * disk), once nothing has written to them for ten minutes; returns the deleted files.
 */
export function removeAbandonedPartials(dir: string, wallNow = Date.now()): string[] {
  const removed: string[] = [];
  for (const name of namesIn(dir).filter((candidate) => PARTIAL_NAME.test(candidate))) {
    const file = path.join(dir, name);
    try {
      if (wallNow - fs.statSync(file).mtimeMs < ABANDONED_PARTIAL_MS) continue;
      fs.rmSync(file, { force: true });
      removed.push(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return removed;
}

/** Deletes all but the newest `keep` backups; returns the deleted files. */
export function pruneBackups(dir: string, keep: number): string[] {
  const old = listBackups(dir).slice(keep);
  for (const file of old) fs.rmSync(file, { force: true });
  return old;
}

/**
 * Writes an online backup of the live database into BACKUP_DIR (safe while serving), then keeps
 * the newest BACKUP_KEEP files. The copy is written under a temporary name and renamed, so a
 * crash never leaves a truncated file that looks like the newest backup.
 */
export async function createBackup(
  ctx: Pick<JobContext, 'config' | 'database' | 'now'>,
  onProgress?: (pages: { copied: number; total: number }) => void,
): Promise<{ file: string; bytes: number; deleted: string[] }> {
  const handle = ctx.database;
  if (handle.dialect !== 'sqlite') throw new Error('backup: PostgreSQL is backed up with pg_dump');
  const dir = ctx.config.backupDir;
  fs.mkdirSync(dir, { recursive: true });
  removeAbandonedPartials(dir);
  const file = path.join(dir, backupFileName(ctx.now()));
  const partial = `${file}.partial`;
  try {
    await backupDatabase(handle, partial, onProgress);
    fs.renameSync(partial, file);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  const deleted = pruneBackups(dir, ctx.config.backupKeep);
  return { file, bytes: fs.statSync(file).size, deleted };
}

export const backupJob: JobDefinition = {
  name: 'backup',
  description: 'online SQLite backup into BACKUP_DIR, keeping the newest BACKUP_KEEP',
  schedule: (config) => config.schedules.backup,
  run: (ctx) => runBackup(ctx),
};

/** The backup job's work and result; `onProgress` hears the pages copied (the command line's display). */
export async function runBackup(
  ctx: JobContext,
  onProgress?: (pages: { copied: number; total: number }) => void,
): Promise<Record<string, unknown>> {
  // A PostgreSQL server is backed up by its operator (pg_dump, base backups, the provider's
  // snapshots); a file copy in one instance's BACKUP_DIR would cover none of that.
  if (ctx.database.dialect !== 'sqlite') {
    return { skipped: 'PostgreSQL: back up the database with pg_dump (see README)' };
  }
  const { file, bytes, deleted } = await createBackup(ctx, onProgress);
  return { file, bytes, deleted: deleted.length };
}

export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

/**
 * Copies a backup into place as the database at `databasePath`. Refuses a file that is not a
 * sound Marquee database, a database another process has open, and (without `force`) any
 * existing database. An overwritten database is kept beside it as `<name>.pre-restore`.
 */
export function restoreBackup(
  file: string,
  databasePath: string,
  options: { force?: boolean } = {},
): { restored: string; replaced: string | null } {
  if (!fs.existsSync(file)) throw new RestoreError(`restore: ${file} does not exist`);
  const problems = inspectDatabaseFile(file);
  if (problems.length > 0)
    throw new RestoreError(`restore: refusing ${file}:\n  ${problems.join('\n  ')}`);
  const target = path.resolve(databasePath);
  if (path.resolve(file) === target)
    throw new RestoreError('restore: the backup is the database itself');
  const exists = fs.existsSync(target);
  if (exists && isDatabaseInUse(target)) {
    throw new RestoreError(
      `restore: ${databasePath} is open in another process; stop Marquee before restoring`,
    );
  }
  if (exists && !options.force) {
    throw new RestoreError(
      `restore: ${databasePath} already exists; pass --force to replace it (it is kept as ${databasePath}.pre-restore)`,
    );
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const incoming = `${target}.restoring`;
  fs.copyFileSync(file, incoming);
  const descriptor = fs.openSync(incoming, 'r+');
  try {
    fs.fsyncSync(descriptor);
  } finally {
    fs.closeSync(descriptor);
  }
  let replaced: string | null = null;
  if (exists) {
    // The old database moves aside together with its WAL, so it stays openable as it was.
    replaced = `${target}.pre-restore`;
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${replaced}${suffix}`, { force: true });
    fs.renameSync(target, replaced);
    if (fs.existsSync(`${target}-wal`)) fs.renameSync(`${target}-wal`, `${replaced}-wal`);
  }
  // A stale WAL or shared-memory file would be replayed into the restored database.
  fs.rmSync(`${target}-wal`, { force: true });
  fs.rmSync(`${target}-shm`, { force: true });
  fs.renameSync(incoming, target);
  return { restored: target, replaced };
}
