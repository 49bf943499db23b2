import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { flushBatched } from '../../src/logger.js';
import { runJob } from '../../src/jobs/scheduler.js';
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

const METRICS_TOKEN = 'metrics-token-abcdef012345';
const base64 = (text: string) => Buffer.from(text).toString('base64');

describe('logs', () => {
  it('never contain a secret, token, signature or Authorization value, valid or not', async () => {
    app = await startTestApp({
      env: {
        LOG_LEVEL: 'trace',
        ADMIN_TOKEN: TEST_SECRETS.adminToken,
        METRICS_TOKEN,
        BODY_LIMIT: '20kb',
        BACKUP_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-logging-')),
      },
    });
    const body = fixture('stager/update-events.json');
    const wrongSignature = createHmac('sha256', 'not-a-configured-key').update(body).digest('hex');
    const wrongToken = 'wrong-eventport-token-0987654321';
    const wrongPassword = 'wrong-basic-password-5647382910';
    const wrongAdmin = 'wrong-admin-token-1029384756';
    const basicHeader = `Basic ${base64(`${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`)}`;
    const wrongBasicHeader = `Basic ${base64(`${TEST_SECRETS.basicUser}:${wrongPassword}`)}`;
    const signatures = [
      signStager(body, TEST_SECRETS.stagerKeys[0]),
      signStager(body, TEST_SECRETS.stagerKeys[1]),
      wrongSignature,
    ];
    const eventport = fixture('eventport/post-minimal-example.json');

    const statuses: number[] = [];
    const send = async (request: Promise<Response>) => {
      const response = await request;
      statuses.push(response.status);
      await response.arrayBuffer();
    };
    // Stager: both keys, a wrong signature, base64 and prefixed forms, a body that is not JSON, one too large.
    for (const signature of signatures) await send(app.postStager(body, { signature }));
    await send(
      app.postStager(body, {
        signature: `sha256=${createHmac('sha256', TEST_SECRETS.stagerKeys[0]!).update(body).digest('base64')}`,
      }),
    );
    await send(app.postStager('not json at all'));
    await send(app.postStager(Buffer.alloc(30 * 1024, 0x20)));
    await send(
      app.postStager(JSON.stringify({ messageType: 'UPDATE_EVENTS', messageContent: {} })),
    );
    // Eventport: token, wrong token, Basic, wrong Basic, the token in the Authorization header and in other query names.
    await send(app.postEventport(eventport));
    await send(app.postEventport(eventport, { token: wrongToken }));
    await send(
      app.postEventport(eventport, {
        token: null,
        basic: [TEST_SECRETS.basicUser, TEST_SECRETS.basicPassword],
      }),
    );
    await send(
      app.postEventport(eventport, { token: null, basic: [TEST_SECRETS.basicUser, wrongPassword] }),
    );
    await send(
      app.postEventport('{"broken": ', {
        token: null,
        basic: [TEST_SECRETS.basicUser, TEST_SECRETS.basicPassword],
      }),
    );
    await send(
      fetch(
        `${app.url}/webhooks/eventport?access_token=${TEST_SECRETS.eventportToken}&token=${wrongToken}`,
        { method: 'POST', body: eventport },
      ),
    );
    // Admin and metrics: Bearer, Basic, wrong tokens, a token pasted into the query string.
    await send(
      app.get('/admin/status.json', { authorization: `Bearer ${TEST_SECRETS.adminToken}` }),
    );
    await send(
      app.get('/admin', { authorization: `Basic ${base64(`admin:${TEST_SECRETS.adminToken}`)}` }),
    );
    await send(app.get('/admin', { authorization: `Bearer ${wrongAdmin}` }));
    await send(app.get(`/admin?token=${TEST_SECRETS.adminToken}`));
    await send(
      fetch(`${app.url}/admin/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_SECRETS.adminToken}` },
      }),
    );
    await send(app.get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` }));
    await send(app.get('/metrics', { authorization: `Bearer ${wrongAdmin}` }));
    await app.settle();
    await runJob(app.ctx, 'backup');
    await runJob(app.ctx, 'sync-watchdog');
    await app.close();

    expect(statuses).toEqual([
      202, 202, 401, 202, 400, 413, 202, 202, 401, 202, 401, 400, 401, 200, 200, 401, 401, 200, 200,
      401,
    ]);
    const logs = app.logs.join('');
    for (const line of app.logs) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(logs).toContain('/webhooks/eventport?accessToken=[redacted]');
    expect(logs).toContain('inbox: delivery failed');
    expect(logs).toContain('jobs: backup finished');

    const secrets = [
      ...TEST_SECRETS.stagerKeys,
      TEST_SECRETS.eventportToken,
      TEST_SECRETS.basicPassword,
      TEST_SECRETS.adminToken,
      METRICS_TOKEN,
      wrongToken,
      wrongPassword,
      wrongAdmin,
      basicHeader,
      wrongBasicHeader,
      basicHeader.slice('Basic '.length),
      wrongBasicHeader.slice('Basic '.length),
      ...signatures,
      createHmac('sha256', TEST_SECRETS.stagerKeys[0]!).update(body).digest('base64'),
    ];
    for (const secret of secrets)
      expect(logs, `a log line contains ${secret}`).not.toContain(secret);
    expect(logs.toLowerCase()).not.toContain('authorization');
    expect(logs.toLowerCase()).not.toContain('x-signature');
  });
});

describe('the batching log destination', () => {
  it('is flushed without a listener left behind per flush while a write is under way', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-log-'));
    const stream = pino.destination({
      dest: path.join(dir, 'log'),
      sync: false,
      minLength: 4096,
      mkdir: true,
    });
    await new Promise((resolve) => stream.once('ready', resolve));
    for (let round = 0; round < 20; round += 1) {
      // Past minLength: a write starts and is still under way while the timer flushes again.
      stream.write(`${'x'.repeat(5_000)}\n`);
      flushBatched(stream);
    }
    expect(stream.listenerCount('drain')).toBe(0);
    expect(stream.listenerCount('error')).toBeLessThanOrEqual(1);
    // pino's own flush passes a callback, which leaves a listener pair until the stream drains.
    stream.write(`${'x'.repeat(5_000)}\n`);
    pino({}, stream).flush();
    expect(stream.listenerCount('drain')).toBe(1);
    await new Promise((resolve) => stream.once('drain', resolve));
    stream.end();
    await new Promise((resolve) => stream.once('close', resolve));
    flushBatched(stream);
    expect(fs.statSync(path.join(dir, 'log')).size).toBe(21 * 5_001);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
