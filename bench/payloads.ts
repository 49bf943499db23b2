import { createHmac } from 'node:crypto';
import http from 'node:http';

/** Deterministic message generators following the sources' contracts, for load and sync runs. */

export const BENCH_SECRETS = {
  stagerKey: 'bench-stager-signing-key-0123456789',
  eventportToken: 'bench-eventport-token-abcdefghij',
};

const CITIES = [
  'Amsterdam',
  'Rotterdam',
  'Utrecht',
  'Den Haag',
  'Eindhoven',
  'Groningen',
  'Haarlem',
  'Leiden',
  'Nijmegen',
  'Tilburg',
];
const GENRES = [
  'Indie',
  'Electronic',
  'House',
  'Techno',
  'Jazz',
  'Hip Hop',
  'Pop',
  'Rock',
  'Folk',
  'Classical',
];

/** One Stager event; every tenth event is in Amsterdam, so 10% of any set match `city=Amsterdam`. */
export function stagerEvent(id: number, revision = 0): Record<string, unknown> {
  const start = new Date(
    Date.UTC(2027, 0, 1, 19, 30) + (id % 360) * 86_400_000 + (id % 7) * 1_800_000,
  );
  const city = CITIES[id % CITIES.length] as string;
  return {
    id,
    status: 'CONFIRMED',
    name: `Artist ${id}${revision ? ` (rev ${revision})` : ''}`,
    subtitle: id % 3 === 0 ? '+ support' : undefined,
    startsAt: start.toISOString().replace('.000Z', 'Z'),
    endsAt: new Date(start.getTime() + 3 * 3_600_000).toISOString().replace('.000Z', 'Z'),
    doorsOpenAt: new Date(start.getTime() - 3_600_000).toISOString().replace('.000Z', 'Z'),
    timeZone: 'Europe/Amsterdam',
    location: {
      id: 100 + (id % 50),
      name: `Venue ${id % 50}`,
      street: `Hoofdstraat ${id % 200}`,
      postalCode: '1011 AB',
      city,
      country: 'NL',
      latitude: 52 + (id % 100) / 1000,
      longitude: 4.9 + (id % 100) / 1000,
    },
    genres: [GENRES[id % GENRES.length], GENRES[(id + 3) % GENRES.length]],
    tags: ['Concert'],
    description: {
      format: 'MARKDOWN',
      text: `**Artist ${id}** returns with a new record.\n\nExpect songs from the album and a few surprises. [More](https://example.org/artists/${id}).`,
    },
    images: [
      {
        type: 'MAIN',
        url: `https://cdn.example.org/${id}/main.jpg`,
        altText: `Artist ${id} on stage`,
      },
    ],
    ticketShopUrl: `https://shop.example.org/events/${id}`,
    ticketTypes: [
      { name: 'Regular', priceInCents: 2000 + (id % 20) * 50, feeInCents: 200, soldOut: false },
      { name: 'Door', priceInCents: 2500, feeInCents: 0, soldOut: false },
    ],
    soldOut: false,
    updatedAt: new Date(Date.UTC(2026, 10, 1) + revision * 60_000).toISOString(),
  };
}

export function stagerMessage(
  type: 'UPDATE_EVENTS' | 'ORGANIZATION_SYNC',
  organizationId: number,
  events: Record<string, unknown>[],
): Buffer {
  return Buffer.from(
    JSON.stringify({
      messageType: type,
      messageContent: {
        organization: { id: organizationId, name: `Organization ${organizationId}` },
        events,
      },
    }),
  );
}

/**
 * A sync of events `firstId` to `firstId + count - 1` listed last to first (so that its body
 * differs from the first-to-last one, which Marquee would ignore as a duplicate), with the
 * revision `revisionOf` gives each (0: as `stagerSync` sends it).
 */
export function stagerResync(
  organizationId: number,
  firstId: number,
  count: number,
  revisionOf: (id: number) => number,
): Buffer {
  const events = [];
  for (let id = firstId + count - 1; id >= firstId; id -= 1)
    events.push(stagerEvent(id, revisionOf(id)));
  return stagerMessage('ORGANIZATION_SYNC', organizationId, events);
}

/** A sync of `count` events with ids starting at `firstId`. */
export function stagerSync(organizationId: number, firstId: number, count: number): Buffer {
  const events = [];
  for (let id = firstId; id < firstId + count; id += 1) events.push(stagerEvent(id));
  return stagerMessage('ORGANIZATION_SYNC', organizationId, events);
}

