import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/events/types.js';
import { renderEventsApi } from '../../src/render/api.js';
import type { FeedChannel } from '../../src/render/channel.js';
import { FragmentCache } from '../../src/cache/fragment-cache.js';
import { renderIcs } from '../../src/render/ics.js';
import { renderAtom, renderJsonFeed, renderRss } from '../../src/render/syndication.js';
import { buildEvent, sampleChannel, sampleEvents } from '../helpers/sample-events.js';

type Render = (
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
) => string;

const RENDERERS: [string, Render, FeedChannel][] = [
  ['ics', renderIcs, sampleChannel('ics')],
  ['rss', renderRss, sampleChannel('rss')],
  ['atom', renderAtom, sampleChannel('atom')],
  ['jsonfeed', renderJsonFeed, sampleChannel('json')],
  [
    'api',
    (events, channel, cache) =>
      renderEventsApi({ total: 40, events }, { limit: 10, offset: 5 }, channel, cache),
    sampleChannel('json'),
  ],
];

describe.each(RENDERERS)('%s with a fragment cache', (_name, render, channel) => {
  it('renders the same bytes as without, cold and warm, for any number of events', () => {
    for (const events of [
      [],
      sampleEvents().slice(0, 1),
      sampleEvents(),
      sampleEvents().reverse(),
    ]) {
      const cache = new FragmentCache<Uint8Array>();
      const uncached = render(events, channel);
      expect(render(events, channel, cache)).toBe(uncached);
      expect(render(events, channel, cache)).toBe(uncached);
    }
  });

  it('re-renders an event whose revision changed, and only that one', () => {
    const events = sampleEvents();
    const cache = new FragmentCache<Uint8Array>();
    render(events, channel, cache);
    const size = cache.size;
    const changed = events.map((event, index) =>
      index === 0 ? { ...event, title: 'Renamed <&> show', revision: event.revision + 1 } : event,
    );
    const text = render(changed, channel, cache);
    expect(cache.size).toBe(size + 1);
    expect(text).toBe(render(changed, channel));
    expect(text).toContain('Renamed');
  });

  it('keys fragments by the channel fields they show', () => {
    const events = [buildEvent({ status: 'cancelled' })];
    const cache = new FragmentCache<Uint8Array>();
    render(events, channel, cache);
    for (const other of [
      { ...channel, cancelledPrefix: 'CANCELLED - ' },
      { ...channel, publicUrl: 'https://other.example', uidDomain: 'other.example' },
      { ...channel, tagPrefix: 'tag:other.example,2020-02-02:' },
      { ...channel, timeZone: 'America/New_York' },
    ]) {
      expect(render(events, other, cache)).toBe(render(events, other));
    }
  });
});
