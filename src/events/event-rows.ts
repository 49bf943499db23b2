import { chunks } from '../db/chunks.js';
import type { Queryable } from '../db/connection.js';
import { READ_COLUMNS, type ReadColumn } from '../db/event-columns.js';
import type { EventRow } from '../db/schema.js';
import type { Event, EventStatus, EventVisibility, Price, SourceName } from './types.js';

/** Stored event rows as domain events: the columns' stored forms (db/schema.ts) read back. */

/** A JSON list column's items; anything but a list reads as empty. */
export function parseList<T>(json: string): T[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? (value as T[]) : [];
}

/** A stored instant (ISO text) as a Date; null stays null. */
export function toDate(value: string | null): Date | null {
  return value === null ? null : new Date(value);
}

/** What `toEvent` reads of a row: the columns of READ_COLUMNS. */
export type EventReadRow = Pick<EventRow, ReadColumn>;

/** The stored rows of `ids` as `toEvent` reads them, by id; ids not stored are absent. */
export async function findEventRows(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, EventReadRow>> {
  const rows = new Map<string, EventReadRow>();
  for (const part of chunks(ids)) {
    const found = await db
      .selectFrom('events')
      .select(READ_COLUMNS)
      .where('id', 'in', part)
      .execute();
    for (const row of found) rows.set(row.id, row);
  }
  return rows;
}

// What a mapped event holds besides its descriptions: the object, its dates, venue, prices and
// lists, with short texts. 10,000 of the bench's events took 3.2 KB each on the heap, 335 of it
// their descriptions.
const MAPPED_EVENT_FIXED_BYTES = 3_000;

/**
 * About the memory a mapped event holds, for the cache of mapped events: a fixed part and two
 * bytes per character of its descriptions (V8 keeps a text with any character past U+00FF at
 * two bytes per character).
 */
export function mappedEventBytes(event: Event): number {
  return (
    MAPPED_EVENT_FIXED_BYTES +
    2 * ((event.descriptionHtml?.length ?? 0) + (event.descriptionText?.length ?? 0))
  );
}

/** Maps a stored row to the domain event. */
export function toEvent(row: EventReadRow): Event {
  return {
    id: row.id,
    source: row.source as SourceName,
    externalId: row.external_id,
    title: row.title,
    subtitle: row.subtitle,
    descriptionText: row.description_text,
    descriptionHtml: row.description_html,
    startsAt: new Date(row.starts_at),
    endsAt: toDate(row.ends_at),
    effectiveEndsAt: new Date(row.effective_end_at),
    doorsAt: toDate(row.doors_at),
    previousStartsAt: toDate(row.previous_starts_at),
    timeZone: row.time_zone,
    venue: {
      name: row.venue_name,
      street: row.venue_street,
      postalCode: row.venue_postal_code,
      city: row.venue_city,
      country: row.venue_country,
      latitude: row.latitude,
      longitude: row.longitude,
    },
    genres: parseList<string>(row.genres),
    tags: parseList<string>(row.tags),
    organizer: {
      id: row.organization_id,
      name: row.organizer_name,
      url: row.organizer_url,
      city: row.organizer_city,
    },
    ticketUrl: row.ticket_url,
    presaleStartsAt: toDate(row.presale_starts_at),
    performers: row.performers === null ? [] : parseList<string>(row.performers),
    prices: parseList<Price>(row.prices),
    soldOut: row.sold_out === 1,
    image: row.image_url ? { url: row.image_url, alt: row.image_alt } : null,
    status: row.status as EventStatus,
    visibility: row.visibility as EventVisibility,
    sourceUpdatedAt: toDate(row.source_updated_at),
    firstSeenAt: new Date(row.first_seen_at),
    lastChangedAt: new Date(row.last_changed_at),
    revision: row.revision,
    withdrawnAt: toDate(row.withdrawn_at),
  };
}
