import { describe, expect, it } from 'vitest';
import {
  describeFilter,
  filterKey,
  filterQueryString,
  parseEventFilter,
} from '../../src/events/filter.js';
import { CityAliases, foldKey } from '../../src/events/text-key.js';

const options = {
  defaultLimit: 500,
  timeZone: 'Europe/Amsterdam',
  sources: ['stager', 'eventport'] as const,
};
const parse = (query: Record<string, unknown>) => parseEventFilter(query, options);

describe('parseEventFilter', () => {
  it('reads repeated and comma-separated values', () => {
    const filter = parse({
      city: ['Amsterdam', 'München,Berlin'],
      genre: 'House',
      source: 'STAGER',
    });
    expect(filter.city).toEqual(['Amsterdam', 'München', 'Berlin']);
    expect(filter.genre).toEqual(['House']);
    expect(filter.source).toEqual(['stager']);
    expect(filter.limit).toBe(500);
  });

  it('reads dates in TIMEZONE, date-times with and without offsets', () => {
    expect(parse({ from: '2026-12-05' }).from?.toISOString()).toBe('2026-12-04T23:00:00.000Z');
    expect(parse({ to: '2026-12-05' }).to?.toISOString()).toBe('2026-12-05T23:00:00.000Z');
    expect(parse({ from: '2026-07-01T20:00' }).from?.toISOString()).toBe(
      '2026-07-01T18:00:00.000Z',
    );
    expect(parse({ from: '2026-07-01T20:00:00Z' }).from?.toISOString()).toBe(
      '2026-07-01T20:00:00.000Z',
    );
    expect(parse({ from: '2026-03-29' }).from?.toISOString()).toBe('2026-03-28T23:00:00.000Z');
    expect(parse({ to: '2026-03-29' }).to?.toISOString()).toBe('2026-03-29T22:00:00.000Z');
  });

  it.each([
    [{ colour: 'red' }, /unknown parameter "colour"/],
    [{ from: '2026-13-01' }, /"from" is not a valid date/],
    [{ from: 'yesterday' }, /"from" must be an ISO date/],
    [{ to: '2026-02-30' }, /"to" is not a valid date/],
    [{ from: '2026-12-05', to: '2026-12-01' }, /"to" must be after "from"/],
    [{ limit: '0' }, /"limit" must be a whole number from 1 to 1000/],
    [{ limit: '1001' }, /"limit"/],
    [{ limit: '12abc' }, /"limit"/],
    [{ limit: ['1', '2'] }, /"limit" takes one value/],
    [{ source: 'facebook' }, /"source" must be one of stager, eventport/],
    [{ city: 'x'.repeat(201) }, /at most 200 characters/],
    [{ city: { nested: 'object' } }, /plain text/],
    [{ cancelled: 'hidden' }, /"cancelled" takes only "visible"/],
    [{ cancelled: ['visible', 'visible'] }, /"cancelled" takes one value/],
  ])('rejects %j', (query, message) => {
    expect(() => parse(query)).toThrow(message);
  });

  it('reads cancelled=visible into the filter, its key and its query string', () => {
    expect(parse({}).cancelled).toBe('status');
    const visible = parse({ cancelled: 'Visible', city: 'Amsterdam' });
    expect(visible.cancelled).toBe('visible');
    expect(filterKey(visible)).not.toBe(filterKey(parse({ city: 'Amsterdam' })));
    expect(filterQueryString(visible)).toBe('?city=Amsterdam&cancelled=visible');
    expect(filterQueryString(parse({ city: 'Amsterdam' }))).toBe('?city=Amsterdam');
    expect(describeFilter(visible)).toBe(describeFilter(parse({ city: 'Amsterdam' })));
  });

  it('gives equal keys to equal meanings', () => {
    expect(filterKey(parse({ city: 'München,Amsterdam' }))).toBe(
      filterKey(parse({ city: ['amsterdam', 'MUNCHEN'] })),
    );
    expect(filterKey(parse({ city: 'Amsterdam' }))).not.toBe(filterKey(parse({ city: 'Berlin' })));
  });

  it('describes a filter for titles', () => {
    expect(describeFilter(parse({ genre: 'House', city: 'München' }))).toBe('House in München');
    expect(describeFilter(parse({}))).toBe('Events');
    expect(describeFilter(parse({ organizer: 'Paradiso', genre: 'Jazz,Soul' }))).toBe(
      'Jazz or Soul by Paradiso',
    );
  });
});

