import { parse as parseQueryText } from 'node:querystring';
import type { Request, Response } from 'express';
import { LRUCache } from 'lru-cache';
import type { CachedResponse, Rendered } from '../cache/response-store.js';
import type { AppContext } from '../context.js';
import { HttpError, InvalidInputError } from '../errors.js';
import { findEventById, findEvents } from '../events/event-reads.js';
import {
  DEFAULT_RADIUS_KM,
  describeFilter,
  filterKey,
  filterQueryString,
  parseEventFilter,
  type EventFilter,
} from '../events/filter.js';
import {
  findShortFeedQuery,
  saveShortFeed,
  SHORT_FEED_ID_PATTERN,
  shortFeedPath as shortFeedPathOf,
} from '../events/short-feeds.js';
import { CityAliases } from '../events/text-key.js';
import { EVENT_ID_PATTERN, isWithdrawn, type Event } from '../events/types.js';
import { installationStart } from '../db/installation.js';
import { eventsApiDocument } from '../render/api.js';
import type { FeedChannel } from '../render/channel.js';
import { eventIcsPath } from '../render/event-url.js';
import { feedIdFor, tagPrefix } from '../render/feed-ids.js';
import { icsDocument, renderSingleEventIcs } from '../render/ics.js';
import { atomDocument, jsonFeedDocument, rssDocument } from '../render/syndication.js';
import { SOURCE_NAMES } from '../sources/index.js';
import type { FeedTopic } from '../websub/websub.js';
import { prepareResponse, sendCached } from './send-cached.js';

/** One public output format: its path, type and renderer. */
export interface FeedFormat {
  name: string;
  path: string;
  contentType: string;
  defaultLimit: number;
  /** Whether withdrawn events come out too, until they would have ended (calendars' tombstones). */
  tombstones: boolean;
  /** Whether the format names the WebSub hub and is announced to it (RSS, Atom, JSON Feed). */
  websub?: boolean;
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
    tombstones: true,
    render: (ctx, page, filter, channel) =>
      icsDocument(page.events, channel, ctx.caches.feedItems, {
        cancelled: filter.cancelled,
        maxBytes: ctx.config.icsMaxBytes,
      }).bytes(),
  },
  rss: {
    name: 'rss',
    path: '/events.rss',
    contentType: 'application/rss+xml; charset=utf-8',
    defaultLimit: 500,
    tombstones: false,
    websub: true,
    render: (ctx, page, _filter, channel) =>
      rssDocument(page.events, channel, ctx.caches.feedItems).bytes(),
  },
  atom: {
    name: 'atom',
    path: '/events.atom',
    contentType: 'application/atom+xml; charset=utf-8',
    defaultLimit: 500,
    tombstones: false,
    websub: true,
    render: (ctx, page, _filter, channel) =>
      atomDocument(page.events, channel, ctx.caches.feedItems).bytes(),
  },
  jsonfeed: {
    name: 'jsonfeed',
    path: '/events.json',
    contentType: 'application/feed+json; charset=utf-8',
    defaultLimit: 500,
    tombstones: false,
    websub: true,
    render: (ctx, page, _filter, channel) =>
      jsonFeedDocument(page.events, channel, ctx.caches.feedItems).bytes(),
  },
  api: {
    name: 'api',
    path: '/api/events',
    contentType: 'application/json; charset=utf-8',
    defaultLimit: 100,
    tombstones: false,
    render: (ctx, page, filter, channel) =>
      eventsApiDocument(page, filter, channel, ctx.caches.feedItems).bytes(),
  },
} satisfies Record<string, FeedFormat>;

/** The formats a short URL serves: /f/<id>.ics, .rss, .atom, .json. */
export const SHORT_FEED_FORMATS: readonly FeedFormat[] = [
  FEED_FORMATS.ics,
  FEED_FORMATS.rss,
  FEED_FORMATS.atom,
  FEED_FORMATS.jsonfeed,
];

/**
 * The event feeds announced to the WebSub hub after every change that alters them, whether
 * fetched lately or not: the unfiltered RSS, Atom and JSON Feed (http/announced-feeds.ts adds the
 * changes feeds).
 */
export const ANNOUNCED_FEEDS: readonly FeedFormat[] = [
  FEED_FORMATS.rss,
  FEED_FORMATS.atom,
  FEED_FORMATS.jsonfeed,
];

/** The path of a short feed URL: /f/<id> and the extension of the format's long path. */
export function shortFeedPath(id: string, format: FeedFormat): string {
  return shortFeedPathOf(id, format.path);
}

/** The headers every feed is sent with. */
export const CORS = { 'Access-Control-Allow-Origin': '*' };

/** A parsed filter and its canonical key. */
export interface ParsedFilter {
  filter: EventFilter;
  key: string;
}

