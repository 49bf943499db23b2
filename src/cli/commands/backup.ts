import { runJob } from '../../jobs/scheduler.js';
import {
  CliError,
  loadCliConfig,
  refuseExtraArguments,
  withContext,
  type Command,
} from '../command.js';

/** Why backup and restore refuse a PostgreSQL database, and what to use instead. */
export const POSTGRES_BACKUP_HINT =
  'backup and restore copy SQLite files; with DATABASE_URL, back up PostgreSQL with pg_dump and restore with pg_restore (or use marquee export and import)';

/** `marquee backup`: runs the backup job now. */
export const backupCommand: Command = {
  usage: 'marquee backup',
  summary: 'write an online backup into BACKUP_DIR',
  details: `Copies the database with SQLite's online backup (safe while Marquee runs) to
BACKUP_DIR/marquee-YYYYMMDD-HHMMSS.db (UTC) and deletes all but the newest BACKUP_KEEP backups.`,
  options: {},
  async run(positionals, _values, io) {
    refuseExtraArguments(positionals);
    if (loadCliConfig(io).databaseUrl) throw new CliError(POSTGRES_BACKUP_HINT);
    return withContext(io, async (ctx) => {
      const run = await runJob(ctx, 'backup');
      if (run.status !== 'ok') throw new CliError(`backup failed: ${run.error ?? run.status}`);
      io.out(`backup written: ${String(run.result?.file)} (${String(run.result?.bytes)} bytes)`);
      io.out(`old backups deleted: ${String(run.result?.deleted)}`);
      return 0;
    });
  },
};
