import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILTER_PARAMETERS } from '../../src/events/filter.js';
import { saveShortFeed } from '../../src/events/short-feeds.js';
import {
  openApiChecker,
  openApiDocumentErrors,
  readResponse,
  type OpenApiChecker,
} from '../helpers/openapi.js';
import { seedPageEvents } from '../helpers/page-data.js';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * GET /api/openapi.json: a valid OpenAPI 3.1 document whose schemas the real responses of the
 * public JSON endpoints meet (filters, empty results, errors, 304), and whose documented
 * parameter limits are the ones the server enforces.
 */

type Json = Record<string, unknown>;
type Parameter = { name: string; in: string; schema: Json };

let app: TestApp;
let document: Json;
let checker: OpenApiChecker;

beforeAll(async () => {
  app = await startTestApp();
  await seedPageEvents(app);
  const munich = await app.postEventport(fixture('eventport/post-upcoming-munich-house.json'));
  expect(munich.status).toBeLessThan(300);
  await app.settle();
  const response = await app.get('/api/openapi.json');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  document = (await response.json()) as Json;
  checker = openApiChecker(document);
});

afterAll(async () => {
  await app?.close();
});

/** GETs `url` and returns what the document's `template` operation finds wrong with the answer. */
async function conformance(template: string, url: string, headers: Record<string, string> = {}) {
  const response = await readResponse(await app.get(url, headers));
  return { response, errors: checker.check('get', template, response) };
}

function parametersOf(path: string): Parameter[] {
  const paths = document.paths as Record<string, { get: { parameters?: Parameter[] } }>;
  return paths[path]?.get.parameters ?? [];
}

describe('the document', () => {
  it('is a valid OpenAPI 3.1 document whose schemas all compile as strict JSON Schema 2020-12', async () => {
    expect(await openApiDocumentErrors(document)).toEqual([]);
    expect(document.openapi).toMatch(/^3\.1\./);
    expect((document.servers as Json[])[0]).toEqual({ url: 'https://events.example.org' });
    // Component schemas, parameters of three operations, headers and response bodies.
    expect(checker.schemaCount).toBeGreaterThan(40);
  });

  it('documents every public JSON endpoint', () => {
    expect(Object.keys(document.paths as Json).sort()).toEqual([
      '/api/events',
      '/api/openapi.json',
      '/changes.json',
      '/events.json',
      '/f/{id}.json',
      '/healthz',
    ]);
  });

  it('lists the filter grammar as the query parameters of the API and the JSON Feed', () => {
    for (const path of ['/api/events', '/events.json', '/changes.json']) {
      const parameters = parametersOf(path);
      expect(parameters.map((parameter) => parameter.name)).toEqual([...FILTER_PARAMETERS]);
      expect(parameters.every((parameter) => parameter.in === 'query')).toBe(true);
    }
    const limit = (path: string) => parametersOf(path).find((p) => p.name === 'limit')?.schema;
    expect(limit('/api/events')).toMatchObject({ default: 100, maximum: 1000 });
    expect(limit('/events.json')).toMatchObject({ default: 500, maximum: 1000 });
    expect(limit('/changes.json')).toMatchObject({ default: 100, maximum: 1000 });
  });

  it('is served with a strong ETag and answers If-None-Match with 304', async () => {
    const first = await app.get('/api/openapi.json');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await conformance('/api/openapi.json', '/api/openapi.json', {
      'if-none-match': etag!,
    });
    expect(again.response.status).toBe(304);
    expect(again.errors).toEqual([]);
  });
});