/** Reads the shared filter grammar from requests; built once per app. */
export interface RequestFilters {
  /** The request's filter for an endpoint with `defaultLimit`, and its canonical key. */
  parsed(req: Request, defaultLimit: number, extraParameters?: readonly string[]): ParsedFilter;
  /** The request's filter (a copy the caller may change). */
  copy(req: Request, defaultLimit: number, extraParameters?: readonly string[]): EventFilter;
  /** The filter of a canonical query string (a short feed's), for an endpoint with `defaultLimit`. */
  parsedQuery(query: string, defaultLimit: number): ParsedFilter;
  /** CITY_ALIASES, which the `city` filter matches by. */
  cityAliases: CityAliases;
  /** The short feed ids of canonical query strings (events/short-feeds.ts). */
  shortFeeds: ShortFeeds;
}

/** Short feed ids and the queries they stand for, remembered (bounded) once known. */
export interface ShortFeeds {
  /** The id of a canonical query string, stored on first use; null when none can be given. */
  idFor(query: string): Promise<string | null>;
  /** The canonical query string of an id; null for an unknown id. */
  queryOf(id: string): Promise<string | null>;
}

function createShortFeeds(ctx: AppContext): ShortFeeds {
  // Only found entries are remembered: another instance may store an unknown id any time.
  const ids = new LRUCache<string, string>({ max: 5000 });
  const queries = new LRUCache<string, string>({ max: 5000 });
  return {
    async idFor(query) {
      const known = ids.get(query);
      if (known !== undefined) return known;
      const id = await saveShortFeed(ctx.database.db, query, ctx.now());
      if (id !== null) ids.set(query, id);
      return id;
    },
    async queryOf(id) {
      if (!SHORT_FEED_ID_PATTERN.test(id)) return null;
      const known = queries.get(id);
      if (known !== undefined) return known;
      const query = await findShortFeedQuery(ctx.database.db, id);
      if (query !== null) queries.set(id, query);
      return query;
    },
  };
}

/**
 * The filter reader of one app. Pollers repeat the same URLs, so parsed filters are remembered
 * by query string, bounded by count and by the bytes of keys and filters (query strings are
 * at most MAX_QUERY_LENGTH, see app.ts). What is cached downstream is keyed by the canonical
 * filter key, never by the query string.
 */
export function createRequestFilters(ctx: AppContext): RequestFilters {
  const known = new LRUCache<string, ParsedFilter>({
    max: 5000,
    maxSize: 8 * 1024 * 1024,
    // The filter holds about what its canonical key spells out, plus its object.
    sizeCalculation: (result, cacheKey) => 256 + cacheKey.length + 2 * result.key.length,
  });
  const parse = (
    queryText: string,
    query: () => Record<string, unknown>,
    defaultLimit: number,
    extraParameters: readonly string[],
  ): ParsedFilter => {
    // A copy, not a slice: a slice would keep the whole request URL alive as long as the entry.
    const cacheKey = `${defaultLimit}|${extraParameters.join(',')}|${Buffer.from(queryText).toString()}`;
    const hit = known.get(cacheKey);
    if (hit) return hit;
    const filter = parseEventFilter(query(), {
      defaultLimit,
      timeZone: ctx.config.timeZone,
      sources: SOURCE_NAMES,
      extraParameters,
    });
    const result = { filter, key: filterKey(filter) };
    known.set(cacheKey, result);
    return result;
  };
  const parsed: RequestFilters['parsed'] = (req, defaultLimit, extraParameters = []) => {
    const queryStart = req.originalUrl.indexOf('?');
    const queryText = queryStart < 0 ? '' : req.originalUrl.slice(queryStart);
    return parse(
      queryText,
      () => req.query as Record<string, unknown>,
      defaultLimit,
      extraParameters,
    );
  };
  return {
    parsed,
    // The parser Express uses with the 'simple' query parser (src/app.ts).
    parsedQuery: (query, defaultLimit) =>
      parse(query, () => parseQueryText(query.replace(/^\?/, '')), defaultLimit, []),
    cityAliases: new CityAliases(ctx.config.cityAliases),
    shortFeeds: createShortFeeds(ctx),
    copy: (req, defaultLimit, extraParameters) => ({
      ...parsed(req, defaultLimit, extraParameters).filter,
    }),
  };
}

/** The installation's first start, from its settled identity (the floor of Last-Modified). */
export function installedAt(ctx: AppContext): Date {
  const { identity } = ctx.config;
  if (identity === null) throw new Error('render: the installation identity was not settled');
  return installationStart(identity);
}

/**
 * The canonical URL of a filtered output at `path`: the self link of its feeds, whatever form
 * the request's query string had (order of parameters, `+` or %20, repeated parameters).
 */
