import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import type { EventFilter, GeoPoint } from './filter.js';
import { foldKey, type CityAliases } from './text-key.js';

/** An EventFilter as a SQL predicate on `events`: what matching means, in one place. */

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
export function matchesFilter(filter: EventFilter, aliases: CityAliases) {
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
    if (filter.source.length > 0) {
      // A merged event comes from every source one of its records comes from.
      conditions.push(
        eb.or([eb('events.source', 'in', filter.source), hasMemberFrom(eb, filter.source)]),
      );
    }
    if (filter.near) conditions.push(withinRadius(eb, filter.near, filter.radius));
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

/**
 * Events with a public record of one of `sources` merged into them (events/duplicates.ts). The
 * member is looked up from the link, not joined: with a join, SQLite drove the subquery from
 * `events` and scanned every public event for each candidate row, with or without statistics
 * (43 s for one count on 10,000 events; test/integration/query-plans.test.ts).
 */
function hasMemberFrom(eb: ExpressionBuilder<Database, 'events'>, sources: readonly string[]) {
  return eb.exists(
    eb
      .selectFrom('event_links')
      .select('event_links.primary_id')
      .whereRef('event_links.primary_id', '=', 'events.id')
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('events as member_record')
            .select('member_record.id')
            .whereRef('member_record.id', '=', 'event_links.member_id')
            .where('member_record.source', 'in', sources)
            .where('member_record.visibility', '=', 'public'),
        ),
      ),
  );
}

/** Mean earth radius in kilometres (IUGG), the sphere great-circle distances are measured on. */
export const EARTH_RADIUS_KM = 6371.0088;

const RADIANS = Math.PI / 180;

/** The great-circle distance between two points in kilometres (haversine). */
export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = (b.latitude - a.latitude) * RADIANS;
  const dLon = (b.longitude - a.longitude) * RADIANS;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.latitude * RADIANS) * Math.cos(b.latitude * RADIANS) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Venues within `radiusKm` of `center`: a bounding box the (latitude, longitude) index can
 * range over, then the exact haversine test. The test compares the haversine term itself with
 * sin²(r / 2R), so SQL needs only sin and cos (PostgreSQL has them; SQLite since 3.35 when built
 * with math functions, as better-sqlite3's is). Events without coordinates never match.
 */
function withinRadius(
  eb: ExpressionBuilder<Database, 'events'>,
  center: GeoPoint,
  radiusKm: number,
) {
  const latSpan = radiusKm / (EARTH_RADIUS_KM * RADIANS);
  const south = center.latitude - latSpan;
  const north = center.latitude + latSpan;
  const conditions = [
    eb('events.latitude', '>=', Math.max(-90, south)),
    eb('events.latitude', '<=', Math.min(90, north)),
  ];
  // Near a pole every longitude can be within reach; elsewhere the box may wrap at ±180.
  if (south > -90 && north < 90) {
    const widest = Math.max(Math.abs(south), Math.abs(north)) * RADIANS;
    const lonSpan = Math.min(180, latSpan / Math.cos(widest));
    const west = center.longitude - lonSpan;
    const east = center.longitude + lonSpan;
    if (lonSpan < 180) {
      if (west < -180) {
        conditions.push(
          eb.or([eb('events.longitude', '>=', west + 360), eb('events.longitude', '<=', east)]),
        );
      } else if (east > 180) {
        conditions.push(
          eb.or([eb('events.longitude', '>=', west), eb('events.longitude', '<=', east - 360)]),
        );
      } else {
        conditions.push(eb('events.longitude', '>=', west), eb('events.longitude', '<=', east));
      }
    }
  }
  const lat = eb.ref('events.latitude');
  const lon = eb.ref('events.longitude');
  const centerLat = center.latitude * RADIANS;
  const limit = Math.sin(radiusKm / EARTH_RADIUS_KM / 2) ** 2;
  const haversine = sql<number>`
    power(sin((${lat} * ${RADIANS} - ${centerLat}) / 2), 2)
    + ${Math.cos(centerLat)} * cos(${lat} * ${RADIANS})
      * power(sin((${lon} * ${RADIANS} - ${center.longitude * RADIANS}) / 2), 2)`;
  conditions.push(eb(haversine, '<=', limit));
  return eb.and(conditions);
}