describe('real responses meet the schemas', () => {
  it.each([
    ['no filter', '/api/events'],
    ['a city', '/api/events?city=Amsterdam'],
    ['genres and a source', '/api/events?genre=Indie,Jazz&source=stager'],
    ['an Eventport event with prices', '/api/events?source=eventport'],
    ['free text, newest announcements first', '/api/events?q=night&order=announced'],
    ['days and a radius', '/api/events?days=30&near=52.37,4.89&radius=40'],
    ['a date range and paging', '/api/events?from=2026-12-06&to=2026-12-09T12:00&limit=2&offset=1'],
    ['quoted values', '/api/events?organizer=%22Paradiso%22,Tresor&cancelled=visible'],
  ])('/api/events with %s', async (_name, url) => {
    const { response, errors } = await conformance('/api/events', url);
    expect(response.status).toBe(200);
    expect(errors).toEqual([]);
    const page = JSON.parse(response.body) as { total: number; events: unknown[] };
    expect(page.events.length).toBeGreaterThan(0);
  });

  it('an Eventport event carries its own price labels', async () => {
    const { response } = await conformance('/api/events', '/api/events?source=eventport');
    const page = JSON.parse(response.body) as { events: { prices: { label: string }[] }[] };
    const labels = page.events.flatMap((event) => event.prices.map((price) => price.label));
    expect(labels).toEqual(expect.arrayContaining(['Pre-sale', 'Box office price']));
  });

  it('an empty result', async () => {
    const { response, errors } = await conformance('/api/events', '/api/events?city=Atlantis');
    expect(response.status).toBe(200);
    expect(errors).toEqual([]);
    expect(JSON.parse(response.body)).toEqual({ total: 0, limit: 100, offset: 0, events: [] });
  });

  it.each([
    ['a city', '/events.json?city=Amsterdam', 200],
    ['an empty result', '/events.json?city=Atlantis', 200],
    ['every event', '/events.json', 200],
  ])('the JSON Feed with %s', async (_name, url, status) => {
    const { response, errors } = await conformance('/events.json', url);
    expect(response.status).toBe(status);
    expect(errors).toEqual([]);
  });

  it.each([
    ['every change', '/changes.json', true],
    ['a city', '/changes.json?city=Amsterdam&limit=3', true],
    ['an empty result', '/changes.json?city=Atlantis', false],
  ])('the changes feed with %s', async (_name, url, some) => {
    const { response, errors } = await conformance('/changes.json', url);
    expect(response.status).toBe(200);
    expect(errors).toEqual([]);
    const feed = JSON.parse(response.body) as { items: unknown[] };
    expect(feed.items.length > 0).toBe(some);
  });

  it('a short JSON Feed URL', async () => {
    const id = await saveShortFeed(app.ctx.database.db, '?city=Berlin', app.ctx.now());
    const { response, errors } = await conformance('/f/{id}.json', `/f/${id}.json`);
    expect(response.status).toBe(200);
    expect(errors).toEqual([]);
    expect(JSON.parse(response.body)).toMatchObject({
      feed_url: `https://events.example.org/f/${id}.json`,
    });
  });

  it('the health check', async () => {
    const { response, errors } = await conformance('/healthz', '/healthz');
    expect(response.status).toBe(200);
    expect(errors).toEqual([]);
  });

  it.each([
    ['/api/events', '/api/events?limit=0', 400, /"limit"/],
    ['/api/events', '/api/events?colour=red', 400, /unknown parameter "colour"/],
    ['/api/events', '/api/events?near=north', 400, /"near"/],
    ['/api/events', `/api/events?q=${'x'.repeat(5000)}`, 414, /query string longer/],
    ['/events.json', '/events.json?from=2026-02-30', 400, /"from"/],
    ['/changes.json', '/changes.json?radius=5', 400, /"radius" needs "near"/],
    ['/f/{id}.json', '/f/AAAAAAAAAAAA.json', 404, /no such short feed/],
    ['/f/{id}.json', '/f/AAAAAAAAAAAA.json?city=Berlin', 400, /takes no parameters/],
  ])('%s error: %s', async (template, url, status, message) => {
    const { response, errors } = await conformance(template, url);
    expect(response.status).toBe(status);
    expect(errors).toEqual([]);
    expect((JSON.parse(response.body) as { error: string }).error).toMatch(message);
  });

  it('a conditional request answered 304', async () => {
    const first = await app.get('/api/events?city=Amsterdam');
    const { response, errors } = await conformance('/api/events', '/api/events?city=Amsterdam', {
      'if-none-match': first.headers.get('etag')!,
    });
    expect(response.status).toBe(304);
    expect(errors).toEqual([]);
  });

  it('the checker finds a body that strays from the schema', async () => {
    const { response } = await conformance('/api/events', '/api/events?limit=1');
    const page = JSON.parse(response.body) as { events: Json[] };
    const event = page.events[0]!;
    delete event.title;
    event.status = 'postponed';
    event.extra = true;
    const errors = checker.check('get', '/api/events', { ...response, body: JSON.stringify(page) });
    expect(errors.join('\n')).toMatch(/title/);
    expect(errors.join('\n')).toMatch(/allowed values/);
    expect(errors.join('\n')).toMatch(/additional properties/);
    expect(checker.check('get', '/api/events', { ...response, status: 418 })).toEqual([
      'get /api/events: status 418 not documented',
    ]);
    expect(
      checker.check('get', '/api/events', { ...response, contentType: 'text/html' }),
    ).toHaveLength(1);
  });
});

describe('documented parameter limits are the ones the server enforces', () => {
  const limits = () =>
    parametersOf('/api/events').flatMap(({ name, schema }) => {
      // `radius` only counts with `near`.
      const base = name === 'radius' ? '&near=52.37,4.89' : '';
      const cases: [string, number][] = [];
      if (typeof schema.maximum === 'number') {
        cases.push([`${name}=${schema.maximum}${base}`, 200]);
        cases.push([`${name}=${schema.maximum + 1}${base}`, 400]);
      }
      if (typeof schema.minimum === 'number') {
        cases.push([`${name}=${schema.minimum}${base}`, 200]);
        cases.push([`${name}=${schema.minimum - 1}${base}`, 400]);
      }
      if (typeof schema.exclusiveMinimum === 'number') {
        cases.push([`${name}=${schema.exclusiveMinimum}${base}`, 400]);
      }
      for (const example of (schema.examples ?? []) as string[]) {
        cases.push([`${name}=${encodeURIComponent(example)}`, 200]);
      }
      if (typeof schema.pattern === 'string') cases.push([`${name}=nonsense`, 400]);
      const items = schema.items as Json | undefined;
      for (const value of (schema.enum ?? items?.enum ?? []) as string[]) {
        cases.push([`${name}=${encodeURIComponent(value)}`, 200]);
      }
      if (schema.enum ?? items?.enum) cases.push([`${name}=nonsense`, 400]);
      if (typeof schema.maxItems === 'number') {
        const many = Array.from({ length: schema.maxItems + 1 }, (_, i) => `${name}=v${i}`);
        cases.push([many.slice(1).join('&'), items?.enum ? 400 : 200]);
        cases.push([many.join('&'), 400]);
      }
      if (typeof items?.maxLength === 'number' && !items.enum) {
        cases.push([`${name}=${'a'.repeat(items.maxLength)}`, 200]);
        cases.push([`${name}=${'a'.repeat(items.maxLength + 1)}`, 400]);
      }
      return cases;
    });

  it('at each documented bound, inside passes and outside is refused', async () => {
    const cases = limits();
    expect(cases.length).toBeGreaterThan(30);
    const outcomes: string[] = [];
    for (const [query, status] of cases) {
      const { response, errors } = await conformance('/api/events', `/api/events?${query}`);
      expect(errors, query).toEqual([]);
      if (response.status !== status) outcomes.push(`${query}: ${response.status}, not ${status}`);
    }
    expect(outcomes).toEqual([]);
  });
});
