import ICAL from 'ical.js';
import { afterEach, describe, expect, it } from 'vitest';
import { saveShortFeed } from '../../src/events/short-feeds.js';
import { adminApiRoutes, type AdminApiRoute } from '../helpers/admin-routes.js';
import { cli } from '../helpers/cli.js';
import { startWebhookReceiver } from '../helpers/webhook-receiver.js';
import {
  FIXED_NOW,
  fixture,
  startTestApp,
  TEST_SECRETS,
  usingPostgres,
  type TestApp,
} from '../helpers/test-app.js';

/**
 * Moderation end to end over HTTP: the admin JSON API hides events and blocks organizations,
 * every public output follows at once (calendars with a cancelled tombstone), later deliveries
 * and syncs do not undo it, test deliveries are never published, and every action is audited.
 */

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const ADMIN_ENV = { ADMIN_TOKEN: TEST_SECRETS.adminToken };
const BEARER = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };

/** "Sunday Brunch Jazz" of the Stager fixtures (Paradiso, organization 1042), on 20 Dec 2026. */
const BRUNCH = 'stager-583922';
const NIGHT_TAPES = 'stager-583920';

async function start(env: Record<string, string> = ADMIN_ENV): Promise<TestApp> {
  const app = await startTestApp({ env });
  apps.push(app);
  return app;
}

/** An app holding the Stager fixtures' three Paradiso events. */
async function appWithEvents(): Promise<TestApp> {
  const app = await start();
  expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
  await app.settle();
  return app;
}

async function api(
  app: TestApp,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  headers: Record<string, string> = BEARER,
): Promise<Response> {
  return fetch(`${app.url}${path}`, { method, headers });
}

async function apiJson<T = Record<string, unknown>>(
  app: TestApp,
  method: 'GET' | 'POST',
  path: string,
): Promise<T> {
  const response = await api(app, method, path);
  expect(response.status, `${method} ${path}`).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return (await response.json()) as T;
}

/** Every public output that lists events by text (calendars are checked on their own). */
const LISTING_PATHS = ['/events.rss', '/events.atom', '/events.json', '/api/events', '/', '/embed'];

async function publicText(app: TestApp, path: string): Promise<string> {
  const response = await app.get(path);
  expect(response.status, path).toBe(200);
  return response.text();
}

/** A short feed (/f/<id>.json) of the fixtures' city, as a subscriber would hold it. */
async function shortFeedPaths(app: TestApp): Promise<string[]> {
  const id = await saveShortFeed(app.ctx.database.db, '?city=Amsterdam', app.ctx.now());
  return [`/f/${id}.json`, `/f/${id}.rss`];
}

async function expectPublished(app: TestApp, id: string, title: string): Promise<void> {
  for (const path of [...LISTING_PATHS, ...(await shortFeedPaths(app))]) {
    expect(await publicText(app, path), path).toContain(title);
  }
  expect((await app.get(`/events/${id}`)).status).toBe(200);
  expect((await calendar(app, '/events.ics')).get(id)?.status).toBe('CONFIRMED');
}

/** Out of every output; calendars keep a cancelled tombstone (the event is upcoming). */
async function expectWithdrawn(app: TestApp, id: string, title: string): Promise<void> {
  for (const path of [...LISTING_PATHS, ...(await shortFeedPaths(app))]) {
    expect(await publicText(app, path), path).not.toContain(title);
  }
  expect((await app.get(`/events/${id}`)).status).toBe(410);
  expect((await calendar(app, '/events.ics')).get(id)?.status).toBe('CANCELLED');
  expect((await calendar(app, `/events/${id}.ics`)).get(id)?.status).toBe('CANCELLED');
}

/** The VEVENTs of a calendar by event id (the UID before `@`), read by ical.js. */
async function calendar(app: TestApp, path: string): Promise<Map<string, { status: string }>> {
  const component = new ICAL.Component(ICAL.parse(await publicText(app, path)));
  const entries = new Map<string, { status: string }>();
  for (const vevent of component.getAllSubcomponents('vevent')) {
    const uid = String(vevent.getFirstPropertyValue('uid'));
    entries.set(uid.split('@')[0] as string, {
      status: String(vevent.getFirstPropertyValue('status')),
    });
  }
  return entries;
}