export function canonicalUrl(
  ctx: AppContext,
  filter: EventFilter,
  path: string,
  defaultLimit: number,
): string {
  const query = filterQueryString(filter, { limit: filter.limit !== defaultLimit, offset: true });
  return `${ctx.config.publicUrl}${path}${query}`;
}

/** ANNOUNCED_FEEDS as WebSub topics, at their unfiltered canonical URLs. */
export function unfilteredFeedTopics(ctx: AppContext, filters: RequestFilters): FeedTopic[] {
  return ANNOUNCED_FEEDS.map((format) => {
    const parsed = filters.parsedQuery('', format.defaultLimit);
    const selfUrl = canonicalUrl(ctx, parsed.filter, format.path, format.defaultLimit);
    return feedTopic(ctx, filters, format, parsed, selfUrl);
  });
}

/** The channel description of a filtered output at `path`. */
export function channelFor(
  ctx: AppContext,
  filter: EventFilter,
  path: string,
  defaultLimit: number,
  lastModified: Date,
): FeedChannel {
  const { publicUrl, siteTitle, identity } = ctx.config;
  if (identity === null) throw new Error('render: the installation identity was not settled');
  const prefix = tagPrefix(identity);
  return {
    title: `${siteTitle}: ${describeFilter(filter)}`,
    description: `${describeFilter(filter)}, upcoming, from ${siteTitle}`,
    selfUrl: canonicalUrl(ctx, filter, path, defaultLimit),
    htmlUrl: `${publicUrl}/${filterQueryString(filter)}`,
    publicUrl,
    uidDomain: identity.uidDomain,
    tagPrefix: prefix,
    feedId: feedIdFor(prefix, filterQueryString(filter)),
    timeZone: ctx.config.timeZone,
    cancelledPrefix: ctx.config.cancelledPrefix,
    updated: lastModified,
    siteTitle,
    hubUrl: ctx.config.websub.hubUrl,
  };
}

/** The cached response for `key` at the current data version, rendered when missing. */
export function cachedRender(
  ctx: AppContext,
  key: string,
  render: () => Promise<Rendered>,
): Promise<CachedResponse> {
  return ctx.caches.responses.getOrRender(key, ctx.caches.dataVersion.value, ctx.now(), async () =>
    prepareResponse(await render()),
  );
}

/** GET handler for one filtered feed format. */
export function feedHandler(ctx: AppContext, filters: RequestFilters, format: FeedFormat) {
  return async (req: Request, res: Response) => {
    const parsed = filters.parsed(req, format.defaultLimit);
    const selfUrl = canonicalUrl(ctx, parsed.filter, format.path, format.defaultLimit);
    await sendFeed(ctx, filters, format, parsed, selfUrl, req, res);
  };
}

/**
 * GET handler for a short feed URL, /f/<id>.<format>: the long URL's output, with the short URL
 * as its self link; 404 for an unknown id.
 */
export function shortFeedHandler(ctx: AppContext, filters: RequestFilters, format: FeedFormat) {
  return async (req: Request, res: Response) => {
    if (Object.keys(req.query).length > 0) {
      throw new InvalidInputError('feed: a short feed URL takes no parameters');
    }
    const id = String(req.params.id);
    const query = await filters.shortFeeds.queryOf(id);
    if (query === null) throw new HttpError(404, 'feed: no such short feed');
    const parsed = filters.parsedQuery(query, format.defaultLimit);
    const selfUrl = `${ctx.config.publicUrl}${shortFeedPath(id, format)}`;
    await sendFeed(ctx, filters, format, parsed, selfUrl, req, res);
  };
}

/** Sends `format` for a parsed filter, rendered with `selfUrl` as its self link. */
async function sendFeed(
  ctx: AppContext,
  filters: RequestFilters,
  format: FeedFormat,
  parsed: ParsedFilter,
  selfUrl: string,
  req: Request,
  res: Response,
): Promise<void> {
  // The self link is part of the body: requests that fold to one filter key but differ in
  // their canonical URL (case, order of values) get bodies of their own.
  const entry = await cachedRender(ctx, `${format.name}|${parsed.key}|${selfUrl}`, () =>
    renderFeed(ctx, filters, format, parsed, selfUrl),
  );
  const topic = format.websub ? () => feedTopic(ctx, filters, format, parsed, selfUrl) : null;
  sendFeedResponse(ctx, req, res, entry, selfUrl, topic);
}

/**
 * Sends a rendered feed with CORS; with a WebSub hub set and a `topic`, also the hub's discovery
 * links, and records the fetch so that the hub is pinged when that topic's body changes.
 */
export function sendFeedResponse(
  ctx: AppContext,
  req: Request,
  res: Response,
  entry: CachedResponse,
  selfUrl: string,
  topic: (() => FeedTopic) | null,
): void {
  let headers: Readonly<Record<string, string>> = CORS;
  if (topic !== null && ctx.websub.enabled) {
    ctx.websub.recordFetch(topic(), entry.etag);
    headers = websubHeaders(entry, ctx.websub.hubUrl as string, selfUrl);
  }
  sendCached(req, res, ctx.caches.responses, entry, {
    cacheControl: ctx.config.feedCacheControl,
    headers,
  });
}

