import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fixture,
  signStager,
  startTestApp,
  TEST_SECRETS,
  type TestApp,
} from '../helpers/test-app.js';

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

const deliveries = (test: TestApp) =>
  test.query<{
    id: number;
    source: string;
    status: string;
    body: Buffer | null;
    error: string | null;
    headers: string;
  }>(`select id, source, status, body, error, headers from deliveries
    left join delivery_bodies on delivery_id = id order by id`);

describe('POST /webhooks/stager', () => {
  const body = fixture('stager/update-events.json');
  const hmac = (key: string) => createHmac('sha256', key).update(body);

  it.each([
    ['lower-case hex', hmac(TEST_SECRETS.stagerKeys[0]!).digest('hex')],
    ['upper-case hex', hmac(TEST_SECRETS.stagerKeys[0]!).digest('hex').toUpperCase()],
    ['sha256= prefixed hex', `sha256=${hmac(TEST_SECRETS.stagerKeys[0]!).digest('hex')}`],
    ['standard base64', hmac(TEST_SECRETS.stagerKeys[0]!).digest('base64')],
    ['URL-safe base64 without padding', hmac(TEST_SECRETS.stagerKeys[0]!).digest('base64url')],
    ['the second configured key', hmac(TEST_SECRETS.stagerKeys[1]!).digest('hex')],
  ])('accepts a signature in %s, stores the delivery and answers 202', async (_name, signature) => {
    app = await startTestApp();
    const response = await app.postStager(body, { signature });
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { delivery: number };
    const stored = await deliveries(app);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.id).toBe(answer.delivery);
    expect(Buffer.compare(stored[0]!.body!, body)).toBe(0);
    await app.settle();
    expect((await app.query('select id from events order by id')).map((row) => row.id)).toEqual([
      'stager-583920',
      'stager-583921',
      'stager-583922',
    ]);
  });

  it.each([
    ['a wrong key', signStager(body, 'not-the-key')],
    ['no signature', null],
    ['an empty header', ''],
    ['a truncated signature', signStager(body).slice(0, 40)],
    ['the signature of a different body', signStager(Buffer.concat([body, Buffer.from(' ')]))],
    ['two signatures in one header', `${signStager(body)}, ${signStager(body)}`],
  ])('answers 401 for %s and stores nothing', async (_name, signature) => {
    app = await startTestApp();
    const response = await app.postStager(body, { signature });
    expect(response.status).toBe(401);
    expect(await deliveries(app)).toHaveLength(0);
  });

  it('answers 413 for a body over BODY_LIMIT and stores nothing', async () => {
    app = await startTestApp({ env: { BODY_LIMIT: '1kb' } });
    const response = await app.postStager(body);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toMatch(/BODY_LIMIT/);
    expect(await deliveries(app)).toHaveLength(0);
  });

  it('answers 400 for an authenticated body that is not JSON, keeping it as rejected', async () => {
    app = await startTestApp();
    const notJson = fixture('stager/not-json.txt');
    const response = await app.postStager(notJson, { headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/not JSON/);
    const stored = await deliveries(app);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.status).toBe('rejected');
    expect(Buffer.compare(stored[0]!.body!, notJson)).toBe(0);
  });

  it('answers 503 naming STAGER_SIGNING_KEYS when no key is configured, and the rest still runs', async () => {
    app = await startTestApp({ env: { STAGER_SIGNING_KEYS: '' } });
    const response = await app.postStager(body);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: string }).error).toMatch(/STAGER_SIGNING_KEYS/);
    expect(await deliveries(app)).toHaveLength(0);
    expect((await app.get('/healthz')).status).toBe(200);
    expect((await app.postEventport(fixture('eventport/post-minimal-example.json'))).status).toBe(
      202,
    );
  });

  it('keeps the signature and secrets out of the stored headers and the logs', async () => {
    app = await startTestApp();
    const signature = signStager(body);
    expect((await app.postStager(body, { signature })).status).toBe(202);
    await app.settle();
    const headers = (await deliveries(app))[0]!.headers;
    expect(headers).not.toContain(signature);
    expect(JSON.parse(headers)).toMatchObject({ 'x-marquee-auth': 'signature' });
    const logs = app.logs.join('');
    expect(logs).not.toContain(signature);
    for (const key of TEST_SECRETS.stagerKeys) expect(logs).not.toContain(key);
  });
});

