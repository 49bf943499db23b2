import { UsageError, refuseExtraArguments, withContext, type Command } from '../command.js';

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
      ctx.inbox.on('processed', ({ outcome }) => {
        outcomes[outcome] += 1;
      });
      const requeued = await ctx.inbox.replay({ scope, since });
      await ctx.inbox.stop();
      io.out(
        `requeued ${requeued} ${scope === 'all' ? '' : 'failed '}deliveries${since ? ` received since ${since.toISOString()}` : ''}`,
      );
      io.out(
        `processed ${outcomes.processed}, ignored ${outcomes.ignored}, failed ${outcomes.failed}`,
      );
      if (outcomes.failed > 0) io.out('see `marquee status` for the reasons');
      return 0;
    });
  },
};
