import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. `schema_watch`: what senders send that the adapters do not read or know (a payload
// key path, a message type, an event status) and the envelope forms seen, one row per source,
// kind and value, counted as deliveries are processed.

export async function up(db: Kysely<any>): Promise<void> {
  const text = db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : 'text';
  await db.schema
    .createTable('schema_watch')
    .addColumn('source', text, (col) => col.notNull())
    .addColumn('kind', text, (col) => col.notNull())
    .addColumn('value', text, (col) => col.notNull())
    .addColumn('occurrences', 'integer', (col) => col.notNull())
    .addColumn('deliveries', 'integer', (col) => col.notNull())
    .addColumn('first_seen_at', 'text', (col) => col.notNull())
    .addColumn('last_seen_at', 'text', (col) => col.notNull())
    .addColumn('example_delivery_id', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('schema_watch_pk', ['source', 'kind', 'value'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('schema_watch').execute();
}
