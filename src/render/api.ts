import type { Event } from '../events/types.js';
import type { FeedChannel } from './channel.js';
import type { FragmentCache } from '../cache/fragment-cache.js';
import { eventSources, safeHttpUrl } from './event-text.js';
import { eventIcsPath, eventPageUrl } from './event-url.js';
import { FeedDocument, eventFragments } from './feed-document.js';

/** The public JSON shape of an event: every public field, nothing private or internal. */
export interface PublicEvent {
  id: string;
  source: string;
  url: string;
  icsUrl: string;
  title: string;
  subtitle: string | null;
  description: { text: string | null; html: string | null };
  start: string;
  end: string | null;
  doorsOpen: string | null;
  previousStart: string | null;
  timeZone: string;
  status: Event['status'];
  venue: Event['venue'];
  city: string | null;
  genres: string[];
  tags: string[];
  organizer: Event['organizer'];
  ticketUrl: string | null;
  prices: Event['prices'];
  soldOut: boolean;
  image: Event['image'];
  revision: number;
  firstSeenAt: string;
  lastChangedAt: string;
  /** Every source record the event is made of, its own first (merged duplicates). */
  sources: { source: string; externalId: string; url: string | null }[];
}

/**
 * Maps a domain event to its public JSON form. Links are http(s) only, as in every other
 * output: an embedding site may put them straight into an href.
 */
export function toPublicEvent(event: Event, channel: Pick<FeedChannel, 'publicUrl'>): PublicEvent {
  return {
    id: event.id,
    source: event.source,
    url: eventPageUrl(channel.publicUrl, event.id),
    icsUrl: `${channel.publicUrl}${eventIcsPath(event.id)}`,
    title: event.title,
    subtitle: event.subtitle,
    description: { text: event.descriptionText, html: event.descriptionHtml },
    start: event.startsAt.toISOString(),
    end: event.endsAt?.toISOString() ?? null,
    doorsOpen: event.doorsAt?.toISOString() ?? null,
    previousStart: event.previousStartsAt?.toISOString() ?? null,
    timeZone: event.timeZone,
    status: event.status,
    venue: event.venue,
    city: event.venue.city,
    genres: event.genres,
    tags: event.tags,
    organizer: { ...event.organizer, url: safeHttpUrl(event.organizer.url) },
    ticketUrl: safeHttpUrl(event.ticketUrl),
    prices: event.prices,
    soldOut: event.soldOut,
    image: publicImage(event.image),
    revision: event.revision,
    firstSeenAt: event.firstSeenAt.toISOString(),
    lastChangedAt: event.lastChangedAt.toISOString(),
    sources: eventSources(event),
  };
}

/** The image when its URL is http(s); a link of another scheme is no image. */
function publicImage(image: Event['image']): Event['image'] {
  if (image === null) return null;
  const url = safeHttpUrl(image.url);
  return url === null ? null : { ...image, url };
}

/** GET /api/events body: `{ total, limit, offset, events }`. */
export function renderEventsApi(
  page: { total: number; events: readonly Event[] },
  paging: { limit: number; offset: number },
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): string {
  return eventsApiDocument(page, paging, channel, cache).text();
}

/**
 * The GET /api/events body as a document of per-event JSON, exactly
 * `JSON.stringify({ total, limit, offset, events })`. With a cache, each event's JSON is
 * rendered once per event revision and channel.
 */
export function eventsApiDocument(
  page: { total: number; events: readonly Event[] },
  paging: { limit: number; offset: number },
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): FeedDocument {
  const events = eventFragments('api', page.events, channel, cache, (missing) =>
    missing.map((event) => JSON.stringify(toPublicEvent(event, channel))),
  );
  const head = JSON.stringify({ total: page.total, limit: paging.limit, offset: paging.offset });
  return new FeedDocument(`${head.slice(0, -1)},"events":[`, events, ']}', ',');
}
