import ICAL from 'ical.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Event } from '../../src/events/types.js';
import { FragmentCache } from '../../src/cache/fragment-cache.js';
import { renderIcs, renderSingleEventIcs } from '../../src/render/ics.js';
import { expectGolden } from '../helpers/golden.js';
import { buildEvent, sampleChannel, sampleEvents } from '../helpers/sample-events.js';

type Component = InstanceType<typeof ICAL.Component>;

const ORIGINAL_TZ = process.env.TZ;

/** Renders with the process in `zone`, so server-local time leaks would show. */
function renderInZone(zone: string, render: () => string): string {
  process.env.TZ = zone;
  try {
    return render();
  } finally {
    if (ORIGINAL_TZ === undefined) delete process.env.TZ;
    else process.env.TZ = ORIGINAL_TZ;
  }
}

/** Parses a calendar and registers its VTIMEZONEs, so zoned times convert through them. */
function parseCalendar(text: string): Component {
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const vtimezone of calendar.getAllSubcomponents('vtimezone')) {
    ICAL.TimezoneService.register(vtimezone);
  }
  return calendar;
}

function veventByUid(calendar: Component, uid: string): Component {
  const vevent = calendar
    .getAllSubcomponents('vevent')
    .find((candidate) => candidate.getFirstPropertyValue('uid') === uid);
  if (vevent === undefined) throw new Error(`no VEVENT with UID ${uid}`);
  return vevent;
}

function physicalLines(text: string): string[] {
  expect(text.endsWith('\r\n')).toBe(true);
  return text.slice(0, -2).split('\r\n');
}

/** Unfolds content lines (RFC 5545 §3.1). */
function contentLines(text: string): string[] {
  return text.replace(/\r\n[ \t]/g, '').split('\r\n');
}

/**
 * ical.js leaves values of properties it has no type for (NAME, X-WR-*) escaped; this reads
 * them as the TEXT they are.
 */
