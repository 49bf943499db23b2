import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. What the sources send for search engines' event data and nothing stored so far: the
// organizer's web site and city, when ticket sales begin, and the line-up (a JSON array).

const COLUMNS = ['organizer_url', 'organizer_city', 'presale_starts_at', 'performers'];

export async function up(db: Kysely<any>): Promise<void> {
  const text = db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : 'text';
  for (const column of COLUMNS) {
    await db.schema.alterTable('events').addColumn(column, text).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of [...COLUMNS].reverse()) {
    await db.schema.alterTable('events').dropColumn(column).execute();
  }
}
