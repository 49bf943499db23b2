import { afterEach, describe, expect, it } from 'vitest';
import type { SourceSchemaWatch } from '../../src/operations/schema-watch.js';
import { cli } from '../helpers/cli.js';
import {
  databaseEnv,
  fixture,
  startTestApp,
  tempDatabase,
  TEST_SECRETS,
  type TestApp,
} from '../helpers/test-app.js';

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const ADMIN_ENV = { ADMIN_TOKEN: TEST_SECRETS.adminToken };
const bearer = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };

async function start(env: Record<string, string> = ADMIN_ENV): Promise<TestApp> {
  const app = await startTestApp({ env });
  apps.push(app);
  return app;
}

async function schemaWatch(app: TestApp): Promise<Record<string, SourceSchemaWatch>> {
  const response = await app.get('/admin/api/schema-watch', bearer);
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as { generatedAt: string; sources: SourceSchemaWatch[] };
  expect(body.generatedAt).toBe('2026-11-22T12:00:00.000Z');
  return Object.fromEntries(body.sources.map((source) => [source.source, source]));
}

/** The contract's example message, with a venue, an image focus and a status Stager may send. */
function surprisingStagerMessage(): string {
  const message = JSON.parse(fixture('stager/update-events.json').toString('utf8')) as {
    messageContent: { events: Record<string, unknown>[] };
  };
  const [first] = message.messageContent.events;
  Object.assign(first!, {
    status: 'POSTPONED',
    venue: { geo: { alt: 12 } },
    images: [{ type: 'MAIN', url: 'https://cdn.example/1.jpg', focus: { x: 0.5, y: 0.4 } }],
  });
  return JSON.stringify(message);
}

