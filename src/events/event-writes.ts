import { sql, type ExpressionBuilder, type RawBuilder } from 'kysely';
import { chunks, rowsPerInsert } from '../db/chunks.js';
import type { Queryable } from '../db/connection.js';
import { EVENT_COLUMNS, UPSERT_COLUMNS } from '../db/event-columns.js';
import type { Database, NewEventRow } from '../db/schema.js';
import { parseList } from './event-rows.js';
import { foldKey } from './text-key.js';
import { eventId, type EventVisibility, type SourceName } from './types.js';

/** Every write to the events tables, and the stored state ingest decides its writes on. */

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
  withdrawnAt: string | null;
  /** The delivery whose message last changed it; null when unknown (imported, older rows). */
  lastDeliveryId: number | null;
  /** What the source said; `visibility` is what is published (events/moderation.ts). */
  sourceVisibility: string;
  /** Last written by a `marquee send-test` delivery. */
  test: boolean;
  /** Hash of the raw copy the row was made from; null when none (see `source_hash`). */
  sourceHash: string | null;
}

/**
 * The stored raw-copy hashes of a source's events by external id, for those that have one:
 * what a source's reading compares copies with before reading them (see `SourceLookup`). With
 * `organizationId`, those of the organization's events, in one statement.
 */
export async function findSourceHashes(
  db: Queryable,
  source: SourceName,
  externalIds: readonly string[],
  organizationId?: string,
): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  if (organizationId !== undefined) {
    const rows = await db
      .selectFrom('events')
      .select(['external_id', 'source_hash'])
      .where('source', '=', source)
      .where('organization_id', '=', organizationId)
      .where('source_hash', 'is not', null)
      .execute();
    for (const row of rows) hashes.set(row.external_id, row.source_hash as string);
    return hashes;
  }
  for (const part of chunks([...new Set(externalIds)].map((id) => eventId(source, id)))) {
    const rows = await db
      .selectFrom('events')
      .select(['external_id', 'source_hash'])
      .where('id', 'in', part)
      .where('source_hash', 'is not', null)
      .execute();
    for (const row of rows) hashes.set(row.external_id, row.source_hash as string);
  }
  return hashes;
}

