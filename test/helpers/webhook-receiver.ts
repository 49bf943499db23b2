import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

/**
 * A local webhook receiver for tests, and the Standard Webhooks verification written from the
 * specification's text (standardwebhooks.com, "Verifying signatures"), apart from Marquee's signer.
 */

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order, with the status it was answered. */
  received: ReceivedWebhook[];
  /** Waits until `predicate` holds for what was received. */
  waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Listens on a free loopback port; `answer` decides each request's status (and may wait first).
 * A request answered `null` is held open until the receiver closes.
 */
export async function startWebhookReceiver(
  answer: (
    request: ReceivedWebhook,
    index: number,
  ) => number | null | Promise<number | null> = () => 204,
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedWebhook = {
        id: String(req.headers['webhook-id'] ?? ''),
        timestamp: String(req.headers['webhook-timestamp'] ?? ''),
        signature: String(req.headers['webhook-signature'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
        status: 0,
      };
      const index = received.length;
      received.push(request);
      void Promise.resolve(answer(request, index)).then((status) => {
        if (status === null) {
          held.add(res);
          return;
        }
        request.status = status;
        res.statusCode = status;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    async waitFor(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) {
          throw new Error(
            `webhook-receiver: condition not met after ${timeoutMs} ms; received ${received
              .map((each) => `${each.id}:${each.status}`)
              .join(', ')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Standard Webhooks verification, from the specification: the key is the base64-decoded secret
 * after `whsec_`; the signed content is `{id}.{timestamp}.{body}`; the header is a space-delimited
 * list of `version,signature` pairs, of which a `v1` one must equal the base64 HMAC-SHA256, compared
 * in constant time; the timestamp must be within `toleranceSeconds` of `nowSeconds`.
 */
export function verifyStandardWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!headers.id || !headers.timestamp || !headers.signature) return false;
  if (!/^\d+$/.test(headers.timestamp)) return false;
  if (Math.abs(nowSeconds - Number(headers.timestamp)) > toleranceSeconds) return false;
  if (!secret.startsWith('whsec_')) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers.id}.${headers.timestamp}.${body}`)
    .digest();
  return headers.signature.split(' ').some((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') return false;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
