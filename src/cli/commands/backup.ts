import { runBackup } from '../../jobs/backup.js';
import {
  CliError,
  loadCliConfig,
  refuseExtraArguments,
  withContext,
  type Command,
} from '../command.js';
import { formatSeconds, startProgress } from '../progress.js';

/** Why backup and restore refuse a PostgreSQL database, and what to use instead. */
export const POSTGRES_BACKUP_HINT =
  'backup and restore copy SQLite files; with DATABASE_URL, back up PostgreSQL with pg_dump and restore with pg_restore (or use marquee export and import)';

/** `marquee backup`: runs the backup job now. */
export const backupCommand: Command = {
  usage: 'marquee backup',
  summary: 'write an online backup into BACKUP_DIR',
  details: `Copies the database with SQLite's online backup (safe while Marquee runs) to
BACKUP_DIR/marquee-YYYYMMDD-HHMMSS.db (UTC) and deletes all but the newest BACKUP_KEEP backups.
On a terminal, standard error shows the pages copied so far.`,
  options: {},
  async run(positionals, _values, io) {
    refuseExtraArguments(positionals);
    if (loadCliConfig(io).databaseUrl) throw new CliError(POSTGRES_BACKUP_HINT);
    return withContext(io, async (ctx) => {
      const progress = startProgress(io, 'backing up');
      // Recorded as a run of the backup job, as `marquee job run backup` would be.
      const run = await ctx.jobs.run('backup', 'direct', () =>
        runBackup(ctx, ({ copied, total }) =>
          progress.update(
            `${copied} of ${total} pages (${total > 0 ? Math.floor((copied / total) * 100) : 100}%)`,
          ),
        ),
      );
      const seconds = progress.finish();
      if (run.status !== 'ok') throw new CliError(`backup failed: ${run.error ?? run.status}`);
      io.out(
        `backup written: ${String(run.result?.file)} (${String(run.result?.bytes)} bytes) in ${formatSeconds(seconds)}`,
      );
      io.out(`old backups deleted: ${String(run.result?.deleted)}`);
      return 0;
    });
  },
};
