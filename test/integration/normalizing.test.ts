import { afterEach, describe, expect, it } from 'vitest';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

interface EventRow {
  id: string;
  title: string;
  status: string;
  visibility: string;
  revision: number;
  starts_at: string;
  ends_at: string | null;
  previous_starts_at: string | null;
  [column: string]: unknown;
}

const events = (test: TestApp) => test.query<EventRow>('select * from events order by id');
const event = async (test: TestApp, id: string) =>
  (await events(test)).find((row) => row.id === id);

async function deliverStager(test: TestApp, name: string) {
  const response = await test.postStager(fixture(`stager/${name}`));
  expect(response.status).toBe(202);
  await test.settle();
}

async function deliverEventport(test: TestApp, body: Buffer | string) {
  const response = await test.postEventport(body);
  expect(response.status).toBe(202);
  await test.settle();
}

describe('Stager messages', () => {
  it('normalizes UPDATE_EVENTS into the shared event model', async () => {
    app = await startTestApp();
    await deliverStager(app, 'update-events.json');
    const night = (await event(app, 'stager-583920'))!;
    expect(night).toMatchObject({
      source: 'stager',
      external_id: '583920',
      title: 'Night Tapes',
      subtitle: '+ support',
      starts_at: '2026-12-05T19:30:00.000Z',
      ends_at: '2026-12-05T22:30:00.000Z',
      doors_at: '2026-12-05T18:30:00.000Z',
      time_zone: 'Europe/Amsterdam',
      venue_name: 'Paradiso Noord',
      venue_street: 'Johan van Hasseltweg 20',
      venue_postal_code: '1021 KN',
      venue_city: 'Amsterdam',
      venue_country: 'NL',
      latitude: 52.3925,
      longitude: 4.9168,
      organization_id: '1042',
      organizer_name: 'Paradiso',
      ticket_url: 'https://paradiso.stager.co/shop/default/events/583920',
      sold_out: 0,
      image_url: 'https://cdn.example/583920/main.jpg',
      image_alt: 'Night Tapes on stage',
      status: 'scheduled',
      visibility: 'public',
      revision: 1,
      source_updated_at: '2026-11-20T13:02:11.000Z',
    });
    expect(JSON.parse(night.genres as string)).toEqual(['Indie', 'Electronic']);
    expect(JSON.parse(night.tags as string)).toEqual(['Concert']);
    expect(JSON.parse(night.prices as string)).toEqual([
      { amount: 27, currency: 'EUR', label: 'Regular' },
      { amount: 28, currency: 'EUR', label: 'Door' },
    ]);
    expect(night.description_html).toContain('<strong>Night Tapes</strong>');
    expect(night.description_text).toContain(
      'Night Tapes return with their dreamy electronic pop.',
    );

    const floating = (await event(app, 'stager-583921'))!;
    expect(floating.description_html).toBe('<p>All night long.</p>');
    expect(floating.sold_out).toBe(1);
    // No end time: counts as over DEFAULT_DURATION_HOURS (3) after the start.
    expect(await event(app, 'stager-583922')).toMatchObject({
      ends_at: null,
      effective_end_at: '2026-12-20T14:00:00.000Z',
    });
  });

  it('marks a cancelled event cancelled and keeps it public', async () => {
    app = await startTestApp();
    await deliverStager(app, 'update-events.json');
    await deliverStager(app, 'cancelled-event.json');
    expect(await event(app, 'stager-583921')).toMatchObject({
      status: 'cancelled',
      visibility: 'public',
      revision: 2,
    });
  });

  it('treats ORGANIZATION_SYNC as the full list: a missing event is kept but marked removed', async () => {
    app = await startTestApp();
    await deliverStager(app, 'update-events.json');
    await deliverStager(app, 'organization-sync-removes-one.json');
    expect(await event(app, 'stager-583922')).toMatchObject({ visibility: 'removed', revision: 2 });
    expect(await event(app, 'stager-583920')).toMatchObject({ visibility: 'public', revision: 1 });
    expect(
      await app.query(
        'select source, external_id, name, last_sync_at, last_sync_event_count from organizations',
      ),
    ).toEqual([
      {
        source: 'stager',
        external_id: '1042',
        name: 'Paradiso',
        last_sync_at: '2026-11-22T12:00:00.000Z',
        last_sync_event_count: 2,
      },
    ]);
  });

  it('stores an unknown message type, answers 202 and ignores it', async () => {
    app = await startTestApp();
    await deliverStager(app, 'unknown-message-type.json');
    expect(await app.query('select status, message_type from deliveries')).toEqual([
      { status: 'ignored', message_type: 'ORGANIZATION_SETTINGS_CHANGED' },
    ]);
    expect(await events(app)).toHaveLength(0);
  });

  it('skips an event missing a required field with its reason and keeps the rest', async () => {
    app = await startTestApp();
    await deliverStager(app, 'event-missing-required-field.json');
    expect((await events(app)).map((row) => row.id)).toEqual(['stager-583931']);
    const [delivery] = await app.query<{ status: string; result: string }>(
      'select status, result from deliveries',
    );
    expect(delivery!.status).toBe('processed');
    expect(JSON.parse(delivery!.result).skipped).toEqual([
      { externalId: '583930', reason: expect.stringMatching(/^startsAt: /) },
    ]);
  });

  it('ignores an update older than the stored one', async () => {
    app = await startTestApp();
    await deliverStager(app, 'update-events.json');
    await deliverStager(app, 'older-update-than-stored.json');
    expect(await event(app, 'stager-583920')).toMatchObject({ title: 'Night Tapes', revision: 1 });
    const [, second] = await app.query<{ result: string }>(
      'select result from deliveries order by id',
    );
    expect(JSON.parse(second!.result)).toMatchObject({ stale: 1, updated: 0 });
  });

  it('keeps options and to-be-confirmed events out of public outputs', async () => {
    app = await startTestApp();
    await deliverStager(app, 'option-event-not-public.json');
    expect(await event(app, 'stager-583940')).toMatchObject({ visibility: 'hidden' });
  });

  it('marks a published event whose start moved as rescheduled, remembering the old start', async () => {
    app = await startTestApp();
    await deliverStager(app, 'update-events.json');
    const moved = JSON.parse(fixture('stager/update-events.json').toString()) as {
      messageContent: { events: Record<string, unknown>[] };
    };
    const night = moved.messageContent.events[0]!;
    Object.assign(night, {
      startsAt: '2026-12-06T20:30:00+01:00',
      endsAt: '2026-12-06T23:30:00+01:00',
      updatedAt: '2026-11-21T10:00:00+01:00',
    });
    moved.messageContent.events = [night];
    expect((await app.postStager(JSON.stringify(moved))).status).toBe(202);
    await app.settle();
    expect(await event(app, 'stager-583920')).toMatchObject({
      status: 'rescheduled',
      starts_at: '2026-12-06T19:30:00.000Z',
      previous_starts_at: '2026-12-05T19:30:00.000Z',
      revision: 2,
    });
  });
});

