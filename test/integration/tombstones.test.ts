import ICAL from 'ical.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXED_NOW, fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The life of a tombstone: an event that leaves the outputs before it ends stays in calendars
 * as a cancelled event until it would have ended, so that clients keeping vanished events
 * (Google Calendar) drop it too; `cancelled=visible` shows it (and cancellations) as confirmed.
 */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

/** "Sunday Brunch Jazz": open-ended, 20 Dec 2026 12:00 Amsterdam, so over at 14:00Z (3 hours). */
const BRUNCH = 'stager-583922';
const BRUNCH_ENDS = new Date('2026-12-20T14:00:00Z');

/** A settable clock and an app holding the Stager fixtures and one Munich event from Eventport. */
async function appWithEvents(): Promise<{ test: TestApp; clock: { now: Date } }> {
  const clock = { now: FIXED_NOW };
  const test = await startTestApp({ now: () => clock.now });
  expect((await test.postStager(fixture('stager/update-events.json'))).status).toBe(202);
  expect(
    (await test.postEventport(fixture('eventport/post-upcoming-munich-house.json'))).status,
  ).toBe(202);
  await test.settle();
  return { test, clock };
}

interface CalendarEntry {
  summary: string;
  status: string;
  sequence: number;
  description: string;
}

/** The VEVENTs of a calendar response by UID (the event id before the `@`), read by ical.js. */
async function calendar(test: TestApp, path: string): Promise<Map<string, CalendarEntry>> {
  const response = await test.get(path);
  expect(response.status, path).toBe(200);
  const component = new ICAL.Component(ICAL.parse(await response.text()));
  const entries = new Map<string, CalendarEntry>();
  for (const vevent of component.getAllSubcomponents('vevent')) {
    const event = new ICAL.Event(vevent);
    entries.set(event.uid.split('@')[0] as string, {
      summary: event.summary,
      status: String(vevent.getFirstPropertyValue('status')),
      sequence: event.sequence,
      description: event.description ?? '',
    });
  }
  return entries;
}

async function text(test: TestApp, path: string): Promise<string> {
  const response = await test.get(path);
  expect(response.status, path).toBe(200);
  return response.text();
}

/** Asserts that no output but calendars lists the brunch. */
async function expectOnlyInCalendars(test: TestApp): Promise<void> {
  for (const path of [
    '/events.rss',
    '/events.atom',
    '/events.json',
    '/api/events',
    '/',
    '/?genre=jazz',
    '/embed',
  ]) {
    expect(await text(test, path), path).not.toContain('Sunday Brunch Jazz');
  }
  expect((await test.get(`/events/${BRUNCH}`)).status).toBe(410);
}

/** Stager's update of the fixtures with the brunch no longer public (an `OPTION` again). */
function brunchMadeOption(): string {
  const message = JSON.parse(fixture('stager/update-events.json').toString()) as {
    messageContent: { events: { id: number; status: string; updatedAt: string }[] };
  };
  const brunch = message.messageContent.events.find((event) => event.id === 583922)!;
  brunch.status = 'OPTION';
  brunch.updatedAt = '2026-11-22T10:00:00+01:00';
  message.messageContent.events = [brunch];
  return JSON.stringify(message);
}

