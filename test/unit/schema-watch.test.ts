import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config.js';
import { createSources, sourceSettingsFrom } from '../../src/sources/index.js';
import { listOf } from '../../src/sources/fields.js';
import {
  countUnreadPaths,
  MAX_PATHS_PER_PAYLOAD,
  readsPath,
  shapeOf,
  type PathCounts,
} from '../../src/sources/payload-shape.js';
import { eventSchema as eventportEventSchema } from '../../src/sources/eventport/schema.js';
import { eventSchema as stagerEventSchema } from '../../src/sources/stager/schema.js';
import type { SchemaObservation, WatchKind } from '../../src/sources/schema-watcher.js';

const { stager, eventport } = createSources(sourceSettingsFrom(loadConfig({})));

/** The findings of one kind, as value → count. */
function findings(observation: SchemaObservation, kind: WatchKind): Record<string, number> {
  return Object.fromEntries(observation.counts.get(kind) ?? []);
}

/** A Stager event with every key the adapter reads. */
const fullStagerEvent = {
  id: 583920,
  status: 'CONFIRMED',
  name: 'Night Tapes',
  subtitle: '+ support',
  startsAt: '2026-12-05T20:30:00+01:00',
  endsAt: '2026-12-05T23:30:00+01:00',
  doorsOpenAt: '2026-12-05T19:30:00+01:00',
  timeZone: 'Europe/Amsterdam',
  location: {
    name: 'Paradiso Noord',
    street: 'Johan van Hasseltweg 20',
    postalCode: '1021 KN',
    city: 'Amsterdam',
    country: 'NL',
    latitude: 52.3925,
    longitude: 4.9168,
  },
  genres: ['Indie'],
  tags: ['Concert'],
  description: { format: 'MARKDOWN', text: '**Night Tapes**' },
  images: [{ type: 'MAIN', url: 'https://cdn.example/main.jpg', altText: 'On stage' }],
  ticketShopUrl: 'https://paradiso.stager.co/shop',
  ticketTypes: [{ name: 'Regular', priceInCents: 2450, feeInCents: 250, soldOut: false }],
  soldOut: false,
  updatedAt: '2026-11-20T14:02:11+01:00',
};

const stagerMessage = (events: unknown[], extra: Record<string, unknown> = {}) => ({
  messageType: 'UPDATE_EVENTS',
  messageContent: { organization: { id: 1042, name: 'Paradiso' }, events },
  ...extra,
});

describe('the schema watch of Stager', () => {
  it('lists nothing for a message of keys the adapter reads', () => {
    const observation = stager.watch.observe(stagerMessage([fullStagerEvent, fullStagerEvent]));
    expect(observation.entries()).toEqual([]);
  });

  it('knows every key of the event schema, nested list items included', () => {
    for (const key of Object.keys(stagerEventSchema.shape)) {
      expect(stager.watch.knows('path', `messageContent.events[].${key}`), key).toBe(true);
    }
    expect(stager.watch.knows('path', 'messageContent.events[].ticketTypes[].feeInCents')).toBe(
      true,
    );
    expect(stager.watch.knows('path', 'messageContent.events[].images[].altText')).toBe(true);
    expect(stager.watch.knows('path', 'messageContent.events[].description.format')).toBe(true);
    expect(stager.watch.knows('path', 'messageContent.organization.name')).toBe(true);
    expect(stager.watch.knows('path', 'messageContent.events[].venue')).toBe(false);
    expect(stager.watch.knows('path', 'messageContent.events[].images[].focus')).toBe(false);
  });

  it('counts unread keys by path with array indexes collapsed, and unknown statuses', () => {
    const odd = {
      ...fullStagerEvent,
      status: 'postponed',
      venue: { geo: { alt: 12 } },
      images: [{ url: 'https://cdn.example/a.jpg', focus: { x: 1 } }, { focus: { x: 2 } }],
      lineup: [{ name: 'A', links: [{ url: 'https://a.example' }] }],
      genres: [{ id: 7, name: 'Indie' }],
    };
    const observation = stager.watch.observe(
      stagerMessage([odd, { ...odd, status: 3 }, { ...fullStagerEvent, status: 'Confirmed' }], {
        sentAt: '2026-11-22T02:00:00+01:00',
      }),
    );
    expect(findings(observation, 'path')).toEqual({
      sentAt: 1,
      'messageContent.events[].venue': 2,
      'messageContent.events[].venue.geo': 2,
      'messageContent.events[].venue.geo.alt': 2,
      'messageContent.events[].images[].focus': 4,
      'messageContent.events[].images[].focus.x': 4,
      'messageContent.events[].lineup': 2,
      'messageContent.events[].lineup[].name': 2,
      'messageContent.events[].lineup[].links': 2,
      'messageContent.events[].lineup[].links[].url': 2,
      // Genres are read as text: the keys of a genre object are not.
      'messageContent.events[].genres[].id': 2,
      'messageContent.events[].genres[].name': 2,
    });
    // `Confirmed` reads as CONFIRMED; a status that is no text is shown as JSON.
    expect(findings(observation, 'status')).toEqual({ POSTPONED: 1, '3': 1 });
    expect(findings(observation, 'message-type')).toEqual({});
  });

  it('records an unknown message type without reading its content', () => {
    const observation = stager.watch.observe({
      messageType: 'ORGANIZATION_SETTINGS_CHANGED',
      messageContent: { settings: { locale: 'nl' } },
      trace: 'x',
    });
    expect(findings(observation, 'message-type')).toEqual({ ORGANIZATION_SETTINGS_CHANGED: 1 });
    expect(findings(observation, 'path')).toEqual({ trace: 1 });
  });

  it('reads anything without throwing, and a payload of keys named by data adds a bounded number', () => {
    for (const payload of [null, 'text', 42, [], [1, { a: 1 }], { messageType: 5 }]) {
      expect(() => stager.watch.observe(payload)).not.toThrow();
    }
    const byId = Object.fromEntries(Array.from({ length: 1000 }, (_, index) => [`id${index}`, 1]));
    const observation = stager.watch.observe(stagerMessage([{ ...fullStagerEvent, byId }]));
    expect(observation.counts.get('path')?.size).toBe(MAX_PATHS_PER_PAYLOAD);
  });
});

