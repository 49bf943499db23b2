import { FIXED_NOW } from './test-app.js';

/**
 * Deliveries built from the sources' contracts (shared/specs), for reliability and load tests.
 * Event dates lie ahead of both clocks the tests run on (see `startFor`).
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * March 1st of the year after both the real clock and FIXED_NOW: child processes run on the real
 * clock, test apps on the pinned one, and the events must be upcoming on both, on any date.
 */
const FIRST_START = Date.UTC(
  Math.max(new Date().getUTCFullYear(), FIXED_NOW.getUTCFullYear()) + 1,
  2,
  1,
  19,
  0,
);

/** A start instant up to 300 days after FIRST_START derived from a number, so every event keeps its own start. */
export function startFor(key: number): Date {
  return new Date(FIRST_START + (key % 300) * DAY_MS + (key % 5) * 30 * 60_000);
}

const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

export interface StagerEventInput {
  id: number | string;
  name: string;
  status?: string;
  start: Date;
  updatedAt?: Date;
  description?: string;
  venue?: string;
  city?: string;
}

/** One event in the assumed Stager content shape. */
export function stagerEvent(input: StagerEventInput): Record<string, unknown> {
  return {
    id: input.id,
    status: input.status ?? 'CONFIRMED',
    name: input.name,
    subtitle: '+ support',
    startsAt: iso(input.start),
    endsAt: iso(new Date(input.start.getTime() + 3 * HOUR_MS)),
    doorsOpenAt: iso(new Date(input.start.getTime() - HOUR_MS)),
    timeZone: 'Europe/Amsterdam',
    location: {
      id: 77,
      name: input.venue ?? 'Paradiso Noord',
      street: 'Johan van Hasseltweg 20',
      postalCode: '1021 KN',
      city: input.city ?? 'Amsterdam',
      country: 'NL',
      latitude: 52.3925,
      longitude: 4.9168,
    },
    genres: ['Indie', 'Electronic'],
    tags: ['Concert'],
    description: {
      format: 'MARKDOWN',
      text:
        input.description ??
        `**${input.name}** live.\n\n[Tickets](https://example.org/t/${input.id})`,
    },
    images: [
      {
        type: 'MAIN',
        url: `https://cdn.example.org/${input.id}/main.jpg`,
        altText: `${input.name} on stage`,
      },
    ],
    ticketShopUrl: `https://shop.example.org/events/${input.id}`,
    ticketTypes: [{ name: 'Regular', priceInCents: 2450, feeInCents: 250, soldOut: false }],
    soldOut: false,
    ...(input.updatedAt ? { updatedAt: input.updatedAt.toISOString() } : {}),
  };
}

/** A Stager envelope; `extra` adds fields Marquee must ignore (a nonce keeps bodies distinct). */
export function stagerMessage(
  type: 'UPDATE_EVENTS' | 'ORGANIZATION_SYNC',
  organization: { id: number | string; name: string },
  events: unknown[],
  extra: Record<string, unknown> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({ messageType: type, messageContent: { organization, events }, ...extra }),
  );
}

export interface EventportEventInput {
  id: string;
  name: string;
  start: Date;
  changedOn?: Date;
  description?: string;
  venue?: string;
  city?: string;
}

/** The private profile fields of the Eventport examples, with values distinctive enough to search for. */
export const PRIVATE_PROFILE = {
  phone: '+49 176 555 0100',
  email: 'office.private@eventport-profile.example',
  counterparts: [
    {
      name: 'Maxima Privatperson',
      phone: '+49 176 555 0199',
      email: 'maxima.privat@counterpart.example',
      roles: ['Marketing'],
    },
  ],
};

export const PRIVATE_EVENT_FIELDS = {
  remark: 'PRIVATE remark: backstage code 4711',
  publisherReceivers: ['receiver-private-0001'],
  publisherReceiverGroups: ['receiver-group-private-0002'],
  userReceivers: ['user-receiver-private-0003'],
  channels: {
    publisherNewsletter: {
      description: 'PRIVATE newsletter text for publishers only',
      useGeneralDescription: false,
    },
    facebook: {
      id: 'fb-private-internal-0004',
      description: 'PRIVATE facebook text',
      postTimeType: 0,
      useGeneralDescription: false,
    },
  },
};

/** One Eventport v1.0 `post` delivery, private fields included as real deliveries carry them. */
export function eventportPost(
  input: EventportEventInput,
  extra: Record<string, unknown> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'event',
      method: 'post',
      version: '1.0',
      data: {
        event: {
          _id: input.id,
          profileId: 'tj4zTLeFTkAunsnMh',
          name: input.name,
          inlet: iso(new Date(input.start.getTime() - HOUR_MS)),
          begin: iso(input.start),
          end: iso(new Date(input.start.getTime() + 5 * HOUR_MS)),
          openEnd: false,
          description: input.description ?? `${input.name}.\n\nAll night long.`,
          genres: ['House', 'Techno'],
          types: ['Clubevent'],
          location: {
            _id: 'tj4zTLeFTkAunsnMh',
            name: input.venue ?? 'Harry Klein',
            street: 'Sonnenstrasse 8',
            postalcode: '80331',
            city: input.city ?? 'München',
            facebookPageId: 785890424771022,
          },
          priceCategories: [
            { name: { id: 'PRESALE_PRICE', text: 'Pre-sale' }, price: 12, hasProcessingFee: 0 },
          ],
          tickets: [{ url: `https://tickets.example.org/${input.id}`, text: 'Tickets' }],
          media: [],
          rescheduled: false,
          relocated: false,
          cancelled: false,
          organizer: 'Harry Klein Club',
          ...(input.changedOn ? { changedOn: input.changedOn.toISOString() } : {}),
          ...PRIVATE_EVENT_FIELDS,
        },
        profile: {
          _id: 'tj4zTLeFTkAunsnMh',
          name: 'Eventport',
          city: 'München',
          ...PRIVATE_PROFILE,
        },
      },
      ...extra,
    }),
  );
}

/** An Eventport v1.0 `cancel` delivery. */
export function eventportCancel(id: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'event',
      method: 'cancel',
      version: '1.0',
      data: { event: { _id: id } },
      ...extra,
    }),
  );
}
