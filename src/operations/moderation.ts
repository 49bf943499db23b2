import { announceEventsChanged } from '../cache/events-changed.js';
import { createChangeRecorder } from '../changes/change-log.js';
import type { AppContext } from '../context.js';
import type { Queryable } from '../db/connection.js';
import {
  applyHolds,
  findIdsOfOrganization,
  findStoredIds,
  forgetBlock,
  forgetHidden,
  listOrganizationBlocks,
  recordBlock,
  type OrganizationBlock,
  recordHidden,
} from '../events/moderation.js';
import { raisePartnerRevisions } from '../events/duplicates.js';
import type { SourceName } from '../events/types.js';
import {
  findDeliveries,
  findDelivery,
  type DeliveryDetail,
  type DeliverySummary,
  lockEventWrites,
} from '../inbox/inbox-repository.js';
import { listAudit, recordAudit, type AuditEntry } from './audit-log.js';

/**
 * The admin actions: each one changes what is published (or replays a delivery), lands in the
 * audit log with its outcome, and makes every instance drop what it cached.
 */

/** Who asked: the token is the only identity, so the client's address stands for it. */
export interface Actor {
  client: string | null;
}

/** What an admin action did. */
export interface ActionOutcome {
  /** `done`, `unchanged` (it already was so) or `not-found`. */
  outcome: 'done' | 'unchanged' | 'not-found';
  /** Events whose publication changed. */
  changed: number;
}

/** What a moderation write hands the events whose publication it may change to. */
interface Holds {
  /** Notes the events' state before the write changes their holds (for the change log). */
  capture(ids: readonly string[]): Promise<void>;
  /** Publishes the events as their holds now say; returns how many changed. */
  apply(ids: readonly string[]): Promise<number>;
}

/**
 * Runs a moderation write in one transaction with its audit entry, the change log (a withheld
 * event's entries give way to one removal for the changes feed and outgoing webhooks, an
 * unhidden one comes back) and the change announcement (other instances on PostgreSQL drop
 * their caches when it commits), then drops this instance's caches. `write` captures the events
 * it may change before changing their holds, then applies them.
 */
async function moderate(
  ctx: AppContext,
  actor: Actor,
  entry: { action: string; target: string },
  write: (trx: Queryable, now: Date, holds: Holds) => Promise<ActionOutcome>,
): Promise<ActionOutcome> {
  const now = ctx.now();
  const result = await ctx.database.db.transaction().execute(async (trx) => {
    await lockEventWrites(trx);
    const changes = createChangeRecorder();
    const outcome = await write(trx, now, {
      capture: (ids) => changes.capture(trx, ids),
      async apply(ids) {
        await changes.capture(trx, ids);
        const changed = await applyHolds(trx, ids, now);
        // The other record of a merged event shows it too: its calendars need a new SEQUENCE.
        if (changed > 0) await raisePartnerRevisions(trx, ids, now);
        return changed;
      },
    });
    await changes.record(trx, now);
    await recordAudit(trx, {
      ...entry,
      at: now.toISOString(),
      outcome: outcome.outcome,
      detail: { changed: outcome.changed },
      client: actor.client,
    });
    await announceEventsChanged(trx, { writer: ctx.instanceId, facets: true });
    return outcome;
  });
  ctx.caches.dataVersion.bump({ facets: true });
  // As after processing (context.ts): the logged removal or return may be sent now, and a feed
  // an event left or came back to has changed, which the WebSub hub should hear of.
  ctx.webhooks.notify();
  ctx.websub.changed();
  ctx.logger.info({ ...entry, ...result, client: actor.client }, 'admin: moderation action');
  return result;
}

/** Hides an event from every public output until unhidden, through later deliveries too. */
export function hideEvent(ctx: AppContext, actor: Actor, id: string): Promise<ActionOutcome> {
  return moderate(ctx, actor, { action: 'event.hide', target: id }, async (trx, now, holds) => {
    if ((await findStoredIds(trx, [id])).length === 0) return { outcome: 'not-found', changed: 0 };
    await holds.capture([id]);
    const added = await recordHidden(trx, id, now);
    const changed = await holds.apply([id]);
    return { outcome: added ? 'done' : 'unchanged', changed };
  });
}

/** Publishes a hidden event again as its source says (unless its organization is blocked). */
export function unhideEvent(ctx: AppContext, actor: Actor, id: string): Promise<ActionOutcome> {
  return moderate(ctx, actor, { action: 'event.unhide', target: id }, async (trx, _now, holds) => {
    const stored = (await findStoredIds(trx, [id])).length > 0;
    if (stored) await holds.capture([id]);
    const removed = await forgetHidden(trx, id);
    if (!stored) return { outcome: removed ? 'done' : 'not-found', changed: 0 };
    const changed = await holds.apply([id]);
    return { outcome: removed ? 'done' : 'unchanged', changed };
  });
}

