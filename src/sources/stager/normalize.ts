import { describe, type DescriptionFormat } from '../../events/description.js';
import type { EventStatus, EventVisibility, NormalizedEvent, Price } from '../../events/types.js';
import type { StagerEvent } from './schema.js';

/** Every backstage status the contract names; statusOf decides what each means. */
export const STAGER_STATUSES: readonly string[] = [
  'CONFIRMED',
  'CANCELLED',
  'TO_BE_CANCELLED',
  'OPTION',
  'TO_BE_CONFIRMED',
];

/** Stager's backstage status decides visibility: only confirmed events (and cancellations) are public. */
function statusOf(status: string | null | undefined): {
  status: EventStatus;
  visibility: EventVisibility;
} {
  switch (status ?? 'CONFIRMED') {
    case 'CONFIRMED':
      return { status: 'scheduled', visibility: 'public' };
    case 'CANCELLED':
    case 'TO_BE_CANCELLED':
      return { status: 'cancelled', visibility: 'public' };
    default:
      // OPTION, TO_BE_CONFIRMED and statuses we do not know yet stay out of public outputs.
      return { status: 'scheduled', visibility: 'hidden' };
  }
}

function formatOf(format: string | undefined): DescriptionFormat {
  const upper = (format ?? 'HTML').toUpperCase();
  if (upper === 'MARKDOWN' || upper === 'MD') return 'markdown';
  if (upper === 'TEXT' || upper === 'PLAIN') return 'text';
  // The guide says publicity text is Markdown with HTML allowed; Markdown renders HTML too.
  return 'markdown';
}

// Assumed: the public price is what a buyer pays, ticket price plus fee, in euros.
function pricesOf(event: StagerEvent): Price[] {
  return event.ticketTypes
    .filter((ticket) => ticket.priceInCents !== null && ticket.priceInCents >= 0)
    .map((ticket) => ({
      amount: Math.round((ticket.priceInCents ?? 0) + Math.max(ticket.feeInCents ?? 0, 0)) / 100,
      currency: 'EUR',
      label: ticket.name,
    }));
}

/** Turns one Stager event into the shared model. */
export function normalizeStagerEvent(
  event: StagerEvent,
  organization: { id: string; name: string | null },
  defaultTimeZone: string,
): NormalizedEvent {
  const { status, visibility } = statusOf(event.status);
  const description = describe(event.description?.text, formatOf(event.description?.format));
  const main =
    event.images.find((image) => image.url && image.type?.toUpperCase() === 'MAIN') ??
    event.images.find((image) => image.url);
  const endsAt =
    event.endsAt && event.endsAt.getTime() > event.startsAt.getTime() ? event.endsAt : null;
  const doorsAt =
    event.doorsOpenAt && event.doorsOpenAt.getTime() <= event.startsAt.getTime()
      ? event.doorsOpenAt
      : null;
  const ticketTypesSoldOut =
    event.ticketTypes.length > 0 && event.ticketTypes.every((ticket) => ticket.soldOut);
  return {
    source: 'stager',
    externalId: event.id,
    title: event.name,
    subtitle: event.subtitle,
    descriptionText: description.text,
    descriptionHtml: description.html,
    startsAt: event.startsAt,
    endsAt,
    doorsAt,
    timeZone: event.timeZone ?? defaultTimeZone,
    venue: {
      name: event.location?.name ?? null,
      street: event.location?.street ?? null,
      postalCode: event.location?.postalCode ?? null,
      city: event.location?.city ?? null,
      country: event.location?.country ?? null,
      latitude: event.location?.latitude ?? null,
      longitude: event.location?.longitude ?? null,
    },
    genres: event.genres,
    tags: event.tags,
    // Assumed: the content names no organizer web site, city, pre-sale start or line-up.
    organizer: { id: organization.id, name: organization.name, url: null, city: null },
    ticketUrl: event.ticketShopUrl,
    presaleStartsAt: null,
    performers: [],
    prices: pricesOf(event),
    soldOut: event.soldOut || ticketTypesSoldOut,
    image: main?.url ? { url: main.url, alt: main.altText } : null,
    status,
    visibility,
    ...(description.cut.length > 0 ? { cut: description.cut } : {}),
    sourceUpdatedAt: event.updatedAt,
  };
}
