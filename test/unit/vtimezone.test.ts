import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { renderVtimezone } from '../../src/render/vtimezone.js';

const PINNED_NOW = new Date('2026-11-22T12:00:00Z');
const HOUR = 3_600_000;
const TWO_YEARS = 2 * 365 * 24 * HOUR;

/** Intl's offset at `at`, in seconds, from the wall-clock fields (not from the module). */
function intlOffset(format: Intl.DateTimeFormat, at: number): number {
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return (wall - Math.floor(at / 1000) * 1000) / 1000;
}

function wallFormat(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

/** The zone as a client builds it from the emitted VTIMEZONE. */
function clientZone(timeZone: string, from: Date, to: Date): InstanceType<typeof ICAL.Timezone> {
  const text =
    'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n' +
    renderVtimezone(timeZone, timeZone, from, to) +
    'END:VCALENDAR\r\n';
  const vtimezone = new ICAL.Component(ICAL.parse(text)).getFirstSubcomponent('vtimezone');
  if (vtimezone === null) throw new Error(`no VTIMEZONE for ${timeZone}`);
  return new ICAL.Timezone(vtimezone);
}

/**
 * Sample instants: every 25 hours (so the hour of day moves through the day), and an hour and
 * a second either side of each change.
 */
function sampleInstants(format: Intl.DateTimeFormat, from: number, to: number): number[] {
  const samples: number[] = [];
  let previous = from;
  let previousOffset = intlOffset(format, from);
  for (let at = from; at <= to; at += 25 * HOUR) {
    const offset = intlOffset(format, at);
    samples.push(at);
    if (offset !== previousOffset) {
      let before = previous;
      let after = at;
      while (after - before > 1000) {
        const middle = before + Math.floor((after - before) / 2000) * 1000;
        if (intlOffset(format, middle) === previousOffset) before = middle;
        else after = middle;
      }
      samples.push(after - HOUR, after - 1000, after, after + HOUR);
    }
    previous = at;
    previousOffset = offset;
  }
  return samples;
}

const ZONES = [...Intl.supportedValuesOf('timeZone'), 'Etc/UTC', 'UTC', 'Europe/Kyiv'];

describe('renderVtimezone', () => {
  it('gives clients the offset Intl gives, in every zone, over the next two years', () => {
    const from = PINNED_NOW.getTime();
    const to = from + TWO_YEARS;
    const failures: string[] = [];
    for (const timeZone of ZONES) {
      const format = wallFormat(timeZone);
      const zone = clientZone(timeZone, new Date(from), new Date(to));
      for (const at of sampleInstants(format, from, to)) {
        const offset = intlOffset(format, at);
        const wall = new Date(at + offset * 1000);
        const local = new ICAL.Time(
          {
            year: wall.getUTCFullYear(),
            month: wall.getUTCMonth() + 1,
            day: wall.getUTCDate(),
            hour: wall.getUTCHours(),
            minute: wall.getUTCMinutes(),
            second: wall.getUTCSeconds(),
            isDate: false,
          },
          zone,
        );
        const read = zone.utcOffset(local);
        if (read === offset) continue;
        // A wall time of a fall-back night's repeated hour names two instants; a client may
        // pick either (calendars write such times in UTC).
        const other = at + (offset - read) * 1000;
        if (intlOffset(format, other) === read) continue;
        failures.push(`${timeZone} ${new Date(at).toISOString()}: ${read} s, Intl ${offset} s`);
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it('writes the forms Outlook reads: RRULEs for DST, one STANDARD without', () => {
    const from = new Date('2026-01-10T12:00:00Z');
    const to = new Date('2026-12-10T12:00:00Z');
    const amsterdam = renderVtimezone('Europe/Amsterdam', 'Europe/Amsterdam', from, to);
    expect(amsterdam).toContain('RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n');
    expect(amsterdam).toContain('RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n');
    expect(amsterdam).toContain('TZNAME:CEST\r\n');
    const newYork = renderVtimezone('America/New_York', 'America/New_York', from, to);
    expect(newYork).toContain('RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n');
    expect(newYork).toContain('RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n');
    expect(newYork).toContain('TZNAME:EDT\r\n');
    const sydney = renderVtimezone('Australia/Sydney', 'Australia/Sydney', from, to);
    expect(sydney).toContain('RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU\r\n');
    expect(sydney).toContain('RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU\r\n');

    const saoPaulo = renderVtimezone('America/Sao_Paulo', 'America/Sao_Paulo', from, to);
    expect(saoPaulo).toBe(
      [
        'BEGIN:VTIMEZONE',
        'TZID:America/Sao_Paulo',
        'BEGIN:STANDARD',
        'DTSTART:19700101T000000',
        'TZOFFSETFROM:-0300',
        'TZOFFSETTO:-0300',
        'TZNAME:-03',
        'END:STANDARD',
        'END:VTIMEZONE',
        '',
      ].join('\r\n'),
    );
    const kathmandu = renderVtimezone('Asia/Kathmandu', 'Asia/Kathmandu', from, to);
    expect(kathmandu).toContain('TZOFFSETTO:+0545\r\n');
    expect(kathmandu).not.toContain('RRULE');
  });

  it('falls back to one observance per change where no yearly rule holds', () => {
    // Morocco suspends its offset during Ramadan, which moves through the solar year.
    const text = renderVtimezone(
      'Africa/Casablanca',
      'Africa/Casablanca',
      new Date('2026-01-01T00:00:00Z'),
      new Date('2027-12-31T00:00:00Z'),
    );
    expect(text).not.toContain('RRULE');
    expect(text.match(/BEGIN:(STANDARD|DAYLIGHT)/g)?.length).toBeGreaterThan(4);
  });

  it('defines Europe/Kyiv, which the former zone table lacked', () => {
    const text = renderVtimezone(
      'Europe/Kyiv',
      'Europe/Kyiv',
      new Date('2026-01-01T00:00:00Z'),
      new Date('2026-12-31T00:00:00Z'),
    );
    expect(text).toContain('TZID:Europe/Kyiv\r\n');
    expect(text).toContain('TZOFFSETTO:+0300\r\n');
    expect(text).toContain('RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n');
  });
});