function unescapeText(value: unknown): string {
  return String(value).replace(/\\([\\;,nN])/g, (_match, char: string) =>
    char === 'n' || char === 'N' ? '\n' : char,
  );
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('renderIcs', () => {
  beforeEach(() => {
    ICAL.TimezoneService.reset();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('matches the golden file', () => {
    const text = renderInZone('America/New_York', () =>
      renderIcs(sampleEvents(), sampleChannel('ics')),
    );
    expectGolden('events.ics', text);
  });

  it('writes calendar properties from the channel', () => {
    const channel = sampleChannel('ics');
    const calendar = parseCalendar(renderIcs(sampleEvents(), channel));
    expect(calendar.getFirstPropertyValue('version')).toBe('2.0');
    expect(calendar.getFirstPropertyValue('prodid')).toBe('-//Marquee//Marquee//EN');
    expect(calendar.getFirstPropertyValue('method')).toBe('PUBLISH');
    expect(unescapeText(calendar.getFirstPropertyValue('name'))).toBe(channel.title);
    expect(unescapeText(calendar.getFirstPropertyValue('x-wr-calname'))).toBe(channel.title);
    // The description carries a semicolon, which TEXT escapes.
    expect(calendar.getFirstPropertyValue('x-wr-caldesc')).toBe(
      'Concerts in Amsterdam & Berlin\\; all genres',
    );
    expect(unescapeText(calendar.getFirstPropertyValue('x-wr-caldesc'))).toBe(channel.description);
    expect(calendar.getFirstPropertyValue('x-wr-timezone')).toBe('Europe/Amsterdam');
    expect(String(calendar.getFirstPropertyValue('refresh-interval'))).toBe('PT1H');
    expect(calendar.getFirstPropertyValue('x-published-ttl')).toBe('PT1H');
  });

  it('escapes a calendar name that would otherwise inject properties', () => {
    const channel = { ...sampleChannel('ics'), title: 'House\r\nMETHOD:CANCEL, in; Köln\\' };
    const text = renderIcs([], channel);
    const calendar = parseCalendar(text);
    expect(calendar.getAllProperties('method')).toHaveLength(1);
    expect(unescapeText(calendar.getFirstPropertyValue('name'))).toBe(
      'House\nMETHOD:CANCEL, in; Köln\\',
    );
    expect(contentLines(text)).not.toContain('METHOD:CANCEL');
  });

  it('identifies, versions and stamps every event from its data', () => {
    const events = sampleEvents();
    const calendar = parseCalendar(renderIcs(events, sampleChannel('ics')));
    const vevents = calendar.getAllSubcomponents('vevent');
    expect(vevents.map((vevent) => vevent.getFirstPropertyValue('uid'))).toEqual(
      events.map((event) => `${event.id}@marquee.test`),
    );
    for (const event of events) {
      const vevent = veventByUid(calendar, `${event.id}@marquee.test`);
      expect(vevent.getFirstPropertyValue('sequence')).toBe(event.revision);
      const time = (name: string): number => {
        const value = vevent.getFirstPropertyValue(name);
        if (!(value instanceof ICAL.Time)) throw new Error(`${name} is not a time`);
        return value.toJSDate().getTime();
      };
      expect(time('dtstamp')).toBe(event.lastChangedAt.getTime());
      expect(time('created')).toBe(event.firstSeenAt.getTime());
      expect(time('last-modified')).toBe(event.lastChangedAt.getTime());
      expect(vevent.getFirstPropertyValue('url')).toBe(
        `https://marquee.test/events/${encodeURIComponent(event.id)}`,
      );
    }
  });

  it('writes start and end as wall-clock times in the event zone, whatever the server zone', () => {
    const events = sampleEvents();
    const render = (): string => renderIcs(events, sampleChannel('ics'));
    const inNewYork = renderInZone('America/New_York', render);
    const inTokyo = renderInZone('Asia/Tokyo', render);
    expect(inTokyo).toBe(inNewYork);
    expect(inNewYork).toContain('DTSTART;TZID=Europe/Amsterdam:20261205T203000\r\n');
    expect(inNewYork).toContain('DTSTART;TZID=Europe/Berlin:20270619T140000\r\n');

    const calendar = parseCalendar(inNewYork);
    for (const event of events) {
      const vevent = new ICAL.Event(veventByUid(calendar, `${event.id}@marquee.test`));
      expect(vevent.startDate.zone?.tzid).toBe(event.timeZone);
      expect(vevent.startDate.toJSDate().toISOString()).toBe(event.startsAt.toISOString());
      expect(vevent.endDate.toJSDate().toISOString()).toBe(
        (event.endsAt ?? event.effectiveEndsAt).toISOString(),
      );
    }
  });

  it('ends open-ended events at their effective end', () => {
    const calendar = parseCalendar(renderIcs(sampleEvents(), sampleChannel('ics')));
    const vevent = veventByUid(calendar, 'eventport-ep-77@marquee.test');
    const end = vevent.getFirstPropertyValue('dtend');
    if (!(end instanceof ICAL.Time)) throw new Error('no DTEND');
    expect(end.toJSDate().toISOString()).toBe('2026-12-13T00:00:00.000Z');
  });

  it('includes one VTIMEZONE per zone used, and only those', () => {
    const events = sampleEvents();
    const calendar = parseCalendar(renderIcs(events, sampleChannel('ics')));
    const tzids = calendar
      .getAllSubcomponents('vtimezone')
      .map((vtimezone) => vtimezone.getFirstPropertyValue('tzid'));
    expect(tzids).toEqual(['Europe/Amsterdam', 'Europe/Berlin']);

    const berlinOnly = events.filter((event) => event.timeZone === 'Europe/Berlin');
    const single = parseCalendar(renderIcs(berlinOnly, sampleChannel('ics')));
    expect(
      single
        .getAllSubcomponents('vtimezone')
        .map((vtimezone) => vtimezone.getFirstPropertyValue('tzid')),
    ).toEqual(['Europe/Berlin']);
  });

  it('names the VTIMEZONE of an alias zone after the TZID the event uses', () => {
    const event = buildEvent({ timeZone: 'Asia/Calcutta' });
    const text = renderIcs([event], sampleChannel('ics'));
    const calendar = parseCalendar(text);
    const tzid = calendar.getFirstSubcomponent('vtimezone')?.getFirstPropertyValue('tzid');
    expect(text).toContain(`DTSTART;TZID=${String(tzid)}:`);
    const start = new ICAL.Event(veventByUid(calendar, `${event.id}@marquee.test`)).startDate;
    expect(start.toJSDate().toISOString()).toBe(event.startsAt.toISOString());
  });

  it('writes events in UTC zones as UTC times without a VTIMEZONE', () => {
    const event = buildEvent({ timeZone: 'UTC' });
    const text = renderIcs([event], sampleChannel('ics'));
    expect(text).toContain('DTSTART:20261205T193000Z\r\n');
    expect(text).not.toContain('BEGIN:VTIMEZONE');
  });

  it('marks cancelled events in STATUS and SUMMARY', () => {
    const calendar = parseCalendar(renderIcs(sampleEvents(), sampleChannel('ics')));
    const cancelled = veventByUid(calendar, 'stager-1002@marquee.test');
    expect(cancelled.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(cancelled.getFirstPropertyValue('summary')).toBe('Cancelled: Lowland Choir');
    const confirmed = veventByUid(calendar, 'stager-1001@marquee.test');
    expect(confirmed.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(confirmed.getFirstPropertyValue('summary')).toBe('Night Tapes (+ support)');
  });

  it('describes, locates and categorizes events', () => {
    const calendar = parseCalendar(renderIcs(sampleEvents(), sampleChannel('ics')));
    const vevent = veventByUid(calendar, 'stager-1001@marquee.test');
    expect(vevent.getFirstPropertyValue('description')).toBe(
      'London trio Night Tapes bring their dreamy electronic pop to Amsterdam.\n\n' +
        'Doors: 19:30\n' +
        'Prices: €24.50 Regular, €19.50 Student\n' +
        'Tickets: https://tickets.stager.test/night-tapes?utm_source=marquee&seat=any',
    );
    expect(vevent.getFirstPropertyValue('location')).toBe(
      'Paradiso Noord, Distelweg 83, 1031 HH Amsterdam',
    );
    expect(vevent.getFirstPropertyValue('geo')).toEqual([52.3947, 4.9225]);
    expect(vevent.getFirstProperty('categories')?.getValues()).toEqual(['Indie', 'Electronic']);
    const attach = vevent.getFirstProperty('attach');
    expect(attach?.getFirstValue()).toBe('https://images.stager.test/night-tapes.jpg');
    expect(attach?.getParameter('fmttype')).toBe('image/jpeg');

    // A comma in an image URL stays a comma (URI values are not TEXT-escaped).
    const cancelled = veventByUid(calendar, 'stager-1002@marquee.test');
    expect(cancelled.getFirstPropertyValue('attach')).toBe(
      'https://images.stager.test/cdn/w_600,h_400/choir',
    );
    expect(cancelled.getFirstProperty('categories')?.getValues()).toEqual(['Classical', 'R&B']);
  });

  it('keeps GEO for a coordinate of zero', () => {
    const calendar = parseCalendar(renderIcs(sampleEvents(), sampleChannel('ics')));
    const hostile = veventByUid(calendar, 'stager-evil,1;x\\y@marquee.test');
    expect(hostile.getFirstPropertyValue('geo')).toEqual([0, 4.9]);
  });

  it('keeps image URLs verbatim, even with replacement patterns in them', () => {
    const url = 'https://images.test/a$&b$1/c.png';
    const text = renderIcs([buildEvent({ image: { url, alt: null } })], sampleChannel('ics'));
    const calendar = parseCalendar(text);
    expect(calendar.getAllSubcomponents('vevent')).toHaveLength(1);
    expect(calendar.getFirstSubcomponent('vevent')?.getFirstPropertyValue('attach')).toBe(url);
  });

  it('carries hostile payloads as inert, escaped text', () => {
    const text = renderIcs(sampleEvents(), sampleChannel('ics'));
    const calendar = parseCalendar(text);
    expect(calendar.getAllSubcomponents('vevent')).toHaveLength(5);
    const unfolded = contentLines(text);
    expect(unfolded.some((line) => line.startsWith('X-INJECTED'))).toBe(false);
    for (const vevent of calendar.getAllSubcomponents('vevent')) {
      expect(vevent.getAllProperties().map((property) => property.name)).not.toContain(
        'x-injected',
      );
    }
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/);

    const hostile = veventByUid(calendar, 'stager-evil,1;x\\y@marquee.test');
    expect(hostile.getFirstPropertyValue('summary')).toBe(
      '<script>alert(1)</script> Night ]]> Tapes ]]> 🎸 X-INJECTED:1 (<img src=x onerror=alert(1)>)',
    );
    expect(hostile.getFirstPropertyValue('location')).toBe(
      'Club "X" <iframe src=//evil>, Evil; Street, 1 \\, Amster]]>dam',
    );
    expect(hostile.getFirstProperty('categories')?.getValues()).toEqual([
      '<b>bold</b>',
      'R&B',
      'a,b;c',
    ]);
    const description = String(hostile.getFirstPropertyValue('description'));
    expect(description).toContain('X-INJECTED:2 🎸');
    // The javascript: ticket URL is dropped, not printed.
    expect(text).not.toContain('javascript:');
    expect(hostile.getFirstPropertyValue('attach')).toBe(
      'https://evil.test/pic.png?a=1&b=%22%3E%3Cscript%3Ealert(1)%3C/script%3E',
    );
  });

  it('uses CRLF line endings and folds lines at 75 octets without splitting characters', () => {
    const long = buildEvent({
      id: 'stager-long',
      title: `x${'🎸é€'.repeat(60)}`,
      descriptionText: 'ü'.repeat(200),
    });
    const text = renderIcs([...sampleEvents(), long], sampleChannel('ics'));
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const lines = physicalLines(text);
    for (const line of lines) {
      expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
      expect(line).not.toMatch(LONE_SURROGATE);
    }
    expect(lines.some((line) => line.startsWith(' '))).toBe(true);
    const calendar = parseCalendar(text);
    expect(veventByUid(calendar, 'stager-long@marquee.test').getFirstPropertyValue('summary')).toBe(
      `x${'🎸é€'.repeat(60)} (+ support)`,
    );
  });

  it('renders identical bytes twice, and never reads the clock', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const first = renderIcs(sampleEvents(), sampleChannel('ics'));
    vi.setSystemTime(new Date('2031-06-15T12:34:56Z'));
    const second = renderIcs(sampleEvents(), sampleChannel('ics'));
    expect(second).toBe(first);
    expect(first).not.toMatch(/20(30|31)\d{4}T/);
  });
});

describe('the per-event cache', () => {
  it('renders the same bytes as uncached rendering, cold and warm', () => {
    const events = sampleEvents();
    const channel = sampleChannel('ics');
    const cache = new FragmentCache<Uint8Array>();
    const uncached = renderIcs(events, channel);
    expect(renderIcs(events, channel, cache)).toBe(uncached);
    expect(cache.size).toBe(events.length);
    expect(renderIcs(events, channel, cache)).toBe(uncached);
    expect(cache.size).toBe(events.length);
  });

  it('re-renders only an event whose revision changed', () => {
    const events = sampleEvents();
    const channel = sampleChannel('ics');
    const cache = new FragmentCache<Uint8Array>();
    renderIcs(events, channel, cache);

    const changed: Event[] = events.map((event) =>
      event.id === 'stager-1001'
        ? {
            ...event,
            title: 'Night Tapes (late show)',
            revision: 4,
            lastChangedAt: new Date('2026-10-03T00:00:00Z'),
          }
        : event,
    );
    const text = renderIcs(changed, channel, cache);
    expect(cache.size).toBe(events.length + 1);
    expect(text).toBe(renderIcs(changed, channel));
    expect(text).toContain('SUMMARY:Night Tapes (late show) (+ support)\r\n');
    expect(text).toContain('SEQUENCE:4\r\n');
  });

  it('keys entries by the channel fields a VEVENT shows', () => {
    const events = sampleEvents();
    const cache = new FragmentCache<Uint8Array>();
    renderIcs(events, sampleChannel('ics'), cache);
    const otherPrefix = { ...sampleChannel('ics'), cancelledPrefix: 'CANCELLED - ' };
    const text = renderIcs(events, otherPrefix, cache);
    expect(text).toContain('SUMMARY:CANCELLED - Lowland Choir\r\n');
    expect(text).toBe(renderIcs(events, otherPrefix));
    const otherHost = {
      ...sampleChannel('ics'),
      uidDomain: 'events.example',
      publicUrl: 'https://events.example',
    };
    const hosted = renderIcs(events, otherHost, cache);
    expect(hosted).toContain('UID:stager-1001@events.example\r\n');
    expect(hosted).toContain('URL;VALUE=URI:https://events.example/events/stager-1001\r\n');
  });

  it('stays within its bound, dropping the least recently used entries', () => {
    const events = sampleEvents();
    const channel = sampleChannel('ics');
    const cache = new FragmentCache<Uint8Array>({ maxEntries: 3 });
    const text = renderIcs(events, channel, cache);
    expect(cache.size).toBe(3);
    expect(renderIcs(events, channel, cache)).toBe(text);
    expect(cache.size).toBe(3);
  });
});

describe('renderSingleEventIcs', () => {
  it('renders one event with its own VTIMEZONE', () => {
    const event = sampleEvents()[1];
    if (event === undefined) throw new Error('fixture changed');
    const text = renderSingleEventIcs(event, sampleChannel('ics'));
    const calendar = parseCalendar(text);
    expect(calendar.getAllSubcomponents('vevent')).toHaveLength(1);
    expect(
      calendar
        .getAllSubcomponents('vtimezone')
        .map((vtimezone) => vtimezone.getFirstPropertyValue('tzid')),
    ).toEqual(['Europe/Berlin']);
    expect(calendar.getFirstSubcomponent('vevent')?.getFirstPropertyValue('uid')).toBe(
      'eventport-ep-77@marquee.test',
    );
    expectGolden('event.ics', text);
  });
});

describe('times whose wall-clock reading is ambiguous', () => {
  const zoned = (event: Event): string => renderIcs([event], sampleChannel('ics'));

  it('writes both 02:30s of a fall-back night in UTC, and the end after it in its zone', () => {
    const first = zoned(
      buildEvent({
        startsAt: new Date('2026-10-25T00:30:00Z'),
        endsAt: new Date('2026-10-25T03:00:00Z'),
      }),
    );
    expect(first).toContain('DTSTART:20261025T003000Z\r\n');
    expect(first).toContain('DTEND;TZID=Europe/Amsterdam:20261025T040000\r\n');
    const second = zoned(
      buildEvent({
        startsAt: new Date('2026-10-25T01:30:00Z'),
        endsAt: new Date('2026-10-25T01:59:59Z'),
      }),
    );
    expect(second).toContain('DTSTART:20261025T013000Z\r\n');
    expect(second).toContain('DTEND:20261025T015959Z\r\n');
  });

  it('keeps the zone for the hours either side of the repeated one', () => {
    const before = zoned(
      buildEvent({
        startsAt: new Date('2026-10-24T23:59:59Z'),
        endsAt: new Date('2026-10-25T02:00:00Z'),
      }),
    );
    // 01:59:59 CEST, the second before the repeated hour, and 03:00 CET, the end of it.
    expect(before).toContain('DTSTART;TZID=Europe/Amsterdam:20261025T015959\r\n');
    expect(before).toContain('DTEND;TZID=Europe/Amsterdam:20261025T030000\r\n');
  });

  it('writes in UTC the hour a spring-forward wall time (02:30, which never happens) lands in', () => {
    // 02:30 on 28 March 2027 does not exist in Amsterdam; a source's 02:30 becomes 03:30 CEST.
    const skipped = zoned(
      buildEvent({
        startsAt: new Date('2027-03-28T01:30:00Z'),
        endsAt: new Date('2027-03-28T03:00:00Z'),
      }),
    );
    expect(skipped).toContain('DTSTART:20270328T013000Z\r\n');
    expect(skipped).toContain('DTEND;TZID=Europe/Amsterdam:20270328T050000\r\n');
    const justBefore = zoned(
      buildEvent({
        startsAt: new Date('2027-03-28T00:59:59Z'),
        endsAt: new Date('2027-03-28T02:00:00Z'),
      }),
    );
    expect(justBefore).toContain('DTSTART;TZID=Europe/Amsterdam:20270328T015959\r\n');
    expect(justBefore).toContain('DTEND;TZID=Europe/Amsterdam:20270328T040000\r\n');
  });

  it('reads every such time back as the same instant', () => {
    const instants = [
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:30:00Z',
      '2026-11-01T05:30:00Z',
      '2026-11-01T06:30:00Z',
      '2027-03-28T01:30:00Z',
    ];
    for (const [index, iso] of instants.entries()) {
      const startsAt = new Date(iso);
      const timeZone = index === 2 || index === 3 ? 'America/New_York' : 'Europe/Amsterdam';
      const event = buildEvent({
        startsAt,
        endsAt: new Date(startsAt.getTime() + 3_600_000),
        timeZone,
      });
      const calendar = parseCalendar(zoned(event));
      const vevent = new ICAL.Event(veventByUid(calendar, `${event.id}@marquee.test`));
      expect(vevent.startDate.toJSDate().toISOString()).toBe(startsAt.toISOString());
      expect(vevent.endDate.toJSDate().getTime()).toBe(startsAt.getTime() + 3_600_000);
    }
  });
});

describe('status in words', () => {
  const description = (event: Event): string => {
    const calendar = parseCalendar(renderIcs([event], sampleChannel('ics')));
    return String(
      veventByUid(calendar, `${event.id}@marquee.test`).getFirstPropertyValue('description'),
    );
  };

  it('says a new location, as the page badge does', () => {
    expect(description(buildEvent({ status: 'relocated' }))).toMatch(
      /^New location\n\nLondon trio/,
    );
  });

  it('says rescheduled when the earlier start is unknown, and the earlier start when known', () => {
    expect(description(buildEvent({ status: 'rescheduled' }))).toMatch(/^Rescheduled\n\n/);
    const known = description(
      buildEvent({ status: 'rescheduled', previousStartsAt: new Date('2026-11-28T19:30:00Z') }),
    );
    expect(known).not.toMatch(/^Rescheduled\n/);
    expect(known).toContain('Rescheduled from: Sat 28 Nov 20:30');
  });

  it('says the end time was not announced when DTEND is the default end', () => {
    const text = description(buildEvent({ endsAt: null }));
    expect(text).toMatch(/^End time not announced\n\n/);
    expect(description(buildEvent())).not.toContain('End time not announced');
  });

  it('states several facts on lines of their own, even without a description', () => {
    const text = description(
      buildEvent({
        status: 'relocated',
        endsAt: null,
        descriptionText: null,
        descriptionHtml: null,
        doorsAt: null,
        prices: [],
        ticketUrl: null,
      }),
    );
    expect(text).toBe('New location\nEnd time not announced');
  });
});

describe('tombstones and cancelled=visible', () => {
  const withdrawn = (overrides: Partial<Event> = {}): Event =>
    buildEvent({
      visibility: 'removed',
      withdrawnAt: new Date('2026-11-22T12:00:00Z'),
      revision: 4,
      ...overrides,
    });
  const vevent = (event: Event, options: Parameters<typeof renderIcs>[3] = {}): Component =>
    veventByUid(
      parseCalendar(renderIcs([event], sampleChannel('ics'), undefined, options)),
      `${event.id}@marquee.test`,
    );

  it('writes a withdrawn event as cancelled, its title and description saying it was removed', () => {
    const tombstone = vevent(withdrawn());
    expect(tombstone.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(tombstone.getFirstPropertyValue('summary')).toBe('Removed: Night Tapes (+ support)');
    expect(tombstone.getFirstPropertyValue('sequence')).toBe(4);
    expect(String(tombstone.getFirstPropertyValue('description'))).toMatch(
      /^Removed: this event is no longer listed\.\n\nLondon trio/,
    );
  });

  it('keeps the cancelled prefix for a withdrawn event that was cancelled, hidden ones too', () => {
    const tombstone = vevent(withdrawn({ status: 'cancelled', visibility: 'hidden' }));
    expect(tombstone.getFirstPropertyValue('status')).toBe('CANCELLED');
    expect(tombstone.getFirstPropertyValue('summary')).toBe('Cancelled: Night Tapes (+ support)');
  });

  it('writes cancelled events and tombstones as confirmed, saying so, with cancelled=visible', () => {
    const tombstone = vevent(withdrawn(), { cancelled: 'visible' });
    expect(tombstone.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(tombstone.getFirstPropertyValue('summary')).toBe('Removed: Night Tapes (+ support)');
    const cancelled = vevent(buildEvent({ status: 'cancelled' }), { cancelled: 'visible' });
    expect(cancelled.getFirstPropertyValue('status')).toBe('CONFIRMED');
    expect(cancelled.getFirstPropertyValue('summary')).toBe('Cancelled: Night Tapes (+ support)');
    expect(String(cancelled.getFirstPropertyValue('description'))).toMatch(/^Cancelled\n\n/);
    const scheduled = vevent(buildEvent(), { cancelled: 'visible' });
    expect(String(scheduled.getFirstPropertyValue('description'))).toMatch(/^London trio/);
  });

  it('keeps the cached VEVENTs of each display apart', () => {
    const cache = new FragmentCache<Uint8Array>();
    const events = [buildEvent({ status: 'cancelled' })];
    const plain = renderIcs(events, sampleChannel('ics'), cache);
    const visible = renderIcs(events, sampleChannel('ics'), cache, { cancelled: 'visible' });
    expect(plain).toContain('STATUS:CANCELLED');
    expect(visible).toContain('STATUS:CONFIRMED');
    expect(renderIcs(events, sampleChannel('ics'), cache)).toBe(plain);
  });

  it('never writes a hidden event that was never published as a tombstone', () => {
    const hidden = vevent(buildEvent({ visibility: 'hidden', withdrawnAt: null }));
    expect(hidden.getFirstPropertyValue('summary')).toBe('Night Tapes (+ support)');
  });
});