describe('POST /webhooks/eventport', () => {
  const body = fixture('eventport/post-minimal-example.json');

  it('accepts the accessToken query parameter', async () => {
    app = await startTestApp();
    expect((await app.postEventport(body)).status).toBe(202);
    expect(await deliveries(app)).toHaveLength(1);
    expect(JSON.parse((await deliveries(app))[0]!.headers)).toMatchObject({
      'x-marquee-auth': 'token',
    });
  });

  it('accepts HTTP Basic credentials', async () => {
    app = await startTestApp();
    const response = await app.postEventport(body, {
      token: null,
      basic: [TEST_SECRETS.basicUser, TEST_SECRETS.basicPassword],
    });
    expect(response.status).toBe(202);
    expect(JSON.parse((await deliveries(app))[0]!.headers)).toMatchObject({
      'x-marquee-auth': 'basic',
    });
  });

  it.each([
    ['a wrong token', { token: 'eventport-token-abcdefghijklmnoX' }],
    ['a token of another length', { token: 'short' }],
    ['no credentials', { token: null }],
    [
      'Basic with the wrong user',
      { token: null, basic: ['someone', TEST_SECRETS.basicPassword] as [string, string] },
    ],
    [
      'Basic with the wrong password',
      { token: null, basic: [TEST_SECRETS.basicUser, 'wrong'] as [string, string] },
    ],
    [
      'a malformed Authorization header',
      { token: null, headers: { authorization: 'Basic %%%not-base64' } },
    ],
    [
      'Basic without a colon',
      {
        token: null,
        headers: { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` },
      },
    ],
  ])('answers 401 for %s and stores nothing', async (_name, options) => {
    app = await startTestApp();
    const response = await app.postEventport(body, options);
    expect(response.status).toBe(401);
    expect(await deliveries(app)).toHaveLength(0);
  });

  it('answers 503 naming both variables when neither is configured', async () => {
    app = await startTestApp({ env: { EVENTPORT_TOKENS: '', EVENTPORT_BASIC_AUTH: '' } });
    const response = await app.postEventport(body);
    expect(response.status).toBe(503);
    const { error } = (await response.json()) as { error: string };
    expect(error).toMatch(/EVENTPORT_TOKENS/);
    expect(error).toMatch(/EVENTPORT_BASIC_AUTH/);
    expect(await deliveries(app)).toHaveLength(0);
  });

  it('answers 413 over BODY_LIMIT and 400 (kept) for a body that is not JSON', async () => {
    app = await startTestApp({ env: { BODY_LIMIT: '1kb' } });
    expect((await app.postEventport(fixture('eventport/post-full-example.json'))).status).toBe(413);
    expect(await deliveries(app)).toHaveLength(0);
    const response = await app.postEventport('{"type": "event", "method": "post", ');
    expect(response.status).toBe(400);
    expect((await deliveries(app)).map((row) => row.status)).toEqual(['rejected']);
  });

  it('never writes the token into a log line', async () => {
    app = await startTestApp();
    await app.postEventport(body);
    await app.postEventport(body, { token: 'wrong-token-value-123' });
    await app.settle();
    const logs = app.logs.join('');
    expect(logs).toContain('/webhooks/eventport');
    expect(logs).not.toContain(TEST_SECRETS.eventportToken);
    expect(logs).not.toContain('wrong-token-value-123');
  });
});

describe('the inbox', () => {
  it('processes deliveries left unprocessed by a previous process on start', async () => {
    const first = await startTestApp();
    await first.ctx.inbox.stop();
    expect((await first.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    expect((await first.postEventport(fixture('eventport/post-full-example.json'))).status).toBe(
      202,
    );
    expect(
      (await first.query('select status from deliveries order by id')).map((row) => row.status),
    ).toEqual(['pending', 'pending']);
    expect((await first.query('select count(*) as n from events'))[0]).toEqual({ n: 0 });
    await first.close();

    app = await startTestApp({ database: first.database });
    await app.settle();
    expect(
      (await app.query('select status from deliveries order by id')).map((row) => row.status),
    ).toEqual(['processed', 'processed']);
    expect((await app.query('select count(*) as n from events'))[0]).toEqual({ n: 4 });
  });

  it('stores NUL characters quoted in an error, a message type or the schema watch as U+FFFD, and goes on', async () => {
    app = await startTestApp();
    expect((await app.postStager(Buffer.from([0x00, 0x7b]))).status).toBe(400);
    const unknownType = JSON.stringify({ messageType: 'NEW\u0000TYPE', messageContent: {} });
    expect((await app.postStager(unknownType)).status).toBe(202);
    // Unread keys that differ only by a NUL and U+FFFD: one row of the schema watch.
    const oddKeys = JSON.parse(fixture('stager/update-events.json').toString('utf8')) as Record<
      string,
      unknown
    >;
    oddKeys['x\u0000'] = 1;
    oddKeys['x\uFFFD'] = 2;
    expect((await app.postStager(JSON.stringify(oddKeys))).status).toBe(202);
    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await app.settle();
    const [rejected, ignored, odd, processed] = await app.query<{
      status: string;
      message_type: string | null;
      error: string | null;
    }>('select status, message_type, error from deliveries order by id');
    expect(rejected).toMatchObject({
      status: 'rejected',
      error: expect.stringContaining('\uFFFD'),
    });
    expect(ignored).toMatchObject({ status: 'ignored', message_type: 'NEW\uFFFDTYPE' });
    expect(odd).toMatchObject({ status: 'processed', message_type: 'UPDATE_EVENTS' });
    expect(processed).toMatchObject({ status: 'processed', message_type: 'UPDATE_EVENTS' });
    const watched = await app.query<{ kind: string; value: string; occurrences: number }>(
      'select kind, value, occurrences from schema_watch order by kind, value',
    );
    expect(watched).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ value: 'NEW\uFFFDTYPE' }),
        expect.objectContaining({ value: 'x\uFFFD', occurrences: 2 }),
      ]),
    );
  });

  it('stores an identical body twice without duplicating or re-revising events', async () => {
    app = await startTestApp();
    const body = fixture('stager/update-events.json');
    expect((await app.postStager(body)).status).toBe(202);
    expect((await app.postStager(body)).status).toBe(202);
    await app.settle();
    expect(await deliveries(app)).toHaveLength(2);
    expect(await app.query('select id, revision from events order by id')).toEqual([
      { id: 'stager-583920', revision: 1 },
      { id: 'stager-583921', revision: 1 },
      { id: 'stager-583922', revision: 1 },
    ]);
  });

  it('keeps a delivery whose processing failed, with its reason, and replays it', async () => {
    app = await startTestApp();
    const noOrganization = JSON.stringify({
      messageType: 'UPDATE_EVENTS',
      messageContent: { events: [] },
    });
    expect((await app.postStager(noOrganization)).status).toBe(202);
    await app.settle();
    const [failed] = await app.query<{ status: string; error: string }>(
      'select status, error from deliveries',
    );
    expect(failed!.status).toBe('failed');
    expect(failed!.error).toMatch(/organization/);
    expect(await app.ctx.inbox.replay({ scope: 'failed', since: null })).toBe(1);
    expect((await app.query('select status from deliveries'))[0]).toEqual({ status: 'failed' });
  });
});

describe('the inbox service', () => {
  it('reports each processed delivery and each change of stored events as typed events', async () => {
    app = await startTestApp();
    const processed: { source: string; outcome: string }[] = [];
    const changes: { facets: boolean }[] = [];
    app.ctx.inbox.on('processed', ({ source, outcome, seconds }) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      processed.push({ source, outcome });
    });
    app.ctx.inbox.on('eventsChanged', (change) => changes.push(change));
    const version = app.ctx.caches.dataVersion.value;

    expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
    await app.settle();
    expect(processed).toEqual([{ source: 'stager', outcome: 'processed' }]);
    expect(changes).toEqual([{ facets: true }]);
    // The context wires the change to the data version the caches key on.
    expect(app.ctx.caches.dataVersion.value).toBeGreaterThan(version);

    const unreadable = JSON.stringify({ messageType: 'UPDATE_EVENTS', messageContent: {} });
    expect((await app.postStager(unreadable)).status).toBe(202);
    await app.settle();
    expect(processed.at(-1)).toEqual({ source: 'stager', outcome: 'failed' });
    expect(changes).toHaveLength(1);
  });
});
