import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { EventColumnValues } from './event-columns.js';

/**
 * Table types as the database sees them. Instants are ISO-8601 UTC strings (they sort as
 * text), booleans are 0/1 integers, lists are JSON text: portable to every Kysely dialect.
 */

export type DeliveryStatus = 'pending' | 'processed' | 'failed' | 'rejected' | 'ignored';

export interface DeliveryTable {
  id: Generated<number>;
  source: string;
  received_at: string;
  content_type: string | null;
  /** JSON object of the headers worth keeping; never secrets. */
  headers: string;
  /** Raw body bytes; null once purged after INBOX_RETENTION_DAYS. */
  body: Buffer | null;
  body_sha256: string;
  body_size: number;
  status: DeliveryStatus;
  message_type: string | null;
  /** JSON summary of what processing did (counts, skipped events with reasons). */
  result: string | null;
  error: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  processed_at: string | null;
  purged_at: string | null;
}

/** Derived from the one column list in db/event-columns.ts. */
export type EventTable = Omit<EventColumnValues, AddedEventColumn> & {
  /** Null until a published event is withdrawn (events/event-writes.ts); inserts may omit it. */
  withdrawn_at: NullableColumn;
  /** Added by migration 0005; inserts may omit them (rows from older dumps). */
  organizer_url: NullableColumn;
  organizer_city: NullableColumn;
  presale_starts_at: NullableColumn;
  performers: NullableColumn;
  /** The delivery that last changed the event (events/ingest.ts); inserts may omit it. */
  last_delivery_id: ColumnType<number | null, number | null | undefined, number | null>;
  /** Hash of the raw source object the row was made from (events/ingest.ts); inserts may omit it. */
  source_hash: NullableColumn;
};

/** Columns added after the table was created: nullable, and optional in inserts. */
type AddedEventColumn =
  | 'withdrawn_at'
  | 'organizer_url'
  | 'organizer_city'
  | 'presale_starts_at'
  | 'performers'
  | 'last_delivery_id'
  | 'source_hash';

type NullableColumn = ColumnType<string | null, string | null | undefined, string | null>;

export interface EventGenreTable {
  event_id: string;
  genre_key: string;
}

export interface OrganizationTable {
  source: string;
  external_id: string;
  name: string | null;
  last_sync_at: string | null;
  last_sync_delivery_id: number | null;
  last_sync_event_count: number | null;
}

/** One row per scheduled job run, claimed by the instance that runs it. */
export interface JobClaimTable {
  job: string;
  /** The schedule's firing time (ISO, to the minute), the same in every instance. */
  scheduled_for: string;
  instance: string;
  claimed_at: string;
}

/** Values fixed at an installation's first start (db/installation.ts). */
export interface InstallationTable {
  key: string;
  value: string;
}

/** The filter behind a short feed URL, /f/<id>.<format> (events/short-feeds.ts). */
export interface ShortFeedTable {
  id: string;
  /** The filter's canonical query string (filterQueryString), with its `?`. */
  query: string;
  created_at: string;
}

/** One published revision of an event (changes/change-log.ts): the changes feed and the webhook outbox. */
export interface EventChangeTable {
  id: Generated<number>;
  event_id: string;
  /** The event's revision after the change (its ICS SEQUENCE). */
  revision: number;
  /** created, updated, rescheduled, relocated, cancelled, removed, merged */
  kind: string;
  /** What changed, in plain words. */
  summary: string;
  changed_at: string;
  /** JSON of the event row's read columns after the change. */
  snapshot: string;
}

/** Where outgoing webhooks go (changes/webhook-repository.ts). */
export interface WebhookSubscriptionTable {
  id: string;
  url: string;
  /** Canonical query string of the filter (filterQueryString), `''` for every event. */
  filter: string;
  /** `whsec_<base64>` */
  secret: string;
  created_at: string;
  /** The last change (event_changes.id) delivered or given up on. */
  cursor: number;
  /** Failed attempts at the message after the cursor. */
  failures: ColumnType<number, number | undefined, number>;
  failing_since: string | null;
  next_attempt_at: string | null;
  /** The instance sending this subscription's messages, until `lease_until`. */
  lease_owner: string | null;
  lease_until: string | null;
}

/** One attempt to send a change to a subscription. */
export interface WebhookAttemptTable {
  id: Generated<number>;
  subscription_id: string;
  change_id: number;
  attempted_at: string;
  /** delivered, failed (retried later), given_up */
  outcome: string;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

export interface Database {
  deliveries: DeliveryTable;
  events: EventTable;
  event_genres: EventGenreTable;
  organizations: OrganizationTable;
  job_claims: JobClaimTable;
  installation: InstallationTable;
  short_feeds: ShortFeedTable;
  event_changes: EventChangeTable;
  webhook_subscriptions: WebhookSubscriptionTable;
  webhook_attempts: WebhookAttemptTable;
}

export type DeliveryRow = Selectable<DeliveryTable>;
export type NewDeliveryRow = Insertable<DeliveryTable>;
export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;
export type OrganizationRow = Selectable<OrganizationTable>;
