import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ICAL from 'ical.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../src/events/types.js';
import { renderIcs } from '../../src/render/ics.js';
import { buildEvent, sampleChannel } from '../helpers/sample-events.js';

/**
 * One calendar read back by three independent iCalendar implementations, each converting
 * zoned times through the file's own VTIMEZONEs: Mozilla ical.js, Python icalendar (Debian's
 * python3-icalendar) and libical (Debian's libical-dev, through a small checker compiled
 * here). Every start and end must be the source's instant. The zones are those whose rules
 * changed since 2018 or that old tables lack, and the repeated hour of fall-back nights.
 */

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers');
const SYSTEM_PYTHON = '/usr/bin/python3';

interface Case {
  id: string;
  timeZone: string;
  /** Source instants, written with the offset the source's local time had. */
  start: string;
  end: string | null;
}

const CASES: Case[] = [
  // Brazil dropped DST in 2019: 21:00 is 00:00Z, not 23:00Z.
  {
    id: 'sao-paulo-january',
    timeZone: 'America/Sao_Paulo',
    start: '2027-01-15T21:00:00-03:00',
    end: '2027-01-15T23:30:00-03:00',
  },
  // Mexico dropped DST in 2022.
  {
    id: 'mexico-city-july',
    timeZone: 'America/Mexico_City',
    start: '2027-07-10T20:00:00-06:00',
    end: '2027-07-10T23:00:00-06:00',
  },
  // Egypt restored DST in 2023.
  {
    id: 'cairo-may',
    timeZone: 'Africa/Cairo',
    start: '2027-05-20T20:00:00+03:00',
    end: '2027-05-20T22:00:00+03:00',
  },
  // Iran dropped DST in 2022.
  {
    id: 'tehran-august',
    timeZone: 'Asia/Tehran',
    start: '2027-08-12T20:00:00+03:30',
    end: '2027-08-12T22:30:00+03:30',
  },
  {
    id: 'kyiv-winter',
    timeZone: 'Europe/Kyiv',
    start: '2027-01-20T19:00:00+02:00',
    end: '2027-01-20T21:00:00+02:00',
  },
  {
    id: 'kyiv-summer',
    timeZone: 'Europe/Kyiv',
    start: '2027-06-05T19:00:00+03:00',
    end: '2027-06-05T21:00:00+03:00',
  },
  {
    id: 'adelaide',
    timeZone: 'Australia/Adelaide',
    start: '2027-01-09T20:00:00+10:30',
    end: '2027-01-09T23:00:00+10:30',
  },
  {
    id: 'kathmandu',
    timeZone: 'Asia/Kathmandu',
    start: '2027-03-03T18:00:00+05:45',
    end: '2027-03-03T20:00:00+05:45',
  },
  { id: 'utc', timeZone: 'UTC', start: '2027-02-01T12:00:00Z', end: '2027-02-01T14:00:00Z' },
  // Both 02:30s of the last Sunday of October in Amsterdam; the first one ends at the second.
  {
    id: 'amsterdam-first-0230',
    timeZone: 'Europe/Amsterdam',
    start: '2026-10-25T02:30:00+02:00',
    end: '2026-10-25T02:30:00+01:00',
  },
  {
    id: 'amsterdam-second-0230',
    timeZone: 'Europe/Amsterdam',
    start: '2026-10-25T02:30:00+01:00',
    end: '2026-10-25T04:00:00+01:00',
  },
  // Both 01:30s of the first Sunday of November in New York.
  {
    id: 'new-york-first-0130',
    timeZone: 'America/New_York',
    start: '2026-11-01T01:30:00-04:00',
    end: '2026-11-01T03:00:00-05:00',
  },
  {
    id: 'new-york-second-0130',
    timeZone: 'America/New_York',
    start: '2026-11-01T01:30:00-05:00',
    end: '2026-11-01T03:00:00-05:00',
  },
  // Both 02:30s of the first Sunday of April in Sydney.
  {
    id: 'sydney-first-0230',
    timeZone: 'Australia/Sydney',
    start: '2027-04-04T02:30:00+11:00',
    end: '2027-04-04T04:00:00+10:00',
  },
  {
    id: 'sydney-second-0230',
    timeZone: 'Australia/Sydney',
    start: '2027-04-04T02:30:00+10:00',
    end: '2027-04-04T04:00:00+10:00',
  },
  // Announced for 02:30 on a spring-forward night, a wall time that never happens.
  {
    id: 'amsterdam-spring-forward',
    timeZone: 'Europe/Amsterdam',
    start: '2027-03-28T03:30:00+02:00',
    end: '2027-03-28T05:00:00+02:00',
  },
  // Open-ended: DTEND is the documented default end.
  {
    id: 'berlin-open-ended',
    timeZone: 'Europe/Berlin',
    start: '2027-06-19T14:00:00+02:00',
    end: null,
  },
];

