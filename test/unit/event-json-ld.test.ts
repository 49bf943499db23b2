import { describe, expect, it } from 'vitest';
import { eventJsonLd } from '../../src/render/pages/event-page.js';
import { buildEvent } from '../helpers/sample-events.js';

/** Google's Event structured data: required and recommended properties from what sources give. */

const site = { publicUrl: 'https://marquee.test' };
const noVenue = {
  name: null,
  street: null,
  postalCode: null,
  city: null,
  country: null,
  latitude: null,
  longitude: null,
};

const GOOGLE_PROPERTIES = [
  'name',
  'startDate',
  'endDate',
  'location',
  'eventStatus',
  'eventAttendanceMode',
  'image',
  'description',
  'offers',
  'organizer',
];

describe('event JSON-LD', () => {
  it('has every required and recommended property for a complete event', () => {
    const data = eventJsonLd(
      buildEvent({
        organizer: { id: 'org-7', name: 'Paradiso', url: 'https://paradiso.test/', city: null },
        performers: ['Night Tapes', 'Support Act'],
        presaleStartsAt: new Date('2026-10-01T08:00:00Z'),
      }),
      site,
    );
    for (const property of [...GOOGLE_PROPERTIES, 'performer'])
      expect(data[property], property).toBeDefined();
    expect(data.performer).toEqual([
      { '@type': 'PerformingGroup', name: 'Night Tapes' },
      { '@type': 'PerformingGroup', name: 'Support Act' },
    ]);
    expect(data.organizer).toEqual({
      '@type': 'Organization',
      name: 'Paradiso',
      url: 'https://paradiso.test/',
    });
    const offers = data.offers as Record<string, unknown>[];
    expect(offers).toHaveLength(2);
    for (const offer of offers) {
      expect(offer).toMatchObject({
        url: 'https://tickets.stager.test/night-tapes?utm_source=marquee&seat=any',
        priceCurrency: 'EUR',
        availability: 'https://schema.org/InStock',
        validFrom: '2026-10-01T10:00:00+02:00',
      });
      expect(typeof offer.price).toBe('number');
    }
  });

  it('gives a venue without an address the locality of its city', () => {
    const data = eventJsonLd(
      buildEvent({ venue: { ...noVenue, name: 'Paradiso Noord', city: 'Amsterdam' } }),
      site,
    );
    expect(data.location).toEqual({
      '@type': 'Place',
      name: 'Paradiso Noord',
      address: { '@type': 'PostalAddress', addressLocality: 'Amsterdam' },
    });
  });

  it("falls back to the organizer's city when the event names no venue", () => {
    const data = eventJsonLd(
      buildEvent({
        venue: noVenue,
        organizer: { id: null, name: 'Eventport', url: null, city: 'München' },
      }),
      site,
    );
    expect(data.location).toEqual({
      '@type': 'Place',
      name: 'München',
      address: { '@type': 'PostalAddress', addressLocality: 'München' },
    });
    expect(data.organizer).toEqual({ '@type': 'Organization', name: 'Eventport' });
  });

  it('offers nothing in stock for a cancelled event', () => {
    const data = eventJsonLd(buildEvent({ status: 'cancelled' }), site);
    expect(data.eventStatus).toBe('https://schema.org/EventCancelled');
    expect(JSON.stringify(data)).not.toContain('InStock');
  });

  it('gives an open-ended event the default end, and an offer for a bare ticket link', () => {
    const start = new Date('2026-12-05T19:30:00Z');
    const data = eventJsonLd(
      buildEvent({
        startsAt: start,
        endsAt: null,
        effectiveEndsAt: new Date(start.getTime() + 3 * 3_600_000),
        prices: [],
        descriptionText: null,
        subtitle: '+ support',
      }),
      site,
    );
    expect(data.endDate).toBe('2026-12-05T23:30:00+01:00');
    expect(data.description).toBe('+ support');
    expect(data.offers).toEqual([
      {
        '@type': 'Offer',
        url: 'https://tickets.stager.test/night-tapes?utm_source=marquee&seat=any',
        availability: 'https://schema.org/InStock',
      },
    ]);
  });
});
