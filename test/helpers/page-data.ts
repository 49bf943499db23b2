import { fixture, type TestApp } from './test-app.js';

/**
 * Events for page tests, delivered through the real webhooks: several cities and organizers,
 * a cancelled, a rescheduled, a relocated (Eventport, with Eventport's price labels) and a
 * sold-out event, and one whose every text field carries script payloads.
 */

type Json = Record<string, unknown>;

/** A Stager event in December 2026 (Amsterdam time), with `overrides`. */
export function stagerEvent(id: number, overrides: Json = {}): Json {
  return {
    id,
    status: 'CONFIRMED',
    name: `Event ${id}`,
    startsAt: '2026-12-05T20:30:00+01:00',
    endsAt: '2026-12-05T23:00:00+01:00',
    timeZone: 'Europe/Amsterdam',
    location: {
      name: 'Paradiso Noord',
      street: 'Johan van Hasseltweg 20',
      postalCode: '1021 KN',
      city: 'Amsterdam',
      country: 'NL',
      latitude: 52.3925,
      longitude: 4.9168,
    },
    genres: ['Indie'],
    description: { format: 'MARKDOWN', text: `About event ${id}.` },
    ticketShopUrl: `https://tickets.example/e/${id}`,
    ticketTypes: [{ name: 'Regular', priceInCents: 2000, feeInCents: 250, soldOut: false }],
    updatedAt: '2026-11-20T10:00:00+01:00',
    ...overrides,
  };
}

/** A Stager UPDATE_EVENTS body for one organization. */
export function stagerUpdate(organization: { id: number; name: string }, events: Json[]): string {
  return JSON.stringify({ messageType: 'UPDATE_EVENTS', messageContent: { organization, events } });
}

export const PARADISO = { id: 1042, name: 'Paradiso' };
export const TRESOR = { id: 2001, name: 'Tresor' };

/** Title and description fields full of script payloads. */
export const HOSTILE = {
  id: 666,
  title: '<script>alert("title")</script> Evil <img src=x onerror=alert("img")> Night',
  subtitle: '"><svg onload=alert("subtitle")>',
  descriptionHtml:
    '<p>Hello</p><script>alert("description")</script><iframe src="javascript:alert(\'frame\')"></iframe>' +
    '<img src=x onerror=alert("desc-img")><a href="javascript:alert(\'link\')">click</a>' +
    '<p onclick="alert(\'click\')">Ends with </script><script>alert("breakout")</script></p>',
  venue: 'Club "X" </script><script>alert("venue")</script>',
  genre: '<b onmouseover=alert("genre")>Noise</b>',
};

/** Delivers every page-test event and waits for processing. */
export async function seedPageEvents(app: TestApp): Promise<void> {
  const paradiso = [
    stagerEvent(700001, {
      name: 'Night Tapes',
      subtitle: '+ support',
      genres: ['Indie', 'Electronic'],
      images: [
        {
          type: 'MAIN',
          url: 'https://cdn.example/700001/main.jpg',
          altText: 'Night Tapes on stage',
        },
      ],
    }),
    stagerEvent(700004, {
      name: 'Lowland Choir',
      status: 'CANCELLED',
      startsAt: '2026-12-08T20:00:00+01:00',
      endsAt: '2026-12-08T22:00:00+01:00',
      genres: ['Classical'],
    }),
    stagerEvent(700005, {
      name: 'Moved Concert',
      startsAt: '2026-12-09T20:00:00+01:00',
      endsAt: '2026-12-09T22:00:00+01:00',
      genres: ['Pop'],
    }),
    stagerEvent(700007, {
      name: 'Utrecht Jazz Night',
      startsAt: '2026-12-07T21:00:00+01:00',
      endsAt: '2026-12-07T23:30:00+01:00',
      location: {
        name: 'TivoliVredenburg',
        street: 'Vredenburgkade 11',
        postalCode: '3511 WC',
        city: 'Utrecht',
        country: 'NL',
      },
      genres: ['Jazz'],
      soldOut: true,
    }),
    stagerEvent(HOSTILE.id, {
      name: HOSTILE.title,
      subtitle: HOSTILE.subtitle,
      startsAt: '2026-12-11T20:00:00+01:00',
      endsAt: '2026-12-11T23:00:00+01:00',
      description: { format: 'HTML', text: HOSTILE.descriptionHtml },
      location: { name: HOSTILE.venue, city: 'Amsterdam' },
      genres: [HOSTILE.genre],
      ticketShopUrl: 'javascript:alert("ticket")',
    }),
  ];
  const tresor = [
    stagerEvent(800001, {
      name: 'Berlin Techno Marathon',
      startsAt: '2026-12-06T23:00:00+01:00',
      endsAt: '2026-12-07T08:00:00+01:00',
      timeZone: 'Europe/Berlin',
      location: {
        name: 'Tresor',
        street: 'Köpenicker Str. 70',
        postalCode: '10179',
        city: 'Berlin',
        country: 'DE',
      },
      genres: ['Techno'],
      ticketTypes: [],
    }),
  ];
  for (const body of [stagerUpdate(PARADISO, paradiso), stagerUpdate(TRESOR, tresor)]) {
    const response = await app.postStager(body);
    if (response.status !== 202) throw new Error(`seed: stager answered ${response.status}`);
  }
  await app.settle();
  // A later update moves 700005 by a day: the event becomes rescheduled, its old start kept.
  const moved = stagerEvent(700005, {
    name: 'Moved Concert',
    startsAt: '2026-12-10T20:00:00+01:00',
    endsAt: '2026-12-10T22:00:00+01:00',
    genres: ['Pop'],
    updatedAt: '2026-11-21T10:00:00+01:00',
  });
  await app.postStager(stagerUpdate(PARADISO, [moved]));
  // An Eventport event in Munich that moved to a new venue, with Eventport's own price labels
  // ("Pre-sale", "Box office price": the long line a phone's list row has to wrap).
  const relocated = JSON.parse(fixture('eventport/post-minimal-example.json').toString('utf8')) as {
    data: { event: Json };
  };
  const priced = JSON.parse(fixture('eventport/post-full-example.json').toString('utf8')) as {
    data: { event: { priceCategories: Json[] } };
  };
  Object.assign(relocated.data.event, {
    priceCategories: priced.data.event.priceCategories,
    name: 'Munich Relocated Show',
    inlet: '2026-12-12T19:00:00.000Z',
    begin: '2026-12-12T19:00:00.000Z',
    end: '2026-12-12T22:00:00.000Z',
    relocated: true,
    changedOn: '2026-11-21T18:18:04.378Z',
  });
  const eventport = await app.postEventport(JSON.stringify(relocated));
  if (eventport.status >= 300) throw new Error(`seed: eventport answered ${eventport.status}`);
  await app.settle();
}
