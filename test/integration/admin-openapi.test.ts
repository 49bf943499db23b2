import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openApiChecker,
  openApiDocumentErrors,
  readResponse,
  type OpenApiChecker,
} from '../helpers/openapi.js';
import { adminApiRoutes } from '../helpers/admin-routes.js';
import { eventportPost, stagerEvent, stagerMessage } from '../helpers/contract-payloads.js';
import { fixture, startTestApp, TEST_SECRETS, type TestApp } from '../helpers/test-app.js';

/**
 * GET /admin/api/openapi.json: a valid OpenAPI 3.1 document, behind the token, whose schemas the
 * real answers of every admin API operation meet (successes, errors, 401 without the token).
 */

type Json = Record<string, unknown>;

const BEARER = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };
const BRUNCH = 'stager-583922';

let app: TestApp;
let document: Json;
let checker: OpenApiChecker;

beforeAll(async () => {
  app = await startTestApp({ env: { ADMIN_TOKEN: TEST_SECRETS.adminToken, TRUST_PROXY: '1' } });
  expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
  expect((await app.postStager(fixture('stager/organization-sync-removes-one.json'))).status).toBe(
    202,
  );
  expect(
    (
      await app.postStager(fixture('stager/option-event-not-public.json'), {
        headers: { 'x-marquee-test': '1' },
      })
    ).status,
  ).toBe(202);
  // A message type Stager may send that Marquee does not know: a schema watch finding.
  expect((await app.postStager(fixture('stager/unknown-message-type.json'))).status).toBe(202);
  await app.settle();
  const response = await app.get('/admin/api/openapi.json', BEARER);
  expect(response.status).toBe(200);
  expect(response.headers.get('cache-control')).toBe('no-store');
  document = (await response.json()) as Json;
  checker = openApiChecker(document);
});

afterAll(async () => {
  await app?.close();
});

/** Calls the API and returns what the document's `template` operation finds wrong. */
async function conformance(
  method: 'GET' | 'POST' | 'DELETE',
  template: string,
  url: string,
  headers: Record<string, string> = BEARER,
  body?: string,
) {
  const response = await readResponse(
    await fetch(`${app.url}${url}`, {
      method,
      headers: {
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        'x-forwarded-for': '192.0.2.1',
      },
      body,
    }),
  );
  return { response, errors: checker.check(method, template, response) };
}