describe('schema watch', { timeout: 30_000 }, () => {
  it('shows what a Stager message held that the adapter does not read, in the API, on the page and in marquee status', async () => {
    const app = await start();
    expect((await app.postStager(surprisingStagerMessage())).status).toBe(202);
    expect((await app.postStager(fixture('stager/unknown-message-type.json'))).status).toBe(202);
    await app.settle();
    const [surprising, unknownType] = await app.query<{ id: number }>(
      'select id from deliveries order by id',
    );

    const { stager, eventport } = await schemaWatch(app);
    const paths = new Map(stager!.unreadPaths.map((finding) => [finding.value, finding]));
    expect(paths.get('messageContent.events[].venue.geo.alt')).toEqual({
      value: 'messageContent.events[].venue.geo.alt',
      occurrences: 1,
      deliveries: 1,
      firstSeenAt: '2026-11-22T12:00:00.000Z',
      lastSeenAt: '2026-11-22T12:00:00.000Z',
      exampleDelivery: surprising!.id,
    });
    expect(paths.get('messageContent.events[].images[].focus.y')).toMatchObject({
      occurrences: 1,
    });
    // The contract's own example carries a location id and translations the adapter never reads.
    expect(paths.get('messageContent.events[].location.id')).toMatchObject({ occurrences: 2 });
    expect(paths.get('messageContent.events[].translations[].locale')).toBeDefined();
    // Keys it reads are never listed; nor is the content of a message type it does not know.
    for (const path of paths.keys()) {
      expect(path).not.toMatch(
        /^messageContent\.(organization\.|events\[\]\.(name|status|startsAt|images\[\]\.url|location\.city)$)/,
      );
      expect(path).not.toMatch(/settings/);
    }
    expect(stager!.unknownStatuses).toEqual([
      expect.objectContaining({ value: 'POSTPONED', occurrences: 1, deliveries: 1 }),
    ]);
    expect(stager!.unknownMessageTypes).toEqual([
      expect.objectContaining({
        value: 'ORGANIZATION_SETTINGS_CHANGED',
        exampleDelivery: unknownType!.id,
      }),
    ]);
    expect(stager!.combinations).toEqual([]);
    expect(eventport).toEqual({
      source: 'eventport',
      unreadPaths: [],
      unknownMessageTypes: [],
      unknownStatuses: [],
      combinations: [],
    });

    const page = await (await app.get('/admin', bearer)).text();
    expect(page).toContain('<h2 id="schema-watch">Schema watch</h2>');
    expect(page).toContain('<code>messageContent.events[].venue.geo.alt</code>');
    expect(page).toContain('<code>POSTPONED</code>');
    expect(page).toContain('<code>ORGANIZATION_SETTINGS_CHANGED</code>');

    const status = await cli(['status'], databaseEnv(app.database));
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      'schema watch (what the senders sent that Marquee does not read or know):\n  stager:\n',
    );
    expect(status.stdout).toContain(
      `    unknown message type ORGANIZATION_SETTINGS_CHANGED: 1 time in 1 delivery, first 2026-11-22T12:00:00.000Z, last 2026-11-22T12:00:00.000Z, e.g. delivery ${unknownType!.id}\n`,
    );
    expect(status.stdout).toContain('    unknown status POSTPONED: 1 time in 1 delivery');
    expect(status.stdout).toContain(
      '    unread key messageContent.events[].venue.geo.alt: 1 time in 1 delivery',
    );
    const json = await cli(['status', '--json'], databaseEnv(app.database));
    expect(JSON.parse(json.stdout).schemaWatch).toEqual(Object.values(await schemaWatch(app)));
  });

  it('counts a delivery once, also when it is replayed, and lists nothing for a message it reads in full', async () => {
    const app = await start();
    const known = {
      messageType: 'ORGANIZATION_SYNC',
      messageContent: {
        organization: { id: 1042, name: 'Paradiso' },
        events: [
          {
            id: 1,
            status: 'TO_BE_CONFIRMED',
            name: 'Night Tapes',
            startsAt: '2026-12-05T20:30:00+01:00',
            location: { name: 'Paradiso', city: 'Amsterdam', latitude: 52.36 },
            description: 'Text',
            images: [{ type: 'MAIN', url: 'https://cdn.example/1.jpg', altText: 'Stage' }],
            ticketTypes: [{ name: 'Door', priceInCents: 2800, feeInCents: 0, soldOut: false }],
            updatedAt: '2026-11-20T14:02:11+01:00',
          },
        ],
      },
    };
    expect((await app.postStager(JSON.stringify(known))).status).toBe(202);
    await app.settle();
    expect((await schemaWatch(app)).stager!.unreadPaths).toEqual([]);

    expect((await app.postStager(surprisingStagerMessage())).status).toBe(202);
    await app.settle();
    expect(await app.ctx.inbox.replay({ scope: 'all', since: null })).toBe(2);
    const { stager } = await schemaWatch(app);
    expect(stager!.unknownStatuses).toEqual([
      expect.objectContaining({ value: 'POSTPONED', occurrences: 1, deliveries: 1 }),
    ]);
  });

  it('records a large sync, processed in slices, once', async () => {
    const app = await start();
    const events = Array.from({ length: 400 }, (_, index) => ({
      id: index + 1,
      name: `Event ${index + 1}`,
      startsAt: '2026-12-05T20:30:00+01:00',
      description: { format: 'TEXT', text: 'x'.repeat(1000) },
      status: index % 2 === 0 ? 'CONFIRMED' : 'ON_SALE_SOON',
      promoter: { name: 'P' },
    }));
    const body = JSON.stringify({
      messageType: 'ORGANIZATION_SYNC',
      messageContent: { organization: { id: 7 }, events },
    });
    // Above the size from which a delivery is processed alone, in slices.
    expect(body.length).toBeGreaterThan(300_000);
    expect((await app.postStager(body)).status).toBe(202);
    await app.settle();
    expect(await app.query('select status from deliveries')).toEqual([{ status: 'processed' }]);
    const { stager } = await schemaWatch(app);
    expect(stager!.unknownStatuses).toEqual([
      expect.objectContaining({ value: 'ON_SALE_SOON', occurrences: 200, deliveries: 1 }),
    ]);
    expect(stager!.unreadPaths.map(({ value, occurrences }) => ({ value, occurrences }))).toEqual([
      { value: 'messageContent.events[].promoter', occurrences: 400 },
      { value: 'messageContent.events[].promoter.name', occurrences: 400 },
    ]);
  });

  it('records the Eventport type/method/version combinations seen, and ignored message types', async () => {
    const app = await start();
    for (const body of [
      fixture('eventport/post-full-example.json'),
      fixture('eventport/post-minimal-example.json'),
      fixture('eventport/cancel-unknown-event-example.json'),
      JSON.stringify({ type: 'venue', method: 'post', version: '1.0', data: { venue: {} } }),
      JSON.stringify({ type: 'event', method: 'post', version: '2.0', data: {} }),
      JSON.stringify({ delete: true, _id: 'K8qjtKSegBfbdGppg' }),
    ]) {
      expect((await app.postEventport(body)).status).toBe(202);
    }
    await app.settle();
    const { eventport } = await schemaWatch(app);
    expect(
      eventport!.combinations.map(({ value, deliveries, handled }) => ({
        value,
        deliveries,
        handled,
      })),
    ).toEqual([
      { value: 'event/cancel/1.0', deliveries: 1, handled: true },
      { value: 'event/post/1.0', deliveries: 2, handled: true },
      { value: 'event/post/2.0', deliveries: 1, handled: false },
      { value: 'pre-1.0/delete', deliveries: 1, handled: true },
      { value: 'venue/post/1.0', deliveries: 1, handled: false },
    ]);
    expect(eventport!.unknownMessageTypes.map((finding) => finding.value)).toEqual(['venue.post']);
    const paths = eventport!.unreadPaths.map((finding) => finding.value);
    expect(paths).toContain('data.event.media[].url');
    expect(paths).toContain('data.profile.facebookPageId');
    // Private data is never read, and not reported either.
    for (const path of paths) expect(path).not.toMatch(/remark|counterparts|channels|phone|email/);
  });

  it('is admin-only: 401 without the token, 404 without ADMIN_TOKEN', async () => {
    const app = await start();
    expect((await app.get('/admin/api/schema-watch')).status).toBe(401);
    expect(
      (await app.get('/admin/api/schema-watch', { authorization: 'Bearer wrong' })).status,
    ).toBe(401);
    const closed = await start({});
    expect((await closed.get('/admin/api/schema-watch', bearer)).status).toBe(404);
  });

  it('travels in dumps, and a dump made before it imports', async () => {
    const app = await start();
    expect((await app.postStager(surprisingStagerMessage())).status).toBe(202);
    await app.settle();
    const dump = await cli(['export'], databaseEnv(app.database));
    expect(dump.code).toBe(0);
    const target = await tempDatabase();
    expect((await cli(['import', '-'], databaseEnv(target), Buffer.from(dump.stdout))).code).toBe(
      0,
    );
    const moved = await cli(['status', '--json'], databaseEnv(target));
    expect(JSON.parse(moved.stdout).schemaWatch).toEqual(Object.values(await schemaWatch(app)));

    // As 0008 wrote it: no schema_watch rows, no schema_watch count on the end line.
    const older = dump.stdout
      .trimEnd()
      .split('\n')
      .filter((line) => !line.startsWith('{"table":"schema_watch"'))
      .map((line, index, lines) => {
        if (index === 0) return line.replace(/"schema":"[^"]*"/, '"schema":"0008-short-feeds"');
        if (index < lines.length - 1) return line;
        const { end } = JSON.parse(line) as { end: Record<string, number> };
        delete end.schema_watch;
        return JSON.stringify({ end });
      })
      .join('\n');
    const olderTarget = await tempDatabase();
    const imported = await cli(['import', '-'], databaseEnv(olderTarget), Buffer.from(older));
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
  });
});
