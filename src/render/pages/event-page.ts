import type { Eta } from 'eta';
import { plainTextToHtml, sanitizeDescriptionHtml } from '../../events/description.js';
import { valueQueryString } from '../../events/filter.js';
import { isoInZone, localDateKey } from '../../events/time.js';
import type { Event } from '../../events/types.js';
import {
  dayHeading,
  formatClock,
  formatPrice,
  genreLines,
  lineOrNull,
  localityLine,
  locationLine,
  oneLine,
  presentLines,
  safeHttpUrl,
  eventSources,
  sourceDisplayName,
} from '../event-text.js';
import { eventIcsPath, eventPageUrl } from '../event-url.js';
import { openEndNote, statusBadges } from './event-list.js';
import type { SiteInfo } from './templates.js';

/**
 * The page of one event (GET /events/:id): details, description, map link, Open Graph tags and
 * schema.org JSON-LD. Laid out by views/event.eta.
 */

const SCHEMA_STATUS: Record<Event['status'], string> = {
  scheduled: 'https://schema.org/EventScheduled',
  cancelled: 'https://schema.org/EventCancelled',
  rescheduled: 'https://schema.org/EventRescheduled',
  // schema.org has no "relocated"; the new location is simply the location.
  relocated: 'https://schema.org/EventScheduled',
};

const withoutNulls = (value: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(value).filter(
      ([, item]) =>
        item !== null && item !== undefined && !(Array.isArray(item) && item.length === 0),
    ),
  );

/**
 * Schema.org `Event` data for search engines and link previews, with Google's required and
 * recommended properties wherever the source gives them: a location always has an address with
 * at least a locality when any city is known (the venue's, else the organizer's).
 */
export function eventJsonLd(
  event: Event,
  site: Pick<SiteInfo, 'publicUrl'>,
): Record<string, unknown> {
  const url = eventPageUrl(site.publicUrl, event.id);
  const venue = event.venue;
  const locality = lineOrNull(venue.city) ?? lineOrNull(event.organizer.city);
  const address = withoutNulls({
    '@type': 'PostalAddress',
    streetAddress: lineOrNull(venue.street),
    postalCode: lineOrNull(venue.postalCode),
    addressLocality: locality,
    addressCountry: lineOrNull(venue.country),
  });
  const image = safeHttpUrl(event.image?.url);
  // The end a calendar shows too: for an open-ended event, the documented default duration.
  const end = event.endsAt ?? event.effectiveEndsAt;
  const organizerName = lineOrNull(event.organizer.name);
  return withoutNulls({
    '@context': 'https://schema.org',
    '@type': 'Event',
    '@id': url,
    url,
    name: lineOrNull(event.title) ?? event.id,
    description:
      (event.descriptionText === null ? null : event.descriptionText.trim().slice(0, 5000)) ||
      lineOrNull(event.subtitle),
    startDate: isoInZone(event.startsAt, event.timeZone),
    endDate: end > event.startsAt ? isoInZone(end, event.timeZone) : null,
    doorTime: event.doorsAt ? isoInZone(event.doorsAt, event.timeZone) : null,
    eventStatus: SCHEMA_STATUS[event.status],
    previousStartDate:
      event.previousStartsAt !== null && event.status === 'rescheduled'
        ? isoInZone(event.previousStartsAt, event.timeZone)
        : null,
    eventAttendanceMode: 'https://schema.org/OfflineEventAttendanceMode',
    location: withoutNulls({
      '@type': 'Place',
      name: lineOrNull(venue.name) ?? locationLine(venue) ?? locality,
      address: Object.keys(address).length > 1 ? address : null,
      geo:
        venue.latitude !== null && venue.longitude !== null
          ? { '@type': 'GeoCoordinates', latitude: venue.latitude, longitude: venue.longitude }
          : null,
    }),
    performer: presentLines(event.performers).map((name) => ({ '@type': 'PerformingGroup', name })),
    organizer:
      organizerName === null
        ? null
        : withoutNulls({
            '@type': 'Organization',
            name: organizerName,
            url: safeHttpUrl(event.organizer.url),
          }),
    offers: offersOf(event, url),
    image: image === null ? [] : [image],
    sameAs: sameAsOf(event, site),
  });
}

/** The other records' pages and links: the same event as listed elsewhere. */
function sameAsOf(event: Event, site: Pick<SiteInfo, 'publicUrl'>): string[] {
  const urls = (event.records ?? [])
    .filter((record) => record.id !== event.id)
    .flatMap((record) => [eventPageUrl(site.publicUrl, record.id), safeHttpUrl(record.url)]);
  return [...new Set(urls.filter((url): url is string => url !== null))];
}

/**
 * Schema.org offers: one per price, else one for the ticket link. A cancelled event sells
 * nothing, so it has none; the ticket shop, else the event's page, is where to buy.
 */
function offersOf(event: Event, pageUrl: string): Record<string, unknown>[] {
  if (event.status === 'cancelled') return [];
  const ticketUrl = safeHttpUrl(event.ticketUrl);
  const common = {
    url: ticketUrl ?? pageUrl,
    availability: event.soldOut ? 'https://schema.org/SoldOut' : 'https://schema.org/InStock',
    validFrom:
      event.presaleStartsAt === null ? null : isoInZone(event.presaleStartsAt, event.timeZone),
  };
  const offers = event.prices
    .filter((price) => Number.isFinite(price.amount))
    .map((price) =>
      withoutNulls({
        '@type': 'Offer',
        name: lineOrNull(price.label),
        price: price.amount,
        priceCurrency: oneLine(price.currency).toUpperCase(),
        ...common,
      }),
    );
  if (offers.length === 0 && ticketUrl !== null)
    offers.push(withoutNulls({ '@type': 'Offer', ...common }));
  return offers;
}

