import { z } from 'zod';

/**
 * The one list of the `events` table's columns, in dump order. Each column has the schema its
 * value must pass in a dump, and says which other lists it is on:
 * - `read`: mapped to the domain event (`toEvent` in events/event-rows.ts selects exactly these);
 * - `upsert`: rewritten when a source sends a stored event again (events/event-writes.ts).
 * The table type (db/schema.ts) and the dump's row schema (operations/transfer.ts) come from it.
 */

type ColumnUse = 'read' | 'upsert';

function column<Schema extends z.ZodType, const Uses extends readonly ColumnUse[]>(
  schema: Schema,
  ...uses: Uses
) {
  return { schema, uses };
}

const text = z.string();
const optionalText = z.string().nullable();
const integer = z.int();
const optionalNumber = z.number().nullable();

const EVENT_TABLE = {
  /** `<source>-<external id>` */
  id: column(text, 'read'),
  source: column(text, 'read'),
  external_id: column(text, 'read'),
  organization_id: column(optionalText, 'read', 'upsert'),
  organizer_name: column(optionalText, 'read', 'upsert'),
  organizer_key: column(optionalText, 'upsert'),
  title: column(text, 'read', 'upsert'),
  subtitle: column(optionalText, 'read', 'upsert'),
  description_text: column(optionalText, 'read', 'upsert'),
  description_html: column(optionalText, 'read', 'upsert'),
  starts_at: column(text, 'read', 'upsert'),
  ends_at: column(optionalText, 'read', 'upsert'),
  effective_end_at: column(text, 'read', 'upsert'),
  doors_at: column(optionalText, 'read', 'upsert'),
  previous_starts_at: column(optionalText, 'read', 'upsert'),
  time_zone: column(text, 'read', 'upsert'),
  venue_name: column(optionalText, 'read', 'upsert'),
  venue_key: column(optionalText, 'upsert'),
  venue_street: column(optionalText, 'read', 'upsert'),
  venue_postal_code: column(optionalText, 'read', 'upsert'),
  venue_city: column(optionalText, 'read', 'upsert'),
  venue_country: column(optionalText, 'read', 'upsert'),
  latitude: column(optionalNumber, 'read', 'upsert'),
  longitude: column(optionalNumber, 'read', 'upsert'),
  city_key: column(optionalText, 'upsert'),
  /** JSON arrays */
  genres: column(text, 'read', 'upsert'),
  tags: column(text, 'read', 'upsert'),
  prices: column(text, 'read', 'upsert'),
  ticket_url: column(optionalText, 'read', 'upsert'),
  sold_out: column(integer, 'read', 'upsert'),
  image_url: column(optionalText, 'read', 'upsert'),
  image_alt: column(optionalText, 'read', 'upsert'),
  status: column(text, 'read', 'upsert'),
  visibility: column(text, 'read', 'upsert'),
  /** Folded text of title, subtitle, description, venue and organizer for `q`. */
  search_text: column(text, 'upsert'),
  source_updated_at: column(optionalText, 'read', 'upsert'),
  content_hash: column(text, 'upsert'),
  revision: column(integer, 'read', 'upsert'),
  first_seen_at: column(text, 'read'),
  last_changed_at: column(text, 'read', 'upsert'),
  /**
   * When a published event left the outputs before ending (removed, deleted, hidden); null while
   * it is published. Dumps from before migration 0004 lack it.
   */
  withdrawn_at: column(optionalText.optional(), 'read', 'upsert'),
  /** The organizer's web site and city. Dumps from before migration 0005 lack these four. */
  organizer_url: column(optionalText.optional(), 'read', 'upsert'),
  organizer_city: column(optionalText.optional(), 'read', 'upsert'),
  /** When ticket sales begin. */
  presale_starts_at: column(optionalText.optional(), 'read', 'upsert'),
  /** JSON array of performers' names; null reads as none. */
  performers: column(optionalText.optional(), 'read', 'upsert'),
  /**
   * The delivery whose message last changed the event: orders messages without a timestamp.
   * Null for imported events; dumps from before migration 0006 lack it.
   */
  last_delivery_id: column(integer.nullable().optional(), 'upsert'),
  /**
   * The visibility the source gave, while `visibility` is what is published (an event an
   * operator hid, or of a blocked organization, or from a test delivery, is published `hidden`);
   * null reads as `visibility`. Dumps from before migration 0009 lack it and `test`.
   */
  source_visibility: column(optionalText.optional(), 'upsert'),
  /** 1 when a `marquee send-test` delivery last wrote the event: never published. */
  test: column(integer.optional(), 'upsert'),
  /**
   * Hash of the raw source object the row was made from (events/ingest.ts), so that a sync
   * skips copies that did not change; null for rows from anything else. Dumps from before
   * migration 0012 lack it.
   */
  source_hash: column(optionalText.optional(), 'upsert'),
};

type EventTableSpec = typeof EVENT_TABLE;

export type EventColumn = keyof EventTableSpec;

/** The columns on the `use` list. */
type ColumnsFor<Use extends ColumnUse> = {
  [Name in EventColumn]: Use extends EventTableSpec[Name]['uses'][number] ? Name : never;
}[EventColumn];

/** Each column's value as stored (see db/schema.ts for how it is inserted). */
export type EventColumnValues = {
  [Name in EventColumn]: z.output<EventTableSpec[Name]['schema']>;
};

/** Columns the domain event is made of. */
export type ReadColumn = ColumnsFor<'read'>;

/** Columns an upsert rewrites on a stored event; the others keep their first value. */
export type UpsertColumn = ColumnsFor<'upsert'>;

const names = Object.keys(EVENT_TABLE) as EventColumn[];

/** Every column, in dump order. */
export const EVENT_COLUMNS: readonly EventColumn[] = names;

/** The columns `toEvent` reads: the event without search and filter keys and hash. */
export const READ_COLUMNS = names.filter((name) =>
  (EVENT_TABLE[name].uses as readonly ColumnUse[]).includes('read'),
) as readonly ReadColumn[];

/** The columns an upsert sets from the incoming row when the event exists. */
export const UPSERT_COLUMNS = names.filter((name) =>
  (EVENT_TABLE[name].uses as readonly ColumnUse[]).includes('upsert'),
) as readonly UpsertColumn[];

/** A dumped event row: exactly the table's columns, each of its stored type. */
export const eventRowSchema = z.strictObject(
  Object.fromEntries(names.map((name) => [name, EVENT_TABLE[name].schema])) as {
    [Name in EventColumn]: EventTableSpec[Name]['schema'];
  },
);
