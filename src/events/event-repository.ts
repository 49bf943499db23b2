import { sql, type ExpressionBuilder } from 'kysely';
import { EventCache } from '../cache/event-cache.js';
import type { Queryable } from '../db/connection.js';
import type { Database, EventRow, NewEventRow } from '../db/schema.js';
import type { EventFilter } from './filter.js';
import { foldKey, type CityAliases } from './text-key.js';
import type { Event, EventStatus, EventVisibility, Price, SourceName } from './types.js';

/** Every query on the events tables. Callers see domain types only. */

/** SQLite caps bound parameters per statement; chunks stay well below every dialect's limit. */
const CHUNK = 400;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size)
    out.push(items.slice(index, index + size));
  return out;
}

const parseList = <T>(json: string): T[] => {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? (value as T[]) : [];
};

const date = (value: string | null): Date | null => (value === null ? null : new Date(value));

/** The columns `toEvent` reads: every column but the search and filter keys and the hash. */
const EVENT_COLUMNS = [
  'id',
  'source',
  'external_id',
  'title',
  'subtitle',
  'description_text',
  'description_html',
  'starts_at',
  'ends_at',
  'effective_end_at',
  'doors_at',
  'previous_starts_at',
  'time_zone',
  'venue_name',
  'venue_street',
  'venue_postal_code',
  'venue_city',
  'venue_country',
  'latitude',
  'longitude',
  'genres',
  'tags',
  'organization_id',
  'organizer_name',
  'ticket_url',
  'prices',
  'sold_out',
  'image_url',
  'image_alt',
  'status',
  'visibility',
  'source_updated_at',
  'first_seen_at',
  'last_changed_at',
  'revision',
] as const satisfies readonly (keyof EventRow)[];

/** Maps a stored row to the domain event. */
export function toEvent(row: Pick<EventRow, (typeof EVENT_COLUMNS)[number]>): Event {
  return {
    id: row.id,
    source: row.source as SourceName,
    externalId: row.external_id,
    title: row.title,
    subtitle: row.subtitle,
    descriptionText: row.description_text,
    descriptionHtml: row.description_html,
    startsAt: new Date(row.starts_at),
    endsAt: date(row.ends_at),
    effectiveEndsAt: new Date(row.effective_end_at),
    doorsAt: date(row.doors_at),
    previousStartsAt: date(row.previous_starts_at),
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
    organizer: { id: row.organization_id, name: row.organizer_name },
    ticketUrl: row.ticket_url,
    prices: parseList<Price>(row.prices),
    soldOut: row.sold_out === 1,
    image: row.image_url ? { url: row.image_url, alt: row.image_alt } : null,
    status: row.status as EventStatus,
    visibility: row.visibility as EventVisibility,
    sourceUpdatedAt: date(row.source_updated_at),
    firstSeenAt: new Date(row.first_seen_at),
    lastChangedAt: new Date(row.last_changed_at),
    revision: row.revision,
  };
}

/** What ingest needs to know about a stored event to decide whether an update changes it. */
export interface StoredEventState {
  id: string;
  contentHash: string;
  revision: number;
  startsAt: string;
  previousStartsAt: string | null;
  sourceUpdatedAt: string | null;
  firstSeenAt: string;
  status: string;
  visibility: string;
  /** JSON array, as stored. */
  genres: string;
  /** What the list page's filter choices are made of, with `visibility` and `genres`. */
  venueCity: string | null;
  organizationId: string | null;
  organizerName: string | null;
  effectiveEndAt: string;
}

/** Loads the stored state of the given event ids (missing ids are absent from the map). */
export async function findEventStates(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, StoredEventState>> {
  const states = new Map<string, StoredEventState>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db
      .selectFrom('events')
      .select([
        'id',
        'content_hash',
        'revision',
        'starts_at',
        'previous_starts_at',
        'source_updated_at',
        'first_seen_at',
        'status',
        'visibility',
        'genres',
        'venue_city',
        'organization_id',
        'organizer_name',
        'effective_end_at',
      ])
      .where('id', 'in', part)
      .execute();
    for (const row of rows) {
      states.set(row.id, {
        id: row.id,
        contentHash: row.content_hash,
        revision: row.revision,
        startsAt: row.starts_at,
        previousStartsAt: row.previous_starts_at,
        sourceUpdatedAt: row.source_updated_at,
        firstSeenAt: row.first_seen_at,
        status: row.status,
        visibility: row.visibility,
        genres: row.genres,
        venueCity: row.venue_city,
        organizationId: row.organization_id,
        organizerName: row.organizer_name,
        effectiveEndAt: row.effective_end_at,
      });
    }
  }
  return states;
}

