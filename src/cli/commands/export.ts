import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { exportDatabase, type TableCounts } from '../../operations/transfer.js';
import {
  CliError,
  describeCounts,
  loadCliConfig,
  refuseExtraArguments,
  withDatabase,
  type Command,
} from '../command.js';
import { formatCount, formatSeconds, startProgress } from '../progress.js';

/** Deletes what a failed export wrote (import would only refuse it), once the file is closed. */
async function removePartialDump(output: Writable, file: string): Promise<void> {
  output.destroy();
  await finished(output).catch(() => undefined);
  fs.rmSync(file, { force: true });
}

/** Rows in every table together. */
function sumCounts(counts: TableCounts): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** `marquee export`: writes the inbox, events and organizations to a dump. */
export const exportCommand: Command = {
  usage: 'marquee export [--out FILE]',
  summary: 'write the inbox, events and organizations to a dump',
  details: `Writes every delivery (with its raw body), event and organization of the database
(DATABASE_URL, or DATABASE_PATH) as newline-delimited JSON to FILE, gzipped when FILE ends in
.gz, or to standard output. The rows are one consistent snapshot. On a terminal, standard error
shows the rows written so far; a summary follows (on standard error when the dump goes to
standard output). \`marquee import\` reads the
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
      const progress = startProgress(io, 'exporting');
      let counts: TableCounts;
      try {
        counts = await exportDatabase(database, output, {
          exportedAt: io.now(),
          gzip: file?.endsWith('.gz') === true,
          onProgress: (so) => progress.update(`${formatCount(sumCounts(so))} rows written`),
        });
      } catch (error) {
        progress.finish();
        if (file) await removePartialDump(output, file);
        throw error;
      }
      const seconds = progress.finish();
      // On standard output the dump is all there is to print: the summary goes to stderr.
      const summary = `exported ${describeCounts(counts)} from ${database.location}${file ? ` to ${file}` : ''} in ${formatSeconds(seconds)}`;
      if (file) io.out(summary);
      else io.stderr.write(`${summary}\n`);
      return 0;
    });
  },
};
