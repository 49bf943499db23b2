import { describe } from '../../events/description.js';
import type { EventStatus, NormalizedEvent, Price } from '../../events/types.js';
import type { EventportEvent, EventportProfile } from './schema.js';

const LEGACY_PRICES = [
  ['preSalePrice', 'Pre-sale'],
  ['boxOfficePrice', 'Box office'],
  ['specialPrice', 'Special'],
] as const;

function pricesOf(event: EventportEvent): Price[] {
  const prices: Price[] = event.priceCategories
    .filter((category) => category.price !== null && category.price >= 0)
    .map((category) => ({
      amount: category.price ?? 0,
      currency: 'EUR',
      label: category.name?.text ?? category.name?.id ?? null,
    }));
  if (prices.length > 0) return prices;
  return LEGACY_PRICES.flatMap(([field, label]) => {
    const amount = event[field];
    return amount !== null && amount >= 0 ? [{ amount, currency: 'EUR', label }] : [];
  });
}

function statusOf(event: EventportEvent): EventStatus {
  if (event.cancelled) return 'cancelled';
  if (event.rescheduled) return 'rescheduled';
  if (event.relocated) return 'relocated';
  return 'scheduled';
}

// Purpose "6" is the main homepage photo, "1" a homepage photo, "0" available to publishers.
function mainPhoto(event: EventportEvent) {
  for (const purpose of ['6', '1', '0']) {
    const photo = event.photos.find(
      (candidate) => candidate.url && candidate.purposes.includes(purpose),
    );
    if (photo) return photo;
  }
  return event.photos.find((candidate) => candidate.url) ?? null;
}

const LOOKS_LIKE_HTML = /<\/?(p|br|a|strong|em|b|i|ul|ol|li|div|span|h[1-6])\b[^>]*>/i;

/** Turns one Eventport event into the shared model. */
export function normalizeEventportEvent(
  event: EventportEvent,
  profile: EventportProfile | null,
  timeZone: string,
): NormalizedEvent {
  const description = describe(
    event.description,
    event.description && LOOKS_LIKE_HTML.test(event.description) ? 'html' : 'text',
  );
  const endsAt =
    !event.openEnd && event.end && event.end.getTime() > event.begin.getTime() ? event.end : null;
  const doorsAt =
    event.inlet && event.inlet.getTime() <= event.begin.getTime() ? event.inlet : null;
  const photo = mainPhoto(event);
  const location = event.location;
  const latitude = location?.latitude ?? null;
  const longitude = location?.longitude ?? null;
  const street = [location?.street, location?.addressAddition ?? location?.addressAddiction]
    .filter((part): part is string => Boolean(part))
    .join(', ');
  return {
    source: 'eventport',
    externalId: event._id,
    title: event.name,
    subtitle: event.subtitle,
    descriptionText: description.text,
    descriptionHtml: description.html,
    startsAt: event.begin,
    endsAt,
    doorsAt,
    // Eventport sends UTC instants without a zone; its venues are in one configured zone.
    timeZone,
    venue: {
      name: location?.name ?? null,
      street: street || null,
      postalCode: location?.postalcode ?? null,
      city: location?.city ?? null,
      country: location?.country ?? null,
      latitude: latitude !== null && Math.abs(latitude) <= 90 ? latitude : null,
      longitude: longitude !== null && Math.abs(longitude) <= 180 ? longitude : null,
    },
    genres: event.genres,
    tags: event.types,
    organizer: {
      id: event.profileId ?? profile?._id ?? null,
      name: event.organizer ?? profile?.name ?? null,
      url: profile?.homepage ?? null,
      city: profile?.city ?? null,
    },
    ticketUrl: event.tickets.find((ticket) => ticket.url)?.url ?? null,
    presaleStartsAt: event.preSaleBegin,
    performers: [...new Set(event.lineup.filter((name): name is string => name !== null))].slice(
      0,
      100,
    ),
    prices: pricesOf(event),
    soldOut: event.soldOut,
    image: photo?.url ? { url: photo.url, alt: photo.title } : null,
    status: statusOf(event),
    visibility: 'public',
    ...(description.cut.length > 0 ? { cut: description.cut } : {}),
    sourceUpdatedAt: event.changedOn,
  };
}
