import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. Cross-source duplicates (events/duplicates.ts):
// - `duplicate_pairs`: two records of different sources found to be the same show, with the
//   facts that matched and the decision (open for review, merged, dismissed, unmerged); a
//   decision is never undone by a later delivery.
// - `event_links`: a record merged into the published (primary) record; outputs show the
//   primary and leave the member out. `tombstone`: the member was published before the merge,
//   so calendars keep its UID as a cancelled duplicate until the event would have ended.
// - `events_city_start`: candidates are looked up by city and start, never across all pairs.

export async function up(db: Kysely<any>): Promise<void> {
  const text = db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : 'text';
  await db.schema
    .createTable('duplicate_pairs')
    .addColumn('id', text, (col) => col.primaryKey())
    .addColumn('first_id', text, (col) => col.notNull())
    .addColumn('second_id', text, (col) => col.notNull())
    .addColumn('state', text, (col) => col.notNull())
    .addColumn('facts', text, (col) => col.notNull())
    .addColumn('note', text)
    .addColumn('found_at', text, (col) => col.notNull())
    .addColumn('decided_at', text)
    .addColumn('decided_by', text)
    .execute();
  await db.schema
    .createIndex('duplicate_pairs_first_idx')
    .on('duplicate_pairs')
    .column('first_id')
    .execute();
  await db.schema
    .createIndex('duplicate_pairs_second_idx')
    .on('duplicate_pairs')
    .column('second_id')
    .execute();
  await db.schema
    .createIndex('duplicate_pairs_state_idx')
    .on('duplicate_pairs')
    .columns(['state', 'found_at'])
    .execute();
  await db.schema
    .createTable('event_links')
    .addColumn('member_id', text, (col) => col.primaryKey())
    .addColumn('primary_id', text, (col) => col.notNull())
    .addColumn('pair_id', text, (col) => col.notNull())
    .addColumn('tombstone', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('linked_at', text, (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('event_links_primary_idx')
    .on('event_links')
    .column('primary_id')
    .execute();
  await db.schema
    .createIndex('events_city_start')
    .on('events')
    .columns(['city_key', 'starts_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_city_start').execute();
  await db.schema.dropTable('event_links').execute();
  await db.schema.dropTable('duplicate_pairs').execute();
}
