import { type Kysely } from 'kysely';

// Frozen. Two lookups that read far more than they need:
// - A delivery identical to one already applied is looked up by body hash, source, test flag
//   and status, all four in one index. With (source, body_sha256) alone, SQLite preferred the
//   (status, id) index and read each processed delivery's row to test the rest, walking every
//   large body (a 10 MB sync) stored before `body_sha256` in the row: about 20 ms a lookup once
//   three syncs were stored. Leading with the hash also serves the spool import's lookup.
// - Duplicate candidates are another source's records of a city around a start: with the
//   source in the index, a sync's own records of its city are never read while it is matched.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('deliveries_body_sha256_lookup')
    .on('deliveries')
    .columns(['body_sha256', 'source', 'test', 'status'])
    .execute();
  await db.schema.dropIndex('deliveries_source_body_sha256').execute();
  await db.schema
    .createIndex('events_city_source_start')
    .on('events')
    .columns(['city_key', 'source', 'starts_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_city_source_start').execute();
  await db.schema
    .createIndex('deliveries_source_body_sha256')
    .on('deliveries')
    .columns(['source', 'body_sha256'])
    .execute();
  await db.schema.dropIndex('deliveries_body_sha256_lookup').execute();
}