const HOUR = 3_600_000;

function caseEvent(item: Case): Event {
  const startsAt = new Date(item.start);
  return buildEvent({
    id: `stager-${item.id}`,
    externalId: item.id,
    timeZone: item.timeZone,
    startsAt,
    endsAt: item.end === null ? null : new Date(item.end),
    effectiveEndsAt:
      item.end === null ? new Date(startsAt.getTime() + 3 * HOUR) : new Date(item.end),
  });
}

const events = CASES.map(caseEvent);
const calendarText = renderIcs(events, sampleChannel('ics'));

/** "UID<TAB>start<TAB>end" lines with the source's instants, as the checkers print them. */
function expectedLines(): string[] {
  return events.map(
    (event) =>
      `${event.id}@marquee.test\t${event.startsAt.getTime() / 1000}\t${(event.endsAt ?? event.effectiveEndsAt).getTime() / 1000}`,
  );
}

function outputLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

const hasPythonIcalendar =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import icalendar'], { stdio: 'ignore' }).status === 0;
const hasLibical =
  spawnSync('pkg-config', ['--exists', 'libical'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasPythonIcalendar) {
  console.warn('calendar-clients: skipping Python icalendar (apt-get install python3-icalendar)');
}
if (!hasLibical) {
  console.warn(
    'calendar-clients: skipping libical (apt-get install libical-dev, and a C compiler)',
  );
}

describe('a calendar read by three iCalendar implementations', () => {
  let directory = '';
  let calendarPath = '';

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'marquee-ics-'));
    calendarPath = join(directory, 'events.ics');
    writeFileSync(calendarPath, calendarText);
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('writes the repeated hour in UTC and every other time in its zone', () => {
    expect(calendarText).toContain('DTSTART:20261025T003000Z\r\n');
    expect(calendarText).toContain('DTEND:20261025T013000Z\r\n');
    expect(calendarText).toContain('DTSTART:20261101T053000Z\r\n');
    expect(calendarText).toContain('DTSTART:20270403T163000Z\r\n');
    expect(calendarText).toContain('DTEND;TZID=Europe/Amsterdam:20261025T040000\r\n');
    expect(calendarText).toContain('DTSTART;TZID=America/Sao_Paulo:20270115T210000\r\n');
    expect(calendarText).toContain('DTSTART;TZID=Europe/Kyiv:20270120T190000\r\n');
    expect(calendarText).toContain('TZID:Europe/Kyiv\r\n');
  });

  it('reads right in ical.js, through the VTIMEZONEs of the file', () => {
    ICAL.TimezoneService.reset();
    const calendar = new ICAL.Component(ICAL.parse(calendarText));
    for (const vtimezone of calendar.getAllSubcomponents('vtimezone')) {
      ICAL.TimezoneService.register(vtimezone);
    }
    const lines = calendar.getAllSubcomponents('vevent').map((component) => {
      const event = new ICAL.Event(component);
      return `${event.uid}\t${event.startDate.toUnixTime()}\t${event.endDate.toUnixTime()}`;
    });
    ICAL.TimezoneService.reset();
    expect(lines).toEqual(expectedLines());
  });

  it.skipIf(!hasPythonIcalendar)(
    'reads right in Python icalendar, through the VTIMEZONEs of the file (needs python3-icalendar)',
    () => {
      const output = execFileSync(
        SYSTEM_PYTHON,
        [join(HELPERS, 'icalendar-times.py'), calendarPath],
        { encoding: 'utf8' },
      );
      expect(outputLines(output)).toEqual(expectedLines());
    },
  );

  it.skipIf(!hasLibical)(
    'reads right in libical, through the VTIMEZONEs of the file (needs libical-dev and cc)',
    () => {
      const checker = join(directory, 'libical-times');
      const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'libical'], {
        encoding: 'utf8',
      })
        .trim()
        .split(/\s+/);
      execFileSync('cc', ['-o', checker, join(HELPERS, 'libical-times.c'), ...flags]);
      const output = execFileSync(checker, [calendarPath], { encoding: 'utf8' });
      expect(outputLines(output)).toEqual(expectedLines());
    },
  );
});
