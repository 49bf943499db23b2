import { RestoreError, restoreBackup } from '../../jobs/backup.js';
import {
  CliError,
  loadCliConfig,
  refuseExtraArguments,
  UsageError,
  type Command,
} from '../command.js';
import { POSTGRES_BACKUP_HINT } from './backup.js';

/** `marquee restore`: replaces the database with a checked backup. */
export const restoreCommand: Command = {
  usage: 'marquee restore FILE [--force]',
  summary: 'replace the database with a backup (stop Marquee first)',
  details: `Checks that FILE is a sound Marquee database (its tables, PRAGMA integrity_check) and
copies it to DATABASE_PATH, removing stale -wal/-shm files. Refuses while another process has the
database open. An existing database is only replaced with --force; it is kept beside it as
<DATABASE_PATH>.pre-restore. Pending migrations run when Marquee starts.

Options:
  --force  replace an existing database`,
  options: { force: { type: 'boolean' } },
  async run(positionals, values, io) {
    const [file, ...extra] = positionals;
    if (!file) throw new UsageError('which backup? give its FILE');
    refuseExtraArguments(extra);
    const cfg = loadCliConfig(io);
    if (cfg.databaseUrl) throw new CliError(POSTGRES_BACKUP_HINT);
    try {
      const result = restoreBackup(file, cfg.databasePath, { force: values.force === true });
      io.out(`restored ${file} to ${result.restored}`);
      if (result.replaced) io.out(`the previous database is kept as ${result.replaced}`);
      return 0;
    } catch (error) {
      if (error instanceof RestoreError)
        throw new CliError(error.message.replace(/^restore: /, ''));
      throw error;
    }
  },
};
