import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. What an operator decides about publication, kept where ingest never writes it:
// - `hidden_events`: events an operator took down; they stay down through later deliveries and
//   syncs until unhidden.
// - `organization_blocks`: organizations whose events are stored and processed, never published.
// - `audit_log`: every admin action, with who (the client address) and its outcome.
// - `deliveries.test`: deliveries sent by `marquee send-test`; their events are never published.
// - `events.source_visibility`: the visibility the source gave, while `visibility` is what is
//   published (held events: `hidden`); null reads as `visibility`, as for rows from before.
// - `events.test`: the event was last written by a test delivery.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const text = postgres ? sql`text collate "C"` : 'text';
  await db.schema
    .createTable('hidden_events')
    .addColumn('event_id', text, (col) => col.primaryKey())
    .addColumn('hidden_at', text, (col) => col.notNull())
    .execute();
  await db.schema
    .createTable('organization_blocks')
    .addColumn('source', text, (col) => col.notNull())
    .addColumn('organization_id', text, (col) => col.notNull())
    .addColumn('blocked_at', text, (col) => col.notNull())
    .addPrimaryKeyConstraint('organization_blocks_pkey', ['source', 'organization_id'])
    .execute();
  await db.schema
    .createTable('audit_log')
    .addColumn('id', postgres ? 'serial' : 'integer', (col) =>
      postgres ? col.primaryKey() : col.primaryKey().autoIncrement(),
    )
    .addColumn('at', text, (col) => col.notNull())
    .addColumn('action', text, (col) => col.notNull())
    .addColumn('target', text, (col) => col.notNull())
    .addColumn('outcome', text, (col) => col.notNull())
    .addColumn('detail', text)
    .addColumn('client', text)
    .execute();
  await db.schema
    .alterTable('deliveries')
    .addColumn('test', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('events').addColumn('source_visibility', text).execute();
  await db.schema
    .alterTable('events')
    .addColumn('test', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('events').dropColumn('test').execute();
  await db.schema.alterTable('events').dropColumn('source_visibility').execute();
  await db.schema.alterTable('deliveries').dropColumn('test').execute();
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('organization_blocks').execute();
  await db.schema.dropTable('hidden_events').execute();
}
