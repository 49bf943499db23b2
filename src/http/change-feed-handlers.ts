import type { Request, Response } from 'express';
import type { Rendered } from '../cache/response-store.js';
import { findChanges } from '../changes/change-log.js';
import type { AppContext } from '../context.js';
import { describeFilter, filterQueryString, type EventFilter } from '../events/filter.js';
import type { FeedChannel } from '../render/channel.js';
import {
  renderChangesAtom,
  renderChangesJsonFeed,
  renderChangesRss,
} from '../render/change-feeds.js';
import { tagPrefix } from '../render/feed-ids.js';
import type { FeedTopic } from '../websub/websub.js';
import {
  cachedRender,
  canonicalUrl,
  installedAt,
  sendFeedResponse,
  type RequestFilters,
} from './feed-handlers.js';
import { prepareResponse } from './send-cached.js';

/** One format of the changes feed: its path, type and renderer. */
export interface ChangeFeedFormat {
  name: string;
  path: string;
  contentType: string;
  render: typeof renderChangesRss;
}

/** /changes.rss, /changes.atom and /changes.json. */
export const CHANGE_FEED_FORMATS: readonly ChangeFeedFormat[] = [
  {
    name: 'changes-rss',
    path: '/changes.rss',
    contentType: 'application/rss+xml; charset=utf-8',
    render: renderChangesRss,
  },
  {
    name: 'changes-atom',
    path: '/changes.atom',
    contentType: 'application/atom+xml; charset=utf-8',
    render: renderChangesAtom,
  },
  {
    name: 'changes-jsonfeed',
    path: '/changes.json',
    contentType: 'application/feed+json; charset=utf-8',
    render: renderChangesJsonFeed,
  },
];

/** Entries a changes feed holds unless `limit` says otherwise. */
export const CHANGE_FEED_DEFAULT_LIMIT = 100;

/**
 * GET handler of one changes feed format: the filter grammar of every feed (matched against each
 * event as it stands now), newest change first, cached until the next write. With WebSub on, it
 * names the hub, and a filtered one fetched is announced when it changes.
 */
export function changeFeedHandler(
  ctx: AppContext,
  filters: RequestFilters,
  format: ChangeFeedFormat,
) {
  return async (req: Request, res: Response) => {
    const { filter, key } = filters.parsed(req, CHANGE_FEED_DEFAULT_LIMIT);
    const selfUrl = canonicalUrl(ctx, filter, format.path, CHANGE_FEED_DEFAULT_LIMIT);
    const entry = await cachedRender(ctx, `${format.name}|${key}|${selfUrl}`, () =>
      renderChangeFeed(ctx, filters, format, filter, selfUrl),
    );
    sendFeedResponse(ctx, req, res, entry, selfUrl, () =>
      changeFeedTopic(ctx, filters, format, filter, selfUrl),
    );
  };
}

/** Renders one changes feed format for a filter, with `selfUrl` as its self link. */
async function renderChangeFeed(
  ctx: AppContext,
  filters: RequestFilters,
  format: ChangeFeedFormat,
  filter: EventFilter,
  selfUrl: string,
): Promise<Rendered> {
  const now = ctx.now();
  const { changes } = await findChanges(ctx.database.db, {
    filter,
    cityAliases: filters.cityAliases,
    timeZone: ctx.config.timeZone,
    now,
  });
  const lastModified = changes[0]?.changedAt ?? installedAt(ctx);
  const { publicUrl, siteTitle, identity } = ctx.config;
  if (identity === null) throw new Error('render: the installation identity was not settled');
  const prefix = tagPrefix(identity);
  const described = describeFilter(filter);
  const channel: FeedChannel = {
    title: `${siteTitle}: changes to ${described}`,
    description: `Every change to ${described}, newest first, from ${siteTitle}`,
    selfUrl,
    htmlUrl: `${publicUrl}/${filterQueryString(filter)}`,
    publicUrl,
    uidDomain: identity.uidDomain,
    tagPrefix: prefix,
    feedId: `${prefix}changes${filterQueryString(filter)}`,
    timeZone: ctx.config.timeZone,
    cancelledPrefix: ctx.config.cancelledPrefix,
    updated: lastModified,
    siteTitle,
    hubUrl: ctx.config.websub.hubUrl,
  };
  return {
    body: Buffer.from(format.render(changes, channel), 'utf8'),
    contentType: format.contentType,
    lastModified,
    expiresAt: null,
  };
}

/** A changes feed as a WebSub topic: its canonical URL, and its ETag rendered afresh. */
export function changeFeedTopic(
  ctx: AppContext,
  filters: RequestFilters,
  format: ChangeFeedFormat,
  filter: EventFilter,
  selfUrl: string,
): FeedTopic {
  return {
    url: selfUrl,
    currentEtag: async () =>
      prepareResponse(await renderChangeFeed(ctx, filters, format, filter, selfUrl)).etag,
  };
}

/** Each changes feed format, unfiltered, as a WebSub topic at its canonical URL. */
export function unfilteredChangeFeedTopics(ctx: AppContext, filters: RequestFilters): FeedTopic[] {
  return CHANGE_FEED_FORMATS.map((format) => {
    const { filter } = filters.parsedQuery('', CHANGE_FEED_DEFAULT_LIMIT);
    const selfUrl = canonicalUrl(ctx, filter, format.path, CHANGE_FEED_DEFAULT_LIMIT);
    return changeFeedTopic(ctx, filters, format, filter, selfUrl);
  });
}
