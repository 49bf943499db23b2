import { announceEventsChanged } from '../cache/events-changed.js';
import { deleteOrphanedDuplicates } from '../events/duplicates.js';
import { deleteChangesBefore } from '../changes/change-log.js';
import { deleteAttemptsBefore } from '../changes/webhook-repository.js';
import {
  countEvents,
  countEventsEndedBefore,
  deleteEventsEndedBefore,
} from '../events/event-writes.js';
import {
  countHeldBodies,
  countPurgeableBodies,
  newestDeliveryReceivedAt,
  purgeDeliveryBodies,
} from '../inbox/inbox-repository.js';
import { deleteJobClaimsBefore } from './job-claims.js';
import type { JobResult } from './jobs.js';
import type { JobContext, JobDefinition } from './types.js';

const DAY_MS = 86_400_000;

/**
 * A run deletes at most this share of the stored events, and purges at most this share of the
 * bodies still held, unless forced (`marquee prune --force`): more than that at once is what a
 * clock jumped forward looks like.
 */
export const RETENTION_MAX_SHARE = 0.5;
/** Up to this many rows may always go, so that a small installation is pruned at all. */
export const RETENTION_MIN_ALLOWED = 10;

/** Whether removing `candidates` of `total` rows stays within what one unforced run may do. */
function withinShare(candidates: number, total: number): boolean {
  return candidates <= Math.max(RETENTION_MIN_ALLOWED, Math.floor(total * RETENTION_MAX_SHARE));
}

/**
 * Deletes events that ended more than EVENT_RETENTION_DAYS ago and drops raw inbox bodies older
 * than INBOX_RETENTION_DAYS (their metadata stays for the admin page and the counts), with the
 * job claims of that age, and changes logged (with their webhook attempts) more than
 * CHANGE_LOG_RETENTION_DAYS ago. It refuses to act on a clock that disagrees with the data: no event
 * that ended after the newest delivery was received is deleted, and a run that would delete or
 * purge more than RETENTION_MAX_SHARE does neither (logged, and reported in its result) unless
 * `force` is set.
 */
export async function runRetention(
  ctx: Pick<JobContext, 'config' | 'database' | 'now' | 'instanceId' | 'caches' | 'logger'>,
  options: { force: boolean },
): Promise<JobResult> {
  const { db } = ctx.database;
  const now = ctx.now();
  const refused: string[] = [];
  let eventCutoff = new Date(now.getTime() - ctx.config.eventRetentionDays * DAY_MS);
  const inboxCutoff = new Date(now.getTime() - ctx.config.inboxRetentionDays * DAY_MS);
  const newest = await newestDeliveryReceivedAt(db);
  if (newest && newest < eventCutoff && !options.force) eventCutoff = newest;

  const deletedEvents = await db.transaction().execute(async (trx) => {
    const candidates = await countEventsEndedBefore(trx, eventCutoff);
    if (candidates === 0) return 0;
    if (!options.force && !withinShare(candidates, await countEvents(trx))) {
      refused.push(`events: ${candidates} would be deleted, over the share one run may delete`);
      return 0;
    }
    const deleted = await deleteEventsEndedBefore(trx, eventCutoff);
    if (deleted > 0) await deleteOrphanedDuplicates(trx);
    // Only events that ended long ago go: upcoming events' filter choices stay as they are.
    if (deleted > 0) await announceEventsChanged(trx, { writer: ctx.instanceId, facets: false });
    return deleted;
  });
  // Feeds that show past events change; cached renderings must not outlive the rows.
  if (deletedEvents > 0) ctx.caches.dataVersion.bump({ facets: false });

  let purgedBodies = 0;
  const purgeable = await countPurgeableBodies(db, inboxCutoff);
  if (purgeable > 0) {
    if (options.force || withinShare(purgeable, await countHeldBodies(db))) {
      purgedBodies = await purgeDeliveryBodies(db, inboxCutoff, now);
    } else {
      refused.push(`bodies: ${purgeable} would be purged, over the share one run may purge`);
    }
  }
  await deleteJobClaimsBefore(db, inboxCutoff);
  // The change log and its webhook attempts are kept CHANGE_LOG_RETENTION_DAYS, whatever the
  // events' retention: a subscriber failing for longer has given up on them anyway.
  let changeCutoff = new Date(now.getTime() - ctx.config.changeLogRetentionDays * DAY_MS);
  if (newest && newest < changeCutoff && !options.force) changeCutoff = newest;
  const deletedChanges = await deleteChangesBefore(db, changeCutoff);
  const deletedAttempts = await deleteAttemptsBefore(db, changeCutoff);
  if (deletedChanges > 0) ctx.caches.dataVersion.bump({ facets: false });
  if (refused.length > 0) {
    ctx.logger.warn(
      { refused, now: now.toISOString(), newestDelivery: newest?.toISOString() ?? null },
      'jobs: retention refused to delete as much as the clock asks; check the clock, then run `marquee prune --force`',
    );
  }
  return {
    deletedEvents,
    purgedBodies,
    deletedChanges,
    deletedAttempts,
    eventCutoff: eventCutoff.toISOString(),
    changeCutoff: changeCutoff.toISOString(),
    inboxCutoff: inboxCutoff.toISOString(),
    ...(refused.length > 0 ? { refused } : {}),
  };
}

/** The scheduled retention run: never forced. */
export const retentionJob: JobDefinition = {
  name: 'retention',
  description: 'delete long-ended events, purge old raw delivery bodies',
  schedule: (config) => config.schedules.retention,
  run: (ctx) => runRetention(ctx, { force: false }),
};
