import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { exportDatabase, type TableCounts } from '../../operations/transfer.js';
import {
  CliError,
  describeCounts,
  describeSubscriberCounts,
  loadCliConfig,
  refuseExtraArguments,
  withDatabase,
  type Command,
} from '../command.js';

/** Deletes what a failed export wrote (import would only refuse it), once the file is closed. */
async function removePartialDump(output: Writable, file: string): Promise<void> {
  output.destroy();
  await finished(output).catch(() => undefined);
  fs.rmSync(file, { force: true });
}

/** `marquee export`: writes the inbox, events and organizations to a dump. */
export const exportCommand: Command = {
  usage: 'marquee export [--out FILE]',
  summary: 'write the inbox, events and organizations to a dump',
  details: `Writes every delivery (with its raw body), event and organization of the database
(DATABASE_URL, or DATABASE_PATH) as newline-delimited JSON to FILE, gzipped when FILE ends in
.gz, or to standard output. The rows are one consistent snapshot. \`marquee import\` reads the
dump into a new database of either kind: the way from SQLite to PostgreSQL.

Options:
  --out FILE  where to write the dump (default, or -: standard output)`,
  options: { out: { type: 'string' } },
  async run(positionals, values, io) {
    refuseExtraArguments(positionals);
    const file = typeof values.out === 'string' && values.out !== '-' ? values.out : null;
    const cfg = loadCliConfig(io);
    if (!cfg.databaseUrl && !fs.existsSync(cfg.databasePath))
      throw new CliError(`no database at ${cfg.databasePath} (DATABASE_PATH)`);
    return withDatabase(cfg, async (database) => {
      const output = file ? fs.createWriteStream(file) : io.stdout;
      let counts: TableCounts;
      try {
        counts = await exportDatabase(database, output, {
          exportedAt: io.now(),
          gzip: file?.endsWith('.gz') === true,
        });
      } catch (error) {
        if (file) await removePartialDump(output, file);
        throw error;
      }
      // On standard output the dump is all there is to print.
      if (file) {
        io.out(`exported ${describeCounts(counts)} from ${database.location} to ${file}`);
        io.out(`  and ${describeSubscriberCounts(counts)}`);
      }
      return 0;
    });
  },
};
