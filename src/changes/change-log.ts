import { parse as parseQueryText } from 'node:querystring';
import type { ExpressionBuilder } from 'kysely';
import { chunks, rowsPerInsert } from '../db/chunks.js';
import type { Queryable } from '../db/connection.js';
import { READ_COLUMNS } from '../db/event-columns.js';
import type { Database } from '../db/schema.js';
import type { ChangeKind, ChangeRecorder, EventChange } from '../events/event-changes.js';
import { dayStartAfter } from '../events/event-reads.js';
import { toEvent, type EventReadRow } from '../events/event-rows.js';
import { parseEventFilter, type EventFilter } from '../events/filter.js';
import { matchesFilter } from '../events/filter-predicate.js';
import type { CityAliases } from '../events/text-key.js';
import { describeChange } from '../render/change-words.js';
import { SOURCE_NAMES } from '../sources/index.js';

/**
 * The change log: one row per published revision of an event, written in the transaction that
 * made it. It is the changes feed's source and the outbox of outgoing webhooks (a crash between
 * commit and sending loses nothing: the row is there, the subscription's cursor behind it).
 */

/** Logs the changes of one message; ingest calls it around its writes (events/ingest.ts). */
export function createChangeRecorder(): ChangeRecorder {
  const before = new Map<string, EventReadRow | null>();
  return {
    async capture(db, ids) {
      const fresh = [...new Set(ids)].filter((id) => !before.has(id));
      const stored = await loadRows(db, fresh);
      for (const id of fresh) before.set(id, stored.get(id) ?? null);
    },
    async record(db, at) {
      if (before.size === 0) return 0;
      const after = await loadRows(db, [...before.keys()]);
      const rows = [];
      for (const [id, previous] of before) {
        const current = after.get(id);
        if (current === undefined || current.revision === previous?.revision) continue;
        const change = describeChange(
          previous === null ? null : toEvent(previous),
          toEvent(current),
        );
        if (change === null) continue;
        rows.push({
          event_id: id,
          revision: current.revision,
          kind: change.kind,
          summary: change.summary,
          changed_at: at.toISOString(),
          snapshot: JSON.stringify(current),
        });
      }
      before.clear();
      for (const part of chunks(rows, rowsPerInsert(6))) {
        await db.insertInto('event_changes').values(part).execute();
      }
      return rows.length;
    },
  };
}

async function loadRows(db: Queryable, ids: readonly string[]): Promise<Map<string, EventReadRow>> {
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

/** What `EventFilter` fields mean for the change log: who, what and where, and the event's dates. */
export interface ChangeFilter {
  filter: EventFilter;
  cityAliases: CityAliases;
  timeZone: string;
  now: Date;
}

/**
 * Restricts a query on `event_changes` to changes of events matching the filter as they stand
 * now (their latest revision): its city, genre, organizer, venue, source, near and q, and with
 * from, to and days, the event's own dates.
 */
function whereEventMatches(match: ChangeFilter) {
  const { filter } = match;
  return (eb: ExpressionBuilder<Database, 'event_changes'>) => {
    let events = eb
      .selectFrom('events')
      .select('events.id')
      .where(matchesFilter(filter, match.cityAliases));
    if (filter.from)
      events = events.where('events.effective_end_at', '>=', filter.from.toISOString());
    const daysEnd =
      filter.days === null ? null : dayStartAfter(match.now, filter.days, match.timeZone);
    const to =
      daysEnd !== null && (filter.to === null || daysEnd < filter.to) ? daysEnd : filter.to;
    if (to) events = events.where('events.starts_at', '<', to.toISOString());
    return eb('event_changes.event_id', 'in', events);
  };
}

const CHANGE_COLUMNS = [
  'event_changes.id',
  'event_changes.event_id',
  'event_changes.revision',
  'event_changes.kind',
  'event_changes.summary',
  'event_changes.changed_at',
  'event_changes.snapshot',
] as const;

type ChangeRow = {
  id: number;
  event_id: string;
  revision: number;
  kind: string;
  summary: string;
  changed_at: string;
  snapshot: string;
};

function toChange(row: ChangeRow): EventChange {
  return {
    id: row.id,
    eventId: row.event_id,
    revision: row.revision,
    kind: row.kind as ChangeKind,
    summary: row.summary,
    changedAt: new Date(row.changed_at),
    event: toEvent(JSON.parse(row.snapshot) as EventReadRow),
  };
}

/** A page of logged changes matching a filter, newest first, and how many match in all. */
export async function findChanges(
  db: Queryable,
  match: ChangeFilter,
): Promise<{ total: number; changes: EventChange[] }> {
  const rows = await db
    .selectFrom('event_changes')
    .select(CHANGE_COLUMNS)
    .where(whereEventMatches(match))
    .orderBy('event_changes.id', 'desc')
    .limit(match.filter.limit)
    .offset(match.filter.offset)
    .execute();
  const count = await db
    .selectFrom('event_changes')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(whereEventMatches(match))
    .executeTakeFirstOrThrow();
  return { total: Number(count.count), changes: rows.map(toChange) };
}

/** The first logged change after `cursor` matching the filter, or null. */
export async function findChangeAfter(
  db: Queryable,
  cursor: number,
  match: ChangeFilter,
): Promise<EventChange | null> {
  const row = await db
    .selectFrom('event_changes')
    .select(CHANGE_COLUMNS)
    .where('event_changes.id', '>', cursor)
    .where(whereEventMatches(match))
    .orderBy('event_changes.id')
    .limit(1)
    .executeTakeFirst();
  return row ? toChange(row) : null;
}

/** How many logged changes after `cursor` match the filter. */
export async function countChangesAfter(
  db: Queryable,
  cursor: number,
  match: ChangeFilter,
): Promise<number> {
  const row = await db
    .selectFrom('event_changes')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('event_changes.id', '>', cursor)
    .where(whereEventMatches(match))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** One logged change by its position, or null (pruned, or never logged). */
export async function findChangeById(db: Queryable, id: number): Promise<EventChange | null> {
  const row = await db
    .selectFrom('event_changes')
    .select(CHANGE_COLUMNS)
    .where('event_changes.id', '=', id)
    .executeTakeFirst();
  return row ? toChange(row) : null;
}

/** The newest position in the log (0 when empty): where a new subscription starts. */
export async function latestChangeId(db: Queryable): Promise<number> {
  const row = await db
    .selectFrom('event_changes')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Deletes changes logged before `cutoff`; returns how many. */
export async function deleteChangesBefore(db: Queryable, cutoff: Date): Promise<number> {
  const result = await db
    .deleteFrom('event_changes')
    .where('changed_at', '<', cutoff.toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The filter of a canonical query string (a subscription's), parsed as every feed parses it. */
export function parseStoredFilter(query: string, timeZone: string): EventFilter {
  return parseEventFilter(parseQueryText(query.replace(/^\?/, '')), {
    defaultLimit: 1,
    timeZone,
    sources: SOURCE_NAMES,
  });
}
