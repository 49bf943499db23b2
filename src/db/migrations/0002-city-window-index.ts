import type { Kysely } from 'kysely';

// Frozen. Without planner statistics SQLite read every upcoming public event through the
// visibility index for a `city` filter; leading with city_key lets it read just that city.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('events_city_window')
    .on('events')
    .columns(['city_key', 'visibility', 'effective_end_at'])
    .execute();
  await db.schema.dropIndex('events_city').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('events_city').on('events').columns(['city_key']).execute();
  await db.schema.dropIndex('events_city_window').execute();
}
