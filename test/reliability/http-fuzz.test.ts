import { createHmac } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileString, NASTY_STRINGS } from '../helpers/hostile-arbitraries.js';
import { rawRequest, rawSocket, statusCodes, type RawResponse } from '../helpers/raw-http.js';
import {
  fixture,
  startTestApp,
  TEST_SECRETS,
  usingPostgres,
  type TestApp,
} from '../helpers/test-app.js';

/**
 * Hostile HTTP: random methods, paths, query strings, header lines and sizes, content types,
 * encodings and bodies against the webhooks (with and without valid credentials), every feed,
 * page and operational endpoint. Only 2xx/3xx/4xx may come back, never 5xx, and the server
 * keeps answering. Injection attempts in filters and ids are answered 400/404 (or an empty
 * result), and change nothing.
 */

const NUM_RUNS = Number(process.env.MARQUEE_PROPERTY_RUNS ?? 400);
// A failing run prints its seed; MARQUEE_PROPERTY_SEED=<seed> repeats it.
if (process.env.MARQUEE_PROPERTY_SEED)
  fc.configureGlobal({ seed: Number(process.env.MARQUEE_PROPERTY_SEED) });
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

let app: TestApp;
const statuses = new Map<number, number>();
let requests = 0;
let closedOversized = 0;
let accepted = 0;
/** The last requests sent, for the message of a transport error. */
const history: string[] = [];
const remember = (line: string) => {
  history.push(line);
  if (history.length > 6) history.shift();
};

beforeAll(async () => {
  app = await startTestApp({
    env: { ADMIN_TOKEN: TEST_SECRETS.adminToken, METRICS_TOKEN, BODY_LIMIT: '2mb' },
  });
  expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
  expect(
    (await app.postEventport(fixture('eventport/post-upcoming-munich-house.json'))).status,
  ).toBe(202);
  await app.settle();
});

afterAll(async () => {
  await app?.close();
  console.log(
    `http fuzz: ${requests} requests answered (${closedOversized} more closed by the server for headers over 16 KB; ${accepted} webhook deliveries accepted), statuses ${[
      ...statuses,
    ]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')}`,
  );
});

/** Sends and checks: a response below 500. Returns null when the client itself refused the request. */
async function send(
  method: string,
  path: string,
  headers: [string, string][],
  body?: Buffer,
): Promise<RawResponse | null> {
  const headerBytes =
    path.length + headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
  const shown = headers.map(([name, value]) => [
    name,
    value.length > 60 ? `${value.slice(0, 20)}…(${value.length})` : value,
  ]);
  remember(
    `${method} ${path.slice(0, 100)} ${JSON.stringify(shown)} body ${body?.length ?? 0} B, headers ${headerBytes} B`,
  );
  let response: RawResponse;
  try {
    response = await rawRequest(app.url, { method, path, headers, body });
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    // Node's client refuses invalid header names/values and unescaped paths before sending.
    if (code.startsWith('ERR_INVALID') || code === 'ERR_UNESCAPED_CHARACTERS') return null;
    // Over Node's 16 KB limit for the request line and headers, the server answers 431 and
    // closes at once; a client still sending sees the connection reset instead.
    if (headerBytes > 15 * 1024 && (code === 'ECONNRESET' || code === 'EPIPE')) {
      closedOversized += 1;
      return null;
    }
    // A transport error may come from an earlier request on the same connection: show them.
    throw new Error(`${(error as Error).message} after:\n${history.join('\n')}`, { cause: error });
  }
  remember(`  -> ${response.status}`);
  requests += 1;
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  expect(
    response.status,
    `${method} ${path.slice(0, 200)} -> ${response.status} ${response.body.toString('utf8').slice(0, 300)}`,
  ).toBeLessThan(500);
  expect(response.status).toBeGreaterThanOrEqual(200);
  return response;
}

function syncHeaderGuard(build: () => Promise<RawResponse | null>): Promise<RawResponse | null> {
  try {
    return build();
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_')) return Promise.resolve(null);
    throw error;
  }
}

async function healthy(): Promise<void> {
  const response = await app.get('/healthz');
  expect(response.status).toBe(200);
}

const PATHS = [
  '/',
  '/events.ics',
  '/events.rss',
  '/events.atom',
  '/events.json',
  '/api/events',
  '/events/stager-583920',
  '/events/stager-583920.ics',
  '/events/eventport-MunichHouse000001',
  '/events/nope-1',
  '/embed',
  '/embed.js',
  '/assets/site.css',
  '/assets/site.js',
  '/healthz',
  '/metrics',
  '/admin',
  '/admin/status.json',
  '/admin/replay',
  '/webhooks/stager',
  '/webhooks/eventport',
];