const UPDATABLE_COLUMNS = [
  'organization_id',
  'organizer_name',
  'organizer_key',
  'title',
  'subtitle',
  'description_text',
  'description_html',
  'starts_at',
  'ends_at',
  'effective_end_at',
  'doors_at',
  'previous_starts_at',
  'time_zone',
  'venue_name',
  'venue_key',
  'venue_street',
  'venue_postal_code',
  'venue_city',
  'venue_country',
  'latitude',
  'longitude',
  'city_key',
  'genres',
  'tags',
  'prices',
  'ticket_url',
  'sold_out',
  'image_url',
  'image_alt',
  'status',
  'visibility',
  'search_text',
  'source_updated_at',
  'content_hash',
  'revision',
  'last_changed_at',
] as const satisfies readonly (keyof NewEventRow)[];

/**
 * Inserts or replaces whole event rows and their genre index, in chunks. `storedGenres` holds
 * the stored genres (JSON) of rows that exist: their index is rewritten only when they changed,
 * which spares most updates two statements (round trips, on PostgreSQL).
 */
export async function upsertEvents(
  db: Queryable,
  rows: readonly NewEventRow[],
  storedGenres: ReadonlyMap<string, string> = new Map(),
): Promise<void> {
  // SQLite allows 32766 bound values; 40 columns x 100 rows stays far below it.
  for (const part of chunks(rows, 100)) {
    await db
      .insertInto('events')
      .values(part)
      .onConflict((conflict) =>
        conflict
          .column('id')
          .doUpdateSet((eb) =>
            Object.fromEntries(
              UPDATABLE_COLUMNS.map((column) => [column, eb.ref(`excluded.${column}`)]),
            ),
          ),
      )
      .execute();
  }
  const reindexed = rows.filter((row) => storedGenres.get(row.id) !== row.genres);
  const previouslyIndexed = reindexed
    .filter((row) => storedGenres.has(row.id))
    .map((row) => row.id);
  for (const part of chunks(previouslyIndexed)) {
    await db.deleteFrom('event_genres').where('event_id', 'in', part).execute();
  }
  const genres = reindexed.flatMap((row) =>
    [...new Set(parseList<string>(row.genres).map(foldKey))].map((genreKey) => ({
      event_id: row.id,
      genre_key: genreKey,
    })),
  );
  for (const part of chunks(genres, 400)) {
    await db.insertInto('event_genres').values(part).execute();
  }
}

/** Moves the source's own update time forward without a material change. */
export async function touchSourceUpdatedAt(
  db: Queryable,
  id: string,
  sourceUpdatedAt: string,
): Promise<void> {
  await db
    .updateTable('events')
    .set({ source_updated_at: sourceUpdatedAt })
    .where('id', '=', id)
    .execute();
}

/** Ids of an organization's public or hidden events that have not ended by `now`. */
export async function findUpcomingIdsOfOrganization(
  db: Queryable,
  source: SourceName,
  organizationId: string,
  now: Date,
): Promise<string[]> {
  const rows = await db
    .selectFrom('events')
    .select('id')
    .where('source', '=', source)
    .where('organization_id', '=', organizationId)
    .where('visibility', '!=', 'removed')
    .where('effective_end_at', '>', now.toISOString())
    .execute();
  return rows.map((row) => row.id);
}

/** Marks events removed (kept, out of every output), bumping their revision. */
export async function markEventsRemoved(
  db: Queryable,
  ids: readonly string[],
  now: Date,
): Promise<number> {
  let count = 0;
  for (const part of chunks(ids)) {
    const result = await db
      .updateTable('events')
      .set((eb) => ({
        visibility: 'removed',
        revision: eb('revision', '+', 1),
        last_changed_at: now.toISOString(),
      }))
      .where('id', 'in', part)
      .where('visibility', '!=', 'removed')
      .executeTakeFirst();
    count += Number(result.numUpdatedRows);
  }
  return count;
}

