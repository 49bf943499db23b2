import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. A webhook subscription the subscriber asked to stop (it answered 410 Gone) is disabled:
// `disabled_at` says since when, `disabled_reason` why; nothing is sent to it until an operator
// resends, which enables it again.

export async function up(db: Kysely<any>): Promise<void> {
  const text = db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : 'text';
  await db.schema.alterTable('webhook_subscriptions').addColumn('disabled_at', text).execute();
  await db.schema.alterTable('webhook_subscriptions').addColumn('disabled_reason', text).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_subscriptions').dropColumn('disabled_reason').execute();
  await db.schema.alterTable('webhook_subscriptions').dropColumn('disabled_at').execute();
}