describe('folding and city aliases', () => {
  it('folds case, accents and ß', () => {
    expect(foldKey('München')).toBe('munchen');
    expect(foldKey('  Straße  Süd ')).toBe('strasse sud');
  });

  it('maps every spelling of a city to the same set', () => {
    const aliases = new CityAliases({ Munich: 'München', Muenchen: 'München' });
    expect(aliases.spellingsOf('munich').sort()).toEqual(['muenchen', 'munchen', 'munich']);
    expect(aliases.spellingsOf('München').sort()).toEqual(['muenchen', 'munchen', 'munich']);
    expect(aliases.spellingsOf('Berlin')).toEqual(['berlin']);
  });
});

describe('days, order, near and radius', () => {
  it('parse, key and write back what they mean', () => {
    const filter = parse({ days: '7', order: 'ANNOUNCED', near: ' 52.37 , 4.89 ', radius: '12.5' });
    expect(filter).toMatchObject({
      days: 7,
      order: 'announced',
      near: { latitude: 52.37, longitude: 4.89 },
      radius: 12.5,
    });
    const query = filterQueryString(filter);
    expect(query).toBe('?days=7&order=announced&near=52.37%2C4.89&radius=12.5');
    const again = parse(Object.fromEntries(new URLSearchParams(query)));
    expect(filterKey(again)).toBe(filterKey(filter));
    expect(filterKey(parse({ days: '8' }))).not.toBe(filterKey(parse({ days: '7' })));
    expect(filterKey(parse({ near: '52,4', radius: '25' }))).toBe(
      filterKey(parse({ near: '52,4' })),
    );
    expect(filterKey(parse({ near: '52,4', radius: '26' }))).not.toBe(
      filterKey(parse({ near: '52,4' })),
    );
  });

  it('default to no window, start order and no place, and leave those out of links', () => {
    const filter = parse({ order: 'start' });
    expect(filter).toMatchObject({ days: null, order: 'start', near: null, radius: 25 });
    expect(filterQueryString(filter)).toBe('');
    expect(filterQueryString(parse({ near: '-33.9,151.2' }))).toBe('?near=-33.9%2C151.2');
  });

  it('accept the limits and refuse beyond them', () => {
    expect(parse({ days: '366' }).days).toBe(366);
    expect(parse({ near: '-90,180', radius: '500' }).near).toEqual({
      latitude: -90,
      longitude: 180,
    });
    expect(() => parse({ days: '1.5' })).toThrow('"days" must be a whole number from 1 to 366');
    expect(() => parse({ near: '-90.01,0' })).toThrow('latitude must be from -90 to 90');
    expect(() => parse({ near: '0,-180.01' })).toThrow('longitude must be from -180 to 180');
    expect(() => parse({ near: '52,4', radius: '1e2' })).toThrow('"radius" must be a number');
    expect(() => parse({ radius: '5' })).toThrow('"radius" needs "near"');
  });

  it('describe themselves in titles', () => {
    expect(describeFilter(parse({ city: 'Utrecht', days: '7' }))).toBe(
      'Events in Utrecht in the next 7 days',
    );
    expect(describeFilter(parse({ days: '1' }))).toBe('Events today');
    expect(describeFilter(parse({ genre: 'Jazz', near: '52.37,4.89' }))).toBe(
      'Jazz within 25 km of 52.37, 4.89',
    );
    expect(describeFilter(parse({ order: 'announced' }))).toBe('New announcements: Events');
  });
});