/**
 * Marks events cancelled. `at` becomes their source update time when later, so a stale copy of
 * the event delivered after the cancel cannot revive it.
 */
export async function markEventsCancelled(
  db: Queryable,
  ids: readonly string[],
  now: Date,
  at: Date,
): Promise<number> {
  let count = 0;
  for (const part of chunks(ids)) {
    const result = await db
      .updateTable('events')
      .set((eb) => ({
        status: 'cancelled',
        revision: eb('revision', '+', 1),
        last_changed_at: now.toISOString(),
        source_updated_at: sql<string>`case when ${eb.ref('source_updated_at')} is null or ${eb.ref('source_updated_at')} < ${at.toISOString()} then ${at.toISOString()} else ${eb.ref('source_updated_at')} end`,
      }))
      .where('id', 'in', part)
      .where('status', '!=', 'cancelled')
      .executeTakeFirst();
    count += Number(result.numUpdatedRows);
  }
  return count;
}

/** Deletes events that ended before `cutoff`; returns how many. */
export async function deleteEventsEndedBefore(db: Queryable, cutoff: Date): Promise<number> {
  const result = await db
    .deleteFrom('events')
    .where('effective_end_at', '<', cutoff.toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** One event by public id, whatever its visibility (pages answer 410 for removed ones). */
export async function findEventById(db: Queryable, id: string): Promise<Event | null> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toEvent(row) : null;
}

export interface EventWindow {
  now: Date;
  /** PAST_DAYS: ended events stay this many days. */
  pastDays: number;
  cityAliases: CityAliases;
}

export interface EventPage {
  total: number;
  events: Event[];
  /** Data-derived modification time of this result: never moves backwards. */
  lastModified: Date;
  /** When the first matching event leaves the window, changing the result without a write. */
  expiresAt: Date | null;
}

const DAY_MS = 86_400_000;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/**
 * Filter values as they can occur in stored text: without NUL, which ingest drops (cleanText)
 * and PostgreSQL cannot even bind as text.
 */
function comparable(values: readonly string[]): string[] {
  return values.map((value) => value.replaceAll('\0', ''));
}

/** The filter's predicates except the time window and visibility. */
function matchesFilter(filter: EventFilter, aliases: CityAliases) {
  const city = comparable(filter.city);
  const organizer = comparable(filter.organizer);
  return (eb: ExpressionBuilder<Database, 'events'>) => {
    const conditions = [];
    if (city.length > 0) {
      conditions.push(
        eb('events.city_key', 'in', [
          ...new Set(city.flatMap((name) => aliases.spellingsOf(name))),
        ]),
      );
    }
    if (filter.genre.length > 0) {
      conditions.push(
        eb.exists(
          eb
            .selectFrom('event_genres')
            .select('event_genres.event_id')
            .whereRef('event_genres.event_id', '=', 'events.id')
            .where('event_genres.genre_key', 'in', comparable(filter.genre).map(foldKey)),
        ),
      );
    }
    if (organizer.length > 0) {
      conditions.push(
        eb.or([
          eb('events.organizer_key', 'in', organizer.map(foldKey)),
          eb('events.organization_id', 'in', organizer),
        ]),
      );
    }
    if (filter.venue.length > 0)
      conditions.push(eb('events.venue_key', 'in', comparable(filter.venue).map(foldKey)));
    if (filter.source.length > 0) conditions.push(eb('events.source', 'in', filter.source));
    if (filter.q.length > 0) {
      conditions.push(
        eb.or(
          comparable(filter.q).map((query) =>
            eb.and(
              foldKey(query)
                .split(' ')
                .filter((word) => word.length > 0)
                .map(
                  (word) =>
                    sql<boolean>`${eb.ref('events.search_text')} like ${`%${escapeLike(word)}%`} escape '\\'`,
                ),
            ),
          ),
        ),
      );
    }
    return eb.and(conditions);
  };
}

/** What identifies one stored version of an event row: every write changes one of these. */
const STAMP_COLUMNS = [
  'id',
  'revision',
  'last_changed_at',
  'source_updated_at',
  'content_hash',
] as const;

type StampRow = Pick<EventRow, (typeof STAMP_COLUMNS)[number]>;

/** What a page reads first: row versions, and what its summary needs. */
const PAGE_COLUMNS = [...STAMP_COLUMNS, 'effective_end_at'] as const;

type PageRow = Pick<EventRow, (typeof PAGE_COLUMNS)[number]>;

/** What a page loads of a row: the event and its version. */
const ROW_COLUMNS = [...EVENT_COLUMNS, 'content_hash'] as const;

function stampOf(row: StampRow): string {
  return `${row.revision}|${row.last_changed_at}|${row.source_updated_at ?? ''}|${row.content_hash}`;
}

/** Optimistic page reads retried when a write lands between their two statements. */
const PAGE_ATTEMPTS = 3;

/**
 * Upcoming public events matching `filter`, sorted by start, with what caches need to know.
 * The page is read as ids and row versions first; only rows missing from `cache` (all of them
 * without one) are then loaded and mapped.
 */
export async function findEvents(
  db: Queryable,
  filter: EventFilter,
  window: EventWindow,
  cache: EventCache = new EventCache(filter.limit),
): Promise<EventPage> {
  const lower = (
    filter.from ?? new Date(window.now.getTime() - window.pastDays * DAY_MS)
  ).toISOString();
  const matching = matchesFilter(filter, window.cityAliases);
  let inWindow = db
    .selectFrom('events')
    .where('events.visibility', '=', 'public')
    .where('events.effective_end_at', '>', lower)
    .where(matching);
  if (filter.to) inWindow = inWindow.where('events.starts_at', '<', filter.to.toISOString());

  // One row past the page tells whether the page holds every matching row; when it does (most
  // feeds ask for more than there are), the summary is computed from the page itself.
  const pageQuery = <C extends readonly (keyof EventRow)[]>(columns: C) =>
    inWindow
      .select(columns.map((column) => `events.${column}` as const))
      .orderBy('events.starts_at')
      .orderBy('events.id')
      .limit(filter.limit + 1)
      .offset(filter.offset);

  let read: { events: Event[]; rows: PageRow[] } | null = null;
  for (let attempt = 0; attempt < PAGE_ATTEMPTS && read === null; attempt += 1) {
    const rows = await pageQuery(PAGE_COLUMNS).execute();
    const events = await eventsOf(db, rows.slice(0, filter.limit), cache);
    if (events !== null) read = { events, rows };
  }
  if (read === null) {
    // Writes kept landing between the two reads: read whole rows in one statement.
    const rows = await pageQuery(ROW_COLUMNS).execute();
    read = {
      events: rows.slice(0, filter.limit).map((row) => {
        const event = toEvent(row);
        cache.set(row.id, stampOf(row), event);
        return event;
      }),
      rows,
    };
  }
  const summary =
    filter.offset === 0 && read.rows.length <= filter.limit
      ? summarize(read.rows)
      : await inWindow
          .select((eb) => [
            eb.fn.countAll<number>().as('total'),
            eb.fn.min('events.effective_end_at').as('first_end'),
            eb.fn.max('events.last_changed_at').as('last_changed'),
          ])
          .executeTakeFirstOrThrow();
  // Events that left the window, and removed or hidden ones, changed the result when they did.
  const departed = await db
    .selectFrom('events')
    .where(matching)
    .select((eb) => [
      eb.fn
        .max(
          eb
            .case()
            .when(
              eb.and([
                eb('events.visibility', '=', 'public'),
                eb('events.effective_end_at', '<=', lower),
              ]),
            )
            .then(eb.ref('events.effective_end_at'))
            .else(eb.ref('events.last_changed_at'))
            .end(),
        )
        .as('last_change'),
    ])
    .where((eb) =>
      eb.or([eb('events.visibility', '!=', 'public'), eb('events.effective_end_at', '<=', lower)]),
    )
    .executeTakeFirst();

  const candidates = [summary.last_changed, departed?.last_change].filter(
    (value): value is string => typeof value === 'string',
  );
  const lastModified =
    candidates.length > 0 ? candidates.sort().at(-1)! : new Date(0).toISOString();
  const expiresAt =
    summary.first_end && !filter.from
      ? new Date(new Date(summary.first_end).getTime() + window.pastDays * DAY_MS)
      : null;
  return {
    total: Number(summary.total),
    events: read.events,
    lastModified: new Date(lastModified),
    expiresAt,
  };
}

interface Summary {
  total: number;
  first_end: string | null;
  last_changed: string | null;
}

/** The summary of a page that holds every matching row. */
function summarize(rows: readonly PageRow[]): Summary {
  let firstEnd: string | null = null;
  let lastChanged: string | null = null;
  for (const row of rows) {
    if (firstEnd === null || row.effective_end_at < firstEnd) firstEnd = row.effective_end_at;
    if (lastChanged === null || row.last_changed_at > lastChanged)
      lastChanged = row.last_changed_at;
  }
  return { total: rows.length, first_end: firstEnd, last_changed: lastChanged };
}

/**
 * The events of a page read as row versions: cached ones as they are, the others loaded and
 * mapped. Null when a row changed or went away since the page was read.
 */
async function eventsOf(
  db: Queryable,
  page: readonly StampRow[],
  cache: EventCache,
): Promise<Event[] | null> {
  const stamps = page.map(stampOf);
  const events = page.map((row, index) => cache.get(row.id, stamps[index] as string));
  const missing = new Map<string, number>();
  events.forEach((event, index) => {
    if (event === undefined) missing.set((page[index] as StampRow).id, index);
  });
  for (const part of chunks([...missing.keys()])) {
    const rows = await db
      .selectFrom('events')
      .select(ROW_COLUMNS)
      .where('id', 'in', part)
      .execute();
    for (const row of rows) {
      const index = missing.get(row.id) as number;
      const stamp = stampOf(row);
      if (stamp !== stamps[index]) return null;
      const event = toEvent(row);
      cache.set(row.id, stamp, event);
      events[index] = event;
      missing.delete(row.id);
    }
  }
  return missing.size === 0 ? (events as Event[]) : null;
}

export interface Facets {
  cities: string[];
  genres: string[];
  organizers: { id: string | null; name: string }[];
}

/** Filter choices and how long they hold. */
export interface FacetsSnapshot {
  facets: Facets;
  /** When the first of the events they come from ends, changing them without a write. */
  validUntil: Date | null;
}

/** Values to offer in filter forms, taken from upcoming public events. */
export async function findFacets(db: Queryable, now: Date): Promise<FacetsSnapshot> {
  const base = db
    .selectFrom('events')
    .where('visibility', '=', 'public')
    .where('effective_end_at', '>', now.toISOString());
  const cities = await base
    .select('venue_city')
    .distinct()
    .where('venue_city', 'is not', null)
    .execute();
  const organizers = await base
    .select(['organization_id', 'organizer_name'])
    .distinct()
    .where('organizer_name', 'is not', null)
    .execute();
  const genreRows = await base.select('genres').distinct().execute();
  const firstEnd = await base
    .select((eb) => eb.fn.min('effective_end_at').as('first_end'))
    .executeTakeFirst();
  const byKey = <T>(items: T[], key: (item: T) => string) => {
    const map = new Map<string, T>();
    for (const item of items) if (!map.has(key(item))) map.set(key(item), item);
    return [...map.values()].sort((a, b) => key(a).localeCompare(key(b)));
  };
  return {
    facets: {
      cities: byKey(
        cities.map((row) => row.venue_city as string),
        foldKey,
      ),
      genres: byKey(
        genreRows.flatMap((row) => parseList<string>(row.genres)),
        foldKey,
      ),
      organizers: byKey(
        organizers.map((row) => ({ id: row.organization_id, name: row.organizer_name as string })),
        (organizer) => foldKey(organizer.name),
      ),
    },
    validUntil: firstEnd?.first_end ? new Date(firstEnd.first_end) : null,
  };
}

/** Counts events by visibility and status, for metrics and the admin page. */
export async function countEventsByStatus(
  db: Queryable,
): Promise<{ visibility: string; status: string; count: number }[]> {
  const rows = await db
    .selectFrom('events')
    .select(['visibility', 'status', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['visibility', 'status'])
    .execute();
  return rows.map((row) => ({
    visibility: row.visibility,
    status: row.status,
    count: Number(row.count),
  }));
}
