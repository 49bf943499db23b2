import { createHash } from 'node:crypto';
import type { Queryable } from '../db/connection.js';
import type { NewEventRow } from '../db/schema.js';
import {
  findEventStates,
  findUpcomingIdsOfOrganization,
  markEventsCancelled,
  markEventsRemoved,
  touchSourceUpdatedAt,
  upsertEvents,
  withdrawnAtAfter,
  type StoredEventState,
} from './event-writes.js';
import { findHeldIds, withheld } from './moderation.js';
import type { ChangeRecorder } from './event-changes.js';
import { matchDuplicates } from './duplicates.js';
import { recordOrganizationSync } from './organization-repository.js';
import { foldKey, type CityAliases } from './text-key.js';
import {
  eventId,
  type NormalizedEvent,
  type Organizer,
  type SourceMessage,
  type SourceName,
} from './types.js';

/** The ingest use case: applies what a source message says to the stored events. */

export interface IngestOptions {
  now: Date;
  receivedAt: Date;
  /** Open-ended events count as over this long after they start. */
  defaultDurationHours: number;
  /**
   * The delivery the message came in (ids grow in the order Marquee received them); orders
   * messages that carry no update time. Absent for writes that come from no delivery.
   */
  deliveryId?: number;
  /**
   * A `marquee send-test` delivery: its events are stored withheld, a stored event of another
   * delivery is left alone, and a sync removes nothing.
   */
  test?: boolean;
  /**
   * Logs each published revision the writes make (the changes feed, outgoing webhooks), in the
   * transaction of the writes, once matching merged what it merges: of published events, so a
   * change to a merged record is logged under the event it is merged into.
   */
  changes?: ChangeRecorder;
  /**
   * CITY_ALIASES: with it, the records the writes changed are matched against the other
   * source's records of their city and date (events/duplicates.ts).
   */
  cityAliases?: CityAliases;
}

export interface IngestSummary {
  created: number;
  updated: number;
  unchanged: number;
  /** Updates older than the stored event, ignored. */
  stale: number;
  removed: number;
  cancelled: number;
  skipped: { externalId: string | null; reason: string }[];
  /** Ids named by a cancel that Marquee has never seen. */
  unknown: string[];
  /** Events whose fields the limits shortened or flattened, and how (absent when none). */
  cut?: { externalId: string; fields: string[] }[];
}

/** A summary with nothing counted yet. */
export const emptySummary = (): IngestSummary => ({
  created: 0,
  updated: 0,
  unchanged: 0,
  stale: 0,
  removed: 0,
  cancelled: 0,
  skipped: [],
  unknown: [],
});

/** What applying a message did: the stored summary, and what caches must know. */
export interface IngestOutcome {
  summary: IngestSummary;
  /** Whether the cities, genres or organizers of upcoming public events may have changed. */
  facetsChanged: boolean;
}

/** Whether a summary records any write that changes outputs. */
export function changedAnything(summary: IngestSummary): boolean {
  return summary.created + summary.updated + summary.removed + summary.cancelled > 0;
}

/** Hash of everything material about an event; the source's update time is not material. */
export function contentHash(event: NormalizedEvent): string {
  const material = Object.entries(event).flatMap(([key, value]): [string, unknown][] => {
    // `cut` only records what the limits shortened (the shortened values are hashed);
    // `sourceHash` is of the raw copy, which may differ where the content does not.
    if (key === 'sourceUpdatedAt' || key === 'cut' || key === 'sourceHash') return [];
    if (key === 'organizer') return [[key, withoutEmpty(value as Organizer, ADDED_ORGANIZER)]];
    return ADDED_FIELDS.has(key) && isEmpty(value) ? [] : [[key, value]];
  });
  return createHash('sha256')
    .update(JSON.stringify(Object.fromEntries(material)))
    .digest('base64url');
}

// Fields added in migration 0005 count only when given, so that events stored before keep their
// hash (and their SEQUENCE) when a source sends them unchanged.
const ADDED_FIELDS = new Set(['presaleStartsAt', 'performers']);
const ADDED_ORGANIZER = new Set(['url', 'city']);

function isEmpty(value: unknown): boolean {
  return value === null || (Array.isArray(value) && value.length === 0);
}

