import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeSignature,
  matchesBasicAuth,
  matchesSecret,
  parseBasicAuth,
  verifySignature,
} from '../../src/auth/verify.js';
import { loggedUrl, redactUrl } from '../../src/logger.js';
import { hostileString } from '../helpers/hostile-arbitraries.js';
import { rawRequest } from '../helpers/raw-http.js';
import { fixture, startTestApp, TEST_SECRETS, type TestApp } from '../helpers/test-app.js';

/**
 * Nobody without the secret can write, and no secret leaks into logs or stored deliveries.
 * Completes test/integration/webhooks.test.ts and test/unit/verify.test.ts with what they do not
 * cover: repeated header lines (sent as separate lines over node:http), repeated query tokens,
 * property-based checks of the comparisons, and one full scenario with every secret configured
 * whose complete log output is searched for every secret and credential it saw.
 */

const NUM_RUNS = Number(process.env.MARQUEE_PROPERTY_RUNS ?? 400);
// A failing run prints its seed; MARQUEE_PROPERTY_SEED=<seed> repeats it.
if (process.env.MARQUEE_PROPERTY_SEED)
  fc.configureGlobal({ seed: Number(process.env.MARQUEE_PROPERTY_SEED) });
const METRICS_TOKEN = 'metrics-token-fedcba9876543210';
const body = fixture('stager/update-events.json');
const hmac = (key: string, data: Buffer | string = body) =>
  createHmac('sha256', key).update(data).digest('hex');
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const validBasic = basic(TEST_SECRETS.basicUser, TEST_SECRETS.basicPassword);

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

const stored = async (test: TestApp) =>
  (await test.query<{ n: number }>('select count(*) as n from deliveries'))[0]!.n;

