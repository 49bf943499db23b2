import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { isKnownTimeZone } from '../../src/events/time.js';
import type { Event, NormalizedEvent, SourceMessage } from '../../src/events/types.js';
import { renderIcs } from '../../src/render/ics.js';
import { renderAtom, renderJsonFeed, renderRss } from '../../src/render/syndication.js';
import { createSources, sourceSettingsFrom } from '../../src/sources/index.js';
import type { SourceAdapter } from '../../src/sources/types.js';
import {
  eventportMessageArb,
  mutate,
  mutateToJson,
  mutation,
  stagerMessageArb,
} from '../helpers/hostile-arbitraries.js';
import { unsafeHtml, parseIcs, parseXmlStrict } from '../helpers/output-checks.js';
import { sampleChannel } from '../helpers/sample-events.js';
import { DEFAULT_TEST_ENV, startTestApp } from '../helpers/test-app.js';

/**
 * Hostile input, property-based: payloads generated from the contracts and then mutated. Each
 * event is normalized (and then satisfies the model's invariants, and renders into every format
 * that still parses) or skipped with a reason; an unreadable message throws a plain Error whose
 * message names the source. Nothing else: no TypeError, no RangeError, no prototype pollution.
 */

const NUM_RUNS = Number(process.env.MARQUEE_PROPERTY_RUNS ?? 400);
// A failing run prints its seed; MARQUEE_PROPERTY_SEED=<seed> repeats it.
if (process.env.MARQUEE_PROPERTY_SEED)
  fc.configureGlobal({ seed: Number(process.env.MARQUEE_PROPERTY_SEED) });
const config = loadConfig({ ...DEFAULT_TEST_ENV, DATABASE_PATH: ':memory:' });
const sources = createSources(sourceSettingsFrom(config));
const context = { receivedAt: new Date('2026-11-22T12:00:00Z') };
const ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const XML_ILLEGAL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(2200, 0, 1);

const tally = {
  stager: { runs: 0, normalized: 0, skipped: 0, unreadable: 0, ignored: 0 },
  eventport: { runs: 0, normalized: 0, skipped: 0, unreadable: 0, ignored: 0 },
};

afterAll(() => {
  console.log(
    `normalizer properties: ${Object.entries(tally)
      .map(
        ([source, t]) =>
          `${source}: ${t.runs} payloads, ${t.normalized} events normalized, ${t.skipped} skipped with a reason, ${t.ignored} ignored, ${t.unreadable} unreadable`,
      )
      .join('; ')}`,
  );
});

function strings(value: unknown, path = 'event', out: [string, string][] = []): [string, string][] {
  if (typeof value === 'string') out.push([path, value]);
  else if (value instanceof Date) return out;
  else if (Array.isArray(value))
    value.forEach((item, index) => strings(item, `${path}[${index}]`, out));
  else if (typeof value === 'object' && value !== null)
    for (const [key, item] of Object.entries(value)) strings(item, `${path}.${key}`, out);
  return out;
}

const validDate = (date: unknown) =>
  date instanceof Date &&
  Number.isFinite(date.getTime()) &&
  date.getTime() >= EARLIEST &&
  date.getTime() <= LATEST;