/**
 * JSON for a `<script type="application/ld+json">` element: `<`, `>` and `&` escaped so no
 * value can close the element or open a comment; U+2028/2029 escaped for old parsers.
 */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** An OpenStreetMap link for a venue: its coordinates, else a search for its address. */
export function mapUrl(venue: Event['venue']): string | null {
  if (
    venue.latitude !== null &&
    venue.longitude !== null &&
    Number.isFinite(venue.latitude) &&
    Number.isFinite(venue.longitude)
  ) {
    const lat = venue.latitude.toFixed(5);
    const lon = venue.longitude.toFixed(5);
    return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
  }
  const address = presentLines([
    venue.name,
    venue.street,
    venue.postalCode,
    venue.city,
    venue.country,
  ]).join(', ');
  return address === ''
    ? null
    : `https://www.openstreetmap.org/search?query=${encodeURIComponent(address)}`;
}

/** The description as safe HTML: the sanitizer runs again here, the renderer trusts no input. */
function descriptionBody(event: Event): string | null {
  if (event.descriptionHtml !== null && event.descriptionHtml.trim() !== '') {
    const html = sanitizeDescriptionHtml(event.descriptionHtml);
    if (html !== '') return html;
  }
  if (event.descriptionText !== null && event.descriptionText.trim() !== '') {
    return plainTextToHtml(event.descriptionText);
  }
  return null;
}

function summary(event: Event): string | null {
  if (event.descriptionText === null) return null;
  const line = oneLine(event.descriptionText);
  if (line === '') return null;
  return line.length > 200 ? `${line.slice(0, 197).trimEnd()}…` : line;
}

export interface EventPageInput {
  site: SiteInfo;
  event: Event;
}

/** Builds the event page's view model. */
export function eventPageModel(input: EventPageInput) {
  const { site, event } = input;
  const zone = event.timeZone;
  const url = eventPageUrl(site.publicUrl, event.id);
  const title = lineOrNull(event.title) ?? event.id;
  const image = safeHttpUrl(event.image?.url);
  const venue = event.venue;
  const startKey = localDateKey(event.startsAt, zone);
  const startClock = formatClock(event.startsAt, zone);
  let when = { day: dayHeading(startKey), time: startClock };
  if (event.endsAt !== null) {
    const endKey = localDateKey(event.endsAt, zone);
    const end = formatClock(event.endsAt, zone);
    if (endKey === startKey) when = { ...when, time: `${startClock}–${end}` };
    else if (event.endsAt.getTime() - event.startsAt.getTime() < 86_400_000) {
      when = { ...when, time: `${startClock}–${end} (next day)` };
    } else when = { ...when, time: `${startClock} until ${dayHeading(endKey)}, ${end}` };
  }
  const description = summary(event);
  return {
    site,
    title: `${title} · ${site.siteTitle}`,
    canonical: url,
    description,
    og: {
      title,
      description,
      url,
      image,
      imageAlt: image === null ? null : (lineOrNull(event.image?.alt ?? null) ?? title),
      siteName: site.siteTitle,
    },
    jsonLd: jsonForScriptElement(eventJsonLd(event, site)),
    event: {
      id: event.id,
      title,
      subtitle: lineOrNull(event.subtitle),
      cancelled: event.status === 'cancelled',
      badges: statusBadges(event, zone),
      when,
      endNote: openEndNote(event),
      startIso: isoInZone(event.startsAt, zone),
      timeZone: zone,
      otherZone: zone !== site.timeZone,
      doors: event.doorsAt === null ? null : formatClock(event.doorsAt, zone),
      venue: {
        name: lineOrNull(venue.name),
        street: lineOrNull(venue.street),
        locality: localityLine(venue),
        country: lineOrNull(venue.country),
      },
      mapUrl: mapUrl(venue),
      descriptionHtml: descriptionBody(event),
      genres: genreLines(event).map((genre) => ({
        name: genre,
        url: `/${valueQueryString('genre', genre)}`,
      })),
      organizer:
        lineOrNull(event.organizer.name) === null
          ? null
          : {
              name: lineOrNull(event.organizer.name) as string,
              url: `/${valueQueryString('organizer', lineOrNull(event.organizer.name) as string)}`,
            },
      prices: event.prices.map(formatPrice).filter((price): price is string => price !== null),
      soldOut: event.soldOut,
      ticketUrl: safeHttpUrl(event.ticketUrl),
      // Only https images: the page's CSP allows no plain-http image.
      image:
        image !== null && image.startsWith('https:')
          ? { url: image, alt: lineOrNull(event.image?.alt ?? null) ?? '' }
          : null,
      icsUrl: eventIcsPath(event.id),
      alsoListedBy: eventSources(event)
        .slice(1)
        .map((record) => ({ name: sourceDisplayName(record.source), url: record.url })),
    },
  };
}

/** The page of one event. */
export function renderEventPage(templates: Eta, input: EventPageInput): string {
  return templates.render('./event', eventPageModel(input));
}
