import { describe, expect, it } from 'vitest';
import {
  descriptionPlainText,
  formatEventClock,
  formatEventDayTime,
  itemTitle,
  zoneAbbreviation,
} from '../../src/render/event-text.js';
import { groupByDay, statusBadges } from '../../src/render/pages/event-list.js';
import { renderJsonFeed } from '../../src/render/syndication.js';
import { buildEvent, sampleChannel } from '../helpers/sample-events.js';

/** The site's zone in these tests (sampleChannel's TIMEZONE). */
const SITE = 'Europe/Amsterdam';

/** Brunch in New York: Sun 13 Dec 2026, 11:00–14:00 EST (17:00–20:00 in Amsterdam). */
const brunch = buildEvent({
  id: 'stager-brunch',
  title: 'Brunch',
  timeZone: 'America/New_York',
  startsAt: new Date('2026-12-13T16:00:00Z'),
  endsAt: new Date('2026-12-13T19:00:00Z'),
  doorsAt: new Date('2026-12-13T15:30:00Z'),
  venue: { ...buildEvent().venue, name: 'Sunny Side', city: 'New York' },
});

describe('zoneAbbreviation', () => {
  it('names a zone as its readers do, or by its offset', () => {
    const winter = new Date('2026-12-13T16:00:00Z');
    const summer = new Date('2027-07-13T16:00:00Z');
    expect(zoneAbbreviation(winter, 'America/New_York')).toBe('EST');
    expect(zoneAbbreviation(summer, 'America/New_York')).toBe('EDT');
    expect(zoneAbbreviation(winter, 'Europe/London')).toBe('GMT');
    expect(zoneAbbreviation(summer, 'Europe/London')).toBe('BST');
    expect(zoneAbbreviation(summer, 'Europe/Berlin')).toBe('CEST');
    expect(zoneAbbreviation(winter, 'Australia/Sydney')).toBe('AEDT');
    expect(zoneAbbreviation(winter, 'America/St_Johns')).toBe('NST');
    expect(zoneAbbreviation(winter, 'UTC')).toBe('UTC');
    // No English abbreviation: the offset.
    expect(zoneAbbreviation(winter, 'America/Sao_Paulo')).toBe('GMT-3');
    expect(zoneAbbreviation(winter, 'Asia/Kathmandu')).toBe('GMT+5:45');
  });
});

describe('times of events as text', () => {
  it('labels a time of an event whose zone reads another clock than the site zone', () => {
    expect(formatEventDayTime(brunch.startsAt, brunch.timeZone, SITE)).toBe('Sun 13 Dec 11:00 EST');
    expect(formatEventClock(brunch.startsAt, brunch.timeZone, SITE)).toBe('11:00 EST');
  });

  it('reads as always in the site zone, and in a zone with the same clock', () => {
    const start = new Date('2026-12-05T19:30:00Z');
    expect(formatEventDayTime(start, SITE, SITE)).toBe('Sat 5 Dec 20:30');
    expect(formatEventDayTime(start, 'Europe/Berlin', SITE)).toBe('Sat 5 Dec 20:30');
    expect(formatEventClock(start, 'Europe/Berlin', SITE)).toBe('20:30');
  });

  it('titles feed items and describes doors and reschedules in the event zone', () => {
    const channel = sampleChannel('json');
    expect(itemTitle(brunch, channel)).toBe(
      'Sun 13 Dec 11:00 EST · Brunch (+ support) · Sunny Side, New York',
    );
    const moved = {
      ...brunch,
      status: 'rescheduled' as const,
      previousStartsAt: new Date('2026-12-06T16:00:00Z'),
    };
    const text = descriptionPlainText(moved, channel) ?? '';
    expect(text).toContain('Rescheduled from: Sun 6 Dec 11:00 EST\n');
    expect(text).toContain('Doors: 10:30 EST\n');
    const feed = JSON.parse(renderJsonFeed([moved], channel)) as {
      items: { title: string; content_html: string }[];
    };
    expect(feed.items[0]?.title).toBe(itemTitle(brunch, channel));
    expect(feed.items[0]?.content_html).toContain('Doors: 10:30 EST');
    expect(statusBadges(moved, SITE)[0]?.detail).toBe('was Sun 6 Dec 11:00 EST');
    // On the event's page, times are in its own zone already.
    expect(statusBadges(moved, moved.timeZone)[0]?.detail).toBe('was Sun 6 Dec 11:00');
  });

  it('shows list items in the event zone, naming the day when the heading is another', () => {
    const late = buildEvent({
      id: 'stager-late-ny',
      timeZone: 'America/New_York',
      // Sat 12 Dec 23:00 EST: Sunday 05:00 in Amsterdam.
      startsAt: new Date('2026-12-13T04:00:00Z'),
      endsAt: new Date('2026-12-13T04:45:00Z'),
    });
    const overnight = buildEvent({
      id: 'stager-overnight-ny',
      timeZone: 'America/New_York',
      startsAt: new Date('2026-12-14T03:00:00Z'),
      endsAt: new Date('2026-12-14T07:00:00Z'),
    });
    const local = buildEvent();
    const groups = groupByDay([local, late, brunch, overnight], SITE);
    expect(
      groups.map((group) => [
        group.heading,
        group.events.map((event) =>
          'time' in event ? [event.start, event.time, event.startIso] : null,
        ),
      ]),
    ).toEqual([
      ['Saturday 5 December 2026', [['20:30', '20:30–23:00', '2026-12-05T20:30:00+01:00']]],
      [
        'Sunday 13 December 2026',
        [
          ['Sat 12 Dec 23:00 EST', 'Sat 12 Dec 23:00–23:45 EST', '2026-12-12T23:00:00-05:00'],
          ['11:00 EST', '11:00–14:00 EST', '2026-12-13T11:00:00-05:00'],
        ],
      ],
      [
        'Monday 14 December 2026',
        [['Sun 13 Dec 22:00 EST', 'Sun 13 Dec 22:00 EST', '2026-12-13T22:00:00-05:00']],
      ],
    ]);
  });

  it('labels each end of a range when the zone changes its offset in between', () => {
    // New York's fall-back night: 00:30 EDT to 03:00 EST.
    const night = buildEvent({
      timeZone: 'America/New_York',
      startsAt: new Date('2026-11-01T04:30:00Z'),
      endsAt: new Date('2026-11-01T08:00:00Z'),
    });
    const [group] = groupByDay([night], SITE);
    const item = group?.events[0];
    expect(item && 'time' in item ? item.time : null).toBe('00:30 EDT–03:00 EST');
  });
});
