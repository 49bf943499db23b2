import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventportPost,
  PRIVATE_EVENT_FIELDS,
  PRIVATE_PROFILE,
} from '../helpers/contract-payloads.js';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * No private Eventport field reaches a public response: counterpart names, phones and e-mails,
 * the profile's phone and e-mail, `remark`, receiver lists and `channels` internals. They arrive
 * in every delivery (the API page's examples and our own, with values made easy to search for),
 * and are checked against every public route, in every format, and through free-text search.
 */

function privateValues(): string[] {
  const values = new Set<string>([
    PRIVATE_EVENT_FIELDS.remark,
    ...PRIVATE_EVENT_FIELDS.publisherReceivers,
    ...PRIVATE_EVENT_FIELDS.publisherReceiverGroups,
    ...PRIVATE_EVENT_FIELDS.userReceivers,
    PRIVATE_EVENT_FIELDS.channels.publisherNewsletter.description,
    PRIVATE_EVENT_FIELDS.channels.facebook.description,
    PRIVATE_EVENT_FIELDS.channels.facebook.id,
    PRIVATE_PROFILE.phone,
    PRIVATE_PROFILE.email,
    ...PRIVATE_PROFILE.counterparts.flatMap((person) => [person.name, person.phone, person.email]),
  ]);
  // The values in the API page's own examples (test/fixtures/eventport).
  for (const name of [
    'post-full-example.json',
    'post-upcoming-munich-house.json',
    'post-upcoming-munich-english-spelling.json',
    'post-minimal-example.json',
  ]) {
    const { data } = JSON.parse(fixture(`eventport/${name}`).toString('utf8')) as {
      data: {
        event: { remark?: string };
        profile?: {
          phone?: string;
          email?: string;
          counterparts?: { name: string; phone: string; email: string }[];
        };
      };
    };
    if (data.event.remark) values.add(data.event.remark);
    if (data.profile?.phone) values.add(data.profile.phone);
    if (data.profile?.email) values.add(data.profile.email);
    for (const person of data.profile?.counterparts ?? [])
      [person.name, person.phone, person.email].forEach((value) => values.add(value));
  }
  return [...values].filter((value) => value.length > 0);
}

const PRIVATE = privateValues();

let app: TestApp;
let ids: string[] = [];

beforeAll(async () => {
  app = await startTestApp();
  for (const name of [
    'post-full-example.json',
    'post-upcoming-munich-house.json',
    'post-upcoming-munich-english-spelling.json',
    'post-minimal-example.json',
  ]) {
    expect((await app.postEventport(fixture(`eventport/${name}`))).status).toBe(202);
  }
  const start = new Date('2026-12-19T20:00:00Z');
  expect(
    (
      await app.postEventport(
        eventportPost({ id: 'PrivateFields0001', name: 'Public Party', start }),
      )
    ).status,
  ).toBe(202);
  // The pre-1.0 form: the bare event object, private fields included.
  const legacy = JSON.parse(
    eventportPost({ id: 'PrivateFields0002', name: 'Legacy Party', start }).toString('utf8'),
  ) as { data: { event: Record<string, unknown> } };
  expect(
    (
      await app.postEventport(
        JSON.stringify({ ...legacy.data.event, counterparts: PRIVATE_PROFILE.counterparts }),
      )
    ).status,
  ).toBe(202);
  await app.settle();
  ids = (
    await app.query<{ id: string }>("select id from events where visibility = 'public' order by id")
  ).map((row) => row.id);
  expect(ids).toContain('eventport-PrivateFields0001');
  expect(ids).toContain('eventport-PrivateFields0002');
});

afterAll(async () => {
  await app?.close();
});

/** Undoes line folding (ICS) and the escapes of every format, so no value hides behind them. */
function normalize(text: string): string {
  return text
    .replace(/\r\n[ \t]/g, '')
    .replace(/\\([,;\\])/g, '$1')
    .replace(/\\n/gi, '\n')
    .replace(/&#(\d+);/g, (_whole, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_whole, code: string) =>
      String.fromCodePoint(Number.parseInt(code, 16)),
    )
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/\\u([0-9a-f]{4})/gi, (_whole, code: string) =>
      String.fromCharCode(Number.parseInt(code, 16)),
    )
    .replace(/\u00a0/g, ' ');
}

describe('private Eventport fields', () => {
  const routes = () => [
    '/',
    '/embed',
    '/events.ics',
    '/events.rss',
    '/events.atom',
    '/events.json',
    '/api/events',
    '/api/events?source=eventport&limit=1000',
    '/events.ics?city=M%C3%BCnchen',
    ...ids.flatMap((id) => [`/events/${id}`, `/events/${id}.ics`]),
  ];

  it(`appear in no public response (${PRIVATE.length} values, every format and page)`, async () => {
    expect(PRIVATE.length).toBeGreaterThanOrEqual(12);
    let checked = 0;
    for (const path of routes()) {
      const response = await app.get(path, { 'accept-encoding': 'identity' });
      expect(response.status, path).toBe(200);
      const body = normalize(await response.text());
      for (const value of PRIVATE)
        expect(body.includes(value), `${path} shows the private value "${value}"`).toBe(false);
      checked += 1;
    }
    expect(checked).toBe(routes().length);
  });

  it('cannot be found through free-text search', async () => {
    for (const value of PRIVATE) {
      const response = await app.get(`/api/events?q=${encodeURIComponent(value.slice(0, 200))}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { total: number }).total, `q=${value}`).toBe(0);
    }
  });

  it('are not in the stored events, only in the raw deliveries (purged after INBOX_RETENTION_DAYS)', async () => {
    const rows = JSON.stringify(await app.query('select * from events'));
    for (const value of PRIVATE) expect(normalize(rows).includes(value), value).toBe(false);
    const raw = (await app.query<{ body: Buffer }>('select body from delivery_bodies'))
      .map((row) => row.body.toString('utf8'))
      .join('\n');
    expect(raw).toContain(PRIVATE_PROFILE.counterparts[0]!.name);
  });
});