describe('the schema watch of Eventport', () => {
  const post = (event: Record<string, unknown>, profile: Record<string, unknown> = {}) => ({
    type: 'event',
    method: 'post',
    version: '1.0',
    data: {
      event: { _id: 'K8qjtKSegBfbdGppg', name: 'A', begin: '2027-01-01T20:00:00Z', ...event },
      profile,
    },
  });

  it('records each type/method/version combination and whether the adapter reads it', () => {
    const combinations = [
      post({}),
      { type: 'event', method: 'cancel', version: '1.0', data: { event: { _id: 'x' } } },
      { type: 'event', method: 'post', version: 2, data: {} },
      { type: 'venue', method: 'post', data: {} },
      { _id: 'K8qjtKSegBfbdGppg', name: 'A', begin: '2027-01-01T20:00:00Z' },
      { delete: true, _id: 'K8qjtKSegBfbdGppg' },
    ].map((payload) => Object.keys(findings(eventport.watch.observe(payload), 'combination')));
    expect(combinations).toEqual([
      ['event/post/1.0'],
      ['event/cancel/1.0'],
      ['event/post/2'],
      ['venue/post/-'],
      ['pre-1.0/event'],
      ['pre-1.0/delete'],
    ]);
    expect(combinations.flat().map((value) => eventport.watch.knows('combination', value))).toEqual(
      [true, true, false, false, true, true],
    );
    expect(
      findings(
        eventport.watch.observe({ type: 'venue', method: 'post', data: { a: 1 } }),
        'message-type',
      ),
    ).toEqual({ 'venue.post': 1 });
  });

  it('does not list what it reads nor the private keys it never reads', () => {
    for (const key of Object.keys(eventportEventSchema.shape)) {
      expect(eventport.watch.knows('path', `data.event.${key}`), key).toBe(true);
      expect(eventport.watch.knows('path', key), key).toBe(true);
    }
    const observation = eventport.watch.observe(
      post(
        {
          remark: 'A note for publishers.',
          channels: { facebook: { postTime: 'x' } },
          userReceivers: [{ id: 1 }],
          location: { name: 'Club', addressAddiction: 'Hinterhof', extra: 1 },
          priceCategories: [{ name: { id: 'P', text: 'Pre-sale' }, price: 12, conditions: 'x' }],
          photos: [{ url: 'https://img.example/a.jpg', purposes: ['6'], thumbnailUrl: 'x' }],
        },
        {
          name: 'Eventport',
          counterparts: [{ phone: '+49' }],
          phone: '+49',
          email: 'a@b',
          street: 'x',
        },
      ),
    );
    expect(findings(observation, 'path')).toEqual({
      'data.event.location.extra': 1,
      'data.event.priceCategories[].conditions': 1,
      'data.event.photos[].thumbnailUrl': 1,
      'data.profile.street': 1,
    });
  });
});

describe('payload shapes from zod schemas', () => {
  it('reads the options of a union, the items of a list and the input of a transform', () => {
    const schema = z.object({
      name: z.union([z.object({ text: z.string() }), z.string()]).optional(),
      items: listOf(z.object({ id: z.number() })),
      when: z
        .object({ at: z.string() })
        .transform((value) => value.at)
        .nullish()
        .catch(null),
    });
    const shape = shapeOf(schema);
    for (const path of ['name', 'name.text', 'items', 'items[].id', 'when.at']) {
      expect(readsPath(shape, path), path).toBe(true);
    }
    const paths: PathCounts = new Map();
    countUnreadPaths(
      {
        name: { text: 'a', lang: 'en' },
        items: [{ id: 1, more: [[{ deep: 1 }]] }],
        when: { at: 'x', zone: 'y' },
      },
      shape,
      paths,
    );
    expect(Object.fromEntries(paths)).toEqual({
      'name.lang': 1,
      'items[].more': 1,
      'items[].more[][].deep': 1,
      'when.zone': 1,
    });
    expect(readsPath(shape, 'items[].more[][].deep')).toBe(false);
  });
});
