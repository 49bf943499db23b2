import type { Queryable } from '../db/connection.js';
import { DEFAULT_RADIUS_KM, type EventFilter } from './filter.js';
import { matchesFilter } from './filter-predicate.js';
import { selectEventsWithHolds } from './moderation.js';
import { CityAliases } from './text-key.js';
import type { EventStatus, SourceName } from './types.js';

/** Every stored event, public or not, as the admin API lists them for moderation. */

export interface StoredEventQuery {
  /** Words that must all occur (as in the public `q` filter). */
  q: string | null;
  source: SourceName | null;
  status: EventStatus | null;
  /** true: only events an operator hid; false: only those not hidden; null: both. */
  hidden: boolean | null;
  limit: number;
  offset: number;
}

export interface StoredEventSummary {
  id: string;
  source: string;
  externalId: string;
  title: string;
  startsAt: string;
  endsAt: string | null;
  effectiveEndAt: string;
  status: string;
  /** What is published. */
  visibility: string;
  /** What the source said. */
  sourceVisibility: string;
  organizationId: string | null;
  organizerName: string | null;
  /** When an operator hid it; null when not hidden. */
  hiddenAt: string | null;
  /** Whether its organization is blocked. */
  organizationBlocked: boolean;
  /** Last written by a `marquee send-test` delivery. */
  test: boolean;
  withdrawnAt: string | null;
  revision: number;
  lastChangedAt: string;
  lastDeliveryId: number | null;
}

const NO_ALIASES = new CityAliases({});

/** The text filter of the public outputs, used here for `q` and `source` only. */
function textFilter(query: StoredEventQuery): EventFilter {
  return {
    city: [],
    genre: [],
    organizer: [],
    venue: [],
    source: query.source ? [query.source] : [],
    from: null,
    to: null,
    q: query.q ? [query.q] : [],
    cancelled: 'status',
    days: null,
    order: 'start',
    near: null,
    radius: DEFAULT_RADIUS_KM,
    limit: query.limit,
    offset: query.offset,
  };
}

/** Stored events matching `query`, latest start first, with the total that match. */
export async function listStoredEvents(
  db: Queryable,
  query: StoredEventQuery,
): Promise<{ total: number; events: StoredEventSummary[] }> {
  let base = selectEventsWithHolds(db).where(matchesFilter(textFilter(query), NO_ALIASES));
  if (query.status) base = base.where('events.status', '=', query.status);
  if (query.hidden === true) base = base.where('hidden_events.event_id', 'is not', null);
  if (query.hidden === false) base = base.where('hidden_events.event_id', 'is', null);
  const rows = await base
    .select([
      'events.id',
      'events.source',
      'events.external_id',
      'events.title',
      'events.starts_at',
      'events.ends_at',
      'events.effective_end_at',
      'events.status',
      'events.visibility',
      'events.source_visibility',
      'events.organization_id',
      'events.organizer_name',
      'events.test',
      'events.withdrawn_at',
      'events.revision',
      'events.last_changed_at',
      'events.last_delivery_id',
      'hidden_events.hidden_at',
      'organization_blocks.blocked_at',
    ])
    .orderBy('events.starts_at', 'desc')
    .orderBy('events.id')
    .limit(query.limit)
    .offset(query.offset)
    .execute();
  const count = await base
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return {
    total: Number(count.count),
    events: rows.map((row) => ({
      id: row.id,
      source: row.source,
      externalId: row.external_id,
      title: row.title,
      startsAt: row.starts_at,
      endsAt: row.ends_at,
      effectiveEndAt: row.effective_end_at,
      status: row.status,
      visibility: row.visibility,
      sourceVisibility: row.source_visibility ?? row.visibility,
      organizationId: row.organization_id,
      organizerName: row.organizer_name,
      hiddenAt: row.hidden_at,
      organizationBlocked: row.blocked_at !== null,
      test: row.test === 1,
      withdrawnAt: row.withdrawn_at,
      revision: row.revision,
      lastChangedAt: row.last_changed_at,
      lastDeliveryId: row.last_delivery_id,
    })),
  };
}
