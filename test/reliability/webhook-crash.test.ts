import { afterEach, describe, expect, it } from 'vitest';
import { startChildApp, type ChildApp } from '../helpers/child-app.js';
import {
  fixture,
  sentCredentials,
  signStager,
  tempDatabase,
  TEST_SECRETS,
} from '../helpers/test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The change log is the webhook outbox: a process killed (SIGKILL) after the change committed
 * but before its webhook was answered sends it after the restart.
 */

const children: ChildApp[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

const env = { ADMIN_TOKEN: TEST_SECRETS.adminToken };

describe('outgoing webhooks across a crash', () => {
  it('sends after a restart what was committed but not delivered when the process was killed', async () => {
    const database = await tempDatabase();
    let answering = false;
    // Until the restart, every request is held open: the kill comes before any answer.
    const hook = await startWebhookReceiver(() => (answering ? 200 : null));
    receivers.push(hook);
    const first = await startChildApp(database, env);
    children.push(first);
    const created = await first.diagnose(
      fetch(`${first.url}/admin/api/webhooks`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TEST_SECRETS.adminToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ url: hook.url }),
      }),
    );
    expect(created.status).toBe(201);
    sentCredentials.add(((await created.json()) as { secret: string }).secret);
    const body = fixture('stager/update-events.json');
    const posted = await fetch(`${first.url}/webhooks/stager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signStager(body) },
      body,
    });
    expect(posted.status).toBe(202);
    await first.diagnose(hook.waitFor((received) => received.length >= 1, 20_000));
    const firstId = hook.received[0]!.id;
    expect(await first.kill()).toBe('SIGKILL');

    answering = true;
    const second = await startChildApp(database, env);
    children.push(second);
    await second.diagnose(
      hook.waitFor(
        (received) => received.filter((each) => each.status === 200).length >= 3,
        20_000,
      ),
    );
    const delivered = hook.received.filter((each) => each.status === 200).map((each) => each.id);
    expect(delivered[0]).toBe(firstId);
    expect(new Set(delivered).size).toBe(3);
  });
});
