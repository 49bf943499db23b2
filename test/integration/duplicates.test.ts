import ICAL from 'ical.js';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  eventportCancel,
  eventportPost,
  stagerEvent,
  stagerMessage,
} from '../helpers/contract-payloads.js';
import { FIXED_NOW, startTestApp, TEST_SECRETS, type TestApp } from '../helpers/test-app.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * One show listed by Stager (the ticket seller) and by Eventport is published once: merged at
 * ingest on strong evidence, queued for a person otherwise, never for two shows of one night;
 * decisions stay through later deliveries; a record published before its merge stays in
 * calendars as a tombstone and its page answers 301.
 */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

const ADMIN = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };
const ORGANIZATION = { id: 1042, name: 'Paradiso' };
/** 20:30 in Amsterdam, two weeks after the pinned clock. */
const SHOW = new Date('2026-12-05T19:30:00Z');
const minutes = (count: number) => new Date(SHOW.getTime() + count * 60_000);

interface ApiEvent {
  id: string;
  title: string;
  start: string;
  status: string;
  ticketUrl: string | null;
  genres: string[];
  prices: { amount: number }[];
  image: { url: string } | null;
  subtitle: string | null;
  sources: { source: string; externalId: string; url: string | null }[];
}

/** A clock one minute further at every delivery: what came first was published first. */
let clock = FIXED_NOW;

async function start(): Promise<TestApp> {
  clock = FIXED_NOW;
  app = await startTestApp({
    now: () => clock,
    env: { ADMIN_TOKEN: TEST_SECRETS.adminToken },
  });
  return app;
}

function tick(): void {
  clock = new Date(clock.getTime() + 60_000);
}

function stager(
  id: number,
  name: string,
  at: Date,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...stagerEvent({ id, name, start: at, venue: 'Paradiso Noord' }), ...extra };
}

async function postStager(
  test: TestApp,
  events: Record<string, unknown>[],
  type: 'UPDATE_EVENTS' | 'ORGANIZATION_SYNC' = 'UPDATE_EVENTS',
) {
  tick();
  const response = await test.postStager(
    stagerMessage(type, ORGANIZATION, events, { nonce: Math.random() }),
  );
  expect(response.status).toBe(202);
  await test.settle();
}

/** An Eventport post at Paradiso Noord in Amsterdam (`patch` changes the event object). */
async function postEventport(
  test: TestApp,
  input: { id: string; name: string; start: Date; venue?: string },
  patch: Record<string, unknown> = {},
) {
  const body = JSON.parse(
    eventportPost({ venue: 'Paradiso Noord', city: 'Amsterdam', ...input }).toString('utf8'),
  ) as { data: { event: Record<string, unknown> } };
  Object.assign(body.data.event, { subtitle: 'Eventport subtitle' }, patch);
  tick();
  const response = await test.postEventport(JSON.stringify(body));
  expect(response.status).toBe(202);
  await test.settle();
}

