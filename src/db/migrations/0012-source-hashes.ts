import { type Kysely } from 'kysely';

// Frozen. `events.source_hash`: a hash of the raw source object (with what else its
// normalization depends on) that the event's current row was made from; a sync whose copy of an
// event hashes the same skips reading it again. Null when the row came from anything else (a
// removal, a cancel, an import, a source without hashes).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').addColumn('source_hash', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').dropColumn('source_hash').execute();
}
