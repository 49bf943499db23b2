import { describe, expect, it } from 'vitest';
import {
  classifyPair,
  normalizeTicketUrl,
  showMarkers,
  titleKey,
  type MatchRecord,
} from '../../src/events/duplicate-match.js';
import { mergeRecords } from '../../src/events/merge-records.js';
import { CityAliases } from '../../src/events/text-key.js';
import { buildEvent } from '../helpers/sample-events.js';

/** Matching by fact and the precedence of a merge, without a database. */

const aliases = new CityAliases({ Munchen: 'München', Munich: 'München' });
const AT = new Date('2026-12-05T19:30:00Z');

function record(overrides: Partial<MatchRecord> = {}): MatchRecord {
  return {
    id: 'stager-1',
    source: 'stager',
    title: 'Night Tapes',
    startsAt: AT,
    timeZone: 'Europe/Berlin',
    city: 'München',
    venueName: 'Harry Klein',
    latitude: 48.1372,
    longitude: 11.5656,
    ticketUrl: 'https://shop.example.org/e/1',
    ...overrides,
  };
}

const other = (overrides: Partial<MatchRecord> = {}) =>
  record({ id: 'eventport-1', source: 'eventport', ticketUrl: null, ...overrides });

describe('normalizeTicketUrl', () => {
  it('drops scheme, host case, www, trailing slash, fragment and tracking parameters', () => {
    expect(normalizeTicketUrl('HTTP://WWW.Shop.example.org/e/1/?utm_source=x&b=2&a=1#top')).toBe(
      'shop.example.org/e/1?a=1&b=2',
    );
    expect(normalizeTicketUrl('https://shop.example.org/e/1?fbclid=abc')).toBe(
      'shop.example.org/e/1',
    );
    expect(normalizeTicketUrl('mailto:box@example.org')).toBeNull();
    expect(normalizeTicketUrl('not a url')).toBeNull();
  });
});

describe('titles', () => {
  it('drops only known status markers', () => {
    expect(titleKey('CANCELLED: Night Tapes!')).toBe('night tapes');
    expect(titleKey('Night Tapes – SOLD OUT')).toBe('night tapes');
    expect(titleKey('Night Tapes (Ausverkauft)')).toBe('night tapes');
    expect(titleKey('Night Tapes + Lola Young')).toBe('night tapes lola young');
  });

  it('finds show markers: early, late, matinee, 2nd show, a time', () => {
    expect(showMarkers('Band (Early Show)')).toEqual(['early']);
    expect(showMarkers('Band – late show')).toEqual(['late']);
    expect(showMarkers('Band Matinée')).toEqual(['matinee']);
    expect(showMarkers('Band, 2nd show')).toEqual(['show 2']);
    expect(showMarkers('Band at 8pm')).toEqual(['20:00']);
    expect(showMarkers('Band 20:00')).toEqual(['20:00']);
    expect(showMarkers('Band 19 Uhr')).toEqual(['19:00']);
    expect(showMarkers('Band')).toEqual([]);
  });
});

