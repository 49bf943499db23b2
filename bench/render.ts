import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { FEEDS } from './feeds.js';
import {
  BENCH_SECRETS,
  deliverStager,
  stagerEvent,
  stagerMessage,
  stagerSync,
} from './payloads.js';
import type { Row } from './report.js';

export interface RenderFigures {
  rows: Row[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** A Marquee server in this process with `events` stored, its caches within reach. */
export interface SeededServer {
  url: string;
  ctx: RunningServer['ctx'];
  /** POSTs a signed Stager message and waits until it is processed. */
  post(body: Buffer): Promise<void>;
  close(): Promise<void>;
}

export async function startSeededServer(options: {
  events: number;
  /** Names the database (see database.ts). */
  databaseEnv: Record<string, string>;
  log: (line: string) => void;
}): Promise<SeededServer> {
  const config = loadConfig({
    ...options.databaseEnv,
    PUBLIC_URL: 'https://events.example.org',
    STAGER_SIGNING_KEYS: BENCH_SECRETS.stagerKey,
    JOBS_ENABLED: 'false',
  });
  const running = await startServer({
    config,
    logger: createLogger(config, pino.destination('/dev/null')),
    port: 0,
    host: '127.0.0.1',
  });
  const post = async (body: Buffer) => {
    await deliverStager(running.url, body, 'render seed');
    running.ctx.inbox.notify();
    await running.ctx.inbox.idle();
  };
  options.log(`renders: seeding ${options.events} events`);
  try {
    await post(stagerSync(1, 1, options.events));
  } catch (error) {
    await running.close();
    throw error;
  }
  return { url: running.url, ctx: running.ctx, post, close: () => running.close() };
}

/** Empties every cache a render fills, so that the next render is cold. */
export function emptyRenderCaches(ctx: SeededServer['ctx']): void {
  ctx.caches.clear();
}

/** One full GET of `feedPath` on loopback; its duration in ms. */
export async function timedGet(url: string, feedPath: string): Promise<number> {
  const started = performance.now();
  // identity: this measures rendering; compressing the result is a separate, per-encoding cost.
  const response = await fetch(`${url}${feedPath}`, {
    headers: { 'accept-encoding': 'identity' },
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`bench: ${feedPath} answered ${response.status}`);
  return performance.now() - started;
}

/**
 * Cold render (every cache empty) and re-render after one matching event changed, per format,
 * for 1,000 matching events out of `events` stored. Runs in this process so caches can be
 * emptied between samples; times are full HTTP requests on loopback.
 */
export async function measureRenders(options: {
  events: number;
  samples: number;
  /** Names the database (see database.ts). */
  databaseEnv: Record<string, string>;
  log: (line: string) => void;
}): Promise<RenderFigures> {
  const running = await startSeededServer(options);
  const timed = (feedPath: string) => timedGet(running.url, feedPath);
  const rows: Row[] = [];
  try {
    // Warm up code paths (JIT) on another filter so the samples measure rendering, not compiling.
    const served: (typeof FEEDS)[number][] = [];
    for (const feed of FEEDS) {
      const response = await fetch(`${running.url}${feed[1].replace('Amsterdam', 'Utrecht')}`);
      await response.arrayBuffer();
      if (response.status === 200) served.push(feed);
      else
        rows.push({
          measure: `render ${feed[0]}`,
          marquee: `HTTP ${response.status}`,
          baseline: '',
          ratio: Number.NaN,
          target: '',
          pass: false,
          note: 'not served',
        });
    }

    const cold = new Map<string, number[]>();
    const warm = new Map<string, number[]>();
    for (let sample = 0; sample < options.samples; sample += 1) {
      for (const [name, feedPath] of served) {
        emptyRenderCaches(running.ctx);
        cold.set(name, [...(cold.get(name) ?? []), await timed(feedPath)]);
      }
    }
    for (let sample = 0; sample < options.samples; sample += 1) {
      // Change one matching event (ids divisible by 10 are in Amsterdam): the next request of
      // every format re-renders, with the per-event caches still warm.
      await running.post(
        stagerMessage('UPDATE_EVENTS', 1, [stagerEvent(10 * (sample + 1), sample + 1)]),
      );
      for (const [name, feedPath] of served) {
        warm.set(name, [...(warm.get(name) ?? []), await timed(feedPath)]);
      }
    }
    for (const [name] of served) {
      const coldMs = median(cold.get(name) ?? []);
      const warmMs = median(warm.get(name) ?? []);
      rows.push({
        measure: `cold render ${name}: 1,000 of ${options.events} events`,
        marquee: `${coldMs.toFixed(1)} ms`,
        baseline: '',
        ratio: coldMs,
        target: name === 'ICS' ? '<= 50 ms' : 'reported',
        pass: name === 'ICS' ? coldMs <= 50 : true,
        note: `median of ${options.samples}, caches emptied`,
        lowerIsBetter: true,
        unit: 'ms',
      });
      rows.push({
        measure: `re-render ${name} after one event changed`,
        marquee: `${warmMs.toFixed(1)} ms`,
        baseline: `${coldMs.toFixed(1)} ms cold`,
        ratio: warmMs / coldMs,
        target: '<= 0.2x',
        pass: warmMs / coldMs <= 0.2,
        note: `median of ${options.samples}`,
        lowerIsBetter: true,
      });
    }
  } finally {
    await running.close();
  }
  return { rows };
}
