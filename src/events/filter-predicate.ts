import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from '../db/schema.js';
import type { EventFilter } from './filter.js';
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
    if (filter.source.length > 0) conditions.push(eb('events.source', 'in', filter.source));
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
