import { createHash } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import { chunks } from '../db/chunks.js';
import type { Queryable } from '../db/connection.js';
import type { Database, EventRow } from '../db/schema.js';
import { classifyPair, type MatchRecord, type MatchVerdict } from './duplicate-match.js';
import type { ChangeRecorder } from './event-changes.js';
import { findEventRows, toEvent } from './event-rows.js';
import { mergeRecords, TICKET_SELLER } from './merge-records.js';
import type { CityAliases } from './text-key.js';
import { DAY_MS, localDateKey } from './time.js';
import { SOURCE_NAMES, type Event, type SourceName } from './types.js';

/**
 * Cross-source duplicates: source records stay rows of `events`; a record merged into another
 * is linked to it (`event_links`), and outputs show the primary with the member's fields merged
 * in (merge-records.ts). Pairs found by fact (duplicate-match.ts) are merged at once on strong
 * evidence, else queued for a person (`duplicate_pairs`); every decision stays.
 */

/** A pair's state: waiting for a person, or what was decided. */
export type PairState = 'open' | 'merged' | 'dismissed' | 'unmerged';

/** Who decided a pair. */
export type PairDecider = 'auto' | 'operator';

/** The note on a merged pair whose other source cancelled: its cancellation needs a person. */
export const OTHER_CANCELLED_NOTE = 'cancelled by the other source only';

const MATCH_COLUMNS = [
  'id',
  'source',
  'title',
  'starts_at',
  'time_zone',
  'venue_city',
  'city_key',
  'venue_name',
  'latitude',
  'longitude',
  'ticket_url',
  'first_seen_at',
  'status',
  'visibility',
] as const;

type MatchRow = Pick<EventRow, (typeof MATCH_COLUMNS)[number]>;

function toMatchRecord(row: MatchRow): MatchRecord {
  return {
    id: row.id,
    source: row.source as SourceName,
    title: row.title,
    startsAt: new Date(row.starts_at),
    timeZone: row.time_zone,
    city: row.venue_city,
    venueName: row.venue_name,
    latitude: row.latitude,
    longitude: row.longitude,
    ticketUrl: row.ticket_url,
  };
}

/** The pair's two ids in their stored order: the ticket seller's first, else by id. */
function orderPair(a: string, aSource: string, b: string, bSource: string): [string, string] {
  if (aSource === TICKET_SELLER) return [a, b];
  if (bSource === TICKET_SELLER) return [b, a];
  return a < b ? [a, b] : [b, a];
}

/** The stable id of the pair of two records (the same whatever order they are named in). */
export function pairIdOf(firstId: string, secondId: string): string {
  return createHash('sha256').update(`${firstId}\n${secondId}`).digest('base64url').slice(0, 16);
}

/** `events` rows that are members of a shown (public) primary: outputs leave them out. */
export function isShownMember(eb: ExpressionBuilder<Database, 'events'>) {
  return eb.exists(
    eb
      .selectFrom('event_links')
      .innerJoin('events as primary_record', 'primary_record.id', 'event_links.primary_id')
      .select('event_links.member_id')
      .whereRef('event_links.member_id', '=', 'events.id')
      .where('primary_record.visibility', '=', 'public'),
  );
}

/** `events` rows linked to another record, as its primary or as its member. */
export function hasLink(eb: ExpressionBuilder<Database, 'events'>) {
  return eb.or([
    eb.exists(
      eb
        .selectFrom('event_links')
        .select('event_links.member_id')
        .whereRef('event_links.member_id', '=', 'events.id'),
    ),
    eb.exists(
      eb
        .selectFrom('event_links')
        .select('event_links.member_id')
        .whereRef('event_links.primary_id', '=', 'events.id'),
    ),
  ]);
}

/** Members that were published before their merge: calendars show them as tombstones. */
export function isDuplicateTombstone(eb: ExpressionBuilder<Database, 'events'>) {
  return eb.exists(
    eb
      .selectFrom('event_links')
      .innerJoin('events as primary_record', 'primary_record.id', 'event_links.primary_id')
      .select('event_links.member_id')
      .whereRef('event_links.member_id', '=', 'events.id')
      .where('event_links.tombstone', '=', 1)
      .where('primary_record.visibility', '=', 'public'),
  );
}

