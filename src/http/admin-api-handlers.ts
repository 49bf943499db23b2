import type { Request, Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { DeliveryStatus } from '../db/schema.js';
import { storableText } from '../db/storable-text.js';
import { HttpError, InvalidInputError } from '../errors.js';
import { listOrganizationBlocks } from '../events/moderation.js';
import { listOrganizations } from '../events/organization-repository.js';
import { listStoredEvents } from '../events/stored-event-list.js';
import type { EventStatus, SourceName } from '../events/types.js';
import { findDeliveries, findDelivery } from '../inbox/inbox-repository.js';
import { listAudit } from '../operations/audit-log.js';
import {
  blockOrganization,
  hideEvent,
  replayOneDelivery,
  unblockOrganization,
  unhideEvent,
  type ActionOutcome,
  type Actor,
} from '../operations/moderation.js';
import { isSourceName, SOURCE_NAMES } from '../sources/index.js';

/**
 * The admin JSON API under /admin/api/ (Bearer token only, see adminAuth): moderation of what
 * is published, the stored deliveries, the audit log. Handlers parse, call one operation, answer.
 */

export const EVENT_STATUSES = [
  'scheduled',
  'cancelled',
  'rescheduled',
  'relocated',
] as const satisfies readonly EventStatus[];

export const DELIVERY_STATUSES = [
  'pending',
  'processed',
  'failed',
  'rejected',
  'ignored',
] as const satisfies readonly DeliveryStatus[];

/** The largest page the admin API answers. */
export const ADMIN_PAGE_LIMIT = 200;

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');
const paging = {
  limit: z.coerce.number().int().min(1).max(ADMIN_PAGE_LIMIT).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

const eventsQuery = z.strictObject({
  q: z.string().trim().min(1).max(200).optional(),
  source: z.enum(SOURCE_NAMES).optional(),
  status: z.enum(EVENT_STATUSES).optional(),
  hidden: flag.optional(),
  ...paging,
});

const deliveriesQuery = z.strictObject({
  source: z.enum(SOURCE_NAMES).optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
  // Stored message types hold U+FFFD for a NUL (db/storable-text.ts): a query finds them alike.
  messageType: z.string().min(1).max(200).transform(storableText).optional(),
  test: flag.optional(),
  ...paging,
});

const auditQuery = z.strictObject(paging);

/** Parses a query string with `schema`; a mistake is a 400 that names the parameter. */
function parseQuery<T>(schema: z.ZodType<T>, req: Request): T {
  const parsed = schema.safeParse(req.query);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length > 0
      ? `"${issue.path.join('.')}": ${issue.message}`
      : issue.code === 'unrecognized_keys'
        ? `unknown parameter ${issue.keys.map((key) => `"${key}"`).join(', ')}`
        : issue.message,
  );
  throw new InvalidInputError(`admin: ${problems.join('; ')}`);
}

function actorOf(req: Request): Actor {
  return { client: req.ip ?? null };
}

function deliveryIdOf(req: Request): number {
  const text = String(req.params.id);
  if (!/^[1-9]\d{0,14}$/.test(text)) throw new HttpError(404, 'admin: no such delivery');
  return Number(text);
}

function sourceOf(req: Request): SourceName {
  const source = String(req.params.source);
  if (!isSourceName(source)) throw new HttpError(404, `admin: no source named ${source}`);
  return source;
}

/** Answers an action's outcome: 404 when its target does not exist, else 200. */
function sendOutcome(
  res: Response,
  target: Record<string, string>,
  action: string,
  result: ActionOutcome,
): void {
  if (result.outcome === 'not-found') {
    res.status(404).json({ error: `admin: no such ${Object.keys(target)[0] ?? 'target'}` });
    return;
  }
  res.json({ ...target, action, outcome: result.outcome, changed: result.changed });
}

/** GET /admin/api/events: every stored event, public or not, latest start first. */
export function adminEventsHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    const query = parseQuery(eventsQuery, req);
    const page = await listStoredEvents(ctx.database.db, {
      q: query.q ?? null,
      source: query.source ?? null,
      status: query.status ?? null,
      hidden: query.hidden ?? null,
      limit: query.limit,
      offset: query.offset,
    });
    res.json({ total: page.total, limit: query.limit, offset: query.offset, events: page.events });
  };
}