const encode = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return text.replace(/[^A-Za-z0-9]/g, '%25'); // lone surrogates cannot be percent-encoded
  }
};

const FILTERS = [
  'city',
  'genre',
  'organizer',
  'venue',
  'source',
  'from',
  'to',
  'q',
  'limit',
  'offset',
  'page',
  'theme',
  'accent',
  'accessToken',
  '__proto__',
  'constructor',
  'city[]',
  'a[b]',
];

const queryArb = fc.array(
  fc.oneof(
    fc
      .tuple(fc.constantFrom(...FILTERS), hostileString)
      .map(([key, value]) => `${encode(key)}=${encode(value)}`),
    fc
      .tuple(
        fc.constantFrom(...FILTERS),
        fc.constantFrom(
          '%',
          '%ZZ',
          '%C0%AF',
          '%00',
          '%E2%80',
          '%FF%FE',
          '+',
          '%2B',
          '&&',
          '==',
          '%u0041',
        ),
      )
      .map(([key, raw]) => `${key}=${raw}`),
    fc
      .tuple(fc.constantFrom(...FILTERS), fc.integer({ min: 100, max: 20_000 }))
      .map(([key, length]) => `${key}=${'x'.repeat(length)}`),
    fc.constantFrom(
      'limit=-1',
      'limit=0',
      'limit=1e3',
      'limit=99999999999999999999',
      'offset=-5',
      'from=2026-02-30',
      'to=9999-99-99',
      'from=2026-12-05T25:00',
      'source=stager,eventport,other',
    ),
  ),
  { maxLength: 6 },
);

const pathArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PATHS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/events/..%2F..%2Fpackage.json',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2fsite.css',
      '//etc/passwd',
      '/events/',
      '/events/%',
      '/%',
      '/webhooks/%2e%2e',
      '/webhooks/stager/',
      '/WEBHOOKS/STAGER',
      '/api/events/',
      '/events.ics/',
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary', maxLength: 30 })
      .map((tail) => `/events/${encode(tail)}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 100, max: 12_000 })
      .map((length) => `/events/${'a'.repeat(length)}`),
  },
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=bogus',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '*/*',
  '',
  ';;;',
  'application/json; charset="utf-8',
];
const ENCODINGS = ['gzip', 'deflate', 'br', 'identity', 'x-bogus', 'gzip, gzip', 'GZIP', ''];

const bodyArb = fc.oneof(
  fc.uint8Array({ maxLength: 4_000 }).map((bytes) => Buffer.from(bytes)),
  hostileString.map((text) => Buffer.from(text, 'utf8')),
  fc.json().map((json) => Buffer.from(json)),
  fc.constantFrom(
    Buffer.from(
      '{"messageType": "UPDATE_EVENTS", "messageContent": {"organization": {"id": 1}, "events": [{"id": 1, "name": "x", "startsAt": "2027-01-01T20:00:00Z"}]}}',
    ),
    Buffer.from(
      '{"type":"event","method":"post","version":"1.0","data":{"event":{"_id":"AAAAAAAAAAAAAAAAA","name":"x","begin":"2027-01-01T20:00:00Z"}}}',
    ),
    Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
    Buffer.from(`{"a":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`),
    Buffer.from('\uFEFF{"messageType":"X"}'),
    Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
    Buffer.alloc(0),
  ),
);

const headerArb = fc.record({
  contentType: fc.option(fc.constantFrom(...CONTENT_TYPES)),
  encoding: fc.option(fc.constantFrom(...ENCODINGS)),
  /** How the body is actually encoded (may disagree with the header). */
  actualEncoding: fc.constantFrom('none', 'gzip', 'deflate', 'br'),
  auth: fc.constantFrom(
    'none',
    'valid',
    'valid-token',
    'valid-basic',
    'wrong',
    'admin-bearer',
    'metrics-bearer',
  ),
  extra: fc.array(
    fc.tuple(
      fc.constantFrom(
        'x-signature',
        'authorization',
        'accept',
        'accept-encoding',
        'if-none-match',
        'if-modified-since',
        'range',
        'x-request-id',
        'x-forwarded-for',
        'cookie',
        'origin',
        'x-custom',
        'expect',
        'transfer-encoding',
        'content-length',
      ),
      fc.oneof(
        hostileString,
        fc.integer({ min: 1_000, max: 40_000 }).map((length) => 'v'.repeat(length)),
        fc.constantFrom(
          '*',
          'gzip;q=0',
          'br, gzip',
          '"x"',
          'W/"x"',
          'Thu, 01 Jan 1970 00:00:00 GMT',
          'bytes=0-1',
          'bytes=9-0',
          '100-continue',
          'chunked',
          '-1',
          '0',
        ),
      ),
    ),
    { maxLength: 4 },
  ),
});

function compress(body: Buffer, how: string): Buffer {
  if (how === 'gzip') return gzipSync(body);
  if (how === 'deflate') return deflateSync(body);
  if (how === 'br') return brotliCompressSync(body);
  return body;
}

describe('random requests against every endpoint', () => {
  it(
    `never answers 5xx and keeps answering (${NUM_RUNS} requests)`,
    { timeout: 180_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(
            'GET',
            'GET',
            'GET',
            'POST',
            'POST',
            'HEAD',
            'PUT',
            'DELETE',
            'OPTIONS',
            'PATCH',
            'TRACE',
          ),
          pathArb,
          queryArb,
          headerArb,
          bodyArb,
          async (method, path, query, header, plainBody) => {
            const body = compress(plainBody, header.actualEncoding);
            const target =
              path.startsWith('/webhooks/eventport') &&
              (header.auth === 'valid' || header.auth === 'valid-token')
                ? [...query, `accessToken=${TEST_SECRETS.eventportToken}`]
                : query;
            const headers: [string, string][] = [];
            if (header.contentType !== null) headers.push(['content-type', header.contentType]);
            if (header.encoding !== null) headers.push(['content-encoding', header.encoding]);
            if (header.auth === 'valid')
              headers.push([
                'x-signature',
                createHmac('sha256', TEST_SECRETS.stagerKeys[0]!).update(plainBody).digest('hex'),
              ]);
            if (header.auth === 'valid' || header.auth === 'valid-basic') {
              headers.push([
                'authorization',
                `Basic ${Buffer.from(`${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`).toString('base64')}`,
              ]);
            }
            if (header.auth === 'wrong')
              headers.push(['x-signature', 'a'.repeat(64)], ['authorization', 'Basic Og==']);
            if (header.auth === 'admin-bearer')
              headers.push(['authorization', `Bearer ${TEST_SECRETS.adminToken}`]);
            if (header.auth === 'metrics-bearer')
              headers.push(['authorization', `Bearer ${METRICS_TOKEN}`]);
            headers.push(
              ...header.extra.filter(
                ([name]) => name !== 'content-length' && name !== 'transfer-encoding',
              ),
            );
            const withBody =
              method !== 'GET' && method !== 'HEAD' && method !== 'TRACE' ? body : undefined;
            await syncHeaderGuard(() =>
              send(
                method,
                target.length > 0 ? `${path}?${target.join('&')}` : path,
                headers,
                withBody,
              ),
            );
          },
        ),
        { numRuns: NUM_RUNS },
      );
      await healthy();
    },
  );

  it(
    `answers webhook deliveries of any shape 202, 400, 401, 413 or 415, storing exactly the accepted ones (${Math.ceil(NUM_RUNS / 2)} requests)`,
    { timeout: 120_000 },
    async () => {
      const count = async () =>
        (await app.query<{ n: number }>('select count(*) as n from deliveries'))[0]!.n;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('stager', 'eventport'),
          headerArb,
          bodyArb,
          fc.boolean(),
          async (source, header, plainBody, announceEncoding) => {
            const body = compress(plainBody, header.actualEncoding);
            const valid = header.auth.startsWith('valid');
            const headers: [string, string][] = [];
            if (header.contentType !== null) headers.push(['content-type', header.contentType]);
            if (announceEncoding && header.actualEncoding !== 'none')
              headers.push(['content-encoding', header.actualEncoding]);
            else if (header.encoding !== null && header.actualEncoding === 'none')
              headers.push(['content-encoding', header.encoding]);
            let path = `/webhooks/${source}`;
            if (source === 'stager') {
              // The signature covers the body as Marquee reads it, after Content-Encoding.
              const signed = announceEncoding ? plainBody : body;
              headers.push([
                'x-signature',
                valid
                  ? createHmac('sha256', TEST_SECRETS.stagerKeys[1]!)
                      .update(signed)
                      .digest('base64')
                  : 'sha256=' + '0'.repeat(64),
              ]);
            } else if (header.auth === 'valid-basic') {
              headers.push([
                'authorization',
                `Basic ${Buffer.from(`${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`).toString('base64')}`,
              ]);
            } else {
              path += `?accessToken=${valid ? TEST_SECRETS.eventportToken : 'not-the-token'}`;
            }
            const before = await count();
            const response = await send('POST', path, headers, body);
            if (response === null) return;
            expect(
              [202, 400, 401, 413, 415],
              `${response.status} ${response.body.toString('utf8').slice(0, 200)}`,
            ).toContain(response.status);
            const stored = (await count()) - before;
            if (response.status === 202) {
              expect(stored).toBe(1);
              const { delivery } = JSON.parse(response.body.toString('utf8')) as {
                delivery: number;
              };
              const [row] = await app.query<{ body: Buffer; status: string }>(
                'select body, status from deliveries join delivery_bodies on delivery_id = id where id = ?',
                delivery,
              );
              expect(row!.status).not.toBe('rejected');
              expect(Buffer.compare(row!.body, announceEncoding ? plainBody : body)).toBe(0);
            } else if (response.status === 400 && /not JSON/.test(response.body.toString('utf8'))) {
              expect(stored).toBe(1); // authenticated but not JSON: kept as rejected
            } else {
              expect(stored).toBe(0);
            }
            if (!valid) expect(response.status).not.toBe(202);
            accepted += response.status === 202 ? 1 : 0;
          },
        ),
        { numRuns: Math.ceil(NUM_RUNS / 2) },
      );
      await app.settle();
      expect(accepted).toBeGreaterThan(0);
      await healthy();
    },
  );

  it('survives requests no well-behaved client sends', { timeout: 60_000 }, async () => {
    const host = new URL(app.url).host;
    const signature = createHmac('sha256', TEST_SECRETS.stagerKeys[0]!).update('{}').digest('hex');
    const malformed = [
      'GARBAGE\r\n\r\n',
      `GET / HTTP/9.9\r\nHost: ${host}\r\n\r\n`,
      `GET /events.ics HTTP/1.1\r\nHost: ${host}\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`,
      `GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `POST /webhooks/stager HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nX-Signature: ${signature}\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
      `POST /webhooks/stager HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nX-Signature: ${signature}\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`,
      `POST /webhooks/stager HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 10\r\nContent-Length: 2\r\nX-Signature: ${signature}\r\n\r\n{}`,
      `POST /webhooks/stager HTTP/1.1\r\nHost: ${host}\r\nContent-Length: -1\r\n\r\n`,
      `POST /webhooks/stager HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 99999999999999999999\r\n\r\n{}`,
      `POST /webhooks/stager HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\nX-Signature: ${signature}\r\n\r\n{}`,
      `POST /webhooks/stager HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2\r\nContent-Encoding: gzip\r\nX-Signature: ${signature}\r\n\r\n{}`,
      `GET /events.ics HTTP/1.1\r\nHost: ${host}\r\nX\u0000Bad: 1\r\n\r\n`,
      `GET /events.ics HTTP/1.1\r\nHost: ${host}\r\n Folded: header\r\n\r\n`,
      `GET /events.ics?city=${'%'.repeat(5)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET /events/\u00ff\u00fe.ics HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      `GET /events.ics HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\nGET /events.rss HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /nope HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    ];
    for (const request of malformed) {
      const answer = await rawSocket(app.url, request, 800);
      for (const status of statusCodes(answer))
        expect(
          status,
          `${JSON.stringify(request.slice(0, 120))} -> ${answer.slice(0, 200)}`,
        ).toBeLessThan(500);
    }
    // Slow or abandoned uploads: the connection closes, nothing is stored half.
    const count = async () =>
      (await app.query<{ n: number }>('select count(*) as n from deliveries'))[0]!.n;
    const before = await count();
    await rawSocket(
      app.url,
      `POST /webhooks/stager HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1000\r\nX-Signature: ${signature}\r\n\r\n{"half":`,
      300,
    );
    await healthy();
    expect(await count()).toBe(before);
  });
});

describe('injection attempts in filters and ids', () => {
  const SQL = [
    "' OR '1'='1",
    "' OR 1=1 --",
    '1; DROP TABLE events; --',
    "') OR ('1'='1",
    '" OR ""="',
    "%' OR '%'='",
    "x' UNION SELECT id, body, headers FROM deliveries --",
    '*/ OR 1=1 /*',
    "\\' OR 1=1 #",
    "'; UPDATE events SET title='pwned'; --",
    "1' AND sqlite_version() --",
    '%',
    '_',
    '\\',
  ];
  const FORMATS = [
    '/api/events',
    '/events.ics',
    '/events.rss',
    '/events.atom',
    '/events.json',
    '/',
    '/embed',
  ];

  // Tables, columns and indexes as the database describes them.
  const SCHEMA = usingPostgres
    ? `select table_name as name, column_name as detail from information_schema.columns
         where table_schema = current_schema()
       union all select indexname, indexdef from pg_indexes where schemaname = current_schema()
       order by name, detail`
    : 'select type, name, sql from sqlite_master order by name';

  async function fingerprint(): Promise<string> {
    return JSON.stringify([
      await app.query('select * from events order by id'),
      await app.query('select id, status, body_sha256 from deliveries order by id'),
      await app.query(SCHEMA),
    ]);
  }

  it('answers SQL fragments in every filter with 400 or a result that does not widen, and changes nothing', async () => {
    const before = await fingerprint();
    const all = ((await (await app.get('/api/events?limit=1000')).json()) as { total: number })
      .total;
    expect(all).toBeGreaterThan(0);
    for (const fragment of SQL) {
      for (const parameter of [
        'city',
        'genre',
        'organizer',
        'venue',
        'q',
        'source',
        'from',
        'to',
        'limit',
        'offset',
      ]) {
        for (const path of FORMATS) {
          const response = await send(
            'GET',
            `${path}?${parameter}=${encodeURIComponent(fragment)}`,
            [],
          );
          expect([200, 400], `${path}?${parameter}=${fragment}`).toContain(response!.status);
          if (path === '/api/events' && response!.status === 200) {
            const { total } = JSON.parse(response!.body.toString('utf8')) as { total: number };
            // Exact-match filters find nothing; free text finds at most what it found without a filter.
            if (parameter === 'q') expect(total).toBeLessThanOrEqual(all);
            else expect(total, `${parameter}=${fragment}`).toBe(0);
          }
        }
      }
    }
    expect(await fingerprint()).toBe(before);
  });

  it('answers path traversal and injection in /events/:id (HTML and .ics) and /assets/:name with 400/404, leaking nothing', async () => {
    const ids = [
      '../../etc/passwd',
      '..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2f%2e%2e%2fpackage.json',
      '%252e%252e%252fpackage.json',
      '....%2F%2F....%2F%2Fetc%2Fpasswd',
      '..%5C..%5Cwindows%5Cwin.ini',
      'stager-583920%2F..%2F..%2Fpackage.json',
      'stager-583920%00',
      '%00',
      "stager-583920'%20OR%20'1'%3D'1",
      'stager-583920%3B%20DROP%20TABLE%20events',
      encodeURIComponent("stager-1' UNION SELECT * FROM deliveries --"),
      'stager-%25',
      '.',
      '..',
      '%2e',
      '%2e%2e',
    ];
    const before = await fingerprint();
    for (const id of ids) {
      for (const path of [`/events/${id}`, `/events/${id}.ics`, `/assets/${id}`]) {
        const response = await send('GET', path, []);
        if (response === null) continue;
        expect([400, 404], `${path} -> ${response.status}`).toContain(response.status);
        const text = response.body.toString('latin1');
        expect(text).not.toContain('root:');
        expect(text).not.toContain('"devDependencies"');
        expect(text).not.toContain('SQLite format 3');
      }
    }
    expect(await fingerprint()).toBe(before);
  });

  it('answers impossible calendar dates in from/to with 400 in every form, instead of moving them', async () => {
    for (const value of [
      '2027-02-30',
      '2027-02-30T20:00',
      '2027-02-30T20:00:00Z',
      '2027-04-31T20:00:00+02:00',
      '2027-02-29T00:00Z',
    ]) {
      for (const parameter of ['from', 'to']) {
        const response = await send(
          'GET',
          `/api/events?${parameter}=${encodeURIComponent(value)}`,
          [],
        );
        expect(response!.status, `${parameter}=${value}`).toBe(400);
      }
    }
    expect(
      (await send('GET', `/api/events?from=${encodeURIComponent('2028-02-29T00:00:00Z')}`, []))!
        .status,
    ).toBe(200);
  });

  it('answers overlong values with 400/404/414/431, never 5xx', async () => {
    for (const length of [201, 5_000, 60_000]) {
      const value = 'x'.repeat(length);
      for (const path of FORMATS) {
        const response = await send('GET', `${path}?city=${value}`, []);
        expect([400, 414, 431]).toContain(response!.status);
      }
      const event = await send('GET', `/events/stager-${value}`, []);
      expect([400, 404, 414, 431]).toContain(event!.status);
    }
    const manyValues = Array.from({ length: 200 }, (_, index) => `genre=g${index}`).join('&');
    expect((await send('GET', `/api/events?${manyValues}`, []))!.status).toBe(400);
    for (const nasty of NASTY_STRINGS) {
      const response = await send('GET', `/api/events?q=${encode(nasty)}`, []);
      expect([200, 400]).toContain(response!.status);
    }
    await healthy();
  });
});
