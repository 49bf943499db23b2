import { foldKey } from './text-key.js';
import type { Event, EventRecordRef, SourceName } from './types.js';

/**
 * How one published event is made of two source records: the ticket seller decides what it
 * sells, the other fills what is empty. Pure; events/event-reads.ts applies it to pages.
 */

/** The source that sells the tickets: its record decides start, end, status, prices and sales. */
export const TICKET_SELLER: SourceName = 'stager';

/** A record as a reference in `records`. */
export function recordRef(event: Event): EventRecordRef {
  return { id: event.id, source: event.source, externalId: event.externalId, url: event.ticketUrl };
}

/**
 * The published event of `primary` (whose identity, title, venue and organizer it keeps) with
 * `other` merged in: start, end, doors, status, prices, sold-out and ticket URL come from the
 * ticket seller's record; image, subtitle and description from the other only where the
 * primary has none; genres from both.
 */
export function mergeRecords(primary: Event, other: Event): Event {
  const seller = other.source === TICKET_SELLER ? other : primary;
  const genres = [...primary.genres];
  const known = new Set(genres.map(foldKey));
  for (const genre of other.genres) {
    if (!known.has(foldKey(genre))) {
      known.add(foldKey(genre));
      genres.push(genre);
    }
  }
  const hasDescription = primary.descriptionText !== null || primary.descriptionHtml !== null;
  return {
    ...primary,
    startsAt: seller.startsAt,
    endsAt: seller.endsAt,
    effectiveEndsAt: seller.effectiveEndsAt,
    doorsAt: seller.doorsAt ?? (seller === primary ? other.doorsAt : primary.doorsAt),
    previousStartsAt: seller.previousStartsAt,
    status: seller.status,
    prices: seller.prices,
    soldOut: seller.soldOut,
    ticketUrl: seller.ticketUrl ?? primary.ticketUrl ?? other.ticketUrl,
    presaleStartsAt: seller.presaleStartsAt,
    image: primary.image ?? other.image,
    subtitle: primary.subtitle ?? other.subtitle,
    descriptionText: hasDescription ? primary.descriptionText : other.descriptionText,
    descriptionHtml: hasDescription ? primary.descriptionHtml : other.descriptionHtml,
    genres,
    records: [recordRef(primary), recordRef(other)],
  };
}