/** The Stager fixtures' update with the brunch renamed, as a later delivery of the same event. */
function brunchRenamed(name: string): Buffer {
  const message = JSON.parse(fixture('stager/update-events.json').toString('utf8')) as {
    messageContent: { events: { id: number; name: string }[] };
  };
  for (const event of message.messageContent.events) {
    if (event.id === 583922) event.name = name;
  }
  return Buffer.from(JSON.stringify(message));
}

/** An ORGANIZATION_SYNC of Paradiso listing all three fixture events, the brunch as `name`. */
function fullSync(name: string): Buffer {
  const message = JSON.parse(brunchRenamed(name).toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...message, messageType: 'ORGANIZATION_SYNC' }));
}

/** The newest entry of the changes feed. */
async function latestChange(app: TestApp): Promise<{ _change: { event: string; kind: string } }> {
  const feed = JSON.parse(await publicText(app, '/changes.json')) as {
    items: { _change: { event: string; kind: string } }[];
  };
  return feed.items[0]!;
}

interface AuditEntry {
  action: string;
  target: string;
  outcome: string;
  client: string | null;
  at: string;
}

async function audit(app: TestApp): Promise<AuditEntry[]> {
  return (await apiJson<{ entries: AuditEntry[] }>(app, 'GET', '/admin/api/audit')).entries;
}

const ADMIN_API_ROUTES: ['GET' | 'POST', string][] = [
  ['GET', '/admin/api/events'],
  ['POST', `/admin/api/events/${BRUNCH}/hide`],
  ['POST', `/admin/api/events/${BRUNCH}/unhide`],
  ['GET', '/admin/api/organizations'],
  ['POST', '/admin/api/organizations/stager/1042/block'],
  ['POST', '/admin/api/organizations/stager/1042/unblock'],
  ['GET', '/admin/api/deliveries'],
  ['GET', '/admin/api/deliveries/1'],
  ['POST', '/admin/api/deliveries/1/replay'],
  ['GET', '/admin/api/audit'],
  ['GET', '/admin/api/openapi.json'],
  ['GET', '/admin/api/no-such-route'],
];

