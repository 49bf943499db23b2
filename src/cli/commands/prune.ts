import { runJob } from '../../jobs/scheduler.js';
import { CliError, refuseExtraArguments, withContext, type Command } from '../command.js';

/** `marquee prune`: runs the retention job now. */
export const pruneCommand: Command = {
  usage: 'marquee prune',
  summary: 'run retention now',
  details: `Deletes events that ended more than EVENT_RETENTION_DAYS ago and purges raw delivery
bodies older than INBOX_RETENTION_DAYS (their metadata is kept). The retention job does the same on schedule.`,
  options: {},
  async run(positionals, _values, io) {
    refuseExtraArguments(positionals);
    return withContext(io, async (ctx) => {
      const run = await runJob(ctx, 'retention');
      if (run.status !== 'ok') throw new CliError(`retention failed: ${run.error ?? run.status}`);
      io.out(
        `events deleted (ended before ${String(run.result?.eventCutoff)}): ${String(run.result?.deletedEvents)}`,
      );
      io.out(
        `delivery bodies purged (received before ${String(run.result?.inboxCutoff)}): ${String(run.result?.purgedBodies)}`,
      );
      return 0;
    });
  },
};
