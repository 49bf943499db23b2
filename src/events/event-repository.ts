import { sql } from 'kysely';
import { isPostgres, type Queryable } from '../db/connection.js';
import { LruCache } from '../lru-cache.js';
import type { Event } from './types.js';

/** That events changed, told across instances; and the cache of mapped events it keeps valid. */

/**
 * PostgreSQL channel on which writers announce that events changed. The payload names the writer,
 * followed by ` facets` when the change may alter the list page's filter choices.
 */
export const EVENTS_CHANGED_CHANNEL = 'marquee_events_changed';

export interface EventsChange {
  writer: string;
  /** Whether cities, genres or organizers of upcoming public events may have changed. */
  facets: boolean;
}

/**
 * Tells other instances on the same PostgreSQL database that events changed, so that their render
 * caches drop what they hold. Sent inside the writing transaction, it is delivered only if that
 * commits. SQLite has a single process; nothing to tell.
 */
export async function announceEventsChanged(db: Queryable, change: EventsChange): Promise<void> {
  if (!isPostgres(db)) return;
  const payload = change.facets ? `${change.writer} facets` : change.writer;
  await sql`select pg_notify(${EVENTS_CHANGED_CHANNEL}, ${payload})`.execute(db);
}

/** Reads an announcement's payload. */
export function parseEventsChange(payload: string): EventsChange {
  const facets = payload.endsWith(' facets');
  return { writer: facets ? payload.slice(0, -' facets'.length) : payload, facets };
}

/**
 * Mapped events by id, each valid while its stored row is unchanged, so that reading a page
 * again after one event changed loads and maps only that event's row.
 */
export class EventCache {
  private readonly entries: LruCache<{ stamp: string; event: Event }>;

  constructor(maxEntries = 10_000) {
    this.entries = new LruCache(maxEntries);
  }

  /** Number of cached events. */
  get size(): number {
    return this.entries.size;
  }

  /** The cached event stored as `stamp`, if any. */
  get(id: string, stamp: string): Event | undefined {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.stamp === stamp ? entry.event : undefined;
  }

  set(id: string, stamp: string, event: Event): void {
    this.entries.set(id, { stamp, event });
  }

  /** Empties the cache. */
  clear(): void {
    this.entries.clear();
  }
}