/** Subscribes a receiver that never answers to outgoing webhooks; returns the subscription id. */
async function createSubscription(app: TestApp, url = 'http://127.0.0.1:9/hook'): Promise<string> {
  const response = await fetch(`${app.url}/admin/api/webhooks`, {
    method: 'POST',
    headers: { ...BEARER, 'content-type': 'application/json' },
    body: JSON.stringify({ url }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

describe('admin API access', () => {
  it('answers 401 on every route without the token, with a wrong one, and with Basic', async () => {
    // Each attempt from its own address (TRUST_PROXY): wrong tokens are limited per client.
    const app = await start({ ...ADMIN_ENV, TRUST_PROXY: '1' });
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await app.settle();
    const subscription = await createSubscription(app);
    // Every route the router holds under /admin/api/, read from it: a new one is checked too.
    const routed = adminApiRoutes(app.app, {
      id: BRUNCH,
      source: 'stager',
      organizationId: '1042',
    });
    expect(routed.map((route) => `${route.method} ${route.template}`).sort()).toEqual(
      [
        'GET /admin/api/events',
        'POST /admin/api/events/{id}/hide',
        'POST /admin/api/events/{id}/unhide',
        'GET /admin/api/organizations',
        'POST /admin/api/organizations/{source}/{organizationId}/block',
        'POST /admin/api/organizations/{source}/{organizationId}/unblock',
        'GET /admin/api/deliveries',
        'GET /admin/api/deliveries/{id}',
        'POST /admin/api/deliveries/{id}/replay',
        'GET /admin/api/audit',
        'GET /admin/api/schema-watch',
        'GET /admin/api/webhooks',
        'POST /admin/api/webhooks',
        'GET /admin/api/webhooks/{id}',
        'DELETE /admin/api/webhooks/{id}',
        'POST /admin/api/webhooks/{id}/resend',
        'GET /admin/api/openapi.json',
        'GET /admin/api/duplicates',
        'GET /admin/api/duplicates/{id}',
        'POST /admin/api/duplicates/{id}/merge',
        'POST /admin/api/duplicates/{id}/dismiss',
        'POST /admin/api/events/{id}/unmerge',
      ].sort(),
    );
    const webhookRoutes = routed
      .filter((route) => route.template.startsWith('/admin/api/webhooks/'))
      .map((route) => ({ ...route, path: route.path.replace(BRUNCH, subscription) }));
    const routes: [string, string][] = [
      ...ADMIN_API_ROUTES,
      ...routed
        .filter((route) => !route.template.startsWith('/admin/api/webhooks/'))
        .map((route): [string, string] => [route.method, route.path]),
      ...webhookRoutes.map((route): [string, string] => [route.method, route.path]),
    ];
    const wrong = { authorization: 'Bearer admin-token-0123456789abcdeX' };
    const basic = {
      authorization: `Basic ${Buffer.from(`admin:${TEST_SECRETS.adminToken}`).toString('base64')}`,
    };
    let client = 0;
    for (const [method, path] of routes) {
      for (const headers of [{}, wrong, basic]) {
        client += 1;
        const response = await fetch(`${app.url}${path}`, {
          method,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'x-forwarded-for': `10.0.${Math.floor(client / 250)}.${(client % 250) + 1}`,
          },
          body: method === 'GET' || method === 'DELETE' ? undefined : '{"url":"http://x.test/"}',
        });
        expect(response.status, `${method} ${path}`).toBe(401);
        // Bearer, not Basic: a browser must not offer to remember credentials for the API.
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="marquee admin"');
        const text = await response.text();
        expect(text).not.toContain('Sunday Brunch');
        expect(text).not.toContain(subscription);
      }
    }
    // Nothing was done: the one subscription is still there, and only its creation is audited.
    expect(await app.query('select action from audit_log')).toEqual([{ action: 'webhook.create' }]);
    expect(await app.query('select id from webhook_subscriptions')).toHaveLength(1);
    expect((await api(app, 'GET', '/admin/api/events')).status).toBe(200);
  });

  it('limits wrong tokens per client, the page and the API together', async () => {
    const app = await appWithEvents();
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const path = attempt % 2 === 0 ? '/admin' : '/admin/api/events';
      expect((await app.get(path, { authorization: 'Bearer wrong' })).status).toBe(401);
    }
    expect((await api(app, 'GET', '/admin/api/events')).status).toBe(429);
  });

  it('does not exist without ADMIN_TOKEN', async () => {
    const app = await start({});
    const routed = adminApiRoutes(app.app).map(
      ({ method, path }): [AdminApiRoute['method'], string] => [method, path],
    );
    expect(routed.length).toBeGreaterThan(ADMIN_API_ROUTES.length);
    for (const [method, path] of [...ADMIN_API_ROUTES, ...routed]) {
      expect((await api(app, method, path)).status, `${method} ${path}`).toBe(404);
    }
  });

  it('rejects unknown and malformed parameters with 400', async () => {
    const app = await appWithEvents();
    for (const path of [
      '/admin/api/events?nope=1',
      '/admin/api/events?hidden=maybe',
      '/admin/api/events?status=postponed',
      '/admin/api/events?limit=0',
      '/admin/api/events?limit=201',
      '/admin/api/deliveries?source=facebook',
      '/admin/api/deliveries?status=lost',
      '/admin/api/audit?offset=-1',
    ]) {
      const response = await api(app, 'GET', path);
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(/^admin: /);
    }
  });
});

describe('hiding an event', () => {
  it('takes it out of every public output at once, with a tombstone in calendars', async () => {
    const app = await appWithEvents();
    await expectPublished(app, BRUNCH, 'Sunday Brunch Jazz');
    const hidden = await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/hide`);
    expect(hidden).toEqual({ event: BRUNCH, action: 'hide', outcome: 'done', changed: 1 });
    await expectWithdrawn(app, BRUNCH, 'Sunday Brunch Jazz');
    // The rest of the organization stays.
    await expectPublished(app, NIGHT_TAPES, 'Night Tapes');
    // The changes feed (and outgoing webhooks) learn of it as a removal.
    expect((await latestChange(app))._change).toMatchObject({ event: BRUNCH, kind: 'removed' });

    expect(await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/hide`)).toMatchObject({
      outcome: 'unchanged',
      changed: 0,
    });
    const listed = await apiJson<{ total: number; events: Record<string, unknown>[] }>(
      app,
      'GET',
      '/admin/api/events?hidden=true',
    );
    expect(listed.total).toBe(1);
    expect(listed.events[0]).toMatchObject({
      id: BRUNCH,
      title: 'Sunday Brunch Jazz',
      visibility: 'hidden',
      sourceVisibility: 'public',
      hiddenAt: '2026-11-22T12:00:00.000Z',
      organizationBlocked: false,
      test: false,
    });

    const unhidden = await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/unhide`);
    expect(unhidden).toEqual({ event: BRUNCH, action: 'unhide', outcome: 'done', changed: 1 });
    await expectPublished(app, BRUNCH, 'Sunday Brunch Jazz');
    expect((await latestChange(app))._change).toMatchObject({ event: BRUNCH, kind: 'created' });

    expect((await api(app, 'POST', '/admin/api/events/stager-999/hide')).status).toBe(404);
    expect((await audit(app)).map((entry) => [entry.action, entry.target, entry.outcome])).toEqual([
      ['event.hide', 'stager-999', 'not-found'],
      ['event.unhide', BRUNCH, 'done'],
      ['event.hide', BRUNCH, 'unchanged'],
      ['event.hide', BRUNCH, 'done'],
    ]);
    expect((await audit(app))[0]).toMatchObject({
      client: '127.0.0.1',
      at: '2026-11-22T12:00:00.000Z',
    });
  });

  it('unhides an event stored before moderation existed as its source said', async () => {
    const app = await appWithEvents();
    // As migration 0009 left rows written before it.
    await app.query('update events set source_visibility = null');
    await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/hide`);
    await expectWithdrawn(app, BRUNCH, 'Sunday Brunch Jazz');
    await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/unhide`);
    await expectPublished(app, BRUNCH, 'Sunday Brunch Jazz');
  });

  it('keeps it hidden through a later delivery and a sync, until unhidden', async () => {
    const app = await appWithEvents();
    await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/hide`);

    expect((await app.postStager(brunchRenamed('Sunday Brunch Jazz Deluxe'))).status).toBe(202);
    await app.settle();
    await expectWithdrawn(app, BRUNCH, 'Sunday Brunch Jazz');
    // The update was stored and applied: it is what unhiding publishes.
    const [row] = await app.query<{ title: string; visibility: string }>(
      'select title, visibility from events where id = ?',
      BRUNCH,
    );
    expect(row).toEqual({ title: 'Sunday Brunch Jazz Deluxe', visibility: 'hidden' });

    expect((await app.postStager(fullSync('Sunday Brunch Jazz Deluxe'))).status).toBe(202);
    await app.settle();
    const deliveries = await apiJson<{ deliveries: { messageType: string; status: string }[] }>(
      app,
      'GET',
      '/admin/api/deliveries?messageType=ORGANIZATION_SYNC',
    );
    expect(deliveries.deliveries).toEqual([
      expect.objectContaining({ messageType: 'ORGANIZATION_SYNC', status: 'processed' }),
    ]);
    await expectWithdrawn(app, BRUNCH, 'Sunday Brunch Jazz');

    await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/unhide`);
    await expectPublished(app, BRUNCH, 'Sunday Brunch Jazz Deluxe');
  });

  it('finds stored events by text, source, status and visibility, public or not', async () => {
    const app = await appWithEvents();
    expect((await app.postStager(fixture('stager/option-event-not-public.json'))).status).toBe(202);
    await app.settle();
    const all = await apiJson<{ total: number; events: { id: string; visibility: string }[] }>(
      app,
      'GET',
      '/admin/api/events?source=stager&limit=2',
    );
    expect(all.total).toBeGreaterThan(3);
    expect(all.events).toHaveLength(2);
    const brunch = await apiJson<{ total: number; events: { id: string }[] }>(
      app,
      'GET',
      '/admin/api/events?q=brunch%20jazz',
    );
    expect(brunch.events.map((event) => event.id)).toEqual([BRUNCH]);
    const notPublic = await apiJson<{ events: { visibility: string }[] }>(
      app,
      'GET',
      '/admin/api/events?hidden=false&status=scheduled&limit=200',
    );
    expect(notPublic.events.some((event) => event.visibility === 'hidden')).toBe(true);
    expect(
      (await apiJson<{ total: number }>(app, 'GET', '/admin/api/events?source=eventport')).total,
    ).toBe(0);
  });
});

describe('blocking an organization', () => {
  it('withholds its events, stores and processes later deliveries unpublished, until unblocked', async () => {
    const app = await appWithEvents();
    const blocked = await apiJson(app, 'POST', '/admin/api/organizations/stager/1042/block');
    expect(blocked).toEqual({
      source: 'stager',
      organization: '1042',
      action: 'block',
      outcome: 'done',
      changed: 3,
    });
    await expectWithdrawn(app, BRUNCH, 'Sunday Brunch Jazz');
    await expectWithdrawn(app, NIGHT_TAPES, 'Night Tapes');
    expect(await apiJson(app, 'GET', '/admin/api/organizations')).toMatchObject({
      blocks: [{ source: 'stager', organizationId: '1042' }],
    });

    expect((await app.postStager(brunchRenamed('Brunch While Blocked'))).status).toBe(202);
    await app.settle();
    const [delivery] = (
      await apiJson<{ deliveries: { id: number; status: string }[] }>(
        app,
        'GET',
        '/admin/api/deliveries?source=stager&limit=1',
      )
    ).deliveries;
    expect(delivery?.status).toBe('processed');
    for (const path of LISTING_PATHS) {
      expect(await publicText(app, path), path).not.toContain('Brunch While Blocked');
    }
    await expectWithdrawn(app, BRUNCH, 'Brunch While Blocked');

    expect(
      await apiJson(app, 'POST', '/admin/api/organizations/stager/1042/unblock'),
    ).toMatchObject({ outcome: 'done', changed: 3 });
    await expectPublished(app, BRUNCH, 'Brunch While Blocked');
    await expectPublished(app, NIGHT_TAPES, 'Night Tapes');
    // Unblocking does not unhide what an operator hid on its own.
    await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/hide`);
    await apiJson(app, 'POST', '/admin/api/organizations/stager/1042/block');
    await apiJson(app, 'POST', '/admin/api/organizations/stager/1042/unblock');
    await expectWithdrawn(app, BRUNCH, 'Brunch While Blocked');
    await expectPublished(app, NIGHT_TAPES, 'Night Tapes');
    expect((await api(app, 'POST', '/admin/api/organizations/facebook/1/block')).status).toBe(404);
  });
});