function withoutEmpty(value: object, keys: ReadonlySet<string>): object {
  return Object.fromEntries(
    Object.entries(value).filter(([key, item]) => !(keys.has(key) && isEmpty(item))),
  );
}

/** When an event counts as over: its end, or start plus the default duration when open-ended. */
export function effectiveEnd(
  event: Pick<NormalizedEvent, 'startsAt' | 'endsAt'>,
  defaultDurationHours: number,
): Date {
  return event.endsAt ?? new Date(event.startsAt.getTime() + defaultDurationHours * 3_600_000);
}

/**
 * The stored row for a normalized event, given what is stored now (undefined: new). A `held`
 * event (hidden by an operator, of a blocked organization) or one from a test delivery is
 * published withheld (events/moderation.ts).
 */
export function toEventRow(
  event: NormalizedEvent,
  hash: string,
  stored: StoredEventState | undefined,
  options: IngestOptions,
  held = false,
): NewEventRow {
  const now = options.now.toISOString();
  const visibility = publishedVisibility(event, options, held);
  const startsAt = event.startsAt.toISOString();
  const moved =
    stored !== undefined && stored.visibility === 'public' && stored.startsAt !== startsAt;
  const previousStartsAt = moved ? stored.startsAt : (stored?.previousStartsAt ?? null);
  // A published event whose start moved is rescheduled, whether or not the source says so.
  const status =
    event.status === 'scheduled' && previousStartsAt !== null ? 'rescheduled' : event.status;
  const searchText = foldKey(
    [event.title, event.subtitle, event.descriptionText, event.venue.name, event.organizer.name]
      .filter(Boolean)
      .join(' \u0001 '),
  );
  return {
    id: eventId(event.source, event.externalId),
    source: event.source,
    external_id: event.externalId,
    organization_id: event.organizer.id,
    organizer_name: event.organizer.name,
    organizer_key: event.organizer.name ? foldKey(event.organizer.name) : null,
    title: event.title,
    subtitle: event.subtitle,
    description_text: event.descriptionText,
    description_html: event.descriptionHtml,
    starts_at: startsAt,
    ends_at: event.endsAt?.toISOString() ?? null,
    effective_end_at: effectiveEnd(event, options.defaultDurationHours).toISOString(),
    doors_at: event.doorsAt?.toISOString() ?? null,
    previous_starts_at: previousStartsAt,
    time_zone: event.timeZone,
    venue_name: event.venue.name,
    venue_key: event.venue.name ? foldKey(event.venue.name) : null,
    venue_street: event.venue.street,
    venue_postal_code: event.venue.postalCode,
    venue_city: event.venue.city,
    venue_country: event.venue.country,
    latitude: event.venue.latitude,
    longitude: event.venue.longitude,
    city_key: event.venue.city ? foldKey(event.venue.city) : null,
    genres: JSON.stringify(event.genres),
    tags: JSON.stringify(event.tags),
    prices: JSON.stringify(event.prices),
    ticket_url: event.ticketUrl,
    sold_out: event.soldOut ? 1 : 0,
    image_url: event.image?.url ?? null,
    image_alt: event.image?.alt ?? null,
    status,
    visibility,
    source_visibility: event.visibility,
    test: options.test ? 1 : 0,
    search_text: searchText,
    source_updated_at: event.sourceUpdatedAt?.toISOString() ?? null,
    content_hash: hash,
    revision: stored ? stored.revision + 1 : 1,
    first_seen_at: stored?.firstSeenAt ?? now,
    last_changed_at: now,
    withdrawn_at: withdrawnAtAfter(stored, visibility, options.now),
    organizer_url: event.organizer.url,
    organizer_city: event.organizer.city,
    presale_starts_at: event.presaleStartsAt?.toISOString() ?? null,
    performers: event.performers.length > 0 ? JSON.stringify(event.performers) : null,
    last_delivery_id: options.deliveryId ?? stored?.lastDeliveryId ?? null,
    source_hash: event.sourceHash ?? null,
  };
}

