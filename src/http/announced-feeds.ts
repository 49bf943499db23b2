import type { AppContext } from '../context.js';
import type { FeedTopic } from '../websub/websub.js';
import { unfilteredChangeFeedTopics } from './change-feed-handlers.js';
import { unfilteredFeedTopics, type RequestFilters } from './feed-handlers.js';

/**
 * The feeds announced to the WebSub hub after every change that alters them, whether fetched
 * lately or not: the unfiltered event feeds (RSS, Atom, JSON Feed) and the unfiltered changes
 * feeds (/changes.rss, /changes.atom, /changes.json). Filtered feeds and short URLs are announced
 * only when fetched lately (websub/websub.ts).
 */
export function announcedFeedTopics(ctx: AppContext, filters: RequestFilters): FeedTopic[] {
  return [...unfilteredFeedTopics(ctx, filters), ...unfilteredChangeFeedTopics(ctx, filters)];
}
