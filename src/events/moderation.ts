import { chunks } from '../db/chunks.js';
import type { Queryable } from '../db/connection.js';
import { setEventsVisibility } from './event-writes.js';
import { eventId, type EventVisibility, type NormalizedEvent, type SourceName } from './types.js';

/**
 * What an operator decides about publication: hidden events and blocked organizations, kept in
 * tables of their own that ingest reads and never writes. A held event (hidden, of a blocked
 * organization, or last written by a test delivery) is stored as its source sent it, with
 * `source_visibility` the source's word and `visibility` `hidden` where the source said
 * `public`: every output then treats it as withdrawn (a tombstone in calendars until it would
 * have ended, 410 on its page), and unholding it publishes what the source said.
 */

/**
 * Events with what holds them: `hidden_events.event_id` is set where an operator hid the event,
 * `organization_blocks.organization_id` where its organization is blocked.
 */
export function selectEventsWithHolds(db: Queryable) {
  return db
    .selectFrom('events')
    .leftJoin('hidden_events', 'hidden_events.event_id', 'events.id')
    .leftJoin('organization_blocks', (join) =>
      join
        .onRef('organization_blocks.source', '=', 'events.source')
        .onRef('organization_blocks.organization_id', '=', 'events.organization_id'),
    );
}

/** What a held event is published as: never `public`; other visibilities stay. */
export function withheld(visibility: EventVisibility): EventVisibility {
  return visibility === 'public' ? 'hidden' : visibility;
}

/** Ids among `events` (all of `source`) that an operator hid, or whose organization is blocked. */
export async function findHeldIds(
  db: Queryable,
  source: SourceName,
  events: Iterable<NormalizedEvent>,
): Promise<Set<string>> {
  const held = new Set<string>();
  const byOrganization = new Map<string, string[]>();
  const ids: string[] = [];
  for (const event of events) {
    const id = eventId(source, event.externalId);
    ids.push(id);
    if (event.organizer.id === null) continue;
    const list = byOrganization.get(event.organizer.id) ?? [];
    list.push(id);
    byOrganization.set(event.organizer.id, list);
  }
  for (const part of chunks(ids)) {
    const rows = await db
      .selectFrom('hidden_events')
      .select('event_id')
      .where('event_id', 'in', part)
      .execute();
    for (const row of rows) held.add(row.event_id);
  }
  for (const part of chunks([...byOrganization.keys()])) {
    const rows = await db
      .selectFrom('organization_blocks')
      .select('organization_id')
      .where('source', '=', source)
      .where('organization_id', 'in', part)
      .execute();
    for (const row of rows)
      for (const id of byOrganization.get(row.organization_id) ?? []) held.add(id);
  }
  return held;
}

/**
 * Publishes the given events as their holds say: withheld while hidden, blocked or a test,
 * else as the source said. Returns how many changed (their revision grows, so calendars see it).
 */
export async function applyHolds(
  db: Queryable,
  ids: readonly string[],
  now: Date,
): Promise<number> {
  const targets = new Map<EventVisibility, string[]>();
  for (const part of chunks([...new Set(ids)])) {
    // Rows written before migration 0009 hold what the source said in `visibility` only: keep
    // it before `visibility` becomes a moderation decision.
    await db
      .updateTable('events')
      .set((eb) => ({ source_visibility: eb.ref('visibility') }))
      .where('id', 'in', part)
      .where('source_visibility', 'is', null)
      .execute();
    const rows = await selectEventsWithHolds(db)
      .select([
        'events.id',
        'events.visibility',
        'events.source_visibility',
        'events.test',
        'hidden_events.event_id as hidden',
        'organization_blocks.organization_id as blocked',
      ])
      .where('events.id', 'in', part)
      .execute();
    for (const row of rows) {
      const said = (row.source_visibility ?? row.visibility) as EventVisibility;
      const held = row.hidden !== null || row.blocked !== null || row.test === 1;
      const target = held ? withheld(said) : said;
      if (target === row.visibility) continue;
      const list = targets.get(target) ?? [];
      list.push(row.id);
      targets.set(target, list);
    }
  }
  let changed = 0;
  for (const [visibility, group] of targets) {
    changed += await setEventsVisibility(db, group, visibility, now);
  }
  return changed;
}

/** Ids among `ids` held from publication: hidden, of a blocked organization, or a test event. */
export async function findHeldEvents(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  const held = new Set<string>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await selectEventsWithHolds(db)
      .select('events.id')
      .where('events.id', 'in', part)
      .where((eb) =>
        eb.or([
          eb('hidden_events.event_id', 'is not', null),
          eb('organization_blocks.organization_id', 'is not', null),
          eb('events.test', '=', 1),
        ]),
      )
      .execute();
    for (const row of rows) held.add(row.id);
  }
  return held;
}

/** Which of `ids` are stored events. */
export async function findStoredIds(db: Queryable, ids: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const part of chunks(ids)) {
    const rows = await db.selectFrom('events').select('id').where('id', 'in', part).execute();
    found.push(...rows.map((row) => row.id));
  }
  return found;
}

/** Records that an operator hid an event (kept through later deliveries); false if it was already. */
export async function recordHidden(db: Queryable, id: string, now: Date): Promise<boolean> {
  const result = await db
    .insertInto('hidden_events')
    .values({ event_id: id, hidden_at: now.toISOString() })
    .onConflict((conflict) => conflict.column('event_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Forgets that an event was hidden; false if it was not. */
export async function forgetHidden(db: Queryable, id: string): Promise<boolean> {
  const result = await db.deleteFrom('hidden_events').where('event_id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Records an organization's block; false if it was already blocked. */
export async function recordBlock(
  db: Queryable,
  source: SourceName,
  organizationId: string,
  now: Date,
): Promise<boolean> {
  const result = await db
    .insertInto('organization_blocks')
    .values({ source, organization_id: organizationId, blocked_at: now.toISOString() })
    .onConflict((conflict) => conflict.columns(['source', 'organization_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Lifts an organization's block; false if it was not blocked. */
export async function forgetBlock(
  db: Queryable,
  source: SourceName,
  organizationId: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('organization_blocks')
    .where('source', '=', source)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Ids of every stored event of an organization. */
export async function findIdsOfOrganization(
  db: Queryable,
  source: SourceName,
  organizationId: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom('events')
    .select('id')
    .where('source', '=', source)
    .where('organization_id', '=', organizationId)
    .execute();
  return rows.map((row) => row.id);
}

/** A blocked organization. */
export interface OrganizationBlock {
  source: string;
  organizationId: string;
  blockedAt: string;
}

/** Every blocked organization, by source and id. */
export async function listOrganizationBlocks(db: Queryable): Promise<OrganizationBlock[]> {
  const rows = await db
    .selectFrom('organization_blocks')
    .selectAll()
    .orderBy('source')
    .orderBy('organization_id')
    .execute();
  return rows.map((row) => ({
    source: row.source,
    organizationId: row.organization_id,
    blockedAt: row.blocked_at,
  }));
}