async function events(test: TestApp, query = ''): Promise<ApiEvent[]> {
  const response = await test.get(`/api/events${query}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { events: ApiEvent[] }).events;
}

async function queue(test: TestApp) {
  const response = await test.get('/admin/api/duplicates', ADMIN);
  expect(response.status).toBe(200);
  return (
    (await response.json()) as {
      pairs: { id: string; state: string; note: string | null; records: { id: string }[] }[];
    }
  ).pairs;
}

async function adminPost(test: TestApp, path: string): Promise<Response> {
  tick();
  return fetch(`${test.url}${path}`, { method: 'POST', headers: ADMIN });
}

/** The VEVENTs of /events.ics by UID (the id before the `@`). */
async function calendar(test: TestApp) {
  const response = await test.get('/events.ics');
  expect(response.status).toBe(200);
  const component = new ICAL.Component(ICAL.parse(await response.text()));
  return new Map(
    component.getAllSubcomponents('vevent').map((vevent) => {
      const event = new ICAL.Event(vevent);
      return [
        event.uid.split('@')[0] as string,
        {
          summary: event.summary,
          status: String(vevent.getFirstPropertyValue('status')),
          sequence: event.sequence,
          description: event.description ?? '',
        },
      ] as const;
    }),
  );
}

describe('duplicates across sources', () => {
  it('merges on the same ticket URL, the ticket seller deciding what it sells', async () => {
    const test = await start();
    await postStager(test, [stager(700, 'Night Tapes', SHOW)]);
    await postEventport(
      test,
      { id: 'ep-700', name: 'NIGHT TAPES live in concert', start: minutes(-30) },
      {
        tickets: [{ url: 'HTTPS://Shop.example.org/events/700/?utm_source=ep', text: 'Tickets' }],
        genres: ['Indie', 'Dream Pop'],
      },
    );
    const shown = await events(test);
    expect(shown.map((event) => event.id)).toEqual(['stager-700']);
    const [merged] = shown as [ApiEvent];
    expect(merged.title).toBe('Night Tapes');
    expect(merged.start).toBe(SHOW.toISOString());
    expect(merged.ticketUrl).toBe('https://shop.example.org/events/700');
    expect(merged.prices.map((price) => price.amount)).toEqual([27]);
    expect(merged.subtitle).toBe('+ support');
    expect(merged.genres).toEqual(['Indie', 'Electronic', 'Dream Pop']);
    expect(merged.sources).toEqual([
      { source: 'stager', externalId: '700', url: 'https://shop.example.org/events/700' },
      {
        source: 'eventport',
        externalId: 'ep-700',
        url: 'https://shop.example.org/events/700/?utm_source=ep',
      },
    ]);
    // The Eventport record never showed: no tombstone, and its page leads to the merged one.
    expect([...(await calendar(test)).keys()]).toEqual(['stager-700']);
    const page = await fetch(`${test.url}/events/eventport-ep-700`, { redirect: 'manual' });
    expect(page.status).toBe(301);
    expect(page.headers.get('location')).toBe('/events/stager-700');
    const html = await (await test.get('/events/stager-700')).text();
    expect(html).toContain('Also listed by');
    expect(html).toContain('"sameAs"');
    // The source filter finds the event through either record.
    expect((await events(test, '?source=eventport')).map((event) => event.id)).toEqual([
      'stager-700',
    ]);
    const feed = (await (await test.get('/events.json')).json()) as {
      items: { _event: { sources: unknown[] } }[];
    };
    expect(feed.items[0]?._event.sources).toHaveLength(2);
  });

  it('merges on venue, time and title when Eventport came first, keeping its identity', async () => {
    const test = await start();
    await postEventport(
      test,
      { id: 'ep-701', name: 'Cancelled: Night Tapes!', start: minutes(10) },
      { tickets: [], media: [{ url: 'https://img.example.org/ep.jpg', purposes: ['main'] }] },
    );
    expect((await events(test)).map((event) => event.id)).toEqual(['eventport-ep-701']);
    await postStager(test, [stager(701, 'Night Tapes', SHOW, { images: [], subtitle: null })]);
    const [merged, ...rest] = await events(test);
    expect(rest).toEqual([]);
    // Published first: the Eventport record keeps its id; Stager decides start and prices.
    expect(merged?.id).toBe('eventport-ep-701');
    expect(merged?.start).toBe(SHOW.toISOString());
    expect(merged?.status).toBe('scheduled');
    expect(merged?.ticketUrl).toBe('https://shop.example.org/events/701');
    expect(merged?.prices.map((price) => price.amount)).toEqual([27]);
    expect(merged?.subtitle).toBe('Eventport subtitle');
    expect(merged?.sources.map((record) => record.source)).toEqual(['eventport', 'stager']);
  });

  it('never merges two shows of one night, a matinee, two venues or one source', async () => {
    const test = await start();
    await postStager(test, [
      stager(710, 'Band X (early show)', minutes(-90)),
      stager(711, 'Band Y', SHOW),
      stager(712, 'Band Y', SHOW),
      stager(713, 'Band Z', minutes(60)),
    ]);
    await postEventport(test, { id: 'ep-710', name: 'Band X - Late Show', start: minutes(-60) });
    await postEventport(test, {
      id: 'ep-713',
      name: 'Band Z',
      start: minutes(60),
      venue: 'Melkweg',
    });
    await postEventport(test, { id: 'ep-714', name: 'Band Y Matinee', start: minutes(-80) });
    const ids = (await events(test)).map((event) => event.id).sort();
    expect(ids).toEqual([
      'eventport-ep-710',
      'eventport-ep-713',
      'eventport-ep-714',
      'stager-710',
      'stager-711',
      'stager-712',
      'stager-713',
    ]);
    // The matinee is only a question for a person, never merged by itself.
    const pairs = await queue(test);
    const named = pairs.map((pair) =>
      pair.records
        .map((record) => record.id)
        .sort()
        .join(' '),
    );
    expect(named.filter((ids) => ids.includes('ep-714')).sort()).toEqual([
      'eventport-ep-714 stager-711',
      'eventport-ep-714 stager-712',
    ]);
    expect(named.filter((ids) => ids.includes('stager-710') || ids.includes('ep-713'))).toEqual([]);
    expect(pairs.some((pair) => pair.records.some((record) => record.id === 'stager-710'))).toBe(
      false,
    );
  });

  it('keeps a merge through a title edit and a nightly sync', async () => {
    const test = await start();
    await postStager(test, [stager(720, 'Night Tapes', SHOW)]);
    await postEventport(test, { id: 'ep-720', name: 'Night Tapes', start: minutes(5) });
    expect((await events(test)).map((event) => event.id)).toEqual(['stager-720']);
    await postStager(test, [stager(720, 'Night Tapes: the farewell tour', minutes(30))]);
    await postStager(
      test,
      [stager(720, 'Night Tapes: the farewell tour', minutes(30))],
      'ORGANIZATION_SYNC',
    );
    const shown = await events(test);
    expect(shown.map((event) => event.id)).toEqual(['stager-720']);
    expect(shown[0]?.start).toBe(minutes(30).toISOString());
    expect(shown[0]?.sources).toHaveLength(2);
  });

  it('queues an uncertain pair; merge, unmerge and dismiss over HTTP; tombstone and 301', async () => {
    const test = await start();
    await postStager(test, [
      stager(730, 'Night Tapes', SHOW),
      stager(731, 'Other Act', minutes(120)),
    ]);
    await postEventport(test, {
      id: 'ep-730',
      name: 'Night Tapes + Lola Young',
      start: minutes(-60),
    });
    await postEventport(test, { id: 'ep-731', name: 'Other Act support', start: minutes(150) });
    const before = await calendar(test);
    const pairs = await queue(test);
    expect(pairs.map((pair) => pair.state)).toEqual(['open', 'open']);
    const pair = pairs.find((each) => each.records[0]?.id === 'stager-730');
    const other = pairs.find((each) => each.records[0]?.id === 'stager-731');
    if (!pair || !other) throw new Error('pairs missing');
    expect((await events(test)).map((event) => event.id).sort()).toHaveLength(4);
    expect((await fetch(`${test.url}/admin/api/duplicates`, { headers: {} })).status).toBe(401);

    expect((await adminPost(test, `/admin/api/duplicates/${pair.id}/merge`)).status).toBe(200);
    const merged = (await events(test)).map((event) => event.id).sort();
    expect(merged).toEqual(['eventport-ep-731', 'stager-730', 'stager-731']);
    // Both were published: the later one's UID stays as a cancelled duplicate, SEQUENCE raised.
    const after = await calendar(test);
    const tombstone = after.get('eventport-ep-730');
    expect(tombstone?.status).toBe('CANCELLED');
    expect(tombstone?.description).toContain(
      'Duplicate, see https://events.example.org/events/stager-730',
    );
    expect(tombstone?.sequence).toBeGreaterThan(before.get('eventport-ep-730')?.sequence ?? 0);
    expect(after.get('stager-730')?.sequence).toBeGreaterThan(
      before.get('stager-730')?.sequence ?? 0,
    );
    const page = await fetch(`${test.url}/events/eventport-ep-730`, { redirect: 'manual' });
    expect(page.status).toBe(301);
    expect(page.headers.get('location')).toBe('/events/stager-730');
    expect((await queue(test)).map((each) => each.id)).toEqual([other.id]);

    expect((await adminPost(test, `/admin/api/duplicates/${other.id}/dismiss`)).status).toBe(200);
    expect(await queue(test)).toEqual([]);
    // A dismissal and a merge stay when the sources send the records again.
    await postEventport(test, { id: 'ep-731', name: 'Other Act support', start: minutes(160) });
    await postStager(
      test,
      [stager(730, 'Night Tapes', SHOW), stager(731, 'Other Act', minutes(120))],
      'ORGANIZATION_SYNC',
    );
    expect(await queue(test)).toEqual([]);
    expect((await events(test)).map((event) => event.id).sort()).toEqual(merged);

    expect((await adminPost(test, '/admin/api/events/eventport-ep-730/unmerge')).status).toBe(200);
    const apart = (await events(test)).map((event) => event.id).sort();
    expect(apart).toEqual(['eventport-ep-730', 'eventport-ep-731', 'stager-730', 'stager-731']);
    expect((await test.get('/events/eventport-ep-730')).status).toBe(200);
    const restored = (await calendar(test)).get('eventport-ep-730');
    expect(restored?.status).toBe('CONFIRMED');
    expect(restored?.sequence).toBeGreaterThan(tombstone?.sequence ?? 0);
    // The unmerge stays too.
    await postEventport(test, {
      id: 'ep-730',
      name: 'Night Tapes + Lola Young',
      start: minutes(-60),
    });
    expect((await events(test)).map((event) => event.id).sort()).toEqual(apart);
    expect((await adminPost(test, '/admin/api/duplicates/nope/merge')).status).toBe(404);
    expect((await adminPost(test, '/admin/api/events/stager-731/unmerge')).status).toBe(404);
  });

  it("applies the ticket seller's cancellation at once and only flags the other's", async () => {
    const test = await start();
    await postStager(test, [stager(740, 'Night Tapes', SHOW)]);
    await postEventport(test, { id: 'ep-740', name: 'Night Tapes', start: SHOW });
    expect((await events(test)).map((event) => event.id)).toEqual(['stager-740']);
    tick();
    const response = await test.postEventport(eventportCancel('ep-740'));
    expect(response.status).toBe(202);
    await test.settle();
    expect((await events(test))[0]?.status).toBe('scheduled');
    const flagged = await queue(test);
    expect(flagged.map((pair) => [pair.state, pair.note])).toEqual([
      ['merged', 'cancelled by the other source only'],
    ]);
    await postStager(test, [stager(740, 'Night Tapes', SHOW, { status: 'CANCELLED' })]);
    expect((await events(test))[0]?.status).toBe('cancelled');
    // Merging a flagged merged pair acknowledges the flag.
    expect((await adminPost(test, `/admin/api/duplicates/${flagged[0]?.id}/merge`)).status).toBe(
      200,
    );
    expect(await queue(test)).toEqual([]);
  });

  it('never shows a hidden record as the merged event; the other record stands in', async () => {
    const test = await start();
    await postStager(test, [stager(760, 'Night Tapes', SHOW)]);
    await postEventport(test, { id: 'ep-760', name: 'Night Tapes', start: SHOW });
    expect((await events(test)).map((event) => event.id)).toEqual(['stager-760']);
    expect((await adminPost(test, '/admin/api/events/stager-760/hide')).status).toBe(200);
    const shown = await events(test);
    expect(shown.map((event) => event.id)).toEqual(['eventport-ep-760']);
    expect(shown[0]?.sources).toHaveLength(1);
    expect((await test.get('/events/eventport-ep-760')).status).toBe(200);
    // The change log says so: the hidden event removed, the other listed under its own id.
    const feed = (await (await test.get('/changes.json?limit=2')).json()) as {
      items: { content_text: string; _change: { event: string; kind: string } }[];
    };
    expect(
      feed.items.map((item) => [item._change.event, item._change.kind, item.content_text]).sort(),
    ).toEqual([
      ['eventport-ep-760', 'created', expect.stringContaining('Listed again')],
      ['stager-760', 'removed', expect.any(String)],
    ]);
    expect((await adminPost(test, '/admin/api/events/stager-760/unhide')).status).toBe(200);
    expect((await events(test)).map((event) => event.id)).toEqual(['stager-760']);
  });

  it('logs changes of published events: merges, changes to either record, unmerges', async () => {
    const test = await start();
    const hook = await startWebhookReceiver();
    onTestFinished(() => hook.close());
    const subscribed = await fetch(`${test.url}/admin/api/webhooks`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook.url }),
    });
    expect(subscribed.status).toBe(201);
    const changes = async () => {
      const response = await test.get('/changes.json?limit=100');
      expect(response.status).toBe(200);
      const feed = (await response.json()) as {
        items: { content_text: string; _change: { event: string; kind: string } }[];
      };
      return feed.items.map((item) => [item._change.event, item._change.kind, item.content_text]);
    };
    await postStager(test, [stager(770, 'Night Tapes', SHOW)]);
    await postEventport(test, { id: 'ep-770', name: 'Night Tapes', start: SHOW });
    // Merged at once: the Eventport record was never published under its own id.
    expect(await changes()).toEqual([
      [
        'stager-770',
        'merged',
        'Also listed by eventport (eventport-ep-770), now one event; Genres changed from Indie, Electronic to Indie, Electronic, House, Techno',
      ],
      ['stager-770', 'created', expect.stringContaining('Announced')],
    ]);
    const seen = (await changes()).length;
    // The member's change shows in the published event: logged under its id, merged view.
    await postEventport(
      test,
      { id: 'ep-770', name: 'Night Tapes', start: SHOW },
      { genres: ['Pop', 'Electronic'] },
    );
    const afterMember = await changes();
    expect(afterMember.slice(0, afterMember.length - seen)).toEqual([
      [
        'stager-770',
        'updated',
        'Genres changed from Indie, Electronic, House, Techno to Indie, Electronic, Pop',
      ],
    ]);
    // A change to the member that the published event does not show is not logged.
    await postEventport(
      test,
      { id: 'ep-770', name: 'Night Tapes (Eventport title)', start: SHOW },
      { genres: ['Pop', 'Electronic'] },
    );
    expect(await changes()).toHaveLength(afterMember.length);

    // Both published, then merged by a person: `merged` for the one, a removal for the other.
    await postStager(test, [stager(771, 'Other Act', minutes(120))]);
    await postEventport(test, { id: 'ep-771', name: 'Other Act support', start: minutes(150) });
    const pair = (await queue(test)).find((each) => each.records[0]?.id === 'stager-771');
    if (!pair) throw new Error('pair missing');
    const beforeMerge = (await changes()).length;
    expect((await adminPost(test, `/admin/api/duplicates/${pair.id}/merge`)).status).toBe(200);
    const merged = await changes();
    expect(merged.slice(0, merged.length - beforeMerge)).toEqual(
      expect.arrayContaining([
        [
          'stager-771',
          'merged',
          expect.stringContaining('Also listed by eventport (eventport-ep-771)'),
        ],
        ['eventport-ep-771', 'removed', 'Duplicate of stager-771: now one event'],
      ]),
    );
    expect(merged.length - beforeMerge).toBe(2);
    // Outgoing webhooks send the published event: the merged one with both records.
    await hook.waitFor((received) =>
      received.some((each) => each.body.includes('Duplicate of stager-771')),
    );
    const bodies = hook.received.map(
      (each) =>
        JSON.parse(each.body) as {
          type: string;
          data: { id: string; sources: { source: string }[] };
        },
    );
    expect(bodies.some((body) => body.data.id === 'eventport-ep-770')).toBe(false);
    const mergedBody = bodies.find(
      (body) => body.data.id === 'stager-771' && body.data.sources.length === 2,
    );
    expect(mergedBody?.data.sources.map((each) => each.source)).toEqual(['stager', 'eventport']);

    expect((await adminPost(test, '/admin/api/events/stager-771/unmerge')).status).toBe(200);
    const apart = await changes();
    expect(apart.slice(0, apart.length - merged.length)).toEqual(
      expect.arrayContaining([
        [
          'stager-771',
          'updated',
          expect.stringContaining(
            'Listed again on its own: no longer one event with eventport (eventport-ep-771)',
          ),
        ],
        ['eventport-ep-771', 'created', expect.stringContaining('Listed again')],
      ]),
    );
    expect(apart.length - merged.length).toBe(2);
  });

  it('shows the queue on the admin page, the two records side by side', async () => {
    const test = await start();
    await postStager(test, [stager(750, 'Night Tapes', SHOW)]);
    await postEventport(test, { id: 'ep-750', name: 'Night Tapes & friends', start: minutes(45) });
    const html = await (await test.get('/admin', ADMIN)).text();
    expect(html).toContain('<h2>Possible duplicates</h2>');
    expect(html).toContain('stager-750');
    expect(html).toContain('eventport-ep-750');
  });
});
