import { createHash } from 'node:crypto';
import type { Queryable } from '../db/connection.js';

/**
 * Short feed URLs (/f/<id>.ics and the other formats) for filters whose long URL calendar clients
 * refuse (Google Calendar fails silently past 256 characters). The id is derived from the filter's
 * canonical query string, so every instance and every restart gives a filter the same id without
 * coordination; the table only lets an id be read back.
 *
 * What can be stored is bounded: only canonical query strings of valid filters (the callers store
 * what filterQueryString wrote for a parsed filter), each at most MAX_SHORT_FEED_QUERY characters,
 * and at most MAX_SHORT_FEEDS rows. Rows are never deleted, since a subscription may poll its id
 * for years; past the cap no new id is stored, and the subscribe panel leaves out the links that
 * would need one (rather than offering a URL that fails).
 */

/** At most this many short feeds: about 30 MB of rows in the worst case. */
export const MAX_SHORT_FEEDS = 100_000;
/** The longest canonical query string a short feed stands for. */
export const MAX_SHORT_FEED_QUERY = 2048;

/** 12 base64url characters: 72 bits of SHA-256, far from colliding at MAX_SHORT_FEEDS. */
export const SHORT_FEED_ID_PATTERN = /^[A-Za-z0-9_-]{12}$/;

/** The short feed id of a canonical query string. */
export function shortFeedId(query: string): string {
  return createHash('sha256').update(query, 'utf8').digest('base64url').slice(0, 12);
}

/** The short URL's path of a feed whose long path is `longPath` (/events.ics → /f/<id>.ics). */
export function shortFeedPath(id: string, longPath: string): string {
  return `/f/${id}${longPath.slice(longPath.lastIndexOf('.'))}`;
}

/** The canonical query string stored for `id`, or null. */
export async function findShortFeedQuery(db: Queryable, id: string): Promise<string | null> {
  const row = await db
    .selectFrom('short_feeds')
    .select('query')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.query ?? null;
}

/**
 * Stores the short feed of a canonical query string on first use and returns its id; null when
 * none can be given (query too long, table full, or another query holds the id).
 */
export async function saveShortFeed(
  db: Queryable,
  query: string,
  now: Date,
  max: number = MAX_SHORT_FEEDS,
): Promise<string | null> {
  const id = shortFeedId(query);
  const stored = await findShortFeedQuery(db, id);
  if (stored !== null) return stored === query ? id : null;
  if (query.length > MAX_SHORT_FEED_QUERY) return null;
  const { count } = await db
    .selectFrom('short_feeds')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .executeTakeFirstOrThrow();
  if (Number(count) >= max) return null;
  await db
    .insertInto('short_feeds')
    .values({ id, query, created_at: now.toISOString() })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .execute();
  // Another instance may have stored the id meanwhile: its row is the one that counts.
  return (await findShortFeedQuery(db, id)) === query ? id : null;
}