/** Renders `format` for a parsed filter, with `selfUrl` as its self link. */
async function renderFeed(
  ctx: AppContext,
  filters: RequestFilters,
  format: FeedFormat,
  { filter }: ParsedFilter,
  selfUrl: string,
): Promise<Rendered> {
  const page = await findEvents(
    ctx.database.db,
    filter,
    {
      now: ctx.now(),
      pastDays: ctx.config.pastDays,
      timeZone: ctx.config.timeZone,
      cityAliases: filters.cityAliases,
      installedAt: installedAt(ctx),
      tombstones: format.tombstones,
    },
    ctx.caches.rows,
  );
  const channel = {
    ...channelFor(ctx, filter, format.path, format.defaultLimit, page.lastModified),
    selfUrl,
  };
  return {
    body: format.render(ctx, page, filter, channel),
    contentType: format.contentType,
    lastModified: page.lastModified,
    expiresAt: page.expiresAt,
  };
}

/**
 * A feed as a WebSub topic: its canonical URL, and its ETag rendered afresh (not through the
 * response store, which may answer with the previous rendering while another request renders).
 */
export function feedTopic(
  ctx: AppContext,
  filters: RequestFilters,
  format: FeedFormat,
  parsed: ParsedFilter,
  selfUrl: string,
): FeedTopic {
  return {
    url: selfUrl,
    currentEtag: async () =>
      prepareResponse(await renderFeed(ctx, filters, format, parsed, selfUrl)).etag,
  };
}

// One header object per rendering: send-cached.ts keys its prepared header lines by it.
const websubHeadersByResponse = new WeakMap<CachedResponse, Record<string, string>>();

/** Feed headers with the WebSub discovery links (`Link` rel="hub" and rel="self"). */
function websubHeaders(
  entry: CachedResponse,
  hubUrl: string,
  selfUrl: string,
): Record<string, string> {
  let headers = websubHeadersByResponse.get(entry);
  if (headers === undefined) {
    headers = { ...CORS, Link: `<${hubUrl}>; rel="hub", <${selfUrl}>; rel="self"` };
    websubHeadersByResponse.set(entry, headers);
  }
  return headers;
}

/**
 * Loads an event by id as its page shows it: 404 for unknown or never published, 410 for
 * removed or withdrawn.
 */
export async function findPublicEvent(ctx: AppContext, id: string): Promise<Event> {
  const event = await findCalendarEvent(ctx, id);
  if (isWithdrawn(event)) throw eventGone();
  return event;
}

/**
 * Loads an event by id as its calendar file shows it: a public one, or a withdrawn one (shown
 * as a tombstone, so that a calendar holding it learns of the removal); 404 for unknown or never
 * published, 410 for removed without having been published.
 */
async function findCalendarEvent(ctx: AppContext, id: string): Promise<Event> {
  if (!EVENT_ID_PATTERN.test(id)) throw new HttpError(404, 'event: no such event');
  const event = await findEventById(ctx.database.db, id);
  if (!event) throw new HttpError(404, 'event: no such event');
  if (event.visibility === 'public' || isWithdrawn(event)) return event;
  if (event.visibility === 'removed') throw eventGone();
  throw new HttpError(404, 'event: no such event');
}

function eventGone(): HttpError {
  return new HttpError(410, 'event: this event was removed by its organizer');
}

/** GET /events/:id.ics: one event, for "add to calendar"; a withdrawn one as a tombstone. */
export function singleEventIcsHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    if (Object.keys(req.query).length > 0)
      throw new InvalidInputError('event: this URL takes no parameters');
    const id = String(req.params.id);
    const entry = await cachedRender(ctx, `ics-single|${id}`, async () => {
      const event = await findCalendarEvent(ctx, id);
      const channel: FeedChannel = {
        ...channelFor(
          ctx,
          { ...emptyFilter(), limit: 1 },
          eventIcsPath(id),
          1,
          event.lastChangedAt,
        ),
        title: `${ctx.config.siteTitle}: ${event.title}`,
        selfUrl: `${ctx.config.publicUrl}${eventIcsPath(id)}`,
      };
      return {
        body: Buffer.from(renderSingleEventIcs(event, channel), 'utf8'),
        contentType: 'text/calendar; charset=utf-8',
        lastModified: event.lastChangedAt,
        expiresAt: null,
      };
    });
    sendCached(req, res, ctx.caches.responses, entry, {
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
    cancelled: 'status',
    days: null,
    order: 'start',
    near: null,
    radius: DEFAULT_RADIUS_KM,
    limit: 100,
    offset: 0,
  };
}
