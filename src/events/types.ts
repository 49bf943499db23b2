/**
 * The event model shared by every source. Adapters in `sources/` produce `NormalizedEvent`s;
 * the repository stores them and hands `Event`s (with identity, revision and timestamps) to
 * renderers and handlers.
 */

/** Every source, one webhook sender each; `sources/index.ts` holds their adapters. */
export const SOURCE_NAMES = ['stager', 'eventport'] as const;

export type SourceName = (typeof SOURCE_NAMES)[number];

export type EventStatus = 'scheduled' | 'cancelled' | 'rescheduled' | 'relocated';

/**
 * Whether an event is shown publicly. `hidden`: the source says it is not public (a Stager
 * option). `removed`: an authoritative sync no longer lists it.
 */
export type EventVisibility = 'public' | 'hidden' | 'removed';

/** Every visibility but `public`: the states a published event can be withdrawn into. */
export const UNPUBLISHED_VISIBILITIES = ['hidden', 'removed'] as const satisfies Exclude<
  EventVisibility,
  'public'
>[];

export interface Venue {
  name: string | null;
  street: string | null;
  postalCode: string | null;
  city: string | null;
  country: string | null;
  latitude: number | null;
  longitude: number | null;
}

export interface Price {
  /** Amount in the currency's major unit (euros, not cents). */
  amount: number;
  currency: string;
  label: string | null;
}

export interface Organizer {
  id: string | null;
  name: string | null;
  /** The organizer's own web site (an http(s) URL), when the source gives one. */
  url: string | null;
  /** The organizer's city: where an event without a venue city most likely takes place. */
  city: string | null;
}

export interface EventImage {
  url: string;
  alt: string | null;
}

/** What an adapter extracts from one source event: everything but storage bookkeeping. */
export interface NormalizedEvent {
  source: SourceName;
  externalId: string;
  title: string;
  subtitle: string | null;
  /** Plain text, always present when the source gives any description. */
  descriptionText: string | null;
  /** Sanitized HTML, when the source gives HTML or Markdown. */
  descriptionHtml: string | null;
  startsAt: Date;
  /** Null when the event is open-ended. */
  endsAt: Date | null;
  doorsAt: Date | null;
  /** IANA zone the event takes place in. */
  timeZone: string;
  venue: Venue;
  genres: string[];
  tags: string[];
  organizer: Organizer;
  ticketUrl: string | null;
  /** When ticket sales begin, when the source says. */
  presaleStartsAt: Date | null;
  /** Who performs, in the source's order (its line-up). */
  performers: string[];
  prices: Price[];
  soldOut: boolean;
  image: EventImage | null;
  status: EventStatus;
  visibility: EventVisibility;
  /** The source's own modification time, used to ignore out-of-order updates. */
  sourceUpdatedAt: Date | null;
  /** What the field limits cut from the source (recorded on the delivery); not content. */
  cut?: string[];
  /**
   * Hash of the raw source object this was read from (see `SourceLookup`), stored so that a
   * later copy hashing the same is skipped unread; not content. Absent for sources without.
   */
  sourceHash?: string;
}

/** A stored event as every output sees it. */
export interface Event extends NormalizedEvent {
  /** Stable public id: `<source>-<externalId>`. */
  id: string;
  /** When the event counts as over (see `effectiveEnd` in events/event-window.ts). */
  effectiveEndsAt: Date;
  /** Start before the latest reschedule, when known. */
  previousStartsAt: Date | null;
  firstSeenAt: Date;
  lastChangedAt: Date;
  /** Increases on every material change; the ICS SEQUENCE. */
  revision: number;
  /**
   * When the event, once published, left the outputs for a reason other than ending (a sync
   * removed it, the source hid it); null while it is published, and for an event never published.
   */
  withdrawnAt: Date | null;
  /**
   * The source records this published event is made of, its own first, when another source's
   * record was merged into it (events/duplicates.ts); absent when it is its own only record.
   */
  records?: EventRecordRef[];
  /** On a merged record's calendar tombstone: the id of the published event it duplicates. */
  duplicateOf?: string;
}

/** One source record of a published event. */
export interface EventRecordRef {
  id: string;
  source: SourceName;
  externalId: string;
  /** The record's own link (its ticket or listing URL at the source), or null. */
  url: string | null;
}

/**
 * Whether an event was published and has since been withdrawn: calendars keep it as a cancelled
 * tombstone until it would have ended, every other output leaves it out.
 */
export function isWithdrawn(
  event: Pick<Event, 'visibility' | 'withdrawnAt' | 'duplicateOf'>,
): boolean {
  if (event.duplicateOf !== undefined) return true;
  return event.visibility !== 'public' && event.withdrawnAt !== null;
}

/** An external id: 1-64 letters, digits or `_ . : -`, safe in URLs and ICS UIDs. */
export const EXTERNAL_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A public event id as eventId builds it: a source name, `-`, an external id. */
export const EVENT_ID_PATTERN = new RegExp(`^[a-z]+-${EXTERNAL_ID_PATTERN.source.slice(1)}`);

/** Builds the public id of an event from its identity. */
export function eventId(source: SourceName, externalId: string): string {
  return `${source}-${externalId}`;
}

/** An event of a message that could not be normalized, with the reason kept in the inbox. */
export interface SkippedEvent {
  externalId: string | null;
  reason: string;
}

/** What a delivery asks Marquee to do, once its source's adapter has read it; ingest applies it. */
export type SourceMessage =
  | {
      kind: 'upsert';
      messageType: string;
      events: NormalizedEvent[];
      skipped: SkippedEvent[];
      /** External ids of events whose raw copy hashed as the stored one's: not read again. */
      unchanged?: string[];
    }
  | {
      /** The authoritative list of an organization's upcoming events. */
      kind: 'sync';
      messageType: string;
      organization: { id: string; name: string | null };
      events: NormalizedEvent[];
      skipped: SkippedEvent[];
      /** External ids of events whose raw copy hashed as the stored one's: not read again. */
      unchanged?: string[];
    }
  | { kind: 'cancel'; messageType: string; externalIds: string[] }
  | { kind: 'ignored'; messageType: string | null; reason: string };
