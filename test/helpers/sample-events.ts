import type { Event } from '../../src/events/types.js';
import type { FeedChannel } from '../../src/render/channel.js';

/**
 * Events covering what renderers must handle: a full Stager-like event, an open-ended
 * Eventport-like one in another zone, a cancelled and a rescheduled one, and one carrying
 * hostile payloads. Every date is fixed, so golden files are stable.
 */

const HOUR = 3_600_000;

/** A complete event; `overrides` replace any field. */
export function buildEvent(overrides: Partial<Event> = {}): Event {
  const startsAt = overrides.startsAt ?? new Date('2026-12-05T19:30:00Z');
  const endsAt =
    overrides.endsAt === undefined ? new Date('2026-12-05T22:00:00Z') : overrides.endsAt;
  return {
    id: 'stager-1001',
    source: 'stager',
    externalId: '1001',
    title: 'Night Tapes',
    subtitle: '+ support',
    descriptionText: 'London trio Night Tapes bring their dreamy electronic pop to Amsterdam.',
    descriptionHtml:
      '<p>London trio <strong>Night Tapes</strong> bring their dreamy electronic pop to Amsterdam.</p>',
    startsAt,
    endsAt,
    doorsAt: new Date('2026-12-05T18:30:00Z'),
    timeZone: 'Europe/Amsterdam',
    venue: {
      name: 'Paradiso Noord',
      street: 'Distelweg 83',
      postalCode: '1031 HH',
      city: 'Amsterdam',
      country: 'NL',
      latitude: 52.394_7,
      longitude: 4.922_5,
    },
    genres: ['Indie', 'Electronic'],
    tags: ['live'],
    organizer: { id: 'org-7', name: 'Paradiso', url: null, city: null },
    ticketUrl: 'https://tickets.stager.test/night-tapes?utm_source=marquee&seat=any',
    presaleStartsAt: null,
    performers: [],
    prices: [
      { amount: 24.5, currency: 'EUR', label: 'Regular' },
      { amount: 19.5, currency: 'EUR', label: 'Student' },
    ],
    soldOut: false,
    image: { url: 'https://images.stager.test/night-tapes.jpg', alt: 'Night Tapes on stage' },
    status: 'scheduled',
    visibility: 'public',
    sourceUpdatedAt: new Date('2026-10-01T10:00:00Z'),
    effectiveEndsAt: endsAt ?? new Date(startsAt.getTime() + 3 * HOUR),
    previousStartsAt: null,
    firstSeenAt: new Date('2026-09-01T08:00:00Z'),
    lastChangedAt: new Date('2026-10-01T10:00:05Z'),
    revision: 3,
    withdrawnAt: null,
    ...overrides,
  };
}

