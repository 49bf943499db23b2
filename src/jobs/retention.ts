import { announceEventsChanged } from '../cache/events-changed.js';
import { deleteEventsEndedBefore } from '../events/event-writes.js';
import { purgeDeliveryBodies } from '../inbox/inbox-repository.js';
import { deleteJobClaimsBefore } from './job-claims.js';
import type { JobDefinition } from './types.js';

const DAY_MS = 86_400_000;

/**
 * Deletes events that ended more than EVENT_RETENTION_DAYS ago and drops raw inbox bodies older
 * than INBOX_RETENTION_DAYS (their metadata stays for the admin page and the counts), with the
 * job claims of that age.
 */
export const retentionJob: JobDefinition = {
  name: 'retention',
  description: 'delete long-ended events, purge old raw delivery bodies',
  schedule: (config) => config.schedules.retention,
  async run(ctx) {
    const now = ctx.now();
    const eventCutoff = new Date(now.getTime() - ctx.config.eventRetentionDays * DAY_MS);
    const inboxCutoff = new Date(now.getTime() - ctx.config.inboxRetentionDays * DAY_MS);
    const deletedEvents = await ctx.database.db.transaction().execute(async (trx) => {
      const deleted = await deleteEventsEndedBefore(trx, eventCutoff);
      // Only events that ended long ago go: upcoming events' filter choices stay as they are.
      if (deleted > 0) await announceEventsChanged(trx, { writer: ctx.instanceId, facets: false });
      return deleted;
    });
    // Feeds that show past events change; cached renderings must not outlive the rows.
    if (deletedEvents > 0) ctx.caches.dataVersion.bump({ facets: false });
    const purgedBodies = await purgeDeliveryBodies(ctx.database.db, inboxCutoff, now);
    await deleteJobClaimsBefore(ctx.database.db, inboxCutoff);
    return {
      deletedEvents,
      purgedBodies,
      eventCutoff: eventCutoff.toISOString(),
      inboxCutoff: inboxCutoff.toISOString(),
    };
  },
};
