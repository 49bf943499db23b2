import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen. `event_changes`: one row per published revision of an event, written in the
// transaction that changed it; the changes feed reads it, and it is the outbox of outgoing
// webhooks. `webhook_subscriptions`: where to send them, each with its cursor into the log and
// its lease (one instance sends a subscription's messages at a time). `webhook_attempts`: every
// attempt to send one message to one subscription.

function typesFor(db: Kysely<any>) {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) {
    return { text: 'text', serial: 'integer', postgres: false } as const;
  }
  return { text: sql`text collate "C"`, serial: 'serial', postgres: true } as const;
}

export async function up(db: Kysely<any>): Promise<void> {
  const type = typesFor(db);
  await db.schema
    .createTable('event_changes')
    .addColumn('id', type.serial, (col) =>
      type.postgres ? col.primaryKey() : col.primaryKey().autoIncrement(),
    )
    .addColumn('event_id', type.text, (col) => col.notNull())
    .addColumn('revision', 'integer', (col) => col.notNull())
    .addColumn('kind', type.text, (col) => col.notNull())
    .addColumn('summary', type.text, (col) => col.notNull())
    .addColumn('changed_at', type.text, (col) => col.notNull())
    .addColumn('snapshot', type.text, (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('event_changes_event_idx')
    .on('event_changes')
    .columns(['event_id', 'id'])
    .execute();
  await db.schema
    .createIndex('event_changes_changed_at_idx')
    .on('event_changes')
    .column('changed_at')
    .execute();

  await db.schema
    .createTable('webhook_subscriptions')
    .addColumn('id', type.text, (col) => col.primaryKey())
    .addColumn('url', type.text, (col) => col.notNull())
    .addColumn('filter', type.text, (col) => col.notNull())
    .addColumn('secret', type.text, (col) => col.notNull())
    .addColumn('created_at', type.text, (col) => col.notNull())
    .addColumn('cursor', 'integer', (col) => col.notNull())
    .addColumn('failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('failing_since', type.text)
    .addColumn('next_attempt_at', type.text)
    .addColumn('lease_owner', type.text)
    .addColumn('lease_until', type.text)
    .execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('id', type.serial, (col) =>
      type.postgres ? col.primaryKey() : col.primaryKey().autoIncrement(),
    )
    .addColumn('subscription_id', type.text, (col) => col.notNull())
    .addColumn('change_id', 'integer', (col) => col.notNull())
    .addColumn('attempted_at', type.text, (col) => col.notNull())
    .addColumn('outcome', type.text, (col) => col.notNull())
    .addColumn('status', 'integer')
    .addColumn('error', type.text)
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_attempts_subscription_idx')
    .on('webhook_attempts')
    .columns(['subscription_id', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_attempts').execute();
  await db.schema.dropTable('webhook_subscriptions').execute();
  await db.schema.dropTable('event_changes').execute();
}
