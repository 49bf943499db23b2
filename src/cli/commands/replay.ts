import { UsageError, refuseExtraArguments, withContext, type Command } from '../command.js';
import { countPendingDeliveries, requeueDeliveries } from '../../inbox/inbox-repository.js';
import { formatCount, formatSeconds, startProgress } from '../progress.js';

/** `marquee replay`: queues stored deliveries again and processes them with the current code. */
export const replayCommand: Command = {
  usage: 'marquee replay [--failed | --all] [--since DATE]',
  summary: 'queue stored deliveries again and process them',
  details: `Puts deliveries back in the queue and processes them with the current code, e.g.
after a fix of a source's normalizer. Deliveries whose raw body was purged (older than
INBOX_RETENTION_DAYS) cannot be replayed.

Options:
  --failed      only failed deliveries (the default)
  --all         every delivery that still has its body
  --since DATE  only deliveries received at or after DATE (ISO 8601, e.g. 2026-11-01)

On a terminal, standard error shows the deliveries processed so far. Exits 1 when any
delivery still fails after the replay (the summary counts them), 0 when none does.

While Marquee runs, prefer the admin page's replay button (POST /admin/replay).`,
  options: { failed: { type: 'boolean' }, all: { type: 'boolean' }, since: { type: 'string' } },
  async run(positionals, values, io) {
    refuseExtraArguments(positionals);
    if (values.failed && values.all) throw new UsageError('--failed and --all exclude each other');
    let since: Date | null = null;
    if (typeof values.since === 'string') {
      since = new Date(values.since);
      if (Number.isNaN(since.getTime()))
        throw new UsageError(`--since: not a date: ${values.since}`);
    }
    const scope = values.all ? 'all' : 'failed';
    return withContext(io, async (ctx) => {
      const outcomes = { processed: 0, ignored: 0, failed: 0 };
      const progress = startProgress(io, 'replaying');
      // Deliveries already pending are processed too: the total is the queue once requeued.
      let total: number | null = null;
      ctx.inbox.on('processed', ({ outcome }) => {
        outcomes[outcome] += 1;
        const done = outcomes.processed + outcomes.ignored + outcomes.failed;
        progress.update(
          `${formatCount(done)}${total === null ? '' : ` of ${formatCount(total)}`} deliveries processed, ${formatCount(outcomes.failed)} failed`,
        );
      });
      // What inbox.replay does, with the queue's length taken in between for the display.
      const requeued = await requeueDeliveries(ctx.database.db, { scope, since });
      total = await countPendingDeliveries(ctx.database.db);
      ctx.inbox.notify();
      await ctx.inbox.idle();
      await ctx.inbox.stop();
      const seconds = progress.finish();
      io.out(
        `requeued ${requeued} ${scope === 'all' ? '' : 'failed '}deliveries${since ? ` received since ${since.toISOString()}` : ''}`,
      );
      io.out(
        `processed ${outcomes.processed}, ignored ${outcomes.ignored}, failed ${outcomes.failed} in ${formatSeconds(seconds)}`,
      );
      if (outcomes.failed === 0) return 0;
      io.out('see `marquee status` for the reasons');
      // Exit 1: scripts and timers learn that deliveries still fail.
      return 1;
    });
  },
};
