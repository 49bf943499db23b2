import type { Express, RequestHandler } from 'express';
import { announceEventsChanged } from '../cache/events-changed.js';
import { createChangeRecorder } from '../changes/change-log.js';
import type { AppContext } from '../context.js';
import type { ChangeRecorder } from '../events/event-changes.js';
import {
  DuplicateDecisionError,
  dismissPair,
  findPair,
  findReviewQueue,
  linkPair,
  unmergeEvent,
  type DuplicatePair,
} from '../events/duplicates.js';
import type { Queryable } from '../db/connection.js';
import { HttpError } from '../errors.js';
import { beginProcessing } from '../inbox/inbox-repository.js';
import { eventSources } from '../render/event-text.js';
import { eventPageUrl } from '../render/event-url.js';

/**
 * /admin/api/duplicates: the review queue of cross-source duplicates (events/duplicates.ts),
 * and /admin/api/events/:id/unmerge, behind the admin API's guard (Bearer only).
 */

/** A record of a pair as the API and the admin page show it. */
export interface PairRecordView {
  id: string;
  source: string;
  url: string;
  title: string;
  start: string;
  timeZone: string;
  venue: string | null;
  city: string | null;
  ticketUrl: string | null;
  status: string;
  visibility: string;
}

/** A pair as the API and the admin page show it. */
export interface PairView {
  id: string;
  state: DuplicatePair['state'];
  facts: string[];
  note: string | null;
  foundAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  records: [PairRecordView, PairRecordView];
}

/** The view of a pair; page links under `publicUrl`. */
export function pairView(pair: DuplicatePair, publicUrl: string): PairView {
  const record = (event: DuplicatePair['first']): PairRecordView => ({
    id: event.id,
    source: event.source,
    url: eventPageUrl(publicUrl, event.id),
    title: event.title,
    start: event.startsAt.toISOString(),
    timeZone: event.timeZone,
    venue: event.venue.name,
    city: event.venue.city,
    ticketUrl: eventSources(event)[0]?.url ?? null,
    status: event.status,
    visibility: event.visibility,
  });
  return {
    id: pair.id,
    state: pair.state,
    facts: pair.facts,
    note: pair.note,
    foundAt: pair.foundAt.toISOString(),
    decidedAt: pair.decidedAt?.toISOString() ?? null,
    decidedBy: pair.decidedBy,
    records: [record(pair.first), record(pair.second)],
  };
}

/** The pairs waiting for a person, as views. */
export async function reviewQueueViews(ctx: AppContext): Promise<PairView[]> {
  const pairs = await findReviewQueue(ctx.database.db);
  return pairs.map((pair) => pairView(pair, ctx.config.publicUrl));
}

/**
 * Runs a decision in one transaction (under the processing lock on PostgreSQL, so no delivery
 * is applied in between) with the change log of what it changed, then tells every cache and
 * subscriber that outputs changed.
 */
async function decide<T>(
  ctx: AppContext,
  action: (db: Queryable, changes: ChangeRecorder) => Promise<T>,
): Promise<T> {
  let result: T;
  try {
    result = await ctx.database.db.transaction().execute(async (trx) => {
      await beginProcessing(trx);
      const changes = createChangeRecorder();
      const value = await action(trx, changes);
      await changes.record(trx, ctx.now());
      await announceEventsChanged(trx, { writer: ctx.instanceId, facets: true });
      return value;
    });
  } catch (error) {
    if (error instanceof DuplicateDecisionError) {
      throw new HttpError(error.reason === 'unknown' ? 404 : 409, error.message);
    }
    throw error;
  }
  ctx.caches.dataVersion.bump({ facets: true });
  ctx.webhooks.notify();
  ctx.websub.changed();
  return result;
}

/** Registers the review queue's routes behind `api` (the admin guard's Bearer-only variant). */
export function registerDuplicateAdminRoutes(
  app: Express,
  ctx: AppContext,
  api: RequestHandler,
): void {
  app.get('/admin/api/duplicates', api, async (_req, res) => {
    res.json({ pairs: await reviewQueueViews(ctx) });
  });
  app.get('/admin/api/duplicates/:id', api, async (req, res) => {
    const pair = await findPair(ctx.database.db, String(req.params.id));
    if (pair === null) throw new HttpError(404, 'duplicates: no such pair');
    res.json(pairView(pair, ctx.config.publicUrl));
  });
  app.post('/admin/api/duplicates/:id/merge', api, async (req, res) => {
    const id = String(req.params.id);
    const merged = await decide(ctx, (db, changes) =>
      linkPair(db, id, 'operator', ctx.now(), changes),
    );
    ctx.logger.info({ pair: id, ...merged }, 'duplicates: pair merged');
    res.json({ pair: id, state: 'merged', ...merged });
  });
  app.post('/admin/api/duplicates/:id/dismiss', api, async (req, res) => {
    const id = String(req.params.id);
    await decide(ctx, (db) => dismissPair(db, id, ctx.now()));
    ctx.logger.info({ pair: id }, 'duplicates: pair dismissed');
    res.json({ pair: id, state: 'dismissed' });
  });
  app.post('/admin/api/events/:id/unmerge', api, async (req, res) => {
    const id = String(req.params.id);
    const separated = await decide(ctx, (db, changes) => unmergeEvent(db, id, ctx.now(), changes));
    ctx.logger.info({ event: id, ...separated }, 'duplicates: event unmerged');
    res.json({ state: 'unmerged', ...separated });
  });
}