/** The visibility an incoming event is published with: withheld when held or a test. */
function publishedVisibility(
  event: NormalizedEvent,
  options: IngestOptions,
  held: boolean,
): NormalizedEvent['visibility'] {
  return held || options.test ? withheld(event.visibility) : event.visibility;
}

/**
 * Whether an incoming copy of an event is older than the stored state, which it must not undo:
 * by the source's update times when both have one and they differ, else by the order Marquee
 * received the messages (a removal or cancel records both, see event-writes.ts). A sync is the
 * complete list at its sending: one received after the sync that removed an event brings it
 * back whatever the event's own update time, which the removal's arrival time replaced.
 */
export function isOlderThanStored(
  state: Pick<StoredEventState, 'sourceUpdatedAt' | 'lastDeliveryId' | 'visibility'> | undefined,
  incomingUpdatedAt: string | null,
  deliveryId: number | undefined,
  listedBySync = false,
): boolean {
  if (!state) return false;
  const laterDelivery =
    deliveryId !== undefined &&
    (state.lastDeliveryId === null || deliveryId > state.lastDeliveryId);
  if (listedBySync && state.visibility === 'removed' && laterDelivery) return false;
  if (state.sourceUpdatedAt && incomingUpdatedAt && incomingUpdatedAt !== state.sourceUpdatedAt) {
    return incomingUpdatedAt < state.sourceUpdatedAt;
  }
  return (
    deliveryId !== undefined && state.lastDeliveryId !== null && deliveryId < state.lastDeliveryId
  );
}

/**
 * Whether replacing `state` (absent: a new event) by `row` may change the filter choices, which
 * are taken from upcoming public events.
 */
function changesFacets(state: StoredEventState | undefined, row: NewEventRow): boolean {
  if (!state) return row.visibility === 'public';
  if (state.visibility !== row.visibility) return true;
  return (
    row.visibility === 'public' &&
    (state.venueCity !== row.venue_city ||
      state.genres !== row.genres ||
      state.organizationId !== row.organization_id ||
      state.organizerName !== row.organizer_name ||
      state.effectiveEndAt !== row.effective_end_at)
  );
}

/** Upserts a message's events (or a part of them); true when that may change the filter choices. */
export async function upsertNormalized(
  db: Queryable,
  events: readonly NormalizedEvent[],
  options: IngestOptions,
  summary: IngestSummary,
  listedBySync: boolean,
): Promise<boolean> {
  // The last copy of an event within one message wins, as if delivered in order.
  const latest = new Map<string, NormalizedEvent>();
  for (const event of events) latest.set(eventId(event.source, event.externalId), event);
  await options.changes?.capture(db, [...latest.keys()]);
  const stored = await findEventStates(db, [...latest.keys()]);
  const source = events[0]?.source;
  const held = source ? await findHeldIds(db, source, latest.values()) : new Set<string>();
  const rows: NewEventRow[] = [];
  let facetsChanged = false;
  for (const [id, event] of latest) {
    if (event.cut) (summary.cut ??= []).push({ externalId: event.externalId, fields: event.cut });
    const state = stored.get(id);
    if (options.test && state && !state.test) {
      summary.skipped.push({
        externalId: event.externalId,
        reason: 'test delivery: an event of real deliveries is left alone',
      });
      continue;
    }
    const incomingUpdatedAt = event.sourceUpdatedAt?.toISOString() ?? null;
    if (isOlderThanStored(state, incomingUpdatedAt, options.deliveryId, listedBySync)) {
      summary.stale += 1;
      continue;
    }
    const hash = contentHash(event);
    const visibility = publishedVisibility(event, options, held.has(id));
    if (
      state &&
      state.contentHash === hash &&
      state.visibility === visibility &&
      state.sourceVisibility === event.visibility &&
      state.test === (options.test === true)
    ) {
      summary.unchanged += 1;
      if (
        (incomingUpdatedAt && incomingUpdatedAt !== state.sourceUpdatedAt) ||
        (event.sourceHash ?? null) !== state.sourceHash
      ) {
        await touchSourceUpdatedAt(
          db,
          id,
          incomingUpdatedAt ?? state.sourceUpdatedAt,
          event.sourceHash ?? null,
        );
      }
      continue;
    }
    const row = toEventRow(event, hash, state, options, held.has(id));
    facetsChanged ||= changesFacets(state, row);
    rows.push(row);
    if (state) summary.updated += 1;
    else summary.created += 1;
  }
  await upsertEvents(db, rows, new Map([...stored].map(([id, state]) => [id, state.genres])));
  await matchChanged(
    db,
    rows.map((row) => row.id),
    options,
  );
  await options.changes?.record(db, options.now);
  return facetsChanged;
}