describe('deliveries', () => {
  it('lists, shows with the raw body, and replays a delivery', async () => {
    const app = await appWithEvents();
    expect((await app.postStager(fixture('stager/unknown-message-type.json'))).status).toBe(202);
    await app.settle();
    const list = await apiJson<{ total: number; deliveries: Record<string, unknown>[] }>(
      app,
      'GET',
      '/admin/api/deliveries',
    );
    expect(list.total).toBe(2);
    expect(list.deliveries.map((delivery) => delivery.status)).toEqual(['ignored', 'processed']);
    expect(
      (await apiJson<{ total: number }>(app, 'GET', '/admin/api/deliveries?status=ignored')).total,
    ).toBe(1);
    expect(
      (await apiJson<{ total: number }>(app, 'GET', '/admin/api/deliveries?source=eventport'))
        .total,
    ).toBe(0);

    const detail = await apiJson<Record<string, unknown>>(app, 'GET', '/admin/api/deliveries/1');
    expect(detail).toMatchObject({
      id: 1,
      source: 'stager',
      status: 'processed',
      messageType: 'UPDATE_EVENTS',
      bodyRetained: true,
      test: false,
      body: fixture('stager/update-events.json').toString('utf8'),
      result: expect.objectContaining({ created: 3 }),
    });
    expect(detail.headers).toHaveProperty('x-marquee-auth', 'signature');
    expect(detail.headers).not.toHaveProperty('x-signature');

    const replayed = await apiJson(app, 'POST', '/admin/api/deliveries/1/replay');
    expect(replayed).toMatchObject({
      delivery: 1,
      action: 'replay',
      outcome: 'done',
      status: 'processed',
    });
    expect((await api(app, 'GET', '/admin/api/deliveries/99')).status).toBe(404);
    expect((await api(app, 'POST', '/admin/api/deliveries/99/replay')).status).toBe(404);

    await app.query('delete from delivery_bodies where delivery_id = 1');
    await app.query('update deliveries set purged_at = ? where id = 1', 'x');
    const purged = await api(app, 'POST', '/admin/api/deliveries/1/replay');
    expect(purged.status).toBe(409);
    expect(await apiJson(app, 'GET', '/admin/api/deliveries/1')).toMatchObject({
      body: null,
      bodyRetained: false,
    });
    expect((await audit(app)).map((entry) => [entry.action, entry.outcome])).toEqual([
      ['delivery.replay', 'refused'],
      ['delivery.replay', 'not-found'],
      ['delivery.replay', 'done'],
    ]);
  });
});