describe('classifyPair', () => {
  it('merges the same ticket URL at once, whatever the title', () => {
    const verdict = classifyPair(
      record(),
      other({ title: 'Something else', ticketUrl: 'https://shop.example.org/e/1/?utm_medium=x' }),
      aliases,
    );
    expect(verdict).toEqual({ auto: true, facts: ['ticket-url', 'venue', 'start-within-15'] });
  });

  it('merges the same venue, a start within 15 minutes and an equal title at once', () => {
    const verdict = classifyPair(
      record(),
      other({ title: 'Sold out: NIGHT TAPES', startsAt: new Date(AT.getTime() + 15 * 60_000) }),
      aliases,
    );
    expect(verdict?.auto).toBe(true);
  });

  it('asks a person when the start is 16 to 90 minutes off or the title differs', () => {
    expect(
      classifyPair(record(), other({ startsAt: new Date(AT.getTime() + 60 * 60_000) }), aliases),
    ).toEqual({ auto: false, facts: ['venue', 'start-within-90', 'title'] });
    expect(classifyPair(record(), other({ title: 'Night Tapes live' }), aliases)?.auto).toBe(false);
    expect(classifyPair(record(), other({ title: 'Night Tapes matinee' }), aliases)?.auto).toBe(
      false,
    );
  });

  it('finds the venue by coordinates within 150 m and the city through CITY_ALIASES', () => {
    const near = other({ venueName: 'Harry Klein Club', city: 'Munich', latitude: 48.1381 });
    expect(classifyPair(record(), near, aliases)?.facts).toContain('venue');
    const far = other({ venueName: 'Harry Klein Club', latitude: 48.1402 });
    expect(classifyPair(record(), far, aliases)).toBeNull();
  });

  it('never pairs two shows, two venues, two dates, two cities or one source', () => {
    expect(
      classifyPair(record({ title: 'Band (early)' }), other({ title: 'Band (late)' }), aliases),
    ).toBeNull();
    expect(
      classifyPair(record({ title: 'Band 19:00' }), other({ title: 'Band 21:00' }), aliases),
    ).toBeNull();
    expect(
      classifyPair(
        record(),
        other({ venueName: 'Muffatwerk', latitude: 48.131, longitude: 11.588 }),
        aliases,
      ),
    ).toBeNull();
    expect(
      classifyPair(record(), other({ startsAt: new Date(AT.getTime() + 5 * 3_600_000) }), aliases),
    ).toBeNull();
    expect(classifyPair(record(), other({ city: 'Berlin' }), aliases)).toBeNull();
    expect(classifyPair(record(), record({ id: 'stager-2' }), aliases)).toBeNull();
    // The same ticket URL does not overrule different venues.
    expect(
      classifyPair(
        record(),
        other({ ticketUrl: record().ticketUrl, venueName: 'Muffatwerk', latitude: null }),
        aliases,
      ),
    ).toBeNull();
  });
});

describe('mergeRecords', () => {
  const stager = buildEvent({
    id: 'stager-1',
    subtitle: null,
    image: null,
    genres: ['Indie'],
    status: 'cancelled',
    soldOut: true,
  });
  const eventport = buildEvent({
    id: 'eventport-ep-1',
    source: 'eventport',
    externalId: 'ep-1',
    title: 'Night Tapes live',
    startsAt: new Date('2026-12-05T19:00:00Z'),
    endsAt: null,
    prices: [{ amount: 12, currency: 'EUR', label: null }],
    ticketUrl: 'https://eventport.example.org/t/1',
    subtitle: 'with Lola Young',
    image: { url: 'https://img.example.org/1.jpg', alt: null },
    genres: ['indie', 'Dream Pop'],
    descriptionText: 'Eventport text',
    status: 'scheduled',
    soldOut: false,
  });

  it('takes start, end, status, prices, sold-out and ticket URL from the ticket seller', () => {
    const merged = mergeRecords(eventport, stager);
    expect(merged.id).toBe('eventport-ep-1');
    expect(merged.title).toBe('Night Tapes live');
    expect(merged.startsAt).toEqual(stager.startsAt);
    expect(merged.endsAt).toEqual(stager.endsAt);
    expect(merged.status).toBe('cancelled');
    expect(merged.prices).toEqual(stager.prices);
    expect(merged.soldOut).toBe(true);
    expect(merged.ticketUrl).toBe(stager.ticketUrl);
    expect(merged.descriptionText).toBe('Eventport text');
    expect(merged.records?.map((each) => each.id)).toEqual(['eventport-ep-1', 'stager-1']);
  });

  it('lets the other source fill only what is empty, and add genres', () => {
    const merged = mergeRecords(stager, eventport);
    expect(merged.title).toBe('Night Tapes');
    expect(merged.subtitle).toBe('with Lola Young');
    expect(merged.image?.url).toBe('https://img.example.org/1.jpg');
    expect(merged.descriptionText).toBe(stager.descriptionText);
    expect(merged.genres).toEqual(['Indie', 'Dream Pop']);
    expect(merged.status).toBe('cancelled');
  });
});
