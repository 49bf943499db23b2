import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Session } from 'node:inspector/promises';
import { FEEDS } from './feeds.js';
import {
  deliverStager,
  stagerEvent,
  stagerMessage,
  stagerSync,
  stagerUpdateRequests,
} from './payloads.js';
import { startMarquee, tempDir } from './processes.js';
import { emptyRenderCaches, startSeededServer, timedGet, type SeededServer } from './render.js';

/**
 * `npm run bench:profile`: where Marquee's time goes on the paths whose targets are missed
 * (signed deliveries under load, a 10,000-event sync, a cold ICS render, a re-render after one
 * change). Runs the built app under `node --cpu-prof` (renders: in this process, under the
 * inspector, so caches can be emptied), then prints and writes (bench/PROFILE.md) the functions
 * that dominate.
 */

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    'sync-events': { type: 'string', default: '10000' },
  },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url
    .replace(/^.*\/node_modules\//, '')
    .replace(/^file:\/\/.*?\/(dist|src|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
}

/** Self and inclusive milliseconds per function over `profiles`, busiest first. */
function summarize(
  profiles: readonly Profile[],
  top: number,
): { busyMs: number; self: [string, number][]; inclusive: [string, number][] } {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes)
      for (const child of node.children ?? []) parent.set(child, node.id);
    const sampleTime = new Map<number, number>();
    profile.samples.forEach((id, index) =>
      sampleTime.set(id, (sampleTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
    );
    // Samples under the inspector's own calls (stopping the profiler) are the bench's, not Marquee's.
    const underInspector = new Set<number>();
    for (const node of profile.nodes) {
      for (
        let current: number | undefined = node.id;
        current !== undefined;
        current = parent.get(current)
      ) {
        if (byId.get(current)?.callFrame.url === 'node:inspector') underInspector.add(node.id);
      }
    }
    for (const [id, micros] of sampleTime) {
      const node = byId.get(id);
      if (!node || underInspector.has(id)) continue;
      const name = label(node);
      if (name.startsWith('(idle)') || name.startsWith('(program)')) continue;
      busy += micros;
      self.set(name, (self.get(name) ?? 0) + micros);
      const seen = new Set<string>();
      for (
        let current: number | undefined = id;
        current !== undefined;
        current = parent.get(current)
      ) {
        const ancestor = byId.get(current);
        if (!ancestor) break;
        const key = label(ancestor);
        if (key.startsWith('(root)') || seen.has(key)) continue;
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
      }
    }
  }
  const sorted = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]): [string, number] => [name, micros / 1000]);
  return { busyMs: busy / 1000, self: sorted(self), inclusive: sorted(inclusive) };
}

async function profileRun(name: string, work: (url: string) => Promise<string>): Promise<string> {
  const dir = tempDir(`profile-${name}`);
  const profiles = path.join(dir, 'profiles');
  const marquee = await startMarquee({ DATABASE_PATH: path.join(dir, 'marquee.db') }, [
    '--cpu-prof',
    `--cpu-prof-dir=${profiles}`,
  ]);
  const outcome = await work(marquee.url);
  await marquee.stop();
  const file = fs.readdirSync(profiles).find((entry) => entry.endsWith('.cpuprofile'));
  if (!file) throw new Error('bench: no profile written');
  const profile = JSON.parse(fs.readFileSync(path.join(profiles, file), 'utf8')) as Profile;
  fs.rmSync(dir, { recursive: true, force: true });
  return section(name, `${outcome}. CPU busy in the server process`, [profile]);
}

/**
 * Renders in this process under the inspector's profiler: `prepare` runs before each render
 * (emptying caches, changing an event) and is not profiled.
 */
