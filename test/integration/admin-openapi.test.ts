import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openApiChecker,
  openApiDocumentErrors,
  readResponse,
  type OpenApiChecker,
} from '../helpers/openapi.js';
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
  method: 'GET' | 'POST',
  template: string,
  url: string,
  headers: Record<string, string> = BEARER,
) {
  const response = await readResponse(
    await fetch(`${app.url}${url}`, {
      method,
      headers: { ...headers, 'x-forwarded-for': '192.0.2.1' },
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
    await app.query(
      "update deliveries set body = null, purged_at = '2026-11-22T12:00:00.000Z' where id = 1",
    );
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
