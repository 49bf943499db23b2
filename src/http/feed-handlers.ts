import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { HttpError, InvalidInputError } from '../errors.js';
import { findEventById, findEvents } from '../events/event-repository.js';
import {
  describeFilter,
  filterKey,
  filterQueryString,
  parseEventFilter,
  type EventFilter,
} from '../events/filter.js';
import { CityAliases } from '../events/text-key.js';
import type { Event } from '../events/types.js';
import { eventsApiDocument } from '../render/api.js';
import type { FeedChannel } from '../render/channel.js';
import { icsDocument, renderSingleEventIcs } from '../render/ics.js';
import { atomDocument, jsonFeedDocument, rssDocument } from '../render/syndication.js';
import { SOURCE_NAMES } from '../sources/index.js';
import { sendCached, type CachedResponse, type Rendered } from './render-cache.js';

/** One public output format: its path, type and renderer. */
export interface FeedFormat {
  name: string;
  path: string;
  contentType: string;
  defaultLimit: number;
  /** The response body (UTF-8). */
  render(
    ctx: AppContext,
    page: { total: number; events: Event[] },
    filter: EventFilter,
    channel: FeedChannel,
  ): Buffer;
}

export const FEED_FORMATS = {
  ics: {
    name: 'ics',
    path: '/events.ics',
    contentType: 'text/calendar; charset=utf-8',
    defaultLimit: 500,
    render: (ctx, page, _filter, channel) =>
      icsDocument(page.events, channel, ctx.fragmentCache).bytes(),
  },
  rss: {
    name: 'rss',
    path: '/events.rss',
    contentType: 'application/rss+xml; charset=utf-8',
    defaultLimit: 500,
    render: (ctx, page, _filter, channel) =>
      rssDocument(page.events, channel, ctx.fragmentCache).bytes(),
  },
  atom: {
    name: 'atom',
    path: '/events.atom',
    contentType: 'application/atom+xml; charset=utf-8',
    defaultLimit: 500,
    render: (ctx, page, _filter, channel) =>
      atomDocument(page.events, channel, ctx.fragmentCache).bytes(),
  },
  jsonfeed: {
    name: 'jsonfeed',
    path: '/events.json',
    contentType: 'application/feed+json; charset=utf-8',
    defaultLimit: 500,
    render: (ctx, page, _filter, channel) =>
      jsonFeedDocument(page.events, channel, ctx.fragmentCache).bytes(),
  },
  api: {
    name: 'api',
    path: '/api/events',
    contentType: 'application/json; charset=utf-8',
    defaultLimit: 100,
    render: (ctx, page, filter, channel) =>
      eventsApiDocument(page, filter, channel, ctx.fragmentCache).bytes(),
  },
} satisfies Record<string, FeedFormat>;

const CORS = { 'Access-Control-Allow-Origin': '*' };

const parsedFilters = new WeakMap<AppContext, Map<string, { filter: EventFilter; key: string }>>();

/**
 * Parses the shared filter grammar from a request for an endpoint with `defaultLimit`. Pollers
 * repeat the same URLs, so parsed filters are remembered by query string (bounded).
 */
export function parsedFilterFromRequest(
  ctx: AppContext,
  req: Request,
  defaultLimit: number,
  extraParameters: readonly string[] = [],
): { filter: EventFilter; key: string } {
  let cache = parsedFilters.get(ctx);
  if (!cache) parsedFilters.set(ctx, (cache = new Map()));
  const queryStart = req.originalUrl.indexOf('?');
  const cacheKey = `${defaultLimit}|${extraParameters.join(',')}|${queryStart < 0 ? '' : req.originalUrl.slice(queryStart)}`;
  const known = cache.get(cacheKey);
  if (known) return known;
  const filter = parseEventFilter(req.query as Record<string, unknown>, {
    defaultLimit,
    timeZone: ctx.config.timeZone,
    sources: SOURCE_NAMES,
    extraParameters,
  });
  const parsed = { filter, key: filterKey(filter) };
  if (cache.size >= 5000) cache.clear();
  cache.set(cacheKey, parsed);
  return parsed;
}

/** The request's filter (a copy the caller may change). */
export function filterFromRequest(
  ctx: AppContext,
  req: Request,
  defaultLimit: number,
  extraParameters: readonly string[] = [],
): EventFilter {
  return { ...parsedFilterFromRequest(ctx, req, defaultLimit, extraParameters).filter };
}

