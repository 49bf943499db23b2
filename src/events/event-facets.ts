import type { Queryable } from '../db/connection.js';
import { isShownMember } from './duplicates.js';
import { parseList, toDate } from './event-rows.js';
import { foldKey } from './text-key.js';

/** Aggregates over events: the filter choices of the list page, and counts for operators. */

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
    .where('effective_end_at', '>', now.toISOString())
    .where((eb) => eb.not(isShownMember(eb)));
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
    validUntil: toDate(firstEnd?.first_end ?? null),
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
