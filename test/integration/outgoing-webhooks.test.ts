import { afterEach, describe, expect, it } from 'vitest';
import {
  FIXED_NOW,
  fixture,
  sentCredentials,
  startTestApp,
  TEST_SECRETS,
  type TestApp,
} from '../helpers/test-app.js';
import {
  startWebhookReceiver,
  verifyStandardWebhook,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';

/**
 * Outgoing webhooks (Standard Webhooks): subscriptions through /admin/api/webhooks, each change
 * sent signed, in order, retried until answered 2xx, never holding up ingest.
 */

const apps: TestApp[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

const started = Date.now();
/** The test clock: FIXED_NOW, moving with real time, so retries come due. */
const movingNow = () => new Date(FIXED_NOW.getTime() + (Date.now() - started));

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  const app = await startTestApp({
    now: movingNow,
    env: { ADMIN_TOKEN: TEST_SECRETS.adminToken, WEBHOOK_RETRY_BASE_SECONDS: '0.2', ...env },
  });
  apps.push(app);
  return app;
}

async function receiver(
  answer?: Parameters<typeof startWebhookReceiver>[0],
): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(answer);
  receivers.push(started);
  return started;
}

const admin = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };

async function subscribe(
  app: TestApp,
  body: Record<string, unknown>,
): Promise<{ id: string; secret: string; filter: string }> {
  const response = await fetch(`${app.url}/admin/api/webhooks`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  const created = (await response.json()) as { id: string; secret: string; filter: string };
  sentCredentials.add(created.secret);
  return created;
}

function rescheduledBody(): string {
  const message = JSON.parse(fixture('stager/update-events.json').toString('utf8')) as {
    messageContent: { events: Record<string, unknown>[] };
  };
  const [nightTapes] = message.messageContent.events;
  return JSON.stringify({
    ...message,
    messageContent: {
      ...message.messageContent,
      events: [
        {
          ...nightTapes,
          startsAt: '2026-12-06T20:30:00+01:00',
          endsAt: '2026-12-06T23:30:00+01:00',
          doorsOpenAt: '2026-12-06T19:30:00+01:00',
          updatedAt: '2026-11-21T09:00:00+01:00',
        },
      ],
    },
  });
}

function titleChangedBody(): string {
  const message = JSON.parse(fixture('stager/update-events.json').toString('utf8')) as {
    messageContent: { events: Record<string, unknown>[] };
  };
  const brunch = message.messageContent.events[2]!;
  return JSON.stringify({
    ...message,
    messageContent: {
      ...message.messageContent,
      events: [
        { ...brunch, name: 'Sunday Brunch Jazz Trio', updatedAt: '2026-11-21T10:00:00+01:00' },
      ],
    },
  });
}

/** Posts each body and waits until it was processed. */
async function ingest(app: TestApp, ...bodies: (string | Buffer)[]): Promise<void> {
  for (const body of bodies) {
    expect((await app.postStager(body)).status).toBe(202);
    await app.settle();
  }
}

/** Every body type and event, in order of arrival. */
function typesOf(received: readonly ReceivedWebhook[]): string[] {
  return received.map((each) => {
    const body = JSON.parse(each.body) as { type: string; data: { id: string } };
    return `${body.type} ${body.data.id}`;
  });
}

describe('outgoing webhooks', () => {
  it('sends each event type with a signature the Standard Webhooks verification accepts', async () => {
    const app = await start();
    const hook = await receiver();
    const { secret } = await subscribe(app, { url: hook.url });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await ingest(
      app,
      fixture('stager/update-events.json'),
      titleChangedBody(),
      rescheduledBody(),
      fixture('stager/cancelled-event.json'),
      fixture('stager/organization-sync-removes-one.json'),
    );
    await hook.waitFor((received) => received.length >= 7);
    expect(typesOf(hook.received)).toEqual([
      'event.created stager-583920',
      'event.created stager-583921',
      'event.created stager-583922',
      'event.updated stager-583922',
      'event.rescheduled stager-583920',
      'event.cancelled stager-583921',
      'event.removed stager-583922',
    ]);
    const nowSeconds = Math.floor(movingNow().getTime() / 1000);
    for (const each of hook.received) {
      expect(verifyStandardWebhook(secret, each, each.body, nowSeconds)).toBe(true);
      // Tampering with the body, or another secret, fails the same check.
      expect(verifyStandardWebhook(secret, each, `${each.body} `, nowSeconds)).toBe(false);
      expect(
        verifyStandardWebhook(
          `whsec_${Buffer.alloc(32).toString('base64')}`,
          each,
          each.body,
          nowSeconds,
        ),
      ).toBe(false);
    }
    const rescheduled = JSON.parse(hook.received[4]!.body) as {
      data: { start: string; previousStart: string; url: string };
      change: { id: string; summary: string };
    };
    expect(rescheduled.data.start).toBe('2026-12-06T19:30:00.000Z');
    expect(rescheduled.data.url).toBe('https://events.example.org/events/stager-583920');
    expect(rescheduled.change.id).toBe('stager-583920#r2');
    expect(rescheduled.change.summary).toContain(
      'Start moved from Sat 5 Dec 20:30 to Sun 6 Dec 20:30',
    );
    // The ids are distinct and grow with the log.
    const ids = hook.received.map((each) => Number(each.id.replace('msg_', '')));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const metrics = await (await app.get('/metrics')).text();
    expect(metrics).toMatch(/marquee_outgoing_webhook_attempts_total\{outcome="delivered"\} 7/);
  });

  it('retries a receiver answering 500 and delivers everything in order once it recovers', async () => {
    const app = await start();
    const hook = await receiver((_request, index) => (index < 3 ? 500 : 200));
    const { id } = await subscribe(app, { url: hook.url });
    await ingest(app, fixture('stager/update-events.json'), rescheduledBody());
    await hook.waitFor((received) => received.filter((each) => each.status === 200).length >= 4);
    const delivered = hook.received.filter((each) => each.status === 200).map((each) => each.id);
    expect(hook.received.slice(0, 3).map((each) => each.id)).toEqual(
      Array(3).fill(hook.received[0]!.id),
    );
    expect(new Set(delivered).size).toBe(4);
    expect(typesOf(hook.received.filter((each) => each.status === 200))).toEqual([
      'event.created stager-583920',
      'event.created stager-583921',
      'event.created stager-583922',
      'event.rescheduled stager-583920',
    ]);
    const view = (await (
      await fetch(`${app.url}/admin/api/webhooks/${id}`, { headers: admin })
    ).json()) as {
      backlog: number;
      failures: number;
      recent: { outcome: string; status: number }[];
    };
    expect(view.backlog).toBe(0);
    expect(view.failures).toBe(0);
    expect(view.recent.filter((each) => each.outcome === 'failed')).toHaveLength(3);
    expect(view.recent.filter((each) => each.outcome === 'delivered')).toHaveLength(4);
  });

  it('does not let a receiver taking 10 seconds slow ingest or other subscribers', async () => {
    const app = await start({ WEBHOOK_TIMEOUT_SECONDS: '30' });
    const slow = await receiver(
      () => new Promise((resolve) => setTimeout(() => resolve(200), 10_000)),
    );
    const fast = await receiver();
    await subscribe(app, { url: slow.url });
    await subscribe(app, { url: fast.url });
    const began = performance.now();
    await ingest(app, fixture('stager/update-events.json'));
    await fast.waitFor((received) => received.length >= 1, 2_000);
    await ingest(app, rescheduledBody(), fixture('stager/cancelled-event.json'));
    const ingestMs = performance.now() - began;
    expect(ingestMs).toBeLessThan(3_000);
    await fast.waitFor((received) => received.length >= 5, 3_000);
    expect((await app.get('/changes.json')).status).toBe(200);
    // The slow one got its first message, and waits for its answer before the next.
    expect(slow.received).toHaveLength(1);
  });

  it('filters by the feed grammar, lists, resends and deletes subscriptions', async () => {
    const app = await start();
    const hook = await receiver();
    const jazz = await subscribe(app, { url: hook.url, filter: 'genre=Jazz' });
    expect(jazz.filter).toBe('?genre=Jazz');
    await ingest(app, fixture('stager/update-events.json'));
    await hook.waitFor((received) => received.length >= 1);
    await app.ctx.webhooks.idle();
    expect(typesOf(hook.received)).toEqual(['event.created stager-583922']);

    const list = (await (
      await fetch(`${app.url}/admin/api/webhooks`, { headers: admin })
    ).json()) as {
      subscriptions: { id: string; url: string; backlog: number; secret?: string }[];
    };
    expect(list.subscriptions).toHaveLength(1);
    expect(list.subscriptions[0]).toMatchObject({ id: jazz.id, url: hook.url, backlog: 0 });
    expect(list.subscriptions[0]!.secret).toBeUndefined();

    const resend = await fetch(`${app.url}/admin/api/webhooks/${jazz.id}/resend`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ from: hook.received[0]!.id }),
    });
    expect(resend.status).toBe(200);
    await hook.waitFor((received) => received.length >= 2);
    expect(hook.received[1]!.id).toBe(hook.received[0]!.id);

    // Refused: no token, a body that is not JSON, a URL that is not http(s), a bad filter.
    expect((await fetch(`${app.url}/admin/api/webhooks`)).status).toBe(401);
    const post = (body: string, type = 'application/json') =>
      fetch(`${app.url}/admin/api/webhooks`, {
        method: 'POST',
        headers: { ...admin, 'content-type': type },
        body,
      });
    expect((await post(`url=${hook.url}`, 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post(JSON.stringify({ url: 'ftp://example.org/' }))).status).toBe(400);
    expect((await post(JSON.stringify({ url: hook.url, filter: 'colour=red' }))).status).toBe(400);

    const gone = await fetch(`${app.url}/admin/api/webhooks/${jazz.id}`, {
      method: 'DELETE',
      headers: admin,
    });
    expect(gone.status).toBe(204);
    expect(
      (
        await fetch(`${app.url}/admin/api/webhooks/${jazz.id}`, {
          method: 'DELETE',
          headers: admin,
        })
      ).status,
    ).toBe(404);
    const page = await (await app.get('/admin', admin)).text();
    expect(page).toContain('Outgoing webhooks');
  });
});