/**
 * `events` as outputs show them: a primary with its public member merged in, a member of a
 * public primary marked as its duplicate (a tombstone), the others as they are. Never changes
 * the given objects (they may be cached). `linked`, when given, holds the ids that have a link
 * (see `hasLink`): only those are looked up, which spares a page of a thousand events two
 * thousand-value IN lists when few or none are merged.
 */
export async function applyMerges(
  db: Queryable,
  events: readonly Event[],
  linked?: ReadonlySet<string>,
): Promise<Event[]> {
  const ids = events.map((event) => event.id);
  const lookedUp = linked === undefined ? ids : ids.filter((id) => linked.has(id));
  if (lookedUp.length === 0) return [...events];
  const links: { member_id: string; primary_id: string }[] = [];
  for (const part of chunks(lookedUp)) {
    links.push(
      ...(await db
        .selectFrom('event_links')
        .select(['member_id', 'primary_id'])
        .where((eb) => eb.or([eb('member_id', 'in', part), eb('primary_id', 'in', part)]))
        .execute()),
    );
  }
  if (links.length === 0) return [...events];
  const others = new Set(links.flatMap((link) => [link.member_id, link.primary_id]));
  for (const id of ids) others.delete(id);
  const loaded = new Map(events.map((event) => [event.id, event]));
  for (const [id, row] of await findEventRows(db, [...others])) loaded.set(id, toEvent(row));
  const memberOf = new Map(links.map((link) => [link.primary_id, link.member_id]));
  const primaryOf = new Map(links.map((link) => [link.member_id, link.primary_id]));
  return events.map((event) => {
    const primaryId = primaryOf.get(event.id);
    if (primaryId !== undefined) {
      const primary = loaded.get(primaryId);
      return primary?.visibility === 'public' ? { ...event, duplicateOf: primaryId } : event;
    }
    const member = loaded.get(memberOf.get(event.id) ?? '');
    if (event.visibility !== 'public' || member?.visibility !== 'public') return event;
    return mergeRecords(event, member);
  });
}

/** The published event a member record was merged into, while that one is public. */
export async function findShownPrimaryOf(db: Queryable, id: string): Promise<string | null> {
  const row = await db
    .selectFrom('event_links')
    .innerJoin('events', 'events.id', 'event_links.primary_id')
    .select('event_links.primary_id')
    .where('event_links.member_id', '=', id)
    .where('events.visibility', '=', 'public')
    .executeTakeFirst();
  return row?.primary_id ?? null;
}

/** What matching needs besides the records. */
export interface MatchOptions {
  now: Date;
  cityAliases: CityAliases;
  /** The change log of the writes: a merge changes what the two records' events show. */
  changes?: ChangeRecorder;
}

/** What one round of matching did. */
export interface MatchOutcome {
  merged: number;
  queued: number;
  flagged: number;
}

/**
 * Runs after ingest wrote the records `ids`: raises the revision of the linked partners of the
 * changed records (a primary's merged output, or whether a member stands in for a withdrawn
 * primary, changed with them), flags a merged pair whose other source cancelled, and
 * compares each unlinked public record with the other source's records of its city and date,
 * merging on strong evidence and queueing the rest. Decided pairs are never reconsidered.
 */