describe('tombstones', () => {
  it('keeps an event removed by a sync in calendars, cancelled, until it would have ended', async () => {
    const { test, clock } = await appWithEvents();
    app = test;
    const before = (await calendar(test, '/events.ics')).get(BRUNCH)!;
    expect(before).toMatchObject({ summary: 'Sunday Brunch Jazz', status: 'CONFIRMED' });
    const lastModifiedBefore = (await test.get('/events.ics')).headers.get('last-modified')!;

    clock.now = new Date('2026-11-23T02:00:00Z');
    expect(
      (await test.postStager(fixture('stager/organization-sync-removes-one.json'))).status,
    ).toBe(202);
    await test.settle();

    for (const path of ['/events.ics', '/events.ics?genre=jazz', '/events.ics?city=amsterdam']) {
      const tombstone = (await calendar(test, path)).get(BRUNCH);
      expect(tombstone, path).toMatchObject({
        summary: 'Removed: Sunday Brunch Jazz',
        status: 'CANCELLED',
      });
      expect(tombstone!.sequence, path).toBeGreaterThan(before.sequence);
      expect(tombstone!.description.split('\n')[0], path).toBe(
        'Removed: this event is no longer listed.',
      );
    }
    // A filter the event does not match leaves its tombstone out too.
    expect((await calendar(test, '/events.ics?genre=house')).has(BRUNCH)).toBe(false);
    expect((await calendar(test, '/events.ics?source=eventport')).has(BRUNCH)).toBe(false);
    expect(
      (await calendar(test, '/events.ics?to=2026-12-19')).has(BRUNCH),
      'starts after `to`',
    ).toBe(false);
    await expectOnlyInCalendars(test);
    const single = (await calendar(test, `/events/${BRUNCH}.ics`)).get(BRUNCH);
    expect(single).toMatchObject({ summary: 'Removed: Sunday Brunch Jazz', status: 'CANCELLED' });

    clock.now = new Date(BRUNCH_ENDS.getTime() - 60_000);
    expect((await calendar(test, '/events.ics')).has(BRUNCH)).toBe(true);
    const lastModifiedWith = (await test.get('/events.ics')).headers.get('last-modified')!;
    expect(new Date(lastModifiedWith).getTime()).toBeGreaterThanOrEqual(
      new Date(lastModifiedBefore).getTime(),
    );

    clock.now = new Date(BRUNCH_ENDS.getTime() + 1000);
    const after = await test.get('/events.ics');
    const entries = await calendar(test, '/events.ics');
    expect(entries.has(BRUNCH)).toBe(false);
    expect((await calendar(test, '/events.ics?genre=jazz')).size).toBe(0);
    expect(new Date(after.headers.get('last-modified')!).getTime()).toBe(BRUNCH_ENDS.getTime());
  });

  it('keeps an event the source made non-public as a tombstone, and never shows one never public', async () => {
    const { test } = await appWithEvents();
    app = test;
    expect((await test.postStager(fixture('stager/option-event-not-public.json'))).status).toBe(
      202,
    );
    expect((await test.postStager(brunchMadeOption())).status).toBe(202);
    await test.settle();

    const entries = await calendar(test, '/events.ics');
    expect(entries.get(BRUNCH)).toMatchObject({
      summary: 'Removed: Sunday Brunch Jazz',
      status: 'CANCELLED',
    });
    expect(entries.has('stager-583940')).toBe(false);
    await expectOnlyInCalendars(test);

    // A sync that drops both: the hidden-then-removed brunch stays a tombstone, the never
    // public option stays out.
    expect(
      (await test.postStager(fixture('stager/organization-sync-removes-one.json'))).status,
    ).toBe(202);
    await test.settle();
    const synced = await calendar(test, '/events.ics');
    expect(synced.get(BRUNCH)?.status).toBe('CANCELLED');
    expect(synced.has('stager-583940')).toBe(false);
    expect((await test.get('/events/stager-583940.ics')).status).toBe(410);
    const [row] = await test.query<{ withdrawn_at: string | null }>(
      'select withdrawn_at from events where id = ?',
      'stager-583940',
    );
    expect(row!.withdrawn_at).toBeNull();
  });

  it('brings a re-published event back as it was, with a higher SEQUENCE', async () => {
    const { test } = await appWithEvents();
    app = test;
    expect(
      (await test.postStager(fixture('stager/organization-sync-removes-one.json'))).status,
    ).toBe(202);
    await test.settle();
    const tombstone = (await calendar(test, '/events.ics')).get(BRUNCH)!;
    expect(tombstone.status).toBe('CANCELLED');

    // Re-published after the removal: its update time is later than the sync's arrival.
    const republished = fixture('stager/update-events.json')
      .toString()
      .replace(
        '"updatedAt": "2026-11-18T09:00:00+01:00"',
        '"updatedAt": "2026-11-22T14:00:00+01:00"',
      );
    expect((await test.postStager(Buffer.from(republished))).status).toBe(202);
    await test.settle();
    const back = (await calendar(test, '/events.ics')).get(BRUNCH)!;
    expect(back).toMatchObject({ summary: 'Sunday Brunch Jazz', status: 'CONFIRMED' });
    expect(back.sequence).toBeGreaterThan(tombstone.sequence);
    expect(back.description).not.toContain('Removed');
    expect(await text(test, '/events.rss')).toContain('Sunday Brunch Jazz');
    expect((await test.get(`/events/${BRUNCH}`)).status).toBe(200);
    const [row] = await test.query<{ withdrawn_at: string | null }>(
      'select withdrawn_at from events where id = ?',
      BRUNCH,
    );
    expect(row!.withdrawn_at).toBeNull();
  });

  it('shows tombstones and cancellations as confirmed, prefixed and explained with cancelled=visible', async () => {
    const { test } = await appWithEvents();
    app = test;
    expect((await test.postStager(fixture('stager/cancelled-event.json'))).status).toBe(202);
    expect(
      (await test.postStager(fixture('stager/organization-sync-removes-one.json'))).status,
    ).toBe(202);
    await test.settle();

    const plain = await calendar(test, '/events.ics');
    expect(plain.get('stager-583921')).toMatchObject({
      summary: 'Cancelled: Floating Points (DJ set)',
      status: 'CANCELLED',
    });
    expect(plain.get('stager-583921')!.description).not.toMatch(/^Cancelled/);

    for (const path of [
      '/events.ics?cancelled=visible',
      '/events.ics?genre=jazz,house&cancelled=visible',
    ]) {
      const visible = await calendar(test, path);
      expect(visible.get(BRUNCH), path).toMatchObject({
        summary: 'Removed: Sunday Brunch Jazz',
        status: 'CONFIRMED',
        sequence: plain.get(BRUNCH)!.sequence,
      });
      expect(visible.get(BRUNCH)!.description.split('\n')[0]).toBe(
        'Removed: this event is no longer listed.',
      );
      expect(visible.get('stager-583921'), path).toMatchObject({
        summary: 'Cancelled: Floating Points (DJ set)',
        status: 'CONFIRMED',
      });
      expect(visible.get('stager-583921')!.description.split('\n')[0]).toBe('Cancelled');
    }
    // The same events in the same order, whatever the display.
    expect([...(await calendar(test, '/events.ics?cancelled=visible')).keys()]).toEqual([
      ...plain.keys(),
    ]);

    // Other formats accept the parameter and show the same as without it.
    for (const path of ['/events.rss', '/events.atom', '/events.json', '/api/events', '/']) {
      const withParameter = await test.get(`${path}?cancelled=visible`);
      expect(withParameter.status, path).toBe(200);
      const body = await withParameter.text();
      expect(body).not.toContain('Sunday Brunch Jazz');
      expect(body).toContain('Floating Points');
    }
  });

  it('answers 400 naming the parameter for any other value of cancelled', async () => {
    const { test } = await appWithEvents();
    app = test;
    for (const path of [
      '/events.ics?cancelled=hidden',
      '/events.ics?cancelled=visible,status',
      '/events.ics?cancelled=visible&cancelled=visible',
      '/api/events?cancelled=yes',
    ]) {
      const response = await test.get(path);
      expect(response.status, path).toBe(400);
      expect(await response.text(), path).toContain('cancelled');
    }
    expect((await test.get('/events.ics?cancelled=Visible')).status).toBe(200);
  });

  it("shows Eventport's legacy delete, a cancellation, in calendars either way", async () => {
    const { test } = await appWithEvents();
    app = test;
    const message = JSON.parse(fixture('eventport/post-upcoming-munich-house.json').toString()) as {
      data: { event: Record<string, unknown> };
    };
    // The pre-1.0 form: the bare event publishes, `{delete: true, _id}` cancels.
    const bare = { ...message.data.event, _id: 'LegacyHouse00001' };
    expect((await test.postEventport(JSON.stringify(bare))).status).toBe(202);
    await test.settle();
    const id = 'eventport-LegacyHouse00001';
    const published = (await calendar(test, '/events.ics')).get(id)!;
    expect(published.status).toBe('CONFIRMED');

    expect(
      (await test.postEventport(JSON.stringify({ delete: true, _id: 'LegacyHouse00001' }))).status,
    ).toBe(202);
    await test.settle();
    const cancelled = (await calendar(test, '/events.ics?city=munchen')).get(id)!;
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.summary).toMatch(/^Cancelled: /);
    expect(cancelled.sequence).toBeGreaterThan(published.sequence);
    const visible = (await calendar(test, '/events.ics?city=munchen&cancelled=visible')).get(id)!;
    expect(visible).toMatchObject({ status: 'CONFIRMED', summary: cancelled.summary });
    expect(visible.description.split('\n')[0]).toBe('Cancelled');
  });
});