async function profileRenders(
  name: string,
  feedPath: string,
  samples: number,
  prepare: (server: SeededServer, sample: number) => Promise<void>,
): Promise<string> {
  const dir = tempDir('profile-render');
  const server = await startSeededServer({
    events: 10_000,
    databaseEnv: { DATABASE_PATH: path.join(dir, 'marquee.db') },
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const session = new Session();
  session.connect();
  try {
    // Warm up code paths (JIT) on another filter, as the bench does.
    await timedGet(server.url, feedPath.replace('Amsterdam', 'Utrecht'));
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    const times: number[] = [];
    const profiles: Profile[] = [];
    for (let sample = 0; sample < samples; sample += 1) {
      await prepare(server, sample);
      await session.post('Profiler.start');
      times.push(await timedGet(server.url, feedPath));
      profiles.push((await session.post('Profiler.stop')).profile as unknown as Profile);
    }
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? Number.NaN;
    return section(
      name,
      `${samples} renders of \`${feedPath}\`, median ${median.toFixed(1)} ms each (full HTTP requests; the client runs in the same process). CPU busy in this process`,
      profiles,
    );
  } finally {
    session.disconnect();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function section(name: string, outcome: string, profiles: readonly Profile[]): string {
  const summary = summarize(profiles, 25);
  const table = (rows: [string, number][]) =>
    rows.map(([label, ms]) => `| ${ms.toFixed(0)} | \`${label}\` |`).join('\n');
  return `## ${name}

${outcome}: ${summary.busyMs.toFixed(0)} ms.

Inclusive time (the function and everything it calls):

| ms | function |
|---|---|
${table(summary.inclusive)}

Self time:

| ms | function |
|---|---|
${table(summary.self)}
`;
}

/** Polls /healthz until the inbox has no pending delivery. */
async function waitForEmptyInbox(url: string): Promise<void> {
  for (;;) {
    const health = (await (await fetch(`${url}/healthz`)).json()) as { inboxBacklog: number };
    if (health.inboxBacklog === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function main() {
  const duration = Number(options.duration);
  const syncEvents = Number(options['sync-events']);
  const sections: string[] = [];
  sections.push(
    await profileRun('Signed Stager deliveries, 10 connections', async (url) => {
      // More than the run can send at 4,000/s, so that no body repeats.
      const requests = stagerUpdateRequests(9000, 500_000, duration * 4000);
      const result = await autocannon({ url, connections: 10, duration, requests });
      return `${result['2xx']} deliveries acknowledged in ${result.duration} s (${(result.requests.total / result.duration).toFixed(0)} req/s)`;
    }),
  );
  sections.push(
    await profileRun(`ORGANIZATION_SYNC of ${syncEvents} events`, async (url) => {
      const body = stagerSync(1, 1, syncEvents);
      const started = performance.now();
      await deliverStager(url, body, 'sync');
      await waitForEmptyInbox(url);
      return `processed ${(performance.now() - started).toFixed(0)} ms after the POST started`;
    }),
  );
  const ics = FEEDS.find(([name]) => name === 'ICS')?.[1] ?? '/events.ics';
  sections.push(
    await profileRun('Conditional GETs answered 304, 10 connections', async (url) => {
      await deliverStager(url, stagerSync(1, 1, 2_000), 'sync');
      await waitForEmptyInbox(url);
      // Asked twice: the response is kept from the second request on.
      await fetch(`${url}${ics}`).then((response) => response.arrayBuffer());
      const etag = (await fetch(`${url}${ics}`)).headers.get('etag') ?? '';
      const result = await autocannon({
        url: `${url}${ics}`,
        connections: 10,
        duration,
        headers: { 'if-none-match': etag },
      });
      return `${result['3xx']} of ${result.requests.total} requests answered 304 in ${result.duration} s (${(result.requests.total / result.duration).toFixed(0)} req/s)`;
    }),
  );
  const api = FEEDS.find(([name]) => name === 'JSON API')?.[1] ?? '/api/events';
  sections.push(
    await profileRenders('Cold ICS render, 1,000 of 10,000 events', ics, 20, async (server) => {
      emptyRenderCaches(server.ctx);
    }),
  );
  sections.push(
    await profileRenders(
      'JSON API re-render after one of its 1,000 events changed',
      api,
      20,
      async (server, sample) => {
        await server.post(
          stagerMessage('UPDATE_EVENTS', 1, [stagerEvent(10 * (sample + 1), sample + 1)]),
        );
      },
    ),
  );
  const markdown = `# Profile\n\nGenerated by \`npm run bench:profile\` on ${new Date().toISOString().slice(0, 10)} (Node ${process.version}).\n\n${sections.join('\n')}`;
  fs.writeFileSync(path.join(import.meta.dirname, 'PROFILE.md'), markdown);
  process.stdout.write(`${markdown}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
