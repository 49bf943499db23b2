import { type Kysely } from 'kysely';

// Frozen. A delivery identical to one already applied is looked up by body hash, source, test
// flag and status, all four in one index. With (source, body_sha256) alone, SQLite preferred the
// (status, id) index and read each processed delivery's row to test the rest, walking every
// large body (a 10 MB sync) that comes before `body_sha256` in the row: about 20 ms a lookup
// once three syncs were stored. Leading with the hash also serves the spool import's lookup by
// hash alone.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('deliveries_body_sha256_lookup')
    .on('deliveries')
    .columns(['body_sha256', 'source', 'test', 'status'])
    .execute();
  await db.schema.dropIndex('deliveries_source_body_sha256').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('deliveries_source_body_sha256')
    .on('deliveries')
    .columns(['source', 'body_sha256'])
    .execute();
  await db.schema.dropIndex('deliveries_body_sha256_lookup').execute();
}