describe('the admin API document', () => {
  it('is a valid OpenAPI 3.1 document whose schemas compile as strict JSON Schema 2020-12', async () => {
    expect(await openApiDocumentErrors(document)).toEqual([]);
    expect(checker.schemaCount).toBeGreaterThan(20);
    expect(document.security).toEqual([{ adminToken: [] }]);
  });

  it('describes every route of the admin API, and no other', () => {
    const routed = adminApiRoutes(app.app).map((route) => `${route.method} ${route.template}`);
    const paths = document.paths as Record<string, Record<string, unknown>>;
    const documented = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(routed.sort());
    expect(routed).toContain('DELETE /admin/api/webhooks/{id}');
    expect(routed).toContain('GET /admin/api/schema-watch');
  });

  it('is behind the token', async () => {
    const response = await fetch(`${app.url}/admin/api/openapi.json`, {
      headers: { 'x-forwarded-for': '192.0.2.200' },
    });
    expect(response.status).toBe(401);
  });

  it('describes the real answers of every operation', async () => {
    const calls: ['GET' | 'POST', string, string, number][] = [
      ['GET', '/admin/api/events', '/admin/api/events', 200],
      ['GET', '/admin/api/events', '/admin/api/events?q=brunch&source=stager&hidden=false', 200],
      ['GET', '/admin/api/events', '/admin/api/events?status=postponed', 400],
      ['POST', '/admin/api/events/{id}/hide', `/admin/api/events/${BRUNCH}/hide`, 200],
      ['POST', '/admin/api/events/{id}/hide', `/admin/api/events/${BRUNCH}/hide`, 200],
      ['POST', '/admin/api/events/{id}/hide', '/admin/api/events/stager-0/hide', 404],
      ['GET', '/admin/api/events', '/admin/api/events?hidden=true', 200],
      ['POST', '/admin/api/events/{id}/unhide', `/admin/api/events/${BRUNCH}/unhide`, 200],
      [
        'POST',
        '/admin/api/organizations/{source}/{organizationId}/block',
        '/admin/api/organizations/stager/1042/block',
        200,
      ],
      ['GET', '/admin/api/organizations', '/admin/api/organizations', 200],
      ['GET', '/admin/api/events', '/admin/api/events?limit=200', 200],
      [
        'POST',
        '/admin/api/organizations/{source}/{organizationId}/unblock',
        '/admin/api/organizations/stager/1042/unblock',
        200,
      ],
      [
        'POST',
        '/admin/api/organizations/{source}/{organizationId}/block',
        '/admin/api/organizations/nowhere/1/block',
        404,
      ],
      ['GET', '/admin/api/deliveries', '/admin/api/deliveries', 200],
      ['GET', '/admin/api/deliveries', '/admin/api/deliveries?test=true&status=processed', 200],
      ['GET', '/admin/api/deliveries', '/admin/api/deliveries?status=lost', 400],
      ['GET', '/admin/api/deliveries/{id}', '/admin/api/deliveries/1', 200],
      ['GET', '/admin/api/deliveries/{id}', '/admin/api/deliveries/99', 404],
      ['POST', '/admin/api/deliveries/{id}/replay', '/admin/api/deliveries/2/replay', 200],
      ['POST', '/admin/api/deliveries/{id}/replay', '/admin/api/deliveries/99/replay', 404],
      ['GET', '/admin/api/audit', '/admin/api/audit?limit=3', 200],
      ['GET', '/admin/api/audit', '/admin/api/audit?offset=x', 400],
    ];
    for (const [method, template, url, status] of calls) {
      const { response, errors } = await conformance(method, template, url);
      expect(response.status, `${method} ${url}`).toBe(status);
      expect(errors, `${method} ${url}: ${response.body.slice(0, 300)}`).toEqual([]);
    }
    // A purged body cannot be replayed: 409; the delivery then shows no body.
    await app.query('delete from delivery_bodies where delivery_id = 1');
    await app.query("update deliveries set purged_at = '2026-11-22T12:00:00.000Z' where id = 1");
    for (const [method, template, url, status] of [
      ['POST', '/admin/api/deliveries/{id}/replay', '/admin/api/deliveries/1/replay', 409],
      ['GET', '/admin/api/deliveries/{id}', '/admin/api/deliveries/1', 200],
    ] as const) {
      const { response, errors } = await conformance(method, template, url);
      expect(response.status, `${method} ${url}`).toBe(status);
      expect(errors, `${method} ${url}`).toEqual([]);
    }
    // The review queue of duplicates: a pair queued, merged, unmerged; another dismissed.
    const show = new Date('2026-12-12T19:30:00Z');
    for (const [stagerId, eventportId, start] of [
      [990001, 'ep-990001', show],
      [990002, 'ep-990002', new Date(show.getTime() + 24 * 3_600_000)],
    ] as const) {
      const posted = await app.postStager(
        stagerMessage('UPDATE_EVENTS', { id: 1042, name: 'Paradiso' }, [
          stagerEvent({ id: stagerId, name: `Act ${stagerId}`, start, venue: 'Paradiso Noord' }),
        ]),
      );
      expect(posted.status).toBe(202);
      const eventport = await app.postEventport(
        eventportPost({
          id: eventportId,
          name: `Act ${stagerId} + guests`,
          start: new Date(start.getTime() - 3_600_000),
          venue: 'Paradiso Noord',
          city: 'Amsterdam',
        }),
      );
      expect(eventport.status).toBe(202);
    }
    await app.settle();
    const queue = await conformance('GET', '/admin/api/duplicates', '/admin/api/duplicates');
    expect(queue.errors).toEqual([]);
    const [first, second] = (JSON.parse(queue.response.body) as { pairs: { id: string }[] }).pairs;
    if (!first || !second) throw new Error('admin-openapi: two pairs expected in the queue');
    for (const [method, template, url, status] of [
      ['GET', '/admin/api/duplicates/{id}', `/admin/api/duplicates/${first.id}`, 200],
      ['GET', '/admin/api/duplicates/{id}', '/admin/api/duplicates/nope', 404],
      ['POST', '/admin/api/duplicates/{id}/merge', `/admin/api/duplicates/${first.id}/merge`, 200],
      ['POST', '/admin/api/duplicates/{id}/merge', '/admin/api/duplicates/nope/merge', 404],
      [
        'POST',
        '/admin/api/duplicates/{id}/dismiss',
        `/admin/api/duplicates/${first.id}/dismiss`,
        409,
      ],
      [
        'POST',
        '/admin/api/duplicates/{id}/dismiss',
        `/admin/api/duplicates/${second.id}/dismiss`,
        200,
      ],
      ['POST', '/admin/api/events/{id}/unmerge', '/admin/api/events/stager-990001/unmerge', 200],
      ['POST', '/admin/api/events/{id}/unmerge', '/admin/api/events/stager-990001/unmerge', 404],
      ['GET', '/admin/api/duplicates/{id}', `/admin/api/duplicates/${first.id}`, 200],
    ] as const) {
      const { response, errors } = await conformance(method, template, url);
      expect(response.status, `${method} ${url}`).toBe(status);
      expect(errors, `${method} ${url}: ${response.body.slice(0, 300)}`).toEqual([]);
    }

    // The schema watch, with the unknown message type of the fixtures.
    const watch = await conformance('GET', '/admin/api/schema-watch', '/admin/api/schema-watch');
    expect(watch.response.status).toBe(200);
    expect(watch.response.body).toContain('ORGANIZATION_SETTINGS_CHANGED');
    expect(watch.errors).toEqual([]);

    // Outgoing webhook subscriptions, the receiver refusing connections (failed attempts).
    const hook = '/admin/api/webhooks';
    const created = await conformance('POST', hook, hook, BEARER, '{"url":"http://127.0.0.1:9/"}');
    expect(created.response.status).toBe(201);
    expect(created.errors).toEqual([]);
    const id = (JSON.parse(created.response.body) as { id: string }).id;
    const one = `${hook}/${id}`;
    const webhookCalls: ['GET' | 'POST' | 'DELETE', string, string, string | undefined, number][] =
      [
        ['POST', hook, hook, '{"url":"ftp://127.0.0.1/"}', 400],
        ['POST', hook, hook, '[1]', 400],
        ['GET', hook, hook, undefined, 200],
        ['GET', `${hook}/{id}`, one, undefined, 200],
        ['GET', `${hook}/{id}`, `${hook}/nope`, undefined, 404],
        ['POST', `${hook}/{id}/resend`, `${one}/resend`, '{"from":"msg_1"}', 200],
        ['POST', `${hook}/{id}/resend`, `${one}/resend`, '{"from":"latest"}', 400],
        ['POST', `${hook}/{id}/resend`, `${hook}/nope/resend`, '{}', 404],
      ];
    for (const [method, template, url, body, status] of webhookCalls) {
      const { response, errors } = await conformance(method, template, url, BEARER, body);
      expect(response.status, `${method} ${url}`).toBe(status);
      expect(errors, `${method} ${url}: ${response.body.slice(0, 300)}`).toEqual([]);
    }
    // Once the resent messages were tried, the subscription lists the (failed) attempts.
    await app.ctx.webhooks.idle();
    for (const [template, url] of [
      [`${hook}/{id}`, one],
      [hook, hook],
    ] as const) {
      const listed = await conformance('GET', template, url);
      expect(listed.response.body).toContain('"outcome":"failed"');
      expect(listed.errors, url).toEqual([]);
    }
    for (const status of [204, 404]) {
      const deleted = await conformance('DELETE', `${hook}/{id}`, one);
      expect(deleted.response.status).toBe(status);
      expect(deleted.errors).toEqual([]);
    }
    // A body that is not JSON: 415.
    const plain = await readResponse(
      await fetch(`${app.url}${hook}`, {
        method: 'POST',
        headers: { ...BEARER, 'content-type': 'text/plain' },
        body: 'url=http://127.0.0.1:9/',
      }),
    );
    expect(plain.status).toBe(415);
    expect(checker.check('POST', hook, plain)).toEqual([]);
    // Those actions are audited, as every admin action is.
    const audited = await conformance('GET', '/admin/api/audit', '/admin/api/audit?limit=5');
    expect(audited.errors).toEqual([]);
    expect(
      (JSON.parse(audited.response.body) as { entries: { action: string }[] }).entries.map(
        (entry) => entry.action,
      ),
    ).toEqual([
      'webhook.delete',
      'webhook.delete',
      'webhook.resend',
      'webhook.resend',
      'webhook.create',
    ]);

    // Without the token: the documented 401.
    const anonymous = await conformance('GET', '/admin/api/events', '/admin/api/events', {});
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.errors).toEqual([]);
  });

  it('catches an answer that does not match', () => {
    const errors = checker.check('get', '/admin/api/audit', {
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ total: 1, limit: 50, offset: 0, entries: [{ id: 1 }] }),
    });
    expect(errors.length).toBeGreaterThan(0);
  });
});
