import { spawnSync } from 'node:child_process';
import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { renderIcs } from '../../src/render/ics.js';
import { buildEvent, sampleChannel } from '../helpers/sample-events.js';

/** X-APPLE-STRUCTURED-LOCATION: Apple Calendar's map, with X-TITLE equal to LOCATION. */

const SYSTEM_PYTHON = '/usr/bin/python3';
const hasPythonIcalendar =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import icalendar'], { stdio: 'ignore' }).status === 0;

// Prints LOCATION, then X-TITLE, X-ADDRESS and the value of X-APPLE-STRUCTURED-LOCATION.
const PYTHON_READ = [
  'import sys',
  'from icalendar import Calendar',
  'event = Calendar.from_ical(sys.stdin.buffer.read()).walk("VEVENT")[0]',
  'apple = event["X-APPLE-STRUCTURED-LOCATION"]',
  'print(str(event["LOCATION"]))',
  'print(apple.params["X-TITLE"])',
  'print(apple.params["X-ADDRESS"])',
  'print(apple.to_ical().decode())',
].join('\n');

const venue = buildEvent().venue;
const tricky = buildEvent({
  venue: { ...venue, name: 'Café "Zum ^ Anker"; Bar: Süd', street: 'Hauptstraße 1, Hinterhof' },
});

function readWithIcalJs(text: string) {
  const vevent = new ICAL.Component(ICAL.parse(text)).getFirstSubcomponent('vevent');
  if (vevent === null) throw new Error('no VEVENT');
  const apple = vevent.getFirstProperty('x-apple-structured-location');
  return {
    location: String(vevent.getFirstPropertyValue('location')),
    title: apple?.getParameter('x-title'),
    address: apple?.getParameter('x-address'),
    radius: apple?.getParameter('x-apple-radius'),
    value: apple?.getFirstValue(),
  };
}

describe('X-APPLE-STRUCTURED-LOCATION', () => {
  it('gives events with coordinates a title that ical.js reads as the LOCATION', () => {
    for (const event of [buildEvent(), tricky]) {
      const read = readWithIcalJs(renderIcs([event], sampleChannel()));
      expect(read.title).toBe(read.location);
      expect(read.value).toBe(`geo:${venue.latitude},${venue.longitude}`);
      expect(read.radius).toBe('70');
    }
    const read = readWithIcalJs(renderIcs([tricky], sampleChannel()));
    expect(read.location).toBe(
      'Café "Zum ^ Anker"; Bar: Süd, Hauptstraße 1, Hinterhof, 1031 HH Amsterdam',
    );
    expect(read.address).toBe('Hauptstraße 1, Hinterhof, 1031 HH Amsterdam, NL');
  });

  it('is left out without coordinates', () => {
    const event = buildEvent({ venue: { ...venue, latitude: null, longitude: null } });
    const text = renderIcs([event], sampleChannel());
    expect(text).not.toContain('X-APPLE-STRUCTURED-LOCATION');
    expect(text).toContain('LOCATION:Paradiso Noord');
  });

  // Debian's Python icalendar (4.0) reads no RFC 6868 escapes, so its venue has no `"` or `^`.
  it.skipIf(!hasPythonIcalendar)('reads the same in Python icalendar', () => {
    const quoted = buildEvent({
      venue: { ...venue, name: 'Zum Anker; Bar: Süd', street: 'Hauptstraße 1, Hinterhof' },
    });
    const parsed = spawnSync(SYSTEM_PYTHON, ['-c', PYTHON_READ], {
      input: renderIcs([quoted], sampleChannel()),
      encoding: 'utf8',
    });
    expect(parsed.status, parsed.stderr).toBe(0);
    const [location, title, address] = parsed.stdout.split('\n');
    expect(location).toBe('Zum Anker; Bar: Süd, Hauptstraße 1, Hinterhof, 1031 HH Amsterdam');
    expect(title).toBe(location);
    expect(address).toBe('Hauptstraße 1, Hinterhof, 1031 HH Amsterdam, NL');
  });
});
