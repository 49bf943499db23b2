import type { Kysely } from 'kysely';

// Frozen. Two reads that the window index (visibility, effective_end_at, starts_at) serves badly:
// - `order=announced`: the newest first-seen upcoming events. Read backwards, this index gives
//   them in order and checks the window from the index, stopping after one page.
// - `near`/`radius`: a bounding box on latitude and longitude ranges over these instead of
//   reading every upcoming event; the exact distance is tested on the few rows inside the box.
//   Public events in the box come from the first (without statistics SQLite otherwise prefers
//   the window index: 540 ms instead of 2 ms over 100,000 events); the events that left a
//   result, which any visibility may have, from the second.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('events_announced')
    .on('events')
    .columns(['visibility', 'first_seen_at', 'effective_end_at'])
    .execute();
  await db.schema
    .createIndex('events_geo_window')
    .on('events')
    .columns(['visibility', 'latitude', 'longitude', 'effective_end_at'])
    .execute();
  await db.schema
    .createIndex('events_geo')
    .on('events')
    .columns(['latitude', 'longitude'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_geo').execute();
  await db.schema.dropIndex('events_geo_window').execute();
  await db.schema.dropIndex('events_announced').execute();
}