describe('test deliveries', () => {
  it('marquee send-test deliveries are stored as tests, shown to the admin, never published', async () => {
    const app = await appWithEvents();
    for (const source of ['eventport', 'stager']) {
      const sent = await cli(['send-test', source, '--url', app.url], ADMIN_ENV);
      expect(sent.stdout).toContain('HTTP 202');
    }
    // A test carrying a real organization's events leaves them alone and removes nothing.
    const file = await cli(
      [
        'send-test',
        'stager',
        'test/fixtures/stager/organization-sync-removes-one.json',
        '--url',
        app.url,
      ],
      ADMIN_ENV,
    );
    expect(file.stdout).toContain('HTTP 202');
    await app.settle();

    const tests = await apiJson<{ total: number; deliveries: { test: boolean; status: string }[] }>(
      app,
      'GET',
      '/admin/api/deliveries?test=true',
    );
    expect(tests.total).toBe(3);
    expect(
      tests.deliveries.every((delivery) => delivery.test && delivery.status === 'processed'),
    ).toBe(true);
    for (const path of LISTING_PATHS) {
      expect(await publicText(app, path), path).not.toContain('Marquee test event');
    }
    for (const id of ['eventport-marquee-send-test', 'stager-marquee-send-test']) {
      expect((await app.get(`/events/${id}`)).status).toBe(404);
      expect((await app.get(`/events/${id}.ics`)).status).toBe(404);
      expect((await calendar(app, '/events.ics')).has(id)).toBe(false);
    }
    await expectPublished(app, BRUNCH, 'Sunday Brunch Jazz');
    const listed = await apiJson<{ events: { id: string; test: boolean }[] }>(
      app,
      'GET',
      '/admin/api/events?q=marquee%20test',
    );
    expect(listed.events.map((event) => [event.id, event.test]).sort()).toEqual([
      ['eventport-marquee-send-test', true],
      ['stager-marquee-send-test', true],
    ]);

    const page = await (await app.get('/admin', BEARER)).text();
    expect(page).toContain('Test deliveries');
    expect(page).toMatch(/eventport[^]*test/);
  });
});

