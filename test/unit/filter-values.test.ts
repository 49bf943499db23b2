import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  filterQueryString,
  formatValueList,
  parseEventFilter,
  splitValueList,
  valueQueryString,
} from '../../src/events/filter.js';
import { parse as parseQueryText } from 'node:querystring';

// A value as parsing yields it: non-empty and without surrounding blanks (values are trimmed).
const filterValue = fc
  .string({
    unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '&', '+', '%', 'é', '\\', ';'),
    minLength: 1,
    maxLength: 12,
  })
  .map((value) => value.trim())
  .filter((value) => value !== '');

const options = { defaultLimit: 50, timeZone: 'Europe/Amsterdam', sources: ['stager'] as const };

describe('filter values with commas', () => {
  it('reads quoted values, doubled quotes and literal text', () => {
    expect(splitValueList('"Rock, Pop",Jazz')).toEqual(['Rock, Pop', 'Jazz']);
    expect(splitValueList(' "say ""hi""" , b')).toEqual(['say "hi"', 'b']);
    expect(splitValueList('"Weird" Club,b')).toEqual(['"Weird" Club', 'b']);
    expect(splitValueList('"open, b')).toEqual(['"open', 'b']);
    expect(formatValueList(['Festival Sul, América', 'x'])).toBe('"Festival Sul, América",x');
  });

  it('writes any value list so that it reads back identically', () => {
    fc.assert(
      fc.property(fc.array(filterValue, { minLength: 1, maxLength: 6 }), (list) => {
        expect(splitValueList(formatValueList(list))).toEqual(list);
      }),
    );
  });

  it('round-trips every list parameter through the canonical query string', () => {
    fc.assert(
      fc.property(
        fc.array(filterValue, { maxLength: 4 }),
        fc.array(filterValue, { maxLength: 4 }),
        fc.array(filterValue, { maxLength: 4 }),
        (genre, organizer, q) => {
          const filter = parseEventFilter({}, options);
          const written = filterQueryString({ ...filter, genre, organizer, q });
          expect(written).not.toContain('+');
          const read = parseEventFilter(parseQueryText(written.slice(1)), options);
          expect({ genre: read.genre, organizer: read.organizer, q: read.q }).toEqual({
            genre,
            organizer,
            q,
          });
          expect(filterQueryString(read)).toBe(written);
        },
      ),
    );
  });

  it('accepts repeated parameters alongside comma lists', () => {
    const read = parseEventFilter({ genre: ['"Rock, Pop"', 'Jazz,Soul'] }, options);
    expect(read.genre).toEqual(['Rock, Pop', 'Jazz', 'Soul']);
  });

  it('links one value canonically', () => {
    expect(valueQueryString('organizer', 'Festival Sul, América')).toBe(
      '?organizer=%22Festival%20Sul%2C%20Am%C3%A9rica%22',
    );
    const read = parseEventFilter(
      parseQueryText(valueQueryString('genre', 'Rock, Pop').slice(1)),
      options,
    );
    expect(read.genre).toEqual(['Rock, Pop']);
  });
});