/** Forgets every raw-copy hash, so that the next copy of each event is read again (replays). */
export async function forgetSourceHashes(db: Queryable): Promise<void> {
  await db
    .updateTable('events')
    .set({ source_hash: null })
    .where('source_hash', 'is not', null)
    .execute();
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
        'withdrawn_at',
        'last_delivery_id',
        'source_visibility',
        'test',
        'source_hash',
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
        withdrawnAt: row.withdrawn_at,
        lastDeliveryId: row.last_delivery_id,
        sourceVisibility: row.source_visibility ?? row.visibility,
        test: row.test === 1,
        sourceHash: row.source_hash,
      });
    }
  }
  return states;
}

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
  for (const part of chunks(rows, rowsPerInsert(EVENT_COLUMNS.length))) {
    await db
      .insertInto('events')
      .values(part)
      .onConflict((conflict) =>
        conflict
          .column('id')
          .doUpdateSet((eb) =>
            Object.fromEntries(
              UPSERT_COLUMNS.map((column) => [column, eb.ref(`excluded.${column}`)]),
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
  for (const part of chunks(genres, rowsPerInsert(2))) {
    await db.insertInto('event_genres').values(part).execute();
  }
}

/**
 * Records a copy of an event without a material change: the source's own update time moves
 * forward, and the raw copy's hash is the one a later copy is compared with.
 */
export async function touchSourceUpdatedAt(
  db: Queryable,
  id: string,
  sourceUpdatedAt: string | null,
  sourceHash: string | null,
): Promise<void> {
  await db
    .updateTable('events')
    .set({ source_updated_at: sourceUpdatedAt, source_hash: sourceHash })
    .where('id', '=', id)
    .execute();
}

/**
 * Ids of an organization's public or hidden events that have not ended by `now`. With
 * `changedBefore`, only those whose last change came from an older delivery (or an unknown one):
 * a message may not undo what a later-received one did.
 */
export async function findUpcomingIdsOfOrganization(
  db: Queryable,
  source: SourceName,
  organizationId: string,
  now: Date,
  changedBefore: number | null = null,
): Promise<string[]> {
  let query = db
    .selectFrom('events')
    .select('id')
    .where('source', '=', source)
    .where('organization_id', '=', organizationId)
    .where('visibility', '!=', 'removed')
    .where('effective_end_at', '>', now.toISOString());
  if (changedBefore !== null) {
    query = query.where((eb) =>
      eb.or([eb('last_delivery_id', 'is', null), eb('last_delivery_id', '<', changedBefore)]),
    );
  }
  const rows = await query.execute();
  return rows.map((row) => row.id);
}

/**
 * `withdrawn_at` after an event moves from `stored` (absent: a new event) to `visibility`: every
 * move from published to not published records when it happened, back to public clears it, and
 * moves between unpublished states keep it. Calendars show a withdrawn event as a tombstone.
 */
export function withdrawnAtAfter(
  stored: Pick<StoredEventState, 'visibility' | 'withdrawnAt'> | undefined,
  visibility: EventVisibility,
  now: Date,
): string | null {
  if (visibility === 'public') return null;
  if (stored?.visibility === 'public') return now.toISOString();
  return stored?.withdrawnAt ?? null;
}

/**
 * Sets the visibility of events whose visibility differs, bumping their revision (so calendars
 * see a higher SEQUENCE) and keeping `withdrawn_at` as withdrawnAtAfter does. Returns how many
 * changed. With `sourceSays`, it is the source's own visibility too; without, it is what is
 * published only (a moderation decision, see events/moderation.ts).
 */
export async function setEventsVisibility(
  db: Queryable,
  ids: readonly string[],
  visibility: EventVisibility,
  now: Date,
  version: MessageVersion = {},
  options: { sourceSays?: boolean } = {},
): Promise<number> {
  const at = now.toISOString();
  let count = 0;
  for (const part of chunks(ids)) {
    const result = await db
      .updateTable('events')
      .set((eb) => ({
        visibility,
        revision: eb('revision', '+', 1),
        last_changed_at: at,
        withdrawn_at:
          visibility === 'public'
            ? null
            : eb
                .case()
                .when('visibility', '=', 'public')
                .then(at)
                .else(eb.ref('withdrawn_at'))
                .end(),
        ...versionColumns(eb, version),
        ...(options.sourceSays ? { source_visibility: visibility } : {}),
        // The row no longer is what its raw copy made: the next copy is read again.
        source_hash: null,
      }))
      .where('id', 'in', part)
      .where('visibility', '!=', visibility)
      .executeTakeFirst();
    count += Number(result.numUpdatedRows);
  }
  return count;
}

/**
 * Marks events removed (kept, out of every output but calendars' tombstones). The removal is a
 * version like an update: it records the message's delivery and time, so an update sent before
 * it but received after it cannot bring the event back.
 */
export async function markEventsRemoved(
  db: Queryable,
  ids: readonly string[],
  now: Date,
  version: MessageVersion = {},
): Promise<number> {
  return setEventsVisibility(db, ids, 'removed', now, version, { sourceSays: true });
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
  deliveryId: number | null = null,
): Promise<number> {
  let count = 0;
  for (const part of chunks(ids)) {
    const result = await db
      .updateTable('events')
      .set((eb) => ({
        status: 'cancelled',
        revision: eb('revision', '+', 1),
        last_changed_at: now.toISOString(),
        ...versionColumns(eb, { at, deliveryId }),
        // The row no longer is what its raw copy made: the next copy is read again.
        source_hash: null,
      }))
      .where('id', 'in', part)
      .where('status', '!=', 'cancelled')
      .executeTakeFirst();
    count += Number(result.numUpdatedRows);
  }
  return count;
}

/** What orders a write that is not an upsert: the message's time and delivery, when known. */
export interface MessageVersion {
  /** Becomes the source update time when later than the stored one. */
  at?: Date;
  deliveryId?: number | null;
}

/** The column values recording `version` on an update of `events`. */
function versionColumns(
  eb: ExpressionBuilder<Database, 'events'>,
  version: MessageVersion,
): { source_updated_at?: RawBuilder<string>; last_delivery_id?: number } {
  const columns: { source_updated_at?: RawBuilder<string>; last_delivery_id?: number } = {};
  if (version.at) {
    const at = version.at.toISOString();
    columns.source_updated_at = sql<string>`case when ${eb.ref('source_updated_at')} is null or ${eb.ref('source_updated_at')} < ${at} then ${at} else ${eb.ref('source_updated_at')} end`;
  }
  if (version.deliveryId != null) columns.last_delivery_id = version.deliveryId;
  return columns;
}

/** How many events ended before `cutoff`. */
export async function countEventsEndedBefore(db: Queryable, cutoff: Date): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('effective_end_at', '<', cutoff.toISOString())
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** How many events are stored. */
export async function countEvents(db: Queryable): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Deletes events that ended before `cutoff`, and their moderation holds; returns how many. */
export async function deleteEventsEndedBefore(db: Queryable, cutoff: Date): Promise<number> {
  await db
    .deleteFrom('hidden_events')
    .where('event_id', 'in', (eb) =>
      eb.selectFrom('events').select('id').where('effective_end_at', '<', cutoff.toISOString()),
    )
    .execute();
  const result = await db
    .deleteFrom('events')
    .where('effective_end_at', '<', cutoff.toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
