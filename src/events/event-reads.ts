import { chunks } from '../db/chunks.js';
import type { Queryable } from '../db/connection.js';
import { READ_COLUMNS } from '../db/event-columns.js';
import type { EventRow } from '../db/schema.js';
import { EventCache } from '../cache/event-cache.js';
import { applyMerges, hasLink, isDuplicateTombstone, isShownMember } from './duplicates.js';
import { toEvent } from './event-rows.js';
import type { EventFilter } from './filter.js';
import { matchesFilter } from './filter-predicate.js';
import type { CityAliases } from './text-key.js';
import { DAY_MS, instantFromWallTime, wallTimeIn } from './time.js';
import { UNPUBLISHED_VISIBILITIES, type Event } from './types.js';

/** Reads of events as outputs show them: one by id, and filtered pages with their Last-Modified. */

/** One event by public id, whatever its visibility (pages answer 410 for removed ones). */
export async function findEventById(db: Queryable, id: string): Promise<Event | null> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return null;
  const [event] = await applyMerges(db, [toEvent(row)]);
  return event ?? null;
}

export interface EventWindow {
  now: Date;
  /** PAST_DAYS: ended events stay this many days. */
  pastDays: number;
  /** TIMEZONE: the days of `days=N` are its calendar days. */
  timeZone: string;
  cityAliases: CityAliases;
  /**
   * The installation's first start (installationStart in db/installation.ts): the Last-Modified
   * of a result that no stored change touched, so that an empty feed shows a real, stable date.
   */
  installedAt: Date;
  /**
   * Also withdrawn events (see `isWithdrawn`) that have not yet ended by `now`: calendars show
   * them as cancelled tombstones, so that clients which keep vanished events drop them too.
   */
  tombstones?: boolean;
}