describe('repeated credentials', () => {
  it.each([
    [
      'the same valid signature twice',
      [hmac(TEST_SECRETS.stagerKeys[0]!), hmac(TEST_SECRETS.stagerKeys[0]!)],
    ],
    ['a valid and a wrong signature', [hmac(TEST_SECRETS.stagerKeys[0]!), hmac('wrong-key')]],
    ['a wrong and a valid signature', [hmac('wrong-key'), hmac(TEST_SECRETS.stagerKeys[0]!)]],
    [
      'signatures by both configured keys',
      [hmac(TEST_SECRETS.stagerKeys[0]!), hmac(TEST_SECRETS.stagerKeys[1]!)],
    ],
    ['an empty line and a valid signature', ['', hmac(TEST_SECRETS.stagerKeys[0]!)]],
  ])(
    'Stager: X-Signature sent as two header lines (%s) is answered 401, nothing stored',
    async (_name, values) => {
      app = await startTestApp();
      const response = await rawRequest(app.url, {
        method: 'POST',
        path: '/webhooks/stager',
        headers: [
          ['content-type', 'application/json'],
          ...values.map((value): [string, string] => ['x-signature', value]),
        ],
        body,
      });
      expect(response.status).toBe(401);
      expect(await stored(app)).toBe(0);
    },
  );

  it.each([
    ['twice the valid token', [TEST_SECRETS.eventportToken, TEST_SECRETS.eventportToken]],
    ['a wrong and the valid token', ['wrong-token-0000000000', TEST_SECRETS.eventportToken]],
    ['the valid and a wrong token', [TEST_SECRETS.eventportToken, 'wrong-token-0000000000']],
  ])(
    'Eventport: accessToken repeated in the query (%s) is answered 401, nothing stored',
    async (_name, tokens) => {
      app = await startTestApp();
      const query = tokens.map((token) => `accessToken=${encodeURIComponent(token)}`).join('&');
      const response = await rawRequest(app.url, {
        method: 'POST',
        path: `/webhooks/eventport?${query}`,
        headers: [['content-type', 'application/json']],
        body: fixture('eventport/post-minimal-example.json'),
      });
      expect(response.status).toBe(401);
      expect(await stored(app)).toBe(0);
    },
  );

  it('Eventport: a wrong Authorization line first and the valid one second is answered 401', async () => {
    // Node keeps only the first Authorization line; a second one cannot smuggle credentials in.
    app = await startTestApp();
    const response = await rawRequest(app.url, {
      method: 'POST',
      path: '/webhooks/eventport',
      headers: [
        ['content-type', 'application/json'],
        ['authorization', basic('intruder', 'guess')],
        ['authorization', validBasic],
      ],
      body: fixture('eventport/post-minimal-example.json'),
    });
    expect(response.status).toBe(401);
    expect(await stored(app)).toBe(0);
  });

  it.each([
    [
      'lower-case scheme',
      `basic ${Buffer.from(`${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`).toString('base64')}`,
      202,
    ],
    [
      'the password with a trailing space',
      basic(TEST_SECRETS.basicUser, `${TEST_SECRETS.basicPassword} `),
      401,
    ],
    [
      'the user in another case',
      basic(TEST_SECRETS.basicUser.toUpperCase(), TEST_SECRETS.basicPassword),
      401,
    ],
    ['user and password swapped', basic(TEST_SECRETS.basicPassword, TEST_SECRETS.basicUser), 401],
    ['an empty user', basic('', TEST_SECRETS.basicPassword), 401],
    ['the Bearer scheme with the password', `Bearer ${TEST_SECRETS.basicPassword}`, 401],
    ['the Bearer scheme with the token', `Bearer ${TEST_SECRETS.eventportToken}`, 401],
    [
      'the credentials unencoded',
      `Basic ${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`,
      401,
    ],
    ['base64 with garbage after it', `${validBasic} x`, 401],
  ])('Eventport: Basic auth with %s is answered %i', async (_name, authorization, status) => {
    app = await startTestApp();
    const response = await rawRequest(app.url, {
      method: 'POST',
      path: '/webhooks/eventport',
      headers: [
        ['content-type', 'application/json'],
        ['authorization', authorization],
      ],
      body: fixture('eventport/post-minimal-example.json'),
    });
    expect(response.status).toBe(status);
    expect(await stored(app)).toBe(status === 202 ? 1 : 0);
  });
});

describe('comparisons, property-based', () => {
  const keys = TEST_SECRETS.stagerKeys;

  it('verifySignature never throws and accepts only the exact HMAC, whatever the header', () => {
    const good = hmac(keys[0]!);
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString,
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.stringMatching(/^[0-9a-fA-F]{0,80}$/),
          fc.stringMatching(/^[A-Za-z0-9+/_=-]{30,50}$/),
        ),
        (header) => {
          const decoded = decodeSignature(header);
          if (decoded !== null) expect(decoded.length).toBe(32); // timingSafeEqual is only ever called on equal lengths
          const accepted = verifySignature(body, header, keys);
          if (accepted)
            expect(
              decoded?.equals(Buffer.from(good, 'hex')) ||
                decoded?.equals(Buffer.from(hmac(keys[1]!), 'hex')),
            ).toBe(true);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('verifySignature rejects every single-character change of a valid signature', () => {
    const good = hmac(keys[0]!);
    fc.assert(
      fc.property(fc.nat({ max: 63 }), fc.constantFrom(...'0123456789abcdef'), (index, char) => {
        const changed = good.slice(0, index) + char + good.slice(index + 1);
        expect(verifySignature(body, changed, keys)).toBe(changed === good);
      }),
      { numRuns: 200 },
    );
  });

  it('matchesSecret and Basic parsing never throw on any input, of any length, and match only exactly', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString,
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.constant(TEST_SECRETS.eventportToken.slice(0, -1)),
          fc.constant(`${TEST_SECRETS.eventportToken}x`),
        ),
        (candidate) => {
          expect(matchesSecret(candidate, [TEST_SECRETS.eventportToken, 'x'])).toBe(
            candidate === TEST_SECRETS.eventportToken || candidate === 'x',
          );
          const parsed = parseBasicAuth(candidate);
          const fromHeader = parseBasicAuth(`Basic ${Buffer.from(candidate).toString('base64')}`);
          expect(
            matchesBasicAuth(parsed, [
              { user: TEST_SECRETS.basicUser, password: TEST_SECRETS.basicPassword },
            ]),
          ).toBe(false);
          expect(
            matchesBasicAuth(fromHeader, [
              { user: TEST_SECRETS.basicUser, password: TEST_SECRETS.basicPassword },
            ]),
          ).toBe(candidate === `${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('redactUrl masks a token whose parameter name is percent-encoded or sent as a path parameter', () => {
    const secret = TEST_SECRETS.eventportToken;
    for (const url of [
      `/webhooks/eventport?access%54oken=${secret}`,
      `/webhooks/eventport?%61ccessToken=${secret}&city=x`,
      `/webhooks/eventport;accessToken=${secret}`,
      `/webhooks/eventport;access%54oken=${secret}?city=x`,
      `/webhooks/eventport?city=x&access%5Ftoken=${secret}`,
    ]) {
      expect(redactUrl(url), url).not.toContain(secret);
      expect(loggedUrl(url), url).not.toContain(secret);
    }
  });

  it('a percent-encoded token name authenticates and is never logged in clear', async () => {
    app = await startTestApp();
    const secret = TEST_SECRETS.eventportToken;
    const response = await rawRequest(app.url, {
      method: 'POST',
      path: `/webhooks/eventport?access%54oken=${secret}`,
      headers: [['content-type', 'application/json']],
      body: fixture('eventport/post-full-example.json'),
    });
    expect(response.status).toBe(202);
    await rawRequest(app.url, { path: `/webhooks/eventport;accessToken=${secret}` });
    await app.settle();
    expect(app.logs.join('\n')).not.toContain(secret);
  });

  it('rate-limits admin authentication per client and counts the failures', async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN: TEST_SECRETS.adminToken } });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 12; attempt += 1) {
      const response = await rawRequest(app.url, {
        path: '/admin/status.json',
        headers: [['authorization', `Bearer wrong-token-${attempt}`]],
      });
      statuses.push(response.status);
      if (response.status === 429)
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    // Even the right token waits out the minute once the client is limited.
    const right = await rawRequest(app.url, {
      path: '/admin/status.json',
      headers: [['authorization', `Bearer ${TEST_SECRETS.adminToken}`]],
    });
    expect(right.status).toBe(429);
    const metrics = (await rawRequest(app.url, { path: '/metrics' })).body.toString('utf8');
    expect(metrics).toMatch(/marquee_admin_auth_failures_total\{result="rejected"\} 10/);
    expect(metrics).toMatch(/marquee_admin_auth_failures_total\{result="limited"\} 3/);
  });

  it('redactUrl masks accessToken in any position and case', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom('a', 'city', 'q'), fc.stringMatching(/^[a-z0-9]{0,8}$/)),
          { maxLength: 3 },
        ),
        fc.constantFrom('accessToken', 'ACCESSTOKEN', 'access_token', 'token'),
        (others, name) => {
          const secret = 'SeCrEt-token-0123456789';
          const parts = [
            ...others.map(([key, value]) => `${key}=${value}`),
            `${name}=${secret}`,
          ].sort();
          expect(redactUrl(`/webhooks/eventport?${parts.join('&')}`)).not.toContain(secret);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('no secret in the logs or the stored deliveries of a full scenario', () => {
  it('logs nothing secret at LOG_LEVEL=trace, across every kind of request and failure', async () => {
    app = await startTestApp({
      env: {
        LOG_LEVEL: 'trace',
        ADMIN_TOKEN: TEST_SECRETS.adminToken,
        METRICS_TOKEN,
        BODY_LIMIT: '200kb',
      },
    });
    const seen = new Set<string>([
      ...TEST_SECRETS.stagerKeys,
      TEST_SECRETS.eventportToken,
      TEST_SECRETS.basicPassword,
      Buffer.from(`${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`).toString('base64'),
      TEST_SECRETS.adminToken,
      METRICS_TOKEN,
    ]);
    const send = async (
      method: string,
      path: string,
      headers: [string, string][],
      data?: Buffer | string,
    ) => {
      for (const [name, value] of headers)
        if (name === 'x-signature' || name === 'authorization')
          seen.add(value.replace(/^(Basic|Bearer) /i, ''));
      const token = /accessToken=([^&]+)/.exec(path)?.[1];
      if (token) seen.add(decodeURIComponent(token));
      return rawRequest(app!.url, { method, path, headers, body: data });
    };
    const json: [string, string] = ['content-type', 'application/json'];
    const update = fixture('stager/update-events.json');
    const failing = JSON.stringify({
      messageType: 'UPDATE_EVENTS',
      messageContent: { events: [] },
    });
    const near = `${TEST_SECRETS.eventportToken.slice(0, -1)}X`;

    // Accepted deliveries, with every kind of credential.
    expect(
      (
        await send(
          'POST',
          '/webhooks/stager',
          [json, ['x-signature', hmac(TEST_SECRETS.stagerKeys[0]!, update)]],
          update,
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await send(
          'POST',
          '/webhooks/stager',
          [
            json,
            [
              'x-signature',
              `sha256=${createHmac('sha256', TEST_SECRETS.stagerKeys[1]!).update(failing).digest('base64')}`,
            ],
          ],
          failing,
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await send(
          'POST',
          `/webhooks/eventport?accessToken=${TEST_SECRETS.eventportToken}`,
          [json],
          fixture('eventport/post-full-example.json'),
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await send(
          'POST',
          '/webhooks/eventport',
          [json, ['authorization', validBasic]],
          fixture('eventport/cancel-unknown-event-example.json'),
        )
      ).status,
    ).toBe(202);
    // Rejected ones: wrong, near-miss and malformed credentials; not JSON; too large.
    expect(
      (
        await send(
          'POST',
          '/webhooks/stager',
          [json, ['x-signature', hmac('near-key', update)]],
          update,
        )
      ).status,
    ).toBe(401);
    expect(
      (await send('POST', `/webhooks/eventport?accessToken=${near}`, [json], '{}')).status,
    ).toBe(401);
    expect(
      (
        await send(
          'POST',
          '/webhooks/eventport',
          [
            json,
            ['authorization', basic(TEST_SECRETS.basicUser, `${TEST_SECRETS.basicPassword}!`)],
          ],
          '{}',
        )
      ).status,
    ).toBe(401);
    expect(
      (
        await send(
          'POST',
          `/webhooks/eventport?accessToken=${TEST_SECRETS.eventportToken}`,
          [['content-type', 'text/plain']],
          'not json at all',
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await send(
          'POST',
          '/webhooks/stager',
          [json, ['x-signature', hmac(TEST_SECRETS.stagerKeys[0]!, 'x'.repeat(300_000))]],
          'x'.repeat(300_000),
        )
      ).status,
    ).toBe(413);
    // Secrets where they do not belong: in feed queries, on unknown routes, in the wrong header.
    expect(
      (await send('GET', `/events.ics?accessToken=${TEST_SECRETS.eventportToken}`, [])).status,
    ).toBe(400);
    expect(
      (
        await send(
          'GET',
          `/nowhere?accessToken=${TEST_SECRETS.eventportToken}&token=${TEST_SECRETS.adminToken}`,
          [],
        )
      ).status,
    ).toBe(404);
    expect(
      (
        await send('GET', '/events.rss', [
          ['authorization', `Bearer ${TEST_SECRETS.adminToken}`],
          ['x-signature', TEST_SECRETS.stagerKeys[0]!],
        ])
      ).status,
    ).toBe(200);
    // Operations endpoints, right and wrong.
    expect(
      (await send('GET', '/admin', [['authorization', `Bearer ${TEST_SECRETS.adminToken}`]]))
        .status,
    ).toBe(200);
    expect(
      (
        await send('GET', '/admin/status.json', [
          ['authorization', basic('anyone', TEST_SECRETS.adminToken)],
        ])
      ).status,
    ).toBe(200);
    expect(
      (
        await send('GET', '/admin', [
          ['authorization', `Bearer ${TEST_SECRETS.adminToken.slice(0, -1)}`],
        ])
      ).status,
    ).toBe(401);
    expect(
      (
        await send(
          'POST',
          '/admin/replay',
          [
            ['authorization', `Bearer ${TEST_SECRETS.adminToken}`],
            ['content-type', 'application/x-www-form-urlencoded'],
          ],
          'scope=failed',
        )
      ).status,
    ).toBeLessThan(400);
    expect(
      (await send('GET', '/metrics', [['authorization', `Bearer ${METRICS_TOKEN}`]])).status,
    ).toBe(200);
    expect(
      (await send('GET', '/metrics', [['authorization', `Bearer ${METRICS_TOKEN}x`]])).status,
    ).toBe(401);
    await app.settle();
    expect(
      (await app.query<{ status: string }>('select status from deliveries order by id')).map(
        (row) => row.status,
      ),
    ).toContain('failed');

    const logs = app.logs.join('');
    expect(logs).toContain('/webhooks/eventport');
    expect(logs).toContain('inbox: delivery failed');
    for (const secret of seen)
      expect(logs.includes(secret), `"${secret.slice(0, 6)}…" appears in the logs`).toBe(false);
    const headers = (await app.query<{ headers: string }>('select headers from deliveries'))
      .map((row) => row.headers)
      .join('\n');
    for (const secret of seen)
      expect(headers.includes(secret), `"${secret.slice(0, 6)}…" is stored with a delivery`).toBe(
        false,
      );
    // The operational outputs do not show them either.
    for (const path of ['/admin', '/admin/status.json']) {
      const page = (
        await send('GET', path, [['authorization', `Bearer ${TEST_SECRETS.adminToken}`]])
      ).body.toString('utf8');
      for (const secret of seen)
        expect(page.includes(secret), `${path} shows "${secret.slice(0, 6)}…"`).toBe(false);
    }
  });
});