export async function matchDuplicates(
  db: Queryable,
  ids: readonly string[],
  options: MatchOptions,
): Promise<MatchOutcome> {
  const outcome: MatchOutcome = { merged: 0, queued: 0, flagged: 0 };
  if (ids.length === 0) return outcome;
  const at = options.now.toISOString();
  const records = await loadMatchRows(db, ids);
  const linked = await findLinkedIds(db, ids);
  const partners = new Set([...linked.values()].map((link) => link.partnerId));
  for (const id of ids) partners.delete(id);
  await bumpRevisions(db, [...partners], at);
  outcome.flagged = await flagOtherCancellations(db, records, linked);

  const unlinked = records.filter((row) => row.visibility === 'public' && !linked.has(row.id));
  // Indexed by city and date: each group reads its city's records of one day or two.
  const groups = new Map<string, MatchRow[]>();
  const byCity = new Map<string, MatchRow[]>();
  for (const row of unlinked) {
    if (row.venue_city === null) continue;
    const city = options.cityAliases.canonical(row.venue_city);
    const key = `${city}|${localDateKey(new Date(row.starts_at), row.time_zone)}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [row]);
    else group.push(row);
    const cityRows = byCity.get(city);
    if (cityRows === undefined) byCity.set(city, [row]);
    else cityRows.push(row);
  }
  // One lookup per city first: where no other source has a record in these dates (every city
  // of an installation with one source), no day needs its own.
  const citiesWithOthers = new Set<string>();
  for (const [city, rows] of byCity) {
    const other = await othersNear(db, rows, options.cityAliases)
      .select('events.id')
      .limit(1)
      .executeTakeFirst();
    if (other !== undefined) citiesWithOthers.add(city);
  }
  const taken = new Set<string>();
  for (const group of groups.values()) {
    const first = group[0] as MatchRow;
    if (!citiesWithOthers.has(options.cityAliases.canonical(first.venue_city as string))) continue;
    const candidates = await loadCandidates(db, group, options.cityAliases);
    if (candidates.length === 0) continue;
    const decided = await findPairs(
      db,
      group.map((row) => row.id),
    );
    for (const row of group) {
      if (taken.has(row.id)) continue;
      const record = toMatchRecord(row);
      const verdicts = candidates
        .filter((other) => other.source !== row.source && !taken.has(other.id))
        .map((other) => ({
          other,
          verdict: classifyPair(record, toMatchRecord(other), options.cityAliases),
        }))
        .filter(
          (each): each is { other: MatchRow; verdict: MatchVerdict } => each.verdict !== null,
        );
      // Only one record of the other source may be the same show: more than one is for a person.
      const automatic = verdicts.filter((each) => each.verdict.auto);
      for (const { other, verdict } of verdicts) {
        const [first, second] = orderPair(row.id, row.source, other.id, other.source);
        const id = pairIdOf(first, second);
        const stored = decided.get(id);
        if (stored !== undefined && stored !== 'open') continue;
        const auto = verdict.auto && automatic.length === 1 && !taken.has(other.id);
        await savePair(db, { id, first, second, facts: verdict.facts, at }, stored !== undefined);
        if (auto) {
          await linkPair(db, id, 'auto', options.now, options.changes);
          taken.add(row.id).add(other.id);
          outcome.merged += 1;
        } else if (stored === undefined) {
          outcome.queued += 1;
        }
      }
    }
  }
  return outcome;
}

async function loadMatchRows(db: Queryable, ids: readonly string[]): Promise<MatchRow[]> {
  const rows: MatchRow[] = [];
  for (const part of chunks([...new Set(ids)])) {
    rows.push(
      ...(await db.selectFrom('events').select(MATCH_COLUMNS).where('id', 'in', part).execute()),
    );
  }
  return rows;
}

/** One of the records of a link, seen from that record. */
interface LinkedRecord {
  role: 'member' | 'primary';
  primaryId: string;
  /** The link's other record. */
  partnerId: string;
  pairId: string;
}

/** Of `ids`, those in a link: each with its role, the primary's id and the other record's. */
async function findLinkedIds(
  db: Queryable,
  ids: readonly string[],
): Promise<Map<string, LinkedRecord>> {
  const linked = new Map<string, LinkedRecord>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db
      .selectFrom('event_links')
      .select(['member_id', 'primary_id', 'pair_id'])
      .where((eb) => eb.or([eb('member_id', 'in', part), eb('primary_id', 'in', part)]))
      .execute();
    const wanted = new Set(part);
    for (const row of rows) {
      const link = { primaryId: row.primary_id, pairId: row.pair_id };
      if (wanted.has(row.member_id)) {
        linked.set(row.member_id, { role: 'member', partnerId: row.primary_id, ...link });
      }
      if (wanted.has(row.primary_id)) {
        linked.set(row.primary_id, { role: 'primary', partnerId: row.member_id, ...link });
      }
    }
  }
  return linked;
}

/** The other record of each link one of `ids` is in: what outputs show of it depends on them. */
export async function findLinkedPartners(db: Queryable, ids: readonly string[]): Promise<string[]> {
  const linked = await findLinkedIds(db, ids);
  return [...new Set([...linked.values()].map((link) => link.partnerId))];
}

/**
 * Raises the revision of the linked partners of `ids`, whose visibility an operator changed: a
 * primary's merged output, or whether its member stands in for it, changed with them.
 */
export async function raisePartnerRevisions(
  db: Queryable,
  ids: readonly string[],
  now: Date,
): Promise<void> {
  const partners = new Set(await findLinkedPartners(db, ids));
  for (const id of ids) partners.delete(id);
  await bumpRevisions(db, [...partners], now.toISOString());
}

/**
 * Public records of a source other than the rows', in the rows' city, from a local date before
 * their first start to one after their last.
 */
function othersNear(db: Queryable, rows: readonly MatchRow[], aliases: CityAliases) {
  const first = rows[0] as MatchRow;
  // Only another source's records can be candidates: looked up by source in the index, a
  // sync's own thousands of records of the city are never read.
  const otherSources = SOURCE_NAMES.filter((source) => rows.some((row) => row.source !== source));
  const starts = rows.map((row) => new Date(row.starts_at).getTime());
  // A local date spans at most 26 hours of instants either side of a start on it.
  const from = new Date(Math.min(...starts) - DAY_MS - 2 * 3_600_000).toISOString();
  const to = new Date(Math.max(...starts) + DAY_MS + 2 * 3_600_000).toISOString();
  return db
    .selectFrom('events')
    .where('city_key', 'in', aliases.spellingsOf(first.venue_city as string))
    .where('source', 'in', otherSources)
    .where('starts_at', '>=', from)
    .where('starts_at', '<=', to)
    .where('visibility', '=', 'public');
}

/** The other source's unlinked public records of the group's city, on its date or next to it. */
async function loadCandidates(
  db: Queryable,
  group: readonly MatchRow[],
  aliases: CityAliases,
): Promise<MatchRow[]> {
  return othersNear(db, group, aliases)
    .select(MATCH_COLUMNS)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('event_links')
            .select('event_links.member_id')
            .where((inner) =>
              inner.or([
                inner('event_links.member_id', '=', inner.ref('events.id')),
                inner('event_links.primary_id', '=', inner.ref('events.id')),
              ]),
            ),
        ),
      ),
    )
    .execute();
}

/** The stored state of every pair one of `ids` is in. */
async function findPairs(db: Queryable, ids: readonly string[]): Promise<Map<string, PairState>> {
  const states = new Map<string, PairState>();
  for (const part of chunks(ids)) {
    const rows = await db
      .selectFrom('duplicate_pairs')
      .select(['id', 'state'])
      .where((eb) => eb.or([eb('first_id', 'in', part), eb('second_id', 'in', part)]))
      .execute();
    for (const row of rows) states.set(row.id, row.state as PairState);
  }
  return states;
}

async function savePair(
  db: Queryable,
  pair: { id: string; first: string; second: string; facts: string[]; at: string },
  exists: boolean,
): Promise<void> {
  const facts = JSON.stringify(pair.facts);
  if (exists) {
    await db.updateTable('duplicate_pairs').set({ facts }).where('id', '=', pair.id).execute();
    return;
  }
  await db
    .insertInto('duplicate_pairs')
    .values({
      id: pair.id,
      first_id: pair.first,
      second_id: pair.second,
      state: 'open',
      facts,
      note: null,
      found_at: pair.at,
      decided_at: null,
      decided_by: null,
    })
    .execute();
}

/** Raises the revision of `ids`: what they show changed, so calendars see a higher SEQUENCE. */
async function bumpRevisions(db: Queryable, ids: readonly string[], at: string): Promise<void> {
  for (const part of chunks(ids)) {
    await db
      .updateTable('events')
      .set((eb) => ({ revision: eb('revision', '+', 1), last_changed_at: at }))
      .where('id', 'in', part)
      .execute();
  }
}

/**
 * A cancellation from the source that does not sell the tickets changes nothing shown: the
 * merged pair is flagged for a person instead. Returns how many pairs it flagged.
 */
async function flagOtherCancellations(
  db: Queryable,
  records: readonly MatchRow[],
  linked: ReadonlyMap<string, { pairId: string }>,
): Promise<number> {
  const pairIds = records
    .filter((row) => row.status === 'cancelled' && row.source !== TICKET_SELLER)
    .flatMap((row) => {
      const link = linked.get(row.id);
      return link === undefined ? [] : [link.pairId];
    });
  let count = 0;
  for (const part of chunks(pairIds)) {
    const result = await db
      .updateTable('duplicate_pairs')
      .set({ note: OTHER_CANCELLED_NOTE })
      .where('id', 'in', part)
      .where('note', 'is', null)
      .executeTakeFirst();
    count += Number(result.numUpdatedRows);
  }
  return count;
}

/** A pair with both its records, as the review queue shows it. */
export interface DuplicatePair {
  id: string;
  state: PairState;
  facts: string[];
  note: string | null;
  foundAt: Date;
  decidedAt: Date | null;
  decidedBy: PairDecider | null;
  first: Event;
  second: Event;
}

/** Pairs waiting for a person: open ones, and merged ones flagged by a cancellation. */
export async function findReviewQueue(db: Queryable, limit = 200): Promise<DuplicatePair[]> {
  const rows = await db
    .selectFrom('duplicate_pairs')
    .selectAll()
    .where((eb) => eb.or([eb('state', '=', 'open'), eb('note', 'is not', null)]))
    .orderBy('found_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return withRecords(db, rows);
}

/** One pair by id, or null. */
export async function findPair(db: Queryable, id: string): Promise<DuplicatePair | null> {
  const rows = await db.selectFrom('duplicate_pairs').selectAll().where('id', '=', id).execute();
  return (await withRecords(db, rows))[0] ?? null;
}

async function withRecords(
  db: Queryable,
  rows: readonly Database['duplicate_pairs'][],
): Promise<DuplicatePair[]> {
  const ids = [...new Set(rows.flatMap((row) => [row.first_id, row.second_id]))];
  const events = new Map<string, Event>();
  for (const [id, row] of await findEventRows(db, ids)) events.set(id, toEvent(row));
  return rows.flatMap((row) => {
    const first = events.get(row.first_id);
    const second = events.get(row.second_id);
    if (first === undefined || second === undefined) return [];
    return [
      {
        id: row.id,
        state: row.state as PairState,
        facts: JSON.parse(row.facts) as string[],
        note: row.note,
        foundAt: new Date(row.found_at),
        decidedAt: row.decided_at === null ? null : new Date(row.decided_at),
        decidedBy: row.decided_by as PairDecider | null,
        first,
        second,
      },
    ];
  });
}

/** Why a decision could not be taken: the HTTP layer answers 404 or 409. */
export class DuplicateDecisionError extends Error {
  constructor(
    readonly reason: 'unknown' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'DuplicateDecisionError';
  }
}

/**
 * Merges pair `id`: the record published first stays the published event (its id, page and
 * UID); the other is linked to it and, if it was published before now, stays in calendars as a
 * tombstone. Both revisions rise, and `changes` logs what the merge changed of both. A merged
 * pair flagged by a cancellation is acknowledged.
 */
export async function linkPair(
  db: Queryable,
  id: string,
  decidedBy: PairDecider,
  now: Date,
  changes?: ChangeRecorder,
): Promise<{ primaryId: string; memberId: string }> {
  const pair = await db
    .selectFrom('duplicate_pairs')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (pair === undefined) throw new DuplicateDecisionError('unknown', 'duplicates: no such pair');
  const at = now.toISOString();
  if (pair.state === 'merged') {
    await db.updateTable('duplicate_pairs').set({ note: null }).where('id', '=', id).execute();
    const link = await db
      .selectFrom('event_links')
      .select(['primary_id', 'member_id'])
      .where('pair_id', '=', id)
      .executeTakeFirstOrThrow();
    return { primaryId: link.primary_id, memberId: link.member_id };
  }
  const records = await loadMatchRows(db, [pair.first_id, pair.second_id]);
  if (records.length !== 2)
    throw new DuplicateDecisionError('conflict', 'duplicates: a record of the pair is gone');
  if ((await findLinkedIds(db, [pair.first_id, pair.second_id])).size > 0) {
    throw new DuplicateDecisionError(
      'conflict',
      'duplicates: a record of the pair is already merged with another',
    );
  }
  const [primary, member] = [...records].sort(
    (a, b) =>
      (a.visibility === 'public' ? 0 : 1) - (b.visibility === 'public' ? 0 : 1) ||
      (a.first_seen_at < b.first_seen_at ? -1 : a.first_seen_at > b.first_seen_at ? 1 : 0) ||
      (a.source === TICKET_SELLER ? -1 : b.source === TICKET_SELLER ? 1 : 0),
  ) as [MatchRow, MatchRow];
  await changes?.capture(db, [primary.id, member.id]);
  // Published before this moment: outputs have shown it, so calendars may hold its UID.
  const published = member.visibility === 'public' && member.first_seen_at < at;
  await db
    .insertInto('event_links')
    .values({
      member_id: member.id,
      primary_id: primary.id,
      pair_id: id,
      tombstone: published ? 1 : 0,
      linked_at: at,
    })
    .execute();
  await db
    .updateTable('duplicate_pairs')
    .set({ state: 'merged', decided_at: at, decided_by: decidedBy, note: null })
    .where('id', '=', id)
    .execute();
  await bumpRevisions(db, [primary.id, member.id], at);
  return { primaryId: primary.id, memberId: member.id };
}

/** Dismisses an open pair: the two records stay apart, and are never proposed again. */
export async function dismissPair(db: Queryable, id: string, now: Date): Promise<void> {
  const pair = await db
    .selectFrom('duplicate_pairs')
    .select('state')
    .where('id', '=', id)
    .executeTakeFirst();
  if (pair === undefined) throw new DuplicateDecisionError('unknown', 'duplicates: no such pair');
  if (pair.state === 'merged') {
    throw new DuplicateDecisionError(
      'conflict',
      'duplicates: the pair is merged; unmerge its event to separate it',
    );
  }
  await db
    .updateTable('duplicate_pairs')
    .set({ state: 'dismissed', decided_at: now.toISOString(), decided_by: 'operator', note: null })
    .where('id', '=', id)
    .execute();
}

/**
 * Separates the merged event `id` (its published id, or a member's): both records are shown
 * again under their own ids, with higher revisions (`changes` logs both), and are never merged
 * again automatically.
 */
export async function unmergeEvent(
  db: Queryable,
  id: string,
  now: Date,
  changes?: ChangeRecorder,
): Promise<{ primaryId: string; memberId: string }> {
  const link = await db
    .selectFrom('event_links')
    .selectAll()
    .where((eb) => eb.or([eb('member_id', '=', id), eb('primary_id', '=', id)]))
    .executeTakeFirst();
  if (link === undefined)
    throw new DuplicateDecisionError('unknown', 'duplicates: the event is not merged');
  const at = now.toISOString();
  await changes?.capture(db, [link.primary_id, link.member_id]);
  await db.deleteFrom('event_links').where('member_id', '=', link.member_id).execute();
  await db
    .updateTable('duplicate_pairs')
    .set({ state: 'unmerged', decided_at: at, decided_by: 'operator', note: null })
    .where('id', '=', link.pair_id)
    .execute();
  await bumpRevisions(db, [link.primary_id, link.member_id], at);
  return { primaryId: link.primary_id, memberId: link.member_id };
}

/** Drops the links and pairs of records that no longer exist (after retention deleted them). */
export async function deleteOrphanedDuplicates(db: Queryable): Promise<void> {
  const stored = db.selectFrom('events').select('events.id');
  await db
    .deleteFrom('event_links')
    .where((eb) => eb.or([eb('member_id', 'not in', stored), eb('primary_id', 'not in', stored)]))
    .execute();
  await db
    .deleteFrom('duplicate_pairs')
    .where((eb) => eb.or([eb('first_id', 'not in', stored), eb('second_id', 'not in', stored)]))
    .execute();
}