export function signStager(body: Buffer): string {
  return createHmac('sha256', BENCH_SECRETS.stagerKey).update(body).digest('hex');
}

/**
 * Signed `UPDATE_EVENTS` requests of one event each, for events `firstId` to
 * `firstId + count - 1`: every body differs, as real deliveries do (a repeated body is recognised
 * and skips processing). Shaped for autocannon's `requests`.
 */
export function stagerUpdateRequests(organizationId: number, firstId: number, count: number) {
  return Array.from({ length: count }, (_, index) => {
    const body = stagerMessage('UPDATE_EVENTS', organizationId, [stagerEvent(firstId + index)]);
    return {
      method: 'POST' as const,
      path: '/webhooks/stager',
      headers: { 'content-type': 'application/json', 'x-signature': signStager(body) },
      body: body.toString(),
    };
  });
}

/**
 * POSTs a signed Stager message to `baseUrl` on a connection of its own, as a sender would, and
 * throws unless it is answered 202. A pooled keep-alive connection is not used: while the bench
 * itself was busy (building a body, a raw insert), the server closed the idle connection as it
 * should after its keep-alive timeout, and the next write to it failed with EPIPE.
 */
export async function deliverStager(baseUrl: string, body: Buffer, what: string): Promise<void> {
  const status = await new Promise<number>((resolve, reject) => {
    const request = http.request(
      `${baseUrl}/webhooks/stager`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'x-signature': signStager(body),
        },
      },
      (response) => {
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.once('error', reject);
    request.end(body);
  });
  if (status !== 202) throw new Error(`bench: ${what} answered ${status}`);
}

export function eventportPost(id: number): Buffer {
  const start = new Date(Date.UTC(2027, 1, 1, 21) + (id % 200) * 86_400_000);
  return Buffer.from(
    JSON.stringify({
      type: 'event',
      method: 'post',
      version: '1.0',
      data: {
        event: {
          _id: `Bench${String(id).padStart(12, '0')}`,
          profileId: 'BenchProfile00001',
          name: `Club night ${id}`,
          inlet: start.toISOString(),
          begin: start.toISOString(),
          end: new Date(start.getTime() + 5 * 3_600_000).toISOString(),
          openEnd: false,
          description: 'All night long.\n\nBring friends.',
          genres: ['House', 'Techno'],
          types: ['Clubevent'],
          location: {
            _id: 'loc',
            name: 'Harry Klein',
            street: 'Sonnenstraße 8',
            postalcode: '80331',
            city: 'München',
          },
          priceCategories: [
            {
              name: { id: 'BOX_OFFICE_PRICE', text: 'Box office' },
              price: 15,
              hasProcessingFee: false,
            },
          ],
          tickets: [{ url: 'https://tickets.example.org/', text: 'Tickets' }],
          rescheduled: false,
          relocated: false,
          cancelled: false,
          remark: 'private note',
          changedOn: new Date(Date.UTC(2026, 10, 1) + id * 1000).toISOString(),
          organizer: 'Harry Klein',
        },
        profile: {
          _id: 'BenchProfile00001',
          name: 'Harry Klein',
          phone: '+49 000',
          email: 'x@example.org',
        },
      },
    }),
  );
}

const BIOGRAPHY = [
  'formed in a rehearsal room above a bicycle shop and spent three years on the road before recording a note',
  'blends warm analogue synthesizers with a rhythm section raised on soul, krautrock and late-night radio',
  'toured with a string quartet last winter and brings the arrangements from those shows to this stage',
  'wrote the new album in a farmhouse on the coast, and the songs still carry the weather of that season',
  'is known for sets that start quietly and end with the whole room singing the choruses back',
  'produced the record themselves, with guest appearances from friends across the local scene',
];

/**
 * One Stager event whose description is as long as venues' real ones (about 2,500 characters:
 * a biography, a programme note, practical details), for the ICS size budget.
 */
export function stagerEventWithLongDescription(id: number): Record<string, unknown> {
  const paragraphs = Array.from({ length: 12 }, (_, index) => {
    const line = BIOGRAPHY[(id + index) % BIOGRAPHY.length] as string;
    return `Artist ${id} ${line}. Night ${index + 1} of the tour: doors open an hour before the show, and the support act starts at eight.`;
  });
  paragraphs.push(
    'Accessibility: the venue has step-free access and a viewing platform. Lockers are available at the entrance. Tickets are personal; bring ID.',
  );
  return {
    ...stagerEvent(id),
    description: { format: 'MARKDOWN', text: paragraphs.join('\n\n') },
  };
}
