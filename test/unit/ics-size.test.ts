import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { FragmentCache } from '../../src/cache/fragment-cache.js';
import { SHORT_DESCRIPTION_CHARS, icsDocument } from '../../src/render/ics.js';
import { buildEvent, sampleChannel } from '../helpers/sample-events.js';

/** ICS_MAX_BYTES: long descriptions shortened first, then the latest-starting events left out. */

const DAY_MS = 86_400_000;
const MAX_BYTES = 900 * 1024;

const longText = (index: number) =>
  Array.from(
    { length: 40 },
    (_, line) => `Paragraph ${line} of the programme for night ${index}: strings, drums, choir.`,
  ).join('\n\n');

const events = Array.from({ length: 500 }, (_, index) =>
  buildEvent({
    id: `stager-${2000 + index}`,
    externalId: `${2000 + index}`,
    descriptionText: longText(index),
    descriptionHtml: null,
    startsAt: new Date(Date.UTC(2027, 0, 1, 19) + index * DAY_MS),
    endsAt: new Date(Date.UTC(2027, 0, 1, 22) + index * DAY_MS),
    effectiveEndsAt: new Date(Date.UTC(2027, 0, 1, 22) + index * DAY_MS),
  }),
);

function parse(text: string) {
  return new ICAL.Component(ICAL.parse(text));
}

describe('the ICS size budget', () => {
  it('keeps 500 events with long descriptions within it by shortening descriptions', () => {
    const channel = sampleChannel();
    expect(icsDocument(events, channel).bytes().byteLength).toBeGreaterThan(MAX_BYTES);
    const body = icsDocument(events, channel, new FragmentCache(), { maxBytes: MAX_BYTES }).bytes();
    expect(body.byteLength).toBeLessThanOrEqual(MAX_BYTES);

    const vevents = parse(body.toString('utf8')).getAllSubcomponents('vevent');
    expect(vevents).toHaveLength(500);
    for (const vevent of vevents) {
      const description = String(vevent.getFirstPropertyValue('description'));
      const url = String(vevent.getFirstPropertyValue('url'));
      expect(url).toMatch(/^https:\/\/marquee\.test\/events\/stager-\d+$/);
      expect(description.endsWith(` … More: ${url}`)).toBe(true);
      expect(description.length).toBeLessThan(SHORT_DESCRIPTION_CHARS + url.length + 20);
    }
    expect(body.toString('utf8')).not.toContain('left out');
  });

  it('leaves a calendar that fits alone, whatever the cache holds', () => {
    const cache = new FragmentCache<Uint8Array>();
    const channel = sampleChannel();
    icsDocument(events, channel, cache, { maxBytes: MAX_BYTES });
    const few = events.slice(0, 20);
    expect(icsDocument(few, channel, cache, { maxBytes: MAX_BYTES }).text()).toBe(
      icsDocument(few, channel).text(),
    );
  });

  it('leaves out the latest-starting events under a tighter budget, and says so', () => {
    const channel = sampleChannel();
    const maxBytes = 100 * 1024;
    // Given out of order: the events left out are the latest to start, not the last given.
    const shuffled = [...events.slice(250), ...events.slice(0, 250)];
    const body = icsDocument(shuffled, channel, new FragmentCache(), { maxBytes }).bytes();
    expect(body.byteLength).toBeLessThanOrEqual(maxBytes);

    const calendar = parse(body.toString('utf8'));
    const ids = calendar
      .getAllSubcomponents('vevent')
      .map((vevent) => String(vevent.getFirstPropertyValue('uid')).split('@')[0]);
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.length).toBeLessThan(500);
    expect([...ids].sort()).toEqual(events.slice(0, ids.length).map((event) => event.id));
    // Rendered in the order given.
    expect(ids).toEqual(shuffled.map((event) => event.id).filter((id) => ids.includes(id)));

    // An X- property: ical.js hands its TEXT over with the escapes.
    const description = String(calendar.getFirstPropertyValue('x-wr-caldesc')).replace(
      /\\([;,\\])/g,
      '$1',
    );
    expect(description).toBe(
      `${channel.description}. ${500 - ids.length} later events left out to stay within calendar apps' size limits; see ${channel.htmlUrl}`,
    );
  });
});
