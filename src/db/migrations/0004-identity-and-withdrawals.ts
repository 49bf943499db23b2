import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. Two facts outputs need to stay true over a subscription's whole life:
// - `installation`: values fixed once per installation, such as the domain of ICS UIDs and feed
//   item ids, so that moving PUBLIC_URL to another domain does not show every event twice.
// - `events.withdrawn_at`: when a published event left the outputs for a reason other than
//   ending (removed by a sync, deleted, hidden). Calendars keep it as a cancelled tombstone until
//   it would have ended; clients that keep vanished events (Google) then drop it too. Events
//   already removed are backfilled: they were published before an authoritative sync dropped them.

export async function up(db: Kysely<any>): Promise<void> {
  const text = db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : 'text';
  await db.schema
    .createTable('installation')
    .addColumn('key', text, (col) => col.primaryKey())
    .addColumn('value', text, (col) => col.notNull())
    .execute();
  await db.schema.alterTable('events').addColumn('withdrawn_at', text).execute();
  await db
    .updateTable('events')
    .set({ withdrawn_at: sql`last_changed_at` })
    .where('visibility', '=', 'removed')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').dropColumn('withdrawn_at').execute();
  await db.schema.dropTable('installation').execute();
}
