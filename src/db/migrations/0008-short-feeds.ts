import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. `short_feeds`: the filters behind short subscription URLs (/f/<id>.ics and the other
// formats). The id is derived from the filter's canonical query string, so every instance on one
// database gives a filter the same id; the row lets an id be read back.

export async function up(db: Kysely<any>): Promise<void> {
  const text = db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : 'text';
  await db.schema
    .createTable('short_feeds')
    .addColumn('id', text, (col) => col.primaryKey())
    .addColumn('query', text, (col) => col.notNull())
    .addColumn('created_at', text, (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('short_feeds').execute();
}