/** Matches the records a message changed against their possible duplicates, when enabled. */
async function matchChanged(
  db: Queryable,
  ids: readonly string[],
  options: IngestOptions,
): Promise<void> {
  if (options.cityAliases === undefined || ids.length === 0) return;
  await matchDuplicates(db, ids, {
    now: options.now,
    cityAliases: options.cityAliases,
    changes: options.changes,
  });
}

/** Applies one interpreted message. Run it inside a transaction together with marking the delivery. */
export async function applyMessage(
  db: Queryable,
  source: SourceName,
  message: SourceMessage,
  options: IngestOptions,
): Promise<IngestOutcome> {
  const summary = emptySummary();
  switch (message.kind) {
    case 'ignored':
      return { summary, facetsChanged: false };
    case 'upsert': {
      summary.skipped = [...message.skipped];
      summary.unchanged += message.unchanged?.length ?? 0;
      const facetsChanged = await upsertNormalized(db, message.events, options, summary, false);
      return { summary, facetsChanged };
    }
    case 'sync': {
      summary.skipped = [...message.skipped];
      summary.unchanged += message.unchanged?.length ?? 0;
      const facetsChanged = await upsertNormalized(db, message.events, options, summary, true);
      const removed = await finishSync(db, source, message, options, summary);
      return { summary, facetsChanged: facetsChanged || removed };
    }
    case 'cancel': {
      const ids = message.externalIds.map((externalId) => eventId(source, externalId));
      const known = await findEventStates(db, ids);
      summary.unknown = message.externalIds.filter(
        (externalId) => !known.has(eventId(source, externalId)),
      );
      await options.changes?.capture(db, [...known.keys()]);
      // A test may cancel only events of tests.
      if (options.test) for (const [id, state] of known) if (!state.test) known.delete(id);
      summary.cancelled = await markEventsCancelled(
        db,
        [...known.keys()],
        options.now,
        options.receivedAt,
        options.deliveryId ?? null,
      );
      await matchChanged(db, [...known.keys()], options);
      await options.changes?.record(db, options.now);
      // Cancelled events stay listed, with their city, genres and organizer.
      return { summary, facetsChanged: false };
    }
  }
}

/**
 * The last step of a sync, once its events are upserted: records the sync and removes the
 * organization's upcoming events it no longer lists; true when it removed any.
 */
export async function finishSync(
  db: Queryable,
  source: SourceName,
  message: Extract<SourceMessage, { kind: 'sync' }>,
  options: IngestOptions,
  summary: IngestSummary,
): Promise<boolean> {
  // A test is not the organization's complete list: it records and removes nothing.
  if (options.test) return false;
  // Events skipped as unreadable are still listed: they must not vanish from the feeds. So are
  // those not read again because their raw copy had not changed.
  const listed = new Set([
    ...message.events.map((event) => eventId(source, event.externalId)),
    ...(message.unchanged ?? []).map((externalId) => eventId(source, externalId)),
    ...message.skipped.flatMap((skip) =>
      skip.externalId ? [eventId(source, skip.externalId)] : [],
    ),
  ]);
  await recordOrganizationSync(db, source, message.organization, listed.size, options);
  // Only events last changed by an older delivery: a sync may not undo a later message.
  const upcoming = await findUpcomingIdsOfOrganization(
    db,
    source,
    message.organization.id,
    options.now,
    options.deliveryId ?? null,
  );
  const unlisted = upcoming.filter((id) => !listed.has(id));
  await options.changes?.capture(db, unlisted);
  summary.removed = await markEventsRemoved(db, unlisted, options.now, {
    at: options.receivedAt,
    deliveryId: options.deliveryId ?? null,
  });
  await matchChanged(db, unlisted, options);
  await options.changes?.record(db, options.now);
  return summary.removed > 0;
}