/** The five sample events, in feed order. */
export function sampleEvents(): Event[] {
  const stager = buildEvent();

  const berlinStart = new Date('2026-12-12T21:00:00Z');
  const openEnded = buildEvent({
    id: 'eventport-ep-77',
    source: 'eventport',
    externalId: 'ep-77',
    title: 'Techno Marathon',
    subtitle: null,
    descriptionText: 'Twelve hours of techno & house.\n\nNo re-entry.',
    descriptionHtml: null,
    startsAt: berlinStart,
    endsAt: null,
    effectiveEndsAt: new Date(berlinStart.getTime() + 3 * HOUR),
    doorsAt: null,
    timeZone: 'Europe/Berlin',
    venue: {
      name: 'Tresor',
      street: 'Köpenicker Str. 70',
      postalCode: '10179',
      city: 'Berlin',
      country: 'DE',
      latitude: null,
      longitude: null,
    },
    genres: ['Techno'],
    organizer: { id: null, name: 'Tresor Berlin', url: null, city: null },
    ticketUrl: null,
    prices: [],
    image: null,
    firstSeenAt: new Date('2026-09-15T12:00:00Z'),
    lastChangedAt: new Date('2026-09-15T12:00:00Z'),
    revision: 0,
  });

  const cancelled = buildEvent({
    id: 'stager-1002',
    externalId: '1002',
    title: 'Lowland Choir',
    subtitle: null,
    descriptionText: 'An evening of choral music, with songs; poems, and a \\ backslash.',
    descriptionHtml: null,
    startsAt: new Date('2026-12-18T19:00:00Z'),
    endsAt: new Date('2026-12-18T21:00:00Z'),
    effectiveEndsAt: new Date('2026-12-18T21:00:00Z'),
    doorsAt: null,
    venue: {
      name: "Muziekgebouw aan 't IJ",
      street: 'Piet Heinkade 1',
      postalCode: '1019 BR',
      city: 'Amsterdam',
      country: 'NL',
      latitude: 52.378_1,
      longitude: 4.912_4,
    },
    genres: ['Classical', 'R&B'],
    prices: [{ amount: 0, currency: 'EUR', label: null }],
    image: { url: 'https://images.stager.test/cdn/w_600,h_400/choir', alt: null },
    status: 'cancelled',
    lastChangedAt: new Date('2026-11-20T09:30:00Z'),
    revision: 5,
  });

  const rescheduled = buildEvent({
    id: 'eventport-ep-88',
    source: 'eventport',
    externalId: 'ep-88',
    title: 'Sommerfest Open Air',
    subtitle: null,
    descriptionText: null,
    descriptionHtml: '<h2>Open air</h2><ul><li>Two stages</li><li>Food trucks</li></ul>',
    // Summer time (CEST), unlike the winter dates above.
    startsAt: new Date('2027-06-19T12:00:00Z'),
    endsAt: new Date('2027-06-19T21:00:00Z'),
    effectiveEndsAt: new Date('2027-06-19T21:00:00Z'),
    previousStartsAt: new Date('2027-06-12T12:00:00Z'),
    doorsAt: null,
    timeZone: 'Europe/Berlin',
    venue: {
      name: 'Mauerpark',
      street: null,
      postalCode: null,
      city: 'Berlin',
      country: 'DE',
      latitude: 52.543_3,
      longitude: 13.402_3,
    },
    genres: [],
    organizer: { id: null, name: null, url: null, city: null },
    ticketUrl: 'https://eventport.test/e/88',
    prices: [
      { amount: 35, currency: 'EUR', label: 'Early bird' },
      { amount: 12, currency: 'XX1', label: 'Odd currency' },
    ],
    soldOut: true,
    image: { url: 'https://eventport.test/img/88.webp', alt: null },
    status: 'rescheduled',
    firstSeenAt: new Date('2026-11-01T00:00:00Z'),
    lastChangedAt: new Date('2026-11-25T16:45:00Z'),
    revision: 2,
  });

  const hostile = buildEvent({
    id: 'stager-evil,1;x\\y',
    externalId: 'evil,1;x\\y',
    title: '<script>alert(1)</script> Night ]]> Tapes ]]> \u0001\u000B🎸\r\nX-INJECTED:1',
    subtitle: '<img src=x onerror=alert(1)>',
    descriptionText:
      'Plain ]]> text ]]> with <script>alert(1)</script>\u0001 and <iframe src=//evil>\nX-INJECTED:2 🎸',
    descriptionHtml:
      '<p>Hi ]]> there ]]></p><script>alert(1)</script><iframe src=//evil></iframe>' +
      '<a href="javascript:alert(1)">click</a><img src=x onerror=alert(1)>\u0001\u000B🎸',
    venue: {
      name: 'Club "X" <iframe src=//evil>',
      street: 'Evil; Street, 1 \\',
      postalCode: null,
      city: 'Amster]]>dam',
      country: 'NL',
      latitude: 0,
      longitude: 4.9,
    },
    genres: ['<b>bold</b>', 'R&B', 'a,b;c'],
    organizer: { id: 'org<1>', name: 'Org & "Co" 🎸', url: null, city: null },
    ticketUrl: 'javascript:alert(1)',
    prices: [{ amount: 10, currency: 'EUR', label: '<script>alert(1)</script>' }],
    image: {
      url: 'https://evil.test/pic.png?a=1&b="><script>alert(1)</script>',
      alt: '"><script>',
    },
    lastChangedAt: new Date('2026-10-02T10:00:00Z'),
    revision: 1,
  });

  return [stager, openEnded, cancelled, rescheduled, hostile];
}

/** A channel as the HTTP layer would build it for `format`. */
export function sampleChannel(format: 'ics' | 'rss' | 'atom' | 'json' = 'ics'): FeedChannel {
  return {
    title: 'Marquee: Concerts in Amsterdam & Berlin',
    description: 'Concerts in Amsterdam & Berlin; all genres',
    selfUrl: `https://marquee.test/feed.${format}?city=amsterdam&city=berlin`,
    htmlUrl: 'https://marquee.test/?city=amsterdam&city=berlin',
    publicUrl: 'https://marquee.test',
    uidDomain: 'marquee.test',
    tagPrefix: 'tag:marquee.test,2026-01-01:',
    feedId: 'tag:marquee.test,2026-01-01:events?city=amsterdam&city=berlin',
    timeZone: 'Europe/Amsterdam',
    cancelledPrefix: 'Cancelled: ',
    updated: new Date('2026-11-25T16:45:00Z'),
    siteTitle: 'Marquee',
  };
}