export interface EventPage {
  total: number;
  events: Event[];
  /** Data-derived modification time of this result: never moves backwards. */
  lastModified: Date;
  /** When the first matching event leaves the window, changing the result without a write. */
  expiresAt: Date | null;
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
const PAGE_COLUMNS = [...STAMP_COLUMNS, 'effective_end_at', 'visibility'] as const;

type PageRow = Pick<EventRow, (typeof PAGE_COLUMNS)[number]>;

/** What a page loads of a row: the event and its version. */
const ROW_COLUMNS = [...READ_COLUMNS, 'content_hash'] as const;

function stampOf(row: StampRow): string {
  return `${row.revision}|${row.last_changed_at}|${row.source_updated_at ?? ''}|${row.content_hash}`;
}

/**
 * The start of the calendar day `days` days after the one `now` falls on, in `timeZone`: the
 * exclusive end of `days=N` is `dayStartAfter(now, N)`, and the result changes at
 * `dayStartAfter(now, 1)`.
 */
export function dayStartAfter(now: Date, days: number, timeZone: string): Date {
  const today = wallTimeIn(now, timeZone);
  const day = new Date(Date.UTC(today.year, today.month - 1, today.day + days));
  return instantFromWallTime(
    {
      year: day.getUTCFullYear(),
      month: day.getUTCMonth() + 1,
      day: day.getUTCDate(),
      hour: 0,
      minute: 0,
      second: 0,
    },
    timeZone,
  );
}

/** The exclusive upper bound on starts of `filter` at `now`: `to` and `days`, intersected. */
function startBound(filter: EventFilter, window: EventWindow): Date | null {
  const daysEnd =
    filter.days === null ? null : dayStartAfter(window.now, filter.days, window.timeZone);
  if (daysEnd === null || (filter.to !== null && filter.to < daysEnd)) return filter.to;
  return daysEnd;
}

/** Optimistic page reads retried when a write lands between their two statements. */
const PAGE_ATTEMPTS = 3;

/**
 * Upcoming public events matching `filter` (and with `window.tombstones`, withdrawn ones until
 * they would have ended), sorted by start (or, with `order=announced`, newest first seen first),
 * with what caches need to know. The page is read as
 * ids and row versions first; only rows missing from `cache` (all of them without one) are then
 * loaded and mapped.
 */
export async function findEvents(
  db: Queryable,
  filter: EventFilter,
  window: EventWindow,
  cache: EventCache = new EventCache({ maxEntries: filter.limit }),
): Promise<EventPage> {
  const lower = (
    filter.from ?? new Date(window.now.getTime() - window.pastDays * DAY_MS)
  ).toISOString();
  // Tombstones stay until their event would have ended: the past days are for published events.
  const tombstoneLower = (
    filter.from !== null && filter.from > window.now ? filter.from : window.now
  ).toISOString();
  const tombstones = window.tombstones === true;
  const matching = matchesFilter(filter, window.cityAliases);
  // Both branches read the (visibility, effective_end_at, starts_at) index; tombstones are few.
  let inWindow = db
    .selectFrom('events')
    .where((eb) => {
      // A record merged into a shown event is left out; calendars keep it as a tombstone
      // when they may have held it (events/duplicates.ts).
      const published = eb.and([
        eb('events.visibility', '=', 'public'),
        eb('events.effective_end_at', '>', lower),
        eb.not(isShownMember(eb)),
      ]);
      if (!tombstones) return published;
      return eb.or([
        published,
        eb.and([
          eb('events.visibility', 'in', UNPUBLISHED_VISIBILITIES),
          eb('events.effective_end_at', '>', tombstoneLower),
          eb('events.withdrawn_at', 'is not', null),
        ]),
        eb.and([
          eb('events.visibility', '=', 'public'),
          eb('events.effective_end_at', '>', tombstoneLower),
          isDuplicateTombstone(eb),
        ]),
      ]);
    })
    .where(matching);
  const startsBefore = startBound(filter, window);
  if (startsBefore) inWindow = inWindow.where('events.starts_at', '<', startsBefore.toISOString());

  // One row past the page tells whether the page holds every matching row; when it does (most
  // feeds ask for more than there are), the summary is computed from the page itself.
  const pageQuery = <C extends readonly (keyof EventRow)[]>(columns: C) => {
    // Whether a row is linked spares looking up the links of the rows that are not.
    const selected = inWindow
      .select(columns.map((column) => `events.${column}` as const))
      .select((eb) => hasLink(eb).as('linked'));
    // Announcements read the (visibility, first_seen_at, effective_end_at) index backwards.
    const ordered =
      filter.order === 'announced'
        ? selected.orderBy('events.first_seen_at', 'desc').orderBy('events.id', 'desc')
        : selected.orderBy('events.starts_at').orderBy('events.id');
    return ordered.limit(filter.limit + 1).offset(filter.offset);
  };

  let read: { events: Event[]; rows: (PageRow & { linked: unknown })[] } | null = null;
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
            eb.fn
              .min(
                eb
                  .case()
                  .when('events.visibility', '=', 'public')
                  .then(eb.ref('events.effective_end_at'))
                  .end(),
              )
              .as('first_end'),
            eb.fn
              .min(
                eb
                  .case()
                  .when('events.visibility', '!=', 'public')
                  .then(eb.ref('events.effective_end_at'))
                  .end(),
              )
              .as('first_tombstone_end'),
            eb.fn.max('events.last_changed_at').as('last_changed'),
          ])
          .executeTakeFirstOrThrow();
  // Events that left the window, and removed or hidden ones, changed the result when they did;
  // a tombstone that ended left it at its end. Read as two index ranges (the published events
  // that ended before the window, and the unpublished ones), never the whole table.
  const now = window.now.toISOString();
  const matchingRows = db.selectFrom('events').where(matching);
  const ended = matchingRows
    .where('events.visibility', '=', 'public')
    .where('events.effective_end_at', '<=', lower)
    .select((eb) => eb.fn.max('events.effective_end_at').as('changed_at'));
  const unpublished = matchingRows
    .where('events.visibility', 'in', UNPUBLISHED_VISIBILITIES)
    .select((eb) => {
      const changedAt = tombstones
        ? eb
            .case()
            .when(
              eb.and([
                eb('events.withdrawn_at', 'is not', null),
                eb('events.effective_end_at', '<=', now),
                eb('events.effective_end_at', '>', eb.ref('events.last_changed_at')),
              ]),
            )
            .then(eb.ref('events.effective_end_at'))
            .else(eb.ref('events.last_changed_at'))
            .end()
        : eb.ref('events.last_changed_at');
      return eb.fn.max(changedAt).as('changed_at');
    });
  const departed = await db
    .selectFrom(ended.unionAll(unpublished).as('departed'))
    .select((eb) => eb.fn.max('departed.changed_at').as('last_change'))
    .executeTakeFirst();

  // Never before the installation's start: the same for every instance on one database, and a
  // result's first change is later, so Last-Modified still never moves backwards. Under `days`,
  // the day's new events came in at its midnight without a write.
  const daysBegan =
    filter.days === null ? null : dayStartAfter(window.now, 0, window.timeZone).toISOString();
  const candidates = [
    summary.last_changed,
    departed?.last_change,
    window.installedAt.toISOString(),
    daysBegan,
  ].filter((value): value is string => typeof value === 'string');
  const lastModified = candidates.sort().at(-1)!;
  const expiries = [
    summary.first_end && !filter.from
      ? new Date(summary.first_end).getTime() + window.pastDays * DAY_MS
      : null,
    summary.first_tombstone_end ? new Date(summary.first_tombstone_end).getTime() : null,
    // `days` moves on at midnight in TIMEZONE: the next day's events come in without a write.
    filter.days === null ? null : dayStartAfter(window.now, 1, window.timeZone).getTime(),
  ].filter((time): time is number => time !== null);
  const expiresAt = expiries.length > 0 ? new Date(Math.min(...expiries)) : null;
  return {
    total: Number(summary.total),
    events: await applyMerges(
      db,
      read.events,
      new Set(read.rows.filter((row) => Boolean(row.linked)).map((row) => row.id)),
    ),
    lastModified: new Date(lastModified),
    expiresAt,
  };
}

interface Summary {
  total: number;
  /** The first end among published events. */
  first_end: string | null;
  /** The first end among tombstones. */
  first_tombstone_end: string | null;
  last_changed: string | null;
}

/** The summary of a page that holds every matching row. */
function summarize(rows: readonly PageRow[]): Summary {
  let firstEnd: string | null = null;
  let firstTombstoneEnd: string | null = null;
  let lastChanged: string | null = null;
  for (const row of rows) {
    if (row.visibility === 'public') {
      if (firstEnd === null || row.effective_end_at < firstEnd) firstEnd = row.effective_end_at;
    } else if (firstTombstoneEnd === null || row.effective_end_at < firstTombstoneEnd) {
      firstTombstoneEnd = row.effective_end_at;
    }
    if (lastChanged === null || row.last_changed_at > lastChanged)
      lastChanged = row.last_changed_at;
  }
  return {
    total: rows.length,
    first_end: firstEnd,
    first_tombstone_end: firstTombstoneEnd,
    last_changed: lastChanged,
  };
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
