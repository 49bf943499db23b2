import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { residentMb, startChildApp, type ChildApp } from '../helpers/child-app.js';
import { tempDatabasePath } from '../helpers/test-app.js';

/**
 * Attacker-chosen URLs cannot grow the server: 50,000 distinct valid filters flood the render
 * cache while a cached feed is polled; the server process's resident memory (from /proc) stays
 * within 100 MB of where it started and the cached feed keeps its latency. A query string over
 * the limit is refused with 414 and logged cut short. MARQUEE_FLOOD_REQUESTS sets another count.
 */

const REQUESTS = Number(process.env.MARQUEE_FLOOD_REQUESTS ?? 50_000);
// The child runs with NODE_FLAGS, as every start command does: without `--heap-growing-percent`
// Node 22 and 26 let the old generation fill with up to 150 MB of this garbage before collecting.
const GROWTH_LIMIT_MB = 100;
const CONCURRENCY = 8;
const PATHS = ['/events.ics', '/events.rss', '/api/events', '/events.json', '/events.atom'];

const word = (n: number) => `${n.toString(36)}${Math.random().toString(36).slice(2, 10)}`;
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

describe('a flood of distinct filters', () => {
  let app: ChildApp;
  beforeAll(async () => {
    app = await startChildApp(tempDatabasePath());
  }, 60_000);
  afterAll(async () => {
    await app?.stop();
  });

  it('refuses a query string over 4 KB with 414 and logs its URL cut short', async () => {
    const response = await fetch(`${app.url}/events.ics?q=${'a'.repeat(12_000)}`);
    expect(response.status).toBe(414);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const line = app
      .output()
      .split('\n')
      .find((text) => text.includes('"statusCode":414'));
    expect(line).toBeDefined();
    expect(line!.length).toBeLessThan(1_000);
  });

  it(
    `keeps the server within ${GROWTH_LIMIT_MB} MB of its start over ${REQUESTS} distinct-filter requests, the cached feed answering as usual`,
    { timeout: 600_000 },
    async () => {
      const pid = app.child.pid as number;
      const cached = `${app.url}/events.ics?city=Amsterdam`;
      const timeCached = async () => {
        const started = performance.now();
        const response = await fetch(cached);
        await response.arrayBuffer();
        expect(response.status).toBe(200);
        return performance.now() - started;
      };
      // Warm up: the cached feed, and a first round of misses so that code is compiled.
      for (let index = 0; index < 200; index += 1)
        await (
          await fetch(`${app.url}${PATHS[index % PATHS.length]}?q=warm${index}`)
        ).arrayBuffer();
      const baseline: number[] = [];
      for (let index = 0; index < 100; index += 1) baseline.push(await timeCached());
      const before = residentMb(pid);
      let peak = before;

      let next = 0;
      const during: number[] = [];
      let flooding = true;
      const poller = (async () => {
        while (flooding) {
          during.push(await timeCached());
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const started = Date.now();
      await app.diagnose(
        Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < REQUESTS) {
              const index = next++;
              const response = await fetch(
                `${app.url}${PATHS[index % PATHS.length]}?q=${word(index)}`,
              );
              await response.arrayBuffer();
              expect(response.status).toBe(200);
              if (index % 500 === 0) peak = Math.max(peak, residentMb(pid));
            }
          }),
        ),
      );
      flooding = false;
      await poller;
      const after = residentMb(pid);
      peak = Math.max(peak, after);
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `query flood: ${REQUESTS} distinct filters in ${seconds.toFixed(1)} s; server RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB peak, ${after.toFixed(0)} MB after; cached feed p50/p95 ${percentile(baseline, 0.5).toFixed(1)}/${percentile(baseline, 0.95).toFixed(1)} ms alone, ${percentile(during, 0.5).toFixed(1)}/${percentile(during, 0.95).toFixed(1)} ms during (${during.length} polls)`,
      );
      expect(peak - before).toBeLessThan(GROWTH_LIMIT_MB);
      // The cached feed keeps answering: a hit waits at most for the misses queued ahead of it
      // (one per flooding connection), never for the cache to be swept or rebuilt.
      expect(percentile(during, 0.95)).toBeLessThan(200);
    },
  );
});
