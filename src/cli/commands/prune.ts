import { runRetention } from '../../jobs/retention.js';
import { CliError, refuseExtraArguments, withContext, type Command } from '../command.js';

/** `marquee prune`: runs the retention job now. */
export const pruneCommand: Command = {
  usage: 'marquee prune [--force]',
  summary: 'run retention now',
  details: `Deletes events that ended more than EVENT_RETENTION_DAYS ago and purges raw delivery
bodies older than INBOX_RETENTION_DAYS (their metadata is kept). The retention job does the same on schedule.

It refuses to act on a clock that disagrees with the data: events that ended after the newest
delivery was received are kept, and a run that would delete more than half of the events or
purge more than half of the bodies held (beyond 10) does neither, and exits 1.

Options:
  --force   delete and purge whatever the clock says (check the clock first)`,
  options: { force: { type: 'boolean' } },
  async run(positionals, values, io) {
    refuseExtraArguments(positionals);
    const force = values.force === true;
    return withContext(io, async (ctx) => {
      const run = await ctx.jobs.run('retention', 'direct', () => runRetention(ctx, { force }));
      if (run.status !== 'ok') throw new CliError(`retention failed: ${run.error ?? run.status}`);
      io.out(
        `events deleted (ended before ${String(run.result?.eventCutoff)}): ${String(run.result?.deletedEvents)}`,
      );
      io.out(
        `delivery bodies purged (received before ${String(run.result?.inboxCutoff)}): ${String(run.result?.purgedBodies)}`,
      );
      const refused = run.result?.refused;
      if (Array.isArray(refused)) {
        throw new CliError(
          `refused (${refused.join('; ')}): check the clock, then run \`marquee prune --force\``,
        );
      }
      return 0;
    });
  },
};
