import type { Queryable } from '../db/connection.js';

/**
 * Claims one scheduled run of `job`: true for the first instance to ask, false for every other.
 * Instances sharing a database all fire the same schedule; the claim row makes one of them run it.
 */
export async function claimJobRun(
  db: Queryable,
  claim: { job: string; scheduledFor: Date; instance: string; now: Date },
): Promise<boolean> {
  const inserted = await db
    .insertInto('job_claims')
    .values({
      job: claim.job,
      scheduled_for: claim.scheduledFor.toISOString(),
      instance: claim.instance,
      claimed_at: claim.now.toISOString(),
    })
    .onConflict((conflict) => conflict.columns(['job', 'scheduled_for']).doNothing())
    .returning('job')
    .execute();
  return inserted.length > 0;
}

/** Deletes claims of runs scheduled before `cutoff`; returns how many. */
export async function deleteJobClaimsBefore(db: Queryable, cutoff: Date): Promise<number> {
  const result = await db
    .deleteFrom('job_claims')
    .where('scheduled_for', '<', cutoff.toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
