import http from 'node:http';
import type { BenchDatabase } from './database.js';
import { signStager, stagerEvent, stagerMessage } from './payloads.js';
import { startMarquee } from './processes.js';
import type { Row } from './report.js';

/**
 * Outgoing webhooks: signed deliveries into Marquee with one healthy subscriber, then with a
 * dead one (it never answers) beside it. Sending happens apart from ingest and per subscription,
 * so the dead subscriber must change neither the ingest rate nor the healthy one's deliveries.
 */

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
const CONCURRENCY = 10;

interface Receiver {
  url: string;
  count(): number;
  close(): Promise<void>;
}

async function receiver(answer: boolean): Promise<Receiver> {
  let received = 0;
  const held = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      if (answer) res.writeHead(204).end();
      else held.add(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () => received,
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function subscribe(url: string, target: string): Promise<void> {
  const response = await fetch(`${url}/admin/api/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: target }),
  });
  if (response.status !== 201) throw new Error(`bench: subscribing answered ${response.status}`);
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Run {
  ingestPerSecond: number;
  deliveredPerSecond: number;
  delivered: number;
}

/** `amount` one-event deliveries into a fresh Marquee; with `dead`, a subscriber that never answers. */
async function run(
  database: () => Promise<BenchDatabase>,
  amount: number,
  dead: boolean,
  firstId: number,
): Promise<Run> {
  const db = await database();
  const marquee = await startMarquee({ ...db.env, ADMIN_TOKEN });
  const healthy = await receiver(true);
  const silent = await receiver(false);
  try {
    await subscribe(marquee.url, healthy.url);
    if (dead) await subscribe(marquee.url, silent.url);
    const bodies = Array.from({ length: amount }, (_, index) =>
      stagerMessage('UPDATE_EVENTS', 9000, [stagerEvent(firstId + index)]),
    );
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++] as Buffer;
          const response = await fetch(`${marquee.url}/webhooks/stager`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-signature': signStager(body) },
            body,
          });
          if (response.status !== 202)
            throw new Error(`bench: delivery answered ${response.status}`);
        }
      }),
    );
    await waitUntil(async () => (await db.countDeliveries()).pending === 0, 120_000);
    const ingested = performance.now() - started;
    await waitUntil(() => healthy.count() >= amount, 120_000);
    const delivered = performance.now() - started;
    return {
      ingestPerSecond: amount / (ingested / 1000),
      deliveredPerSecond: amount / (delivered / 1000),
      delivered: healthy.count(),
    };
  } finally {
    await marquee.stop();
    await healthy.close();
    await silent.close();
    await db.drop();
  }
}

/** The bench row: deliveries per second with a dead subscriber against without one. */
export async function measureWebhooks(options: {
  database: (name: string) => Promise<BenchDatabase>;
  quick: boolean;
  log: (message: string) => void;
}): Promise<Row> {
  const amount = options.quick ? 300 : 1500;
  options.log(`webhooks: ${amount} deliveries, one healthy subscriber`);
  const without = await run(() => options.database('webhooks_a'), amount, false, 700_000);
  options.log(`webhooks: ${amount} deliveries, a healthy and a dead subscriber`);
  const withDead = await run(() => options.database('webhooks_b'), amount, true, 800_000);
  const ratio = withDead.ingestPerSecond / without.ingestPerSecond;
  return {
    measure: `webhooks: signed deliveries processed per second with a dead subscriber (never answers) beside a healthy one, vs the healthy one alone (${CONCURRENCY} connections)`,
    marquee: `${withDead.ingestPerSecond.toFixed(0)} deliveries/s; healthy subscriber sent ${withDead.deliveredPerSecond.toFixed(0)}/s`,
    baseline: `${without.ingestPerSecond.toFixed(0)} deliveries/s; healthy subscriber sent ${without.deliveredPerSecond.toFixed(0)}/s`,
    ratio,
    target: '>= 0.8x',
    pass: ratio >= 0.8 && withDead.delivered >= amount && without.delivered >= amount,
    note: `${amount} one-event deliveries each; the healthy subscriber received ${without.delivered} and ${withDead.delivered} messages`,
  };
}
