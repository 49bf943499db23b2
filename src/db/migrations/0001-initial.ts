import type { Kysely } from 'kysely';

// Frozen: typed against Kysely<any> and never importing app code, so it reads the same forever.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('received_at', 'text', (col) => col.notNull())
    .addColumn('content_type', 'text')
    .addColumn('headers', 'text', (col) => col.notNull())
    .addColumn('body', 'blob')
    .addColumn('body_sha256', 'text', (col) => col.notNull())
    .addColumn('body_size', 'integer', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('message_type', 'text')
    .addColumn('result', 'text')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('processed_at', 'text')
    .addColumn('purged_at', 'text')
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
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('external_id', 'text', (col) => col.notNull())
    .addColumn('organization_id', 'text')
    .addColumn('organizer_name', 'text')
    .addColumn('organizer_key', 'text')
    .addColumn('title', 'text', (col) => col.notNull())
    .addColumn('subtitle', 'text')
    .addColumn('description_text', 'text')
    .addColumn('description_html', 'text')
    .addColumn('starts_at', 'text', (col) => col.notNull())
    .addColumn('ends_at', 'text')
    .addColumn('effective_end_at', 'text', (col) => col.notNull())
    .addColumn('doors_at', 'text')
    .addColumn('previous_starts_at', 'text')
    .addColumn('time_zone', 'text', (col) => col.notNull())
    .addColumn('venue_name', 'text')
    .addColumn('venue_key', 'text')
    .addColumn('venue_street', 'text')
    .addColumn('venue_postal_code', 'text')
    .addColumn('venue_city', 'text')
    .addColumn('venue_country', 'text')
    .addColumn('latitude', 'real')
    .addColumn('longitude', 'real')
    .addColumn('city_key', 'text')
    .addColumn('genres', 'text', (col) => col.notNull())
    .addColumn('tags', 'text', (col) => col.notNull())
    .addColumn('prices', 'text', (col) => col.notNull())
    .addColumn('ticket_url', 'text')
    .addColumn('sold_out', 'integer', (col) => col.notNull())
    .addColumn('image_url', 'text')
    .addColumn('image_alt', 'text')
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('visibility', 'text', (col) => col.notNull())
    .addColumn('search_text', 'text', (col) => col.notNull())
    .addColumn('source_updated_at', 'text')
    .addColumn('content_hash', 'text', (col) => col.notNull())
    .addColumn('revision', 'integer', (col) => col.notNull())
    .addColumn('first_seen_at', 'text', (col) => col.notNull())
    .addColumn('last_changed_at', 'text', (col) => col.notNull())
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
    .addColumn('event_id', 'text', (col) =>
      col.notNull().references('events.id').onDelete('cascade'),
    )
    .addColumn('genre_key', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('event_genres_pk', ['event_id', 'genre_key'])
    .execute();
  await db.schema
    .createIndex('event_genres_genre')
    .on('event_genres')
    .columns(['genre_key', 'event_id'])
    .execute();

  await db.schema
    .createTable('organizations')
    .addColumn('source', 'text', (col) => col.notNull())
    .addColumn('external_id', 'text', (col) => col.notNull())
    .addColumn('name', 'text')
    .addColumn('last_sync_at', 'text')
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