/**
 * Blocks an organization: its events leave the public outputs, and later deliveries are
 * stored and processed but not published while the block lasts. Blocking one Marquee has not
 * seen yet is allowed (it may come).
 */
export function blockOrganization(
  ctx: AppContext,
  actor: Actor,
  source: SourceName,
  organizationId: string,
): Promise<ActionOutcome> {
  return moderate(
    ctx,
    actor,
    { action: 'organization.block', target: `${source}/${organizationId}` },
    async (trx, now, holds) => {
      const ids = await findIdsOfOrganization(trx, source, organizationId);
      await holds.capture(ids);
      const added = await recordBlock(trx, source, organizationId, now);
      const changed = await holds.apply(ids);
      return { outcome: added ? 'done' : 'unchanged', changed };
    },
  );
}

/** Lifts an organization's block: its events are published as their sources say. */
export function unblockOrganization(
  ctx: AppContext,
  actor: Actor,
  source: SourceName,
  organizationId: string,
): Promise<ActionOutcome> {
  return moderate(
    ctx,
    actor,
    { action: 'organization.unblock', target: `${source}/${organizationId}` },
    async (trx, _now, holds) => {
      const ids = await findIdsOfOrganization(trx, source, organizationId);
      await holds.capture(ids);
      const removed = await forgetBlock(trx, source, organizationId);
      const changed = await holds.apply(ids);
      return { outcome: removed ? 'done' : 'unchanged', changed };
    },
  );
}

/** What replaying one delivery did. */
export interface ReplayOutcome {
  outcome: 'done' | 'not-found' | 'refused';
  /** The delivery after processing; null when there is none. */
  delivery: Omit<DeliveryDetail, 'body'> | null;
  /** Why it was refused (its body purged, or it was rejected as not JSON). */
  reason: string | null;
}

/** Processes one stored delivery again (as `marquee replay` does for many). */
export async function replayOneDelivery(
  ctx: AppContext,
  actor: Actor,
  id: number,
): Promise<ReplayOutcome> {
  const db = ctx.database.db;
  const before = await findDelivery(db, id);
  let outcome: ReplayOutcome;
  if (!before) {
    outcome = { outcome: 'not-found', delivery: null, reason: null };
  } else if (!(await ctx.inbox.replayDelivery(id))) {
    outcome = {
      outcome: 'refused',
      delivery: withoutBody(before),
      reason:
        before.body === null
          ? 'its body was purged (INBOX_RETENTION_DAYS)'
          : `a ${before.status} delivery cannot be processed`,
    };
  } else {
    const after = await findDelivery(db, id);
    outcome = { outcome: 'done', delivery: after && withoutBody(after), reason: null };
  }
  await recordActionAndAnnounce(ctx, actor, {
    action: 'delivery.replay',
    target: String(id),
    outcome: outcome.outcome,
    detail:
      outcome.outcome === 'done'
        ? { status: outcome.delivery?.status ?? null }
        : outcome.reason === null
          ? null
          : { reason: outcome.reason },
  });
  ctx.logger.info(
    { action: 'delivery.replay', delivery: id, outcome: outcome.outcome, client: actor.client },
    'admin: delivery replayed',
  );
  return outcome;
}

/**
 * Records an admin action that wrote through the inbox (a replay), and makes every instance drop
 * its caches: processing announces the events it changed, this covers the rest (the admin page).
 */
export async function recordActionAndAnnounce(
  ctx: AppContext,
  actor: Actor,
  entry: { action: string; target: string; outcome: string; detail: unknown },
): Promise<void> {
  await ctx.database.db.transaction().execute(async (trx) => {
    await recordAudit(trx, { ...entry, at: ctx.now().toISOString(), client: actor.client });
    await announceEventsChanged(trx, { writer: ctx.instanceId, facets: true });
  });
  ctx.caches.dataVersion.bump({ facets: true });
}

function withoutBody(delivery: DeliveryDetail): Omit<DeliveryDetail, 'body'> {
  const { body: _body, ...rest } = delivery;
  return rest;
}

/** What the admin page shows of moderation: blocks, the latest test deliveries and audit entries. */
export interface ModerationView {
  blocks: OrganizationBlock[];
  testDeliveries: DeliverySummary[];
  audit: AuditEntry[];
  auditTotal: number;
}

/** Reads the moderation state the admin page shows. */
export async function collectModerationView(db: Queryable): Promise<ModerationView> {
  const blocks = await listOrganizationBlocks(db);
  const tests = await findDeliveries(db, {
    source: null,
    status: null,
    messageType: null,
    test: true,
    limit: 20,
    offset: 0,
  });
  const audit = await listAudit(db, { limit: 50, offset: 0 });
  return {
    blocks,
    testDeliveries: tests.deliveries,
    audit: audit.entries,
    auditTotal: audit.total,
  };
}