describe('Eventport messages', () => {
  it('normalizes both examples from the API page, the newer replacing the older', async () => {
    app = await startTestApp();
    await deliverEventport(app, fixture('eventport/post-minimal-example.json'));
    expect(await event(app, 'eventport-K8qjtKSegBfbdGppg')).toMatchObject({
      title: 'Event Title',
      revision: 1,
    });
    await deliverEventport(app, fixture('eventport/post-full-example.json'));
    const row = (await event(app, 'eventport-K8qjtKSegBfbdGppg'))!;
    expect(row).toMatchObject({
      title: 'Event Title 2',
      starts_at: '2014-11-21T21:00:00.000Z',
      ends_at: '2014-11-22T01:00:00.000Z',
      doors_at: '2014-11-21T21:00:00.000Z',
      time_zone: 'Europe/Berlin',
      venue_name: 'Eventport Testprofil',
      venue_street: 'Trappentreustrasse 35',
      venue_postal_code: '80339',
      venue_city: 'Munich',
      organizer_name: 'Eventport Testprofil',
      organization_id: 'tj4zTLeFTkAunsnMh',
      ticket_url: 'http://eventim.de/',
      status: 'scheduled',
      revision: 2,
      source_updated_at: '2014-11-24T00:29:56.383Z',
    });
    expect(JSON.parse(row.genres as string)).toEqual(['House', 'Hip Hop']);
    expect(JSON.parse(row.tags as string)).toEqual(['Clubevent', 'Party']);
    expect(JSON.parse(row.prices as string)).toEqual([
      { amount: 12, currency: 'EUR', label: 'Pre-sale' },
      { amount: 15, currency: 'EUR', label: 'Box office price' },
    ]);
    expect(row.description_text).toBe('This is the event description.\n\nIt can have line breaks.');
  });

  it('ignores an older post arriving after a newer one (changedOn ordering)', async () => {
    app = await startTestApp();
    await deliverEventport(app, fixture('eventport/post-full-example.json'));
    await deliverEventport(app, fixture('eventport/post-minimal-example.json'));
    expect(await event(app, 'eventport-K8qjtKSegBfbdGppg')).toMatchObject({
      title: 'Event Title 2',
      revision: 1,
    });
  });

  it('accepts the cancel example for an event never seen, records it and changes nothing', async () => {
    app = await startTestApp();
    await deliverEventport(app, fixture('eventport/post-full-example.json'));
    await deliverEventport(app, fixture('eventport/cancel-unknown-event-example.json'));
    const [, cancel] = await app.query<{ status: string; result: string }>(
      'select status, result from deliveries order by id',
    );
    expect(cancel!.status).toBe('processed');
    expect(JSON.parse(cancel!.result)).toMatchObject({
      cancelled: 0,
      unknown: ['tj4zTLeFTkAunsnMh'],
    });
    expect(await event(app, 'eventport-K8qjtKSegBfbdGppg')).toMatchObject({
      status: 'scheduled',
      revision: 1,
    });
  });

  it('cancels a known event, and a stale copy of the event cannot revive it', async () => {
    app = await startTestApp();
    await deliverEventport(app, fixture('eventport/post-full-example.json'));
    await deliverEventport(
      app,
      JSON.stringify({
        type: 'event',
        method: 'cancel',
        version: '1.0',
        data: { event: { _id: 'K8qjtKSegBfbdGppg' } },
      }),
    );
    expect(await event(app, 'eventport-K8qjtKSegBfbdGppg')).toMatchObject({
      status: 'cancelled',
      visibility: 'public',
      revision: 2,
    });
    await deliverEventport(app, fixture('eventport/post-full-example.json'));
    expect(await event(app, 'eventport-K8qjtKSegBfbdGppg')).toMatchObject({
      status: 'cancelled',
      revision: 2,
    });
  });

  it('accepts the pre-1.0 bare event and {delete: true, _id} forms', async () => {
    app = await startTestApp();
    const full = JSON.parse(fixture('eventport/post-full-example.json').toString()) as {
      data: { event: Record<string, unknown> };
    };
    const bare = {
      ...full.data.event,
      _id: 'LegacyEvent000001',
      tickets: ['https://tickets.example/legacy'],
      preSalePrice: '9.50',
      priceCategories: undefined,
      location: {
        ...(full.data.event.location as object),
        facebookPageId: 785890424771022,
        addressAddiction: 'Hinterhof',
      },
    };
    await deliverEventport(app, JSON.stringify(bare));
    const legacy = (await event(app, 'eventport-LegacyEvent000001'))!;
    expect(legacy).toMatchObject({
      title: 'Event Title 2',
      ticket_url: 'https://tickets.example/legacy',
      venue_street: 'Trappentreustrasse 35, Hinterhof',
    });
    expect(JSON.parse(legacy.prices as string)).toEqual([
      { amount: 9.5, currency: 'EUR', label: 'Pre-sale' },
    ]);
    await deliverEventport(app, JSON.stringify({ delete: true, _id: 'LegacyEvent000001' }));
    expect(await event(app, 'eventport-LegacyEvent000001')).toMatchObject({ status: 'cancelled' });
  });

  it('reads flags, open ends and loose types as the notes describe', async () => {
    app = await startTestApp();
    const full = JSON.parse(fixture('eventport/post-full-example.json').toString()) as {
      data: { event: Record<string, unknown> };
    };
    Object.assign(full.data.event, {
      _id: 'LooseTypes0000001',
      openEnd: true,
      rescheduled: 'true',
      priceCategories: [{ name: { id: 'X', text: 'Door' }, price: '18', hasProcessingFee: 1 }],
      photos: [
        { _id: 'p1', url: 'https://img.example/flyer.jpg', purposes: ['3'], title: 'Flyer' },
        {
          _id: 'p2',
          url: 'https://img.example/main.jpg',
          purposes: ['0', '6'],
          title: 'Main photo',
        },
      ],
    });
    await deliverEventport(app, JSON.stringify(full));
    const row = (await event(app, 'eventport-LooseTypes0000001'))!;
    expect(row).toMatchObject({
      ends_at: null,
      status: 'rescheduled',
      image_url: 'https://img.example/main.jpg',
      image_alt: 'Main photo',
    });
    expect(JSON.parse(row.prices as string)).toEqual([
      { amount: 18, currency: 'EUR', label: 'Door' },
    ]);
  });

  it('stores an unknown method or version and ignores it', async () => {
    app = await startTestApp();
    await deliverEventport(
      app,
      JSON.stringify({ type: 'event', method: 'archive', version: '1.0', data: {} }),
    );
    await deliverEventport(
      app,
      JSON.stringify({ type: 'venue', method: 'post', version: '1.0', data: {} }),
    );
    expect(
      (await app.query('select status from deliveries order by id')).map((row) => row.status),
    ).toEqual(['ignored', 'ignored']);
  });
});

describe('privacy', () => {
  it('keeps publisher notes and people’s contact details out of the events table', async () => {
    app = await startTestApp();
    await deliverEventport(app, fixture('eventport/post-full-example.json'));
    const stored =
      JSON.stringify(await app.query('select * from events')) +
      JSON.stringify(await app.query('select * from organizations'));
    for (const value of [
      'Max Mustermann',
      '+49 176 123 4567',
      '+49 176 123 456',
      '[email protected]',
      'A note for publishers.',
      'Marketing',
      'Heßstrasse',
      'youtube.com/embed',
      'This is our example profile',
    ]) {
      expect(stored).not.toContain(value);
    }
  });
});
