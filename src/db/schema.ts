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
  /** 1 for a delivery sent by `marquee send-test`: its events are never published. */
  test: ColumnType<number, number | undefined, number>;
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
  /** Added by migration 0009 (events/moderation.ts); inserts may omit them. */
  source_visibility: NullableColumn;
  test: ColumnType<number, number | undefined, number>;
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
  | 'source_visibility'
  | 'test'
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

/** An event an operator hid (events/moderation.ts); ingest never writes this table. */
export interface HiddenEventTable {
  event_id: string;
  hidden_at: string;
}

/** An organization whose events are never published while blocked. */
export interface OrganizationBlockTable {
  source: string;
  organization_id: string;
  blocked_at: string;
}

/** One admin action: what, on what, when, by whom (the client address) and how it ended. */
export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  action: string;
  target: string;
  outcome: string;
  /** JSON details (counts, an error), or null. */
  detail: string | null;
  client: string | null;
}

/** A finding of the schema watch (inbox/schema-watch-repository.ts), counted per delivery. */
export interface SchemaWatchTable {
  source: string;
  /** `path`, `message-type`, `status` or `combination` (sources/schema-watcher.ts). */
  kind: string;
  value: string;
  /** How often it occurred, over all deliveries. */
  occurrences: number;
  /** In how many deliveries. */
  deliveries: number;
  first_seen_at: string;
  last_seen_at: string;
  /** The newest delivery that held it: the likeliest to still have its raw body. */
  example_delivery_id: number;
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
  /** When the subscriber asked to stop (410 Gone); nothing is sent while set. */
  disabled_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** Why it was disabled, in plain words. */
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
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

/** Two records of different sources that may be one show (events/duplicates.ts). */
export interface DuplicatePairTable {
  id: string;
  /** The Stager record: the ticket seller. */
  first_id: string;
  second_id: string;
  /** open (for review), merged, dismissed, unmerged */
  state: string;
  /** JSON list of the facts that matched (ticket-url, venue, start-15, title). */
  facts: string;
  /** Why a person should look (a cancellation from the other source), or null. */
  note: string | null;
  found_at: string;
  decided_at: string | null;
  /** auto, or operator */
  decided_by: string | null;
}

/** A record merged into the published (primary) record of its show. */
export interface EventLinkTable {
  member_id: string;
  primary_id: string;
  pair_id: string;
  /** 1 when the member was published before the merge: calendars keep it as a tombstone. */
  tombstone: ColumnType<number, number | undefined, number>;
  linked_at: string;
}

export interface Database {
  deliveries: DeliveryTable;
  delivery_bodies: DeliveryBodyTable;
  events: EventTable;
  event_genres: EventGenreTable;
  organizations: OrganizationTable;
  job_claims: JobClaimTable;
  installation: InstallationTable;
  short_feeds: ShortFeedTable;
  hidden_events: HiddenEventTable;
  organization_blocks: OrganizationBlockTable;
  audit_log: AuditLogTable;
  schema_watch: SchemaWatchTable;
  event_changes: EventChangeTable;
  webhook_subscriptions: WebhookSubscriptionTable;
  webhook_attempts: WebhookAttemptTable;
  duplicate_pairs: DuplicatePairTable;
  event_links: EventLinkTable;
}

/**
 * A delivery's raw body, apart from its row so that status changes never rewrite it; deleted when
 * purged after INBOX_RETENTION_DAYS (the delivery's `purged_at` says when).
 */
export interface DeliveryBodyTable {
  delivery_id: number;
  body: Buffer;
}

export type DeliveryRow = Selectable<DeliveryTable>;
export type NewDeliveryRow = Insertable<DeliveryTable>;
export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;
export type OrganizationRow = Selectable<OrganizationTable>;