/** The channel description of a filtered output at `path`. */
export function channelFor(
  ctx: AppContext,
  filter: EventFilter,
  path: string,
  defaultLimit: number,
  lastModified: Date,
): FeedChannel {
  const { publicUrl, siteTitle } = ctx.config;
  const query = filterQueryString(filter, { limit: filter.limit !== defaultLimit, offset: true });
  return {
    title: `${siteTitle}: ${describeFilter(filter)}`,
    description: `${describeFilter(filter)}, upcoming, from ${siteTitle}`,
    selfUrl: `${publicUrl}${path}${query}`,
    htmlUrl: `${publicUrl}/${filterQueryString(filter)}`,
    publicUrl,
    host: ctx.config.publicHost,
    timeZone: ctx.config.timeZone,
    cancelledPrefix: ctx.config.cancelledPrefix,
    updated: lastModified,
    siteTitle,
  };
}

/** The cached response for `key` at the current data version, rendered when missing. */
export function cachedRender(
  ctx: AppContext,
  key: string,
  render: () => Promise<Rendered>,
): Promise<CachedResponse> {
  return ctx.renderCache.getOrRender(key, ctx.dataVersion.value, ctx.now(), render);
}

/** GET handler for one filtered feed format. */
export function feedHandler(ctx: AppContext, format: FeedFormat) {
  const cityAliases = new CityAliases(ctx.config.cityAliases);
  return async (req: Request, res: Response) => {
    const { filter, key } = parsedFilterFromRequest(ctx, req, format.defaultLimit);
    const entry = await cachedRender(ctx, `${format.name}|${key}`, async () => {
      const page = await findEvents(
        ctx.database.db,
        filter,
        {
          now: ctx.now(),
          pastDays: ctx.config.pastDays,
          cityAliases,
        },
        ctx.eventCache,
      );
      const channel = channelFor(ctx, filter, format.path, format.defaultLimit, page.lastModified);
      return {
        body: format.render(ctx, page, filter, channel),
        contentType: format.contentType,
        lastModified: page.lastModified,
        expiresAt: page.expiresAt,
      };
    });
    sendCached(req, res, ctx.renderCache, entry, {
      cacheControl: ctx.config.feedCacheControl,
      headers: CORS,
    });
  };
}

const EVENT_ID = /^[a-z]+-[A-Za-z0-9_.:-]{1,64}$/;

/** Loads a public event by id: 404 for unknown or not public, 410 for removed. */
export async function findPublicEvent(ctx: AppContext, id: string): Promise<Event> {
  if (!EVENT_ID.test(id)) throw new HttpError(404, 'event: no such event');
  const event = await findEventById(ctx.database.db, id);
  if (!event || event.visibility === 'hidden') throw new HttpError(404, 'event: no such event');
  if (event.visibility === 'removed')
    throw new HttpError(410, 'event: this event was removed by its organizer');
  return event;
}

/** GET /events/:id.ics: one event, for "add to calendar". */
export function singleEventIcsHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    if (Object.keys(req.query).length > 0)
      throw new InvalidInputError('event: this URL takes no parameters');
    const id = String(req.params.id);
    const entry = await cachedRender(ctx, `ics-single|${id}`, async () => {
      const event = await findPublicEvent(ctx, id);
      const channel: FeedChannel = {
        ...channelFor(
          ctx,
          { ...emptyFilter(), limit: 1 },
          `/events/${encodeURIComponent(id)}.ics`,
          1,
          event.lastChangedAt,
        ),
        title: `${ctx.config.siteTitle}: ${event.title}`,
        selfUrl: `${ctx.config.publicUrl}/events/${encodeURIComponent(id)}.ics`,
      };
      return {
        body: Buffer.from(renderSingleEventIcs(event, channel), 'utf8'),
        contentType: 'text/calendar; charset=utf-8',
        lastModified: event.lastChangedAt,
        expiresAt: null,
      };
    });
    sendCached(req, res, ctx.renderCache, entry, {
      cacheControl: ctx.config.feedCacheControl,
      headers: { ...CORS, 'Content-Disposition': `attachment; filename="${id}.ics"` },
    });
  };
}

function emptyFilter(): EventFilter {
  return {
    city: [],
    genre: [],
    organizer: [],
    venue: [],
    source: [],
    from: null,
    to: null,
    q: [],
    limit: 100,
    offset: 0,
  };
}