describe('outgoing webhook subscriptions', () => {
  it('lands each creation, resend and deletion in the audit log', async () => {
    const app = await appWithEvents();
    const id = await createSubscription(app);
    const send = (method: 'POST' | 'DELETE', path: string, body?: unknown) =>
      fetch(`${app.url}${path}`, {
        method,
        headers: { ...BEARER, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await send('POST', `/admin/api/webhooks/${id}/resend`, { from: 'msg_1' })).status).toBe(
      200,
    );
    expect((await send('POST', '/admin/api/webhooks/nope/resend', { from: 'msg_1' })).status).toBe(
      404,
    );
    expect((await send('DELETE', `/admin/api/webhooks/${id}`)).status).toBe(204);
    expect((await send('DELETE', `/admin/api/webhooks/${id}`)).status).toBe(404);
    const entries = await audit(app);
    expect(entries.map((entry) => [entry.action, entry.target, entry.outcome])).toEqual([
      ['webhook.delete', id, 'not-found'],
      ['webhook.delete', id, 'done'],
      ['webhook.resend', 'nope', 'not-found'],
      ['webhook.resend', id, 'done'],
      ['webhook.create', id, 'done'],
    ]);
    expect(entries.at(-1)).toMatchObject({
      client: '127.0.0.1',
      at: '2026-11-22T12:00:00.000Z',
      detail: { url: 'http://127.0.0.1:9/hook', filter: '' },
    });
    expect(entries.at(-2)).toMatchObject({ detail: { from: 'msg_1' } });
    // The secret, shown once at creation, is in no audit entry.
    expect(JSON.stringify(entries)).not.toContain('whsec_');
  });

  it('never sends the messages of an event withheld while they waited, only its removal', async () => {
    const started = Date.now();
    const app = await startTestApp({
      env: { ...ADMIN_ENV, WEBHOOK_RETRY_BASE_SECONDS: '0.2' },
      // Moving with real time, so retries come due.
      now: () => new Date(FIXED_NOW.getTime() + (Date.now() - started)),
    });
    apps.push(app);
    let open = false;
    const hook = await startWebhookReceiver(() => (open ? 200 : 503));
    try {
      await createSubscription(app, hook.url);
      expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
      await app.settle();
      await hook.waitFor((received) => received.length > 0);
      // The three creations wait in the outbox; the brunch is hidden meanwhile.
      await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/hide`);
      open = true;
      await hook.waitFor((received) => received.filter((each) => each.status === 200).length >= 3);
      await app.ctx.webhooks.idle();
      const delivered = hook.received
        .filter((each) => each.status === 200)
        .map((each) => JSON.parse(each.body) as { type: string; data: { id: string } });
      expect(delivered.map((body) => `${body.type} ${body.data.id}`)).toEqual([
        `event.created ${NIGHT_TAPES}`,
        'event.created stager-583921',
        `event.removed ${BRUNCH}`,
      ]);
      expect(
        hook.received
          .filter((each) => each.body.includes(`"id":"${BRUNCH}"`))
          .map((each) => each.status),
      ).toEqual([200]);
    } finally {
      await hook.close();
    }
  });
});

describe('the admin page', () => {
  it('shows the audit log and the moderation tools, only with the token', async () => {
    const app = await appWithEvents();
    await apiJson(app, 'POST', `/admin/api/events/${BRUNCH}/hide`);
    await apiJson(app, 'POST', '/admin/api/organizations/stager/1042/block');
    const anonymous = await app.get('/admin');
    expect(anonymous.status).toBe(401);
    const anonymousText = await anonymous.text();
    for (const secret of ['event.hide', 'Audit', BRUNCH, 'sessionStorage']) {
      expect(anonymousText).not.toContain(secret);
    }
    const page = await app.get('/admin', BEARER);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Audit log');
    expect(html).toContain('event.hide');
    expect(html).toContain('organization.block');
    expect(html).toContain('stager/1042');
    expect(html).toContain('127.0.0.1');
    // The moderation tools call the Bearer-only API with a token kept for the tab only.
    expect(html).toContain('sessionStorage');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'sha256-[^']+'/);
    expect(csp).toContain("connect-src 'self'");
  });
});

describe.skipIf(!usingPostgres)('instances sharing one PostgreSQL database', () => {
  it('drop their cached outputs when another instance hides or unhides an event', async () => {
    const a = await appWithEvents();
    const b = await startTestApp({ env: ADMIN_ENV, database: a.database });
    apps.push(b);
    const listed = async () => (await publicText(b, '/api/events')).includes('Sunday Brunch Jazz');
    const waitFor = async (expected: boolean) => {
      const deadline = Date.now() + 10_000;
      while ((await listed()) !== expected) {
        if (Date.now() > deadline) throw new Error('instance b never saw the change');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await waitFor(true);
    // Served from b's cache now; only a's announcement can make b drop it.
    expect(await listed()).toBe(true);
    await apiJson(a, 'POST', `/admin/api/events/${BRUNCH}/hide`);
    await waitFor(false);
    await apiJson(a, 'POST', `/admin/api/events/${BRUNCH}/unhide`);
    await waitFor(true);
  });
});
