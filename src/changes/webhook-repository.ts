import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/connection.js';

/** Every query on webhook subscriptions and their attempts. */

/** A subscription as stored, secret included. */
export interface WebhookSubscription {
  id: string;
  url: string;
  /** Canonical query string of its filter, `''` for every event. */
  filter: string;
  secret: string;
  createdAt: Date;
  /** The last change delivered or given up on. */
  cursor: number;
  /** Failed attempts at the change after the cursor. */
  failures: number;
  failingSince: Date | null;
  nextAttemptAt: Date | null;
}

/** delivered; failed (retried later); given_up (failed for too long, skipped). */
export type AttemptOutcome = 'delivered' | 'failed' | 'given_up';

/** One attempt to send a change to a subscription. */
export interface WebhookAttempt {
  id: number;
  changeId: number;
  attemptedAt: Date;
  outcome: AttemptOutcome;
  status: number | null;
  error: string | null;
  durationMs: number;
}

type SubscriptionRow = {
  id: string;
  url: string;
  filter: string;
  secret: string;
  created_at: string;
  cursor: number;
  failures: number;
  failing_since: string | null;
  next_attempt_at: string | null;
};

const SUBSCRIPTION_COLUMNS = [
  'id',
  'url',
  'filter',
  'secret',
  'created_at',
  'cursor',
  'failures',
  'failing_since',
  'next_attempt_at',
] as const;

function toSubscription(row: SubscriptionRow): WebhookSubscription {
  return {
    id: row.id,
    url: row.url,
    filter: row.filter,
    secret: row.secret,
    createdAt: new Date(row.created_at),
    cursor: Number(row.cursor),
    failures: Number(row.failures),
    failingSince: row.failing_since === null ? null : new Date(row.failing_since),
    nextAttemptAt: row.next_attempt_at === null ? null : new Date(row.next_attempt_at),
  };
}

/** Stores a new subscription starting after change `cursor`; returns it. */
export async function insertSubscription(
  db: Queryable,
  values: { url: string; filter: string; secret: string; cursor: number; now: Date },
): Promise<WebhookSubscription> {
  const row: SubscriptionRow = {
    id: `wh_${randomBytes(9).toString('base64url')}`,
    url: values.url,
    filter: values.filter,
    secret: values.secret,
    created_at: values.now.toISOString(),
    cursor: values.cursor,
    failures: 0,
    failing_since: null,
    next_attempt_at: null,
  };
  await db.insertInto('webhook_subscriptions').values(row).execute();
  return toSubscription(row);
}

/** Every subscription, oldest first. */
export async function listSubscriptions(db: Queryable): Promise<WebhookSubscription[]> {
  const rows = await db
    .selectFrom('webhook_subscriptions')
    .select(SUBSCRIPTION_COLUMNS)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toSubscription);
}

/** One subscription, or null. */
export async function findSubscription(
  db: Queryable,
  id: string,
): Promise<WebhookSubscription | null> {
  const row = await db
    .selectFrom('webhook_subscriptions')
    .select(SUBSCRIPTION_COLUMNS)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toSubscription(row) : null;
}

/** Deletes a subscription and its attempts; false when there was none. */
export async function deleteSubscription(db: Queryable, id: string): Promise<boolean> {
  await db.deleteFrom('webhook_attempts').where('subscription_id', '=', id).execute();
  const result = await db
    .deleteFrom('webhook_subscriptions')
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Takes (or renews) the lease on a subscription that is due: true when `owner` holds it until
 * `until`. Only the holder sends the subscription's messages, so on a shared database each goes
 * out from one instance, in order; a holder that dies loses it when it runs out.
 */
export async function claimSubscription(
  db: Queryable,
  id: string,
  owner: string,
  now: Date,
  until: Date,
): Promise<boolean> {
  const at = now.toISOString();
  const result = await db
    .updateTable('webhook_subscriptions')
    .set({ lease_owner: owner, lease_until: until.toISOString() })
    .where('id', '=', id)
    .where((eb) =>
      eb.or([
        eb('lease_owner', 'is', null),
        eb('lease_owner', '=', owner),
        eb('lease_until', '<', at),
      ]),
    )
    .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', at)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Gives up `owner`'s lease on a subscription. */
export async function releaseSubscription(db: Queryable, id: string, owner: string): Promise<void> {
  await db
    .updateTable('webhook_subscriptions')
    .set({ lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Drops every lease: on SQLite, at start, no other process can hold one. */
export async function releaseAllSubscriptions(db: Queryable): Promise<void> {
  await db
    .updateTable('webhook_subscriptions')
    .set({ lease_owner: null, lease_until: null })
    .where('lease_owner', 'is not', null)
    .execute();
}

/**
 * Records an attempt and moves the subscription on, if `owner` still holds its lease: past the
 * change when delivered or given up, else to its next attempt. False when the lease was lost.
 */
export async function recordAttempt(
  db: Queryable,
  owner: string,
  subscriptionId: string,
  attempt: Omit<WebhookAttempt, 'id'>,
  next: Pick<WebhookSubscription, 'cursor' | 'failures' | 'failingSince' | 'nextAttemptAt'>,
): Promise<boolean> {
  const updated = await db
    .updateTable('webhook_subscriptions')
    .set({
      cursor: next.cursor,
      failures: next.failures,
      failing_since: next.failingSince?.toISOString() ?? null,
      next_attempt_at: next.nextAttemptAt?.toISOString() ?? null,
    })
    .where('id', '=', subscriptionId)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return false;
  await db
    .insertInto('webhook_attempts')
    .values({
      subscription_id: subscriptionId,
      change_id: attempt.changeId,
      attempted_at: attempt.attemptedAt.toISOString(),
      outcome: attempt.outcome,
      status: attempt.status,
      error: attempt.error?.slice(0, 500) ?? null,
      duration_ms: attempt.durationMs,
    })
    .execute();
  return true;
}

/** Sends the subscription's messages again from the change after `cursor`, at once. */
export async function rewindSubscription(
  db: Queryable,
  id: string,
  cursor: number,
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_subscriptions')
    .set({ cursor, failures: 0, failing_since: null, next_attempt_at: null })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** A subscription's latest attempts, newest first. */
export async function recentAttempts(
  db: Queryable,
  subscriptionId: string,
  limit: number,
  outcome?: AttemptOutcome,
): Promise<WebhookAttempt[]> {
  let query = db
    .selectFrom('webhook_attempts')
    .select(['id', 'change_id', 'attempted_at', 'outcome', 'status', 'error', 'duration_ms'])
    .where('subscription_id', '=', subscriptionId);
  if (outcome) query = query.where('outcome', '=', outcome);
  const rows = await query.orderBy('id', 'desc').limit(limit).execute();
  return rows.map((row) => ({
    id: row.id,
    changeId: Number(row.change_id),
    attemptedAt: new Date(row.attempted_at),
    outcome: row.outcome as AttemptOutcome,
    status: row.status,
    error: row.error,
    durationMs: row.duration_ms,
  }));
}

/** Deletes attempts made before `cutoff`; returns how many. */
export async function deleteAttemptsBefore(db: Queryable, cutoff: Date): Promise<number> {
  const result = await db
    .deleteFrom('webhook_attempts')
    .where('attempted_at', '<', cutoff.toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