/** The invariants every normalized event satisfies, whatever came in. */
function checkEvent(event: NormalizedEvent): void {
  expect(event.externalId).toMatch(ID);
  expect(typeof event.title).toBe('string');
  expect(event.title.trim().length).toBeGreaterThan(0);
  expect(event.title.length).toBeLessThanOrEqual(1000);
  expect(validDate(event.startsAt), `startsAt ${String(event.startsAt)}`).toBe(true);
  if (event.endsAt !== null) {
    expect(validDate(event.endsAt)).toBe(true);
    expect(event.endsAt.getTime()).toBeGreaterThan(event.startsAt.getTime());
  }
  if (event.doorsAt !== null) {
    expect(validDate(event.doorsAt)).toBe(true);
    expect(event.doorsAt.getTime()).toBeLessThanOrEqual(event.startsAt.getTime());
  }
  if (event.sourceUpdatedAt !== null) expect(validDate(event.sourceUpdatedAt)).toBe(true);
  expect(isKnownTimeZone(event.timeZone), `time zone ${event.timeZone}`).toBe(true);
  for (const [path, text] of strings(event)) {
    expect(
      XML_ILLEGAL.test(text),
      `${path} carries a character XML cannot hold: ${JSON.stringify(text.slice(0, 40))}`,
    ).toBe(false);
    expect(text.length, path).toBeLessThanOrEqual(200_000);
  }
  for (const price of event.prices)
    expect(Number.isFinite(price.amount) && price.amount >= 0).toBe(true);
  if (event.venue.latitude !== null) expect(Math.abs(event.venue.latitude)).toBeLessThanOrEqual(90);
  if (event.venue.longitude !== null)
    expect(Math.abs(event.venue.longitude)).toBeLessThanOrEqual(180);
  for (const url of [event.ticketUrl, event.image?.url ?? null])
    if (url !== null) expect(url).toMatch(/^https?:\/\//);
  if (event.descriptionHtml !== null) expect(unsafeHtml(event.descriptionHtml)).toEqual([]);
  expect(['scheduled', 'cancelled', 'rescheduled', 'relocated']).toContain(event.status);
  expect(['public', 'hidden']).toContain(event.visibility);
}

/** Interprets a payload; returns the message, or null when it is unreadable (a plain Error). */
function interpretChecked(
  adapter: SourceAdapter,
  payload: unknown,
  count = true,
): SourceMessage | null {
  const counts = count
    ? tally[adapter.name]
    : { normalized: 0, skipped: 0, unreadable: 0, ignored: 0 };
  let message: SourceMessage;
  try {
    message = adapter.interpret(payload, context);
  } catch (error) {
    // An unreadable message: a plain Error naming the source, never a crash of another kind.
    expect(error).toBeInstanceOf(Error);
    expect(
      (error as Error).constructor,
      `${(error as Error).name}: ${(error as Error).message}`,
    ).toBe(Error);
    expect((error as Error).message).toMatch(new RegExp(`^${adapter.name}: \\S`));
    counts.unreadable += 1;
    return null;
  }
  expect(['upsert', 'sync', 'cancel', 'ignored']).toContain(message.kind);
  if (message.kind === 'upsert' || message.kind === 'sync') {
    for (const event of message.events) checkEvent(event);
    for (const skip of message.skipped) {
      expect(typeof skip.reason).toBe('string');
      expect(skip.reason.length).toBeGreaterThan(0);
      if (skip.externalId !== null) expect(skip.externalId.length).toBeLessThanOrEqual(64);
    }
    // Every event that came in is accounted for: normalized or skipped, never dropped silently.
    const incoming =
      adapter.name === 'stager'
        ? (payload as { messageContent: { events: unknown[] } }).messageContent.events.length
        : 1;
    expect(message.events.length + message.skipped.length).toBe(incoming);
    counts.normalized += message.events.length;
    counts.skipped += message.skipped.length;
  } else if (message.kind === 'cancel') {
    for (const id of message.externalIds) expect(id).toMatch(ID);
  } else {
    counts.ignored += 1;
  }
  return message;
}

function asStoredEvent(event: NormalizedEvent, index: number): Event {
  return {
    ...event,
    id: `${event.source}-${event.externalId}`,
    effectiveEndsAt: event.endsAt ?? new Date(event.startsAt.getTime() + 3 * 3_600_000),
    previousStartsAt: index % 2 === 0 ? null : new Date(event.startsAt.getTime() - 86_400_000),
    firstSeenAt: context.receivedAt,
    lastChangedAt: context.receivedAt,
    revision: index + 1,
    withdrawnAt: null,
  };
}

/** Renders the events in every feed format; each output must still parse. */
function checkRendered(events: NormalizedEvent[]): void {
  if (events.length === 0) return;
  const stored = events.map(asStoredEvent);
  parseXmlStrict(renderRss(stored, sampleChannel('rss')));
  parseXmlStrict(renderAtom(stored, sampleChannel('atom')));
  const feed = JSON.parse(renderJsonFeed(stored, sampleChannel('json'))) as {
    items: { content_html?: string }[];
  };
  for (const item of feed.items)
    if (item.content_html) expect(unsafeHtml(item.content_html)).toEqual([]);
  expect(parseIcs(renderIcs(stored, sampleChannel('ics')))).toHaveLength(stored.length);
}

function assertNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(probe.isAdmin).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

describe.each([
  ['stager', sources.stager, stagerMessageArb],
  ['eventport', sources.eventport, eventportMessageArb],
] as const)('the %s normalizer', (name, adapter, messages) => {
  it('normalizes every event of a contract-valid payload', () => {
    fc.assert(
      fc.property(messages, (payload) => {
        const message = interpretChecked(adapter, JSON.parse(JSON.stringify(payload)), false);
        expect(message).not.toBeNull();
        if (message?.kind === 'upsert' || message?.kind === 'sync') {
          expect(message.skipped).toEqual([]);
          expect(message.events.length).toBeGreaterThan(0);
          checkRendered(message.events);
        }
      }),
      { numRuns: Math.ceil(NUM_RUNS / 4) },
    );
  });

  it(`normalizes or skips with a reason, never crashes, on mutated payloads (${NUM_RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        messages,
        fc.array(mutation, { minLength: 1, maxLength: 5 }),
        (payload, mutations) => {
          tally[name].runs += 1;
          const message = interpretChecked(adapter, mutate(payload, mutations));
          if (message?.kind === 'upsert' || message?.kind === 'sync') checkRendered(message.events);
          assertNoPollution();
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('impossible calendar dates', () => {
  const IMPOSSIBLE = [
    '2027-02-29T20:00:00Z',
    '2027-02-30T20:00:00+01:00',
    '2027-04-31T20:00:00Z',
    '2027-06-31T00:00:00-05:00',
    '2028-02-30T12:00:00Z',
  ];

  it.each(IMPOSSIBLE)(
    'skips an event starting %s with a reason instead of moving it to another day',
    (date) => {
      const stager = sources.stager.interpret(
        {
          messageType: 'UPDATE_EVENTS',
          messageContent: {
            organization: { id: 1 },
            events: [{ id: 1, name: 'Act', startsAt: date }],
          },
        },
        context,
      );
      expect(stager).toMatchObject({
        events: [],
        skipped: [{ externalId: '1', reason: expect.stringMatching(/startsAt/) }],
      });
      const eventport = sources.eventport.interpret(
        {
          type: 'event',
          method: 'post',
          version: '1.0',
          data: { event: { _id: 'AAAAAAAAAAAAAAAAA', name: 'Party', begin: date } },
        },
        context,
      );
      expect(eventport).toMatchObject({
        events: [],
        skipped: [{ externalId: 'AAAAAAAAAAAAAAAAA', reason: expect.stringMatching(/begin/) }],
      });
    },
  );

  it('accepts 29 February in a leap year', () => {
    const message = sources.stager.interpret(
      {
        messageType: 'UPDATE_EVENTS',
        messageContent: {
          organization: { id: 1 },
          events: [{ id: 1, name: 'Act', startsAt: '2028-02-29T20:00:00+01:00' }],
        },
      },
      context,
    );
    expect(message).toMatchObject({
      events: [{ startsAt: new Date('2028-02-29T19:00:00Z') }],
      skipped: [],
    });
  });
});

describe('deeply nested markup in descriptions', () => {
  // Found by the property above: 5,000 nested tags overflowed html-to-text's recursion, and the
  // RangeError failed the whole delivery. Now the sanitizer caps nesting and the event goes in.
  it.each(['HTML', 'MARKDOWN'])(
    'normalizes a %s description of 30,000 nested tags and keeps the other events',
    (format) => {
      const nested = `${'<b>'.repeat(30_000)}deep${'</b>'.repeat(30_000)}`.slice(0, 100_000);
      const message = sources.stager.interpret(
        {
          messageType: 'UPDATE_EVENTS',
          messageContent: {
            organization: { id: 1 },
            events: [
              {
                id: 1,
                name: 'Nested',
                startsAt: '2027-03-01T20:00:00Z',
                description: { format, text: nested },
              },
              { id: 2, name: 'Plain', startsAt: '2027-03-02T20:00:00Z' },
            ],
          },
        },
        context,
      );
      expect(message).toMatchObject({
        events: [{ externalId: '1', descriptionText: 'deep' }, { externalId: '2' }],
        skipped: [],
      });
    },
  );

  it('normalizes an Eventport description of nested tags', () => {
    const message = sources.eventport.interpret(
      {
        _id: 'AAAAAAAAAAAAAAAAA',
        name: 'Nested',
        begin: '2027-03-01T20:00:00Z',
        description: `<p>${'<span>'.repeat(15_000)}deep`,
      },
      context,
    );
    expect(message).toMatchObject({ events: [{ descriptionText: 'deep' }], skipped: [] });
  });
});

describe('payload values nested 100,000 deep', () => {
  // Found by the property above on CI: JSON.stringify of a deeply nested event (its source hash)
  // overflowed the stack, and the RangeError failed the whole delivery.
  const deep = (arrays: boolean) =>
    JSON.parse(
      arrays
        ? `${'['.repeat(100_000)}1${']'.repeat(100_000)}`
        : `${'{"nested":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
    ) as unknown;

  it.each([false, true])(
    'reads a Stager message whose event, unknown key or status nests 100,000 deep (arrays: %s)',
    (arrays) => {
      const message = interpretChecked(sources.stager, {
        messageType: 'ORGANIZATION_SYNC',
        messageContent: {
          organization: { id: 1, name: 'Deep' },
          events: [
            deep(arrays),
            { id: 2, name: 'Extra key', startsAt: '2027-03-02T20:00:00Z', extra: deep(arrays) },
            { id: 3, name: 'Status', startsAt: '2027-03-03T20:00:00Z', status: deep(arrays) },
          ],
        },
      });
      // The unreadable status reads as none; only the value that is no event at all is skipped.
      expect(message?.kind === 'sync' && message.events.map((event) => event.externalId)).toEqual([
        '2',
        '3',
      ]);
      expect(message?.kind === 'sync' && message.skipped).toHaveLength(1);
    },
  );

  it('reads an Eventport post with an unknown key nested 100,000 deep, or refuses its type', () => {
    const post = { _id: 'AAAAAAAAAAAAAAAAA', name: 'Deep', begin: '2027-03-01T20:00:00Z' };
    expect(interpretChecked(sources.eventport, { ...post, extra: deep(false) })).toMatchObject({
      events: [{ externalId: 'AAAAAAAAAAAAAAAAA' }],
    });
    // interpretChecked: unreadable, with a plain Error naming the source.
    expect(interpretChecked(sources.eventport, { ...post, type: deep(true) })).toBeNull();
  });

  it('stores and processes such a Stager delivery through the app', async () => {
    const app = await startTestApp();
    try {
      const body = `{"messageType":"UPDATE_EVENTS","messageContent":{"organization":{"id":1},"events":[${'['.repeat(100_000)}1${']'.repeat(100_000)},{"id":2,"name":"Next to it","startsAt":"2027-03-02T20:00:00Z","extra":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}]}}`;
      const response = await app.postStager(body);
      expect(response.status).toBe(202);
      await app.settle();
      const [row] = await app.query<{ status: string; error: string | null }>(
        'select status, error from deliveries',
      );
      expect(row).toMatchObject({ status: 'processed' });
      expect(await (await app.get('/api/events')).text()).toContain('Next to it');
    } finally {
      await app.close();
    }
  });
});

describe('hostile payloads through the app (inbox, ingest, SQLite, feeds)', () => {
  it(
    'stores and processes each one: failed only when the message is unreadable, feeds still well-formed',
    { timeout: 120_000 },
    async () => {
      const app = await startTestApp();
      try {
        const samples = fc.sample(
          fc.oneof(
            fc.tuple(
              fc.constant('stager' as const),
              stagerMessageArb,
              fc.array(mutation, { maxLength: 4 }),
            ),
            fc.tuple(
              fc.constant('eventport' as const),
              eventportMessageArb,
              fc.array(mutation, { maxLength: 4 }),
            ),
          ),
          {
            numRuns: Math.ceil(NUM_RUNS / 2),
            seed: Number(process.env.MARQUEE_PROPERTY_SEED ?? 42),
          },
        );
        const expected = new Map<number, 'failed' | 'done'>();
        for (const [source, payload, mutations] of samples) {
          const body = mutateToJson(payload, mutations);
          const adapter = sources[source];
          let readable = true;
          try {
            adapter.interpret(JSON.parse(body), context);
          } catch {
            readable = false;
          }
          const response =
            source === 'stager' ? await app.postStager(body) : await app.postEventport(body);
          expect(response.status).toBe(202);
          const { delivery } = (await response.json()) as { delivery: number };
          expected.set(delivery, readable ? 'done' : 'failed');
        }
        await app.settle();
        const rows = await app.query<{ id: number; status: string; error: string | null }>(
          'select id, status, error from deliveries',
        );
        expect(rows).toHaveLength(samples.length);
        for (const row of rows) {
          const want = expected.get(row.id);
          if (want === 'failed') {
            expect(row.status).toBe('failed');
            expect(row.error).toMatch(/^(stager|eventport): /);
          } else {
            expect(['processed', 'ignored'], `delivery ${row.id}: ${row.error}`).toContain(
              row.status,
            );
          }
        }
        for (const path of ['/events.rss', '/events.atom']) {
          const response = await app.get(`${path}?limit=1000`);
          expect(response.status).toBe(200);
          parseXmlStrict(await response.text());
        }
        const ics = await app.get('/events.ics?limit=1000');
        expect(ics.status).toBe(200);
        parseIcs(await ics.text());
        for (const path of ['/events.json?limit=1000', '/api/events?limit=1000']) {
          const response = await app.get(path);
          expect(response.status).toBe(200);
          JSON.parse(await response.text());
        }
        const home = await app.get('/');
        expect(home.status).toBeLessThan(500);
        const processed = rows.filter((row) => row.status !== 'failed').length;
        console.log(
          `hostile payloads through the app: ${rows.length} deliveries, ${processed} processed or ignored, ${rows.length - processed} unreadable (failed, kept for replay)`,
        );
      } finally {
        await app.close();
      }
    },
  );
});