/** POST /admin/api/events/:id/hide and /unhide. */
export function adminEventActionHandler(ctx: AppContext, action: 'hide' | 'unhide') {
  return async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const act = action === 'hide' ? hideEvent : unhideEvent;
    sendOutcome(res, { event: id }, action, await act(ctx, actorOf(req), id));
  };
}

/** GET /admin/api/organizations: organizations seen in syncs, and every block. */
export function adminOrganizationsHandler(ctx: AppContext) {
  return async (_req: Request, res: Response) => {
    const [organizations, blocks] = await Promise.all([
      listOrganizations(ctx.database.db),
      listOrganizationBlocks(ctx.database.db),
    ]);
    res.json({
      organizations: organizations.map((organization) => ({
        source: organization.source,
        id: organization.id,
        name: organization.name,
        lastSyncAt: organization.lastSyncAt?.toISOString() ?? null,
        blocked: blocks.some(
          (block) =>
            block.source === organization.source && block.organizationId === organization.id,
        ),
      })),
      blocks,
    });
  };
}

/** POST /admin/api/organizations/:source/:organizationId/block and /unblock. */
export function adminOrganizationActionHandler(ctx: AppContext, action: 'block' | 'unblock') {
  return async (req: Request, res: Response) => {
    const source = sourceOf(req);
    const organizationId = String(req.params.organizationId);
    if (organizationId.length > 200) throw new InvalidInputError('admin: organization id too long');
    const act = action === 'block' ? blockOrganization : unblockOrganization;
    const result = await act(ctx, actorOf(req), source, organizationId);
    sendOutcome(res, { source, organization: organizationId }, action, result);
  };
}

/** GET /admin/api/deliveries: stored deliveries, newest first. */
export function adminDeliveriesHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    const query = parseQuery(deliveriesQuery, req);
    const page = await findDeliveries(ctx.database.db, {
      source: query.source ?? null,
      status: query.status ?? null,
      messageType: query.messageType ?? null,
      test: query.test ?? null,
      limit: query.limit,
      offset: query.offset,
    });
    res.json({
      total: page.total,
      limit: query.limit,
      offset: query.offset,
      deliveries: page.deliveries,
    });
  };
}

/** GET /admin/api/deliveries/:id: one delivery, with its raw body while it is retained. */
export function adminDeliveryHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    const delivery = await findDelivery(ctx.database.db, deliveryIdOf(req));
    if (!delivery) throw new HttpError(404, 'admin: no such delivery');
    res.json(delivery);
  };
}

/** POST /admin/api/deliveries/:id/replay: processes one delivery again. */
export function adminDeliveryReplayHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    const id = deliveryIdOf(req);
    const result = await replayOneDelivery(ctx, actorOf(req), id);
    if (result.outcome === 'not-found') throw new HttpError(404, 'admin: no such delivery');
    if (result.outcome === 'refused') {
      res.status(409).json({ error: `admin: delivery ${id} cannot be replayed: ${result.reason}` });
      return;
    }
    res.json({
      delivery: id,
      action: 'replay',
      outcome: result.outcome,
      status: result.delivery?.status ?? null,
      error: result.delivery?.error ?? null,
      result: result.delivery?.result ?? null,
    });
  };
}

/** GET /admin/api/audit: the audit log, newest first. */
export function adminAuditHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    const query = parseQuery(auditQuery, req);
    const page = await listAudit(ctx.database.db, query);
    res.json({
      total: page.total,
      limit: query.limit,
      offset: query.offset,
      entries: page.entries,
    });
  };
}
