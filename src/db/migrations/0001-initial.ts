import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen: typed against Kysely<any> and never importing app code, so it reads the same forever.
// The SQLite schema is exactly what it was before PostgreSQL support; the PostgreSQL branches
// only name that dialect's equivalents.

/** Column types that differ between the dialects. */
function typesFor(db: Kysely<any>) {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) {
    return { text: 'text', blob: 'blob', real: 'real', serial: 'integer' } as const;
  }
  return {
    // Byte order, as SQLite compares text: ISO instants and ids then sort identically in both,
    // whatever the cluster's locale.
    text: sql`text collate "C"`,
    blob: 'bytea',
    // PostgreSQL's `real` is 4 bytes; SQLite's REAL is 8.
    real: 'double precision',
    serial: 'serial',
  } as const;
}

export async function up(db: Kysely<any>): Promise<void> {
  const type = typesFor(db);
  const postgres = type.serial === 'serial';
  await db.schema
    .createTable('deliveries')
    // SQLite: INTEGER PRIMARY KEY AUTOINCREMENT; PostgreSQL: serial (a sequence) as the key.
    .addColumn('id', type.serial, (col) =>
      postgres ? col.primaryKey() : col.primaryKey().autoIncrement(),
    )
    .addColumn('source', type.text, (col) => col.notNull())
    .addColumn('received_at', type.text, (col) => col.notNull())
    .addColumn('content_type', type.text)
    .addColumn('headers', type.text, (col) => col.notNull())
    .addColumn('body', type.blob)
    .addColumn('body_sha256', type.text, (col) => col.notNull())
    .addColumn('body_size', 'integer', (col) => col.notNull())
    .addColumn('status', type.text, (col) => col.notNull())
    .addColumn('message_type', type.text)
    .addColumn('result', type.text)
    .addColumn('error', type.text)
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('processed_at', type.text)
    .addColumn('purged_at', type.text)
    .execute();
  await db.schema
    .createIndex('deliveries_status_id')
    .on('deliveries')
    .columns(['status', 'id'])
    .execute();
  await db.schema
    .createIndex('deliveries_source_received')
    .on('deliveries')
    .columns(['source', 'received_at'])
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', type.text, (col) => col.primaryKey())
    .addColumn('source', type.text, (col) => col.notNull())
    .addColumn('external_id', type.text, (col) => col.notNull())
    .addColumn('organization_id', type.text)
    .addColumn('organizer_name', type.text)
    .addColumn('organizer_key', type.text)
    .addColumn('title', type.text, (col) => col.notNull())
    .addColumn('subtitle', type.text)
    .addColumn('description_text', type.text)
    .addColumn('description_html', type.text)
    .addColumn('starts_at', type.text, (col) => col.notNull())
    .addColumn('ends_at', type.text)
    .addColumn('effective_end_at', type.text, (col) => col.notNull())
    .addColumn('doors_at', type.text)
    .addColumn('previous_starts_at', type.text)
    .addColumn('time_zone', type.text, (col) => col.notNull())
    .addColumn('venue_name', type.text)
    .addColumn('venue_key', type.text)
    .addColumn('venue_street', type.text)
    .addColumn('venue_postal_code', type.text)
    .addColumn('venue_city', type.text)
    .addColumn('venue_country', type.text)
    .addColumn('latitude', type.real)
    .addColumn('longitude', type.real)
    .addColumn('city_key', type.text)
    .addColumn('genres', type.text, (col) => col.notNull())
    .addColumn('tags', type.text, (col) => col.notNull())
    .addColumn('prices', type.text, (col) => col.notNull())
    .addColumn('ticket_url', type.text)
    .addColumn('sold_out', 'integer', (col) => col.notNull())
    .addColumn('image_url', type.text)
    .addColumn('image_alt', type.text)
    .addColumn('status', type.text, (col) => col.notNull())
    .addColumn('visibility', type.text, (col) => col.notNull())
    .addColumn('search_text', type.text, (col) => col.notNull())
    .addColumn('source_updated_at', type.text)
    .addColumn('content_hash', type.text, (col) => col.notNull())
    .addColumn('revision', 'integer', (col) => col.notNull())
    .addColumn('first_seen_at', type.text, (col) => col.notNull())
    .addColumn('last_changed_at', type.text, (col) => col.notNull())
    .addUniqueConstraint('events_source_external_id', ['source', 'external_id'])
    .execute();
  await db.schema
    .createIndex('events_visibility_end_start')
    .on('events')
    .columns(['visibility', 'effective_end_at', 'starts_at'])
    .execute();
  await db.schema.createIndex('events_start').on('events').columns(['starts_at', 'id']).execute();
  await db.schema.createIndex('events_city').on('events').columns(['city_key']).execute();
  await db.schema
    .createIndex('events_organization')
    .on('events')
    .columns(['source', 'organization_id'])
    .execute();
  await db.schema
    .createIndex('events_last_changed')
    .on('events')
    .columns(['last_changed_at'])
    .execute();

  await db.schema
    .createTable('event_genres')
    .addColumn('event_id', type.text, (col) =>
      col.notNull().references('events.id').onDelete('cascade'),
    )
    .addColumn('genre_key', type.text, (col) => col.notNull())
    .addPrimaryKeyConstraint('event_genres_pk', ['event_id', 'genre_key'])
    .execute();
  await db.schema
    .createIndex('event_genres_genre')
    .on('event_genres')
    .columns(['genre_key', 'event_id'])
    .execute();

  await db.schema
    .createTable('organizations')
    .addColumn('source', type.text, (col) => col.notNull())
    .addColumn('external_id', type.text, (col) => col.notNull())
    .addColumn('name', type.text)
    .addColumn('last_sync_at', type.text)
    .addColumn('last_sync_delivery_id', 'integer')
    .addColumn('last_sync_event_count', 'integer')
    .addPrimaryKeyConstraint('organizations_pk', ['source', 'external_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('organizations').execute();
  await db.schema.dropTable('event_genres').execute();
  await db.schema.dropTable('events').execute();
  await db.schema.dropTable('deliveries').execute();
}
