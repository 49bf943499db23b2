import { parse as parseQueryText } from 'node:querystring';
import type { ExpressionBuilder } from 'kysely';
import { chunks, rowsPerInsert } from '../db/chunks.js';
import type { Queryable } from '../db/connection.js';
import type { Database } from '../db/schema.js';
import type { ChangeKind, ChangeRecorder, EventChange } from '../events/event-changes.js';
import { dayStartAfter } from '../events/event-reads.js';
import { applyMerges, findLinkedPartners } from '../events/duplicates.js';
import { findEventRows, toEvent, type EventReadRow } from '../events/event-rows.js';
import { parseEventFilter, type EventFilter } from '../events/filter.js';
import { matchesFilter } from '../events/filter-predicate.js';
import { mergeRecords } from '../events/merge-records.js';
import type { CityAliases } from '../events/text-key.js';
import { findHeldEvents } from '../events/moderation.js';
import type { Event } from '../events/types.js';
import { describeChange, describeWithholding } from '../render/change-words.js';
import { SOURCE_NAMES } from '../sources/index.js';

/**
 * The change log: one row per published revision of an event, written in the transaction that
 * made it. It is the changes feed's source and the outbox of outgoing webhooks (a crash between
 * commit and sending loses nothing: the row is there, the subscription's cursor behind it).
 * Its ids must commit in order, or a cursor could pass an id still uncommitted: on PostgreSQL,
 * every transaction that records changes holds the processing lock (inbox/inbox-repository.ts).
 */

/**
 * Logs the changes of one message or admin action; ingest and moderation call it around their
 * writes (events/ingest.ts, operations/moderation.ts). It compares events as outputs show them:
 * a record merged into another counts as the published event it belongs to, so capturing a
 * record captures its linked partner too, and the published event's change is logged under its
 * own id with the merged view. An event the writes withheld (an operator hid it or blocked its
 * organization, or a test delivery wrote it) loses its earlier entries, whose snapshots hold
 * what was taken down, from the feed and from the outbox of webhooks not yet sent; one neutral
 * removal is logged in their place, without the event's content.
 */
export function createChangeRecorder(): ChangeRecorder {
  const before = new Map<string, PublishedState | null>();
  const heldBefore = new Set<string>();
  return {
    async capture(db, ids) {
      const named = [...new Set(ids)];
      const partners = await findLinkedPartners(db, named);
      const fresh = [...new Set([...named, ...partners])].filter((id) => !before.has(id));
      const stored = await loadPublished(db, fresh);
      for (const id of fresh) before.set(id, stored.get(id) ?? null);
      for (const id of await findHeldEvents(db, fresh)) heldBefore.add(id);
    },
    async record(db, at) {
      if (before.size === 0) return 0;
      const ids = [...before.keys()];
      const after = await loadPublished(db, ids);
      const heldAfter = await findHeldEvents(db, ids);
      const rows = [];
      for (const [id, previous] of before) {
        const current = after.get(id);
        if (current === undefined) continue;
        let change: { kind: ChangeKind; summary: string } | null;
        let snapshot: Snapshot;
        if (heldAfter.has(id) && !heldBefore.has(id)) {
          const purged = await deleteChangesOfEvent(db, id);
          if (purged === 0 && previous?.row.visibility !== 'public') continue;
          change = describeWithholding();
          snapshot = withoutContent(current.row);
        } else {
          if (current.row.revision === previous?.row.revision) continue;
          // A partner's write raises a merged event's revision without always changing it.
          if (previous !== null && sameMergedView(previous.view, current.view)) continue;
          change = describeChange(previous?.view ?? null, current.view);
          snapshot = snapshotOf(current);
        }
        if (change === null) continue;
        rows.push({
          event_id: id,
          revision: current.row.revision,
          kind: change.kind,
          summary: change.summary,
          changed_at: at.toISOString(),
          snapshot: JSON.stringify(snapshot),
        });
      }
      before.clear();
      heldBefore.clear();
      for (const part of chunks(rows, rowsPerInsert(6))) {
        await db.insertInto('event_changes').values(part).execute();
      }
      return rows.length;
    },
  };
}

async function deleteChangesOfEvent(db: Queryable, id: string): Promise<number> {
  const result = await db.deleteFrom('event_changes').where('event_id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * What a withheld event's removal entry keeps: enough to recognise the event (title, time,
 * place), none of the content an operator may have taken it down for (description, image,
 * links, prices, performers, organizer's site).
 */
function withoutContent(row: EventReadRow): EventReadRow {
  return {
    ...row,
    description_text: null,
    description_html: null,
    image_url: null,
    image_alt: null,
    ticket_url: null,
    prices: '[]',
    genres: '[]',
    tags: '[]',
    performers: null,
    organizer_url: null,
  };
}

/** A stored record, as outputs show it, with the rows its view is made of. */
interface PublishedState {
  row: EventReadRow;
  view: Event;
  /** The member's row, when the view is a merged event. */
  member: EventReadRow | null;
}

/**
 * A logged change's snapshot: the record's row, with the member's row a merged event is made of
 * (`merged_with`) or the published event a merged-away record belongs to (`duplicate_of`).
 */
type Snapshot = EventReadRow & { merged_with?: EventReadRow; duplicate_of?: string };

function snapshotOf(state: PublishedState): Snapshot {
  if (state.member !== null) return { ...state.row, merged_with: state.member };
  if (state.view.duplicateOf !== undefined) {
    return { ...state.row, duplicate_of: state.view.duplicateOf };
  }
  return state.row;
}

function eventOfSnapshot(snapshot: Snapshot): Event {
  const { merged_with: member, duplicate_of: duplicateOf, ...row } = snapshot;
  const event = toEvent(row);
  if (member !== undefined) return mergeRecords(event, toEvent(member));
  return duplicateOf === undefined ? event : { ...event, duplicateOf };
}

/** Whether two views of a merged event show the same (bookkeeping fields aside). */
function sameMergedView(before: Event, after: Event): boolean {
  if (before.records === undefined && after.records === undefined) return false;
  const material = (event: Event) =>
    JSON.stringify({
      ...event,
      revision: 0,
      lastChangedAt: null,
      sourceUpdatedAt: null,
      records: event.records?.map((record) => record.id),
    });
  return material(before) === material(after);
}

async function loadPublished(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, PublishedState>> {
  const rows = await findEventRows(db, ids);
  const views = await applyMerges(db, [...rows.values()].map(toEvent));
  const memberIds = views.flatMap((view) =>
    (view.records ?? []).filter((record) => record.id !== view.id).map((record) => record.id),
  );
  const members = await findEventRows(
    db,
    memberIds.filter((id) => !rows.has(id)),
  );
  const states = new Map<string, PublishedState>();
  for (const view of views) {
    const memberId = view.records?.find((record) => record.id !== view.id)?.id;
    const member = memberId === undefined ? null : (rows.get(memberId) ?? members.get(memberId));
    states.set(view.id, { row: rows.get(view.id) as EventReadRow, view, member: member ?? null });
  }
  return states;
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
    event: eventOfSnapshot(JSON.parse(row.snapshot) as Snapshot),
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

/** Up to `limit` logged changes after `cursor` matching the filter, oldest first. */
export async function findChangesAfter(
  db: Queryable,
  cursor: number,
  match: ChangeFilter,
  limit: number,
): Promise<EventChange[]> {
  const rows = await db
    .selectFrom('event_changes')
    .select(CHANGE_COLUMNS)
    .where('event_changes.id', '>', cursor)
    .where(whereEventMatches(match))
    .orderBy('event_changes.id')
    .limit(limit)
    .execute();
  return rows.map(toChange);
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
