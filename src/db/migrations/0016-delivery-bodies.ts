import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. Raw delivery bodies move out of `deliveries` into `delivery_bodies`. Both databases
// rewrite a whole row when one column changes, and SQLite reads a large value's overflow pages
// with the row: each status change, attempt count and read of a 10 MB sync's delivery copied its
// 10 MB body again, on the thread that serves requests. A delivery's row is now a few hundred
// bytes; its body is written once, read when processing needs it, and deleted when purged.

export async function up(db: Kysely<any>): Promise<void> {
  const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema
    .createTable('delivery_bodies')
    .addColumn('delivery_id', 'integer', (col) =>
      col.primaryKey().references('deliveries.id').onDelete('cascade'),
    )
    .addColumn('body', blob, (col) => col.notNull())
    .execute();
  await sql`insert into delivery_bodies (delivery_id, body)
    select id, body from deliveries where body is not null`.execute(db);
  await db.schema.alterTable('deliveries').dropColumn('body').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema.alterTable('deliveries').addColumn('body', blob).execute();
  await sql`update deliveries set body = (
    select body from delivery_bodies where delivery_bodies.delivery_id = deliveries.id)`.execute(
    db,
  );
  await db.schema.dropTable('delivery_bodies').execute();
}
