import fs from 'node:fs';
import { migrateToLatest } from '../../db/connection.js';
import { importDatabase } from '../../operations/transfer.js';
import {
  CliError,
  describeCounts,
  loadCliConfig,
  refuseExtraArguments,
  UsageError,
  withDatabase,
  type Command,
} from '../command.js';
import { formatCount, formatSeconds, startProgress } from '../progress.js';

/** `marquee import`: reads a dump into a new, empty database. */
export const importCommand: Command = {
  usage: 'marquee import FILE',
  summary: 'read a dump into a new, empty database',
  details: `Reads a dump written by \`marquee export\` from FILE (gunzipped when it ends in .gz; - for
standard input) into the database (DATABASE_URL, or DATABASE_PATH), which is created or migrated
first and must hold no deliveries, events or organizations yet. Everything is imported in one
transaction: a truncated or damaged dump (the error names the line) leaves the database as it was.

On a terminal, standard error shows the rows read so far (and the share of FILE); a summary
follows.

Marquee instances on the same PostgreSQL database may keep running: deliveries they receive
meanwhile wait for the import to commit and take ids after the imported ones, and they serve the
imported events at once. On SQLite, stop Marquee first.`,
  options: {},
  async run(positionals, _values, io) {
    const [file, ...extra] = positionals;
    if (!file) throw new UsageError('which dump? give its FILE, or - for standard input');
    refuseExtraArguments(extra);
    if (file !== '-' && !fs.existsSync(file)) throw new CliError(`no such file: ${file}`);
    return withDatabase(loadCliConfig(io), async (database) => {
      const applied = await migrateToLatest(database.db);
      if (applied.length > 0) io.out(`applied: ${applied.join(', ')}`);
      const input = file === '-' ? io.stdin : fs.createReadStream(file);
      // Of a file, the share read so far is known; of standard input, only the rows.
      const size = file === '-' ? null : fs.statSync(file).size;
      const progress = startProgress(io, 'importing');
      let counts;
      try {
        counts = await importDatabase(database, input, {
          gzip: file.endsWith('.gz'),
          onProgress: (so) => {
            const rows = Object.values(so).reduce((sum, count) => sum + count, 0);
            const read = (input as Partial<fs.ReadStream>).bytesRead;
            const share =
              size && read !== undefined ? `, ${Math.floor((read / size) * 100)}% of ${file}` : '';
            progress.update(`${formatCount(rows)} rows read${share}`);
          },
        });
      } finally {
        progress.finish();
      }
      io.out(
        `imported ${describeCounts(counts)} into ${database.location} in ${formatSeconds(progress.finish())}`,
      );
      return 0;
    });
  },
};
