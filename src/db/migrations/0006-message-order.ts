import { type Kysely } from 'kysely';

// Frozen. Sources whose messages carry no timestamp (Stager) are ordered by arrival:
// - `events.last_delivery_id`: the delivery whose message last changed the event (an update, a
//   removal by a sync, a cancel); a message from an older delivery (an admin replay) may not undo
//   it. Null for events written before this migration or by an import.
// - an index on deliveries' body hash, so that a body identical to one already applied is found
//   before it is applied again.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').addColumn('last_delivery_id', 'integer').execute();
  await db.schema
    .createIndex('deliveries_source_body_sha256')
    .on('deliveries')
    .columns(['source', 'body_sha256'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('deliveries_source_body_sha256').execute();
  await db.schema.alterTable('events').dropColumn('last_delivery_id').execute();
}
