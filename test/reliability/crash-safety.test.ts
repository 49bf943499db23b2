import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildApp, type ChildApp } from '../helpers/child-app.js';
import {
  eventportCancel,
  eventportPost,
  stagerEvent,
  stagerMessage,
  startFor,
} from '../helpers/contract-payloads.js';
import { queryDatabase, signStager, tempDatabase, TEST_SECRETS } from '../helpers/test-app.js';

/**
 * Crash safety: Marquee runs as a child process and is killed with SIGKILL while deliveries
 * stream in over several connections, then restarted on the same database. Every delivery
 * answered 2xx must be in the inbox, processed, reflected in the feeds, and nothing duplicated.
 *
 * Each connection (worker) sends its deliveries one after another and owns its own events, so
 * its inbox rows are exactly a prefix of what it sent: everything acknowledged, plus at most the
 * one in flight at the kill. The expected events follow from replaying that prefix through a
 * small model of the ingest rules.
 */

const KILL_POINTS = Number(process.env.MARQUEE_CRASH_KILLS ?? 6);
const SEED = Number(process.env.MARQUEE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, so a failing run can be repeated with MARQUEE_CRASH_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');
const UPDATED_BASE = Date.UTC(2026, 0, 1);
const POOL = 12;

interface Worker {
  index: number;
  source: 'stager' | 'eventport';
  auth: 'signature' | 'token' | 'basic';
}

const WORKERS: Worker[] = [
  { index: 0, source: 'stager', auth: 'signature' },
  { index: 1, source: 'stager', auth: 'signature' },
  { index: 2, source: 'stager', auth: 'signature' },
  { index: 3, source: 'eventport', auth: 'token' },
  { index: 4, source: 'eventport', auth: 'token' },
  { index: 5, source: 'eventport', auth: 'basic' },
];

type Op =
  | {
      kind: 'stager';
      sync: boolean;
      at: number;
      events: { id: string; title: string; status: string }[];
    }
  | { kind: 'post'; at: number; id: string; title: string }
  | { kind: 'cancel'; id: string };

interface Delivery {
  seq: number;
  body: Buffer;
  sha: string;
  op: Op;
}

const organizationOf = (worker: Worker) => 7000 + worker.index;
const stagerIdOf = (worker: Worker, k: number) => String(worker.index * 100 + k);
const eventportIdOf = (worker: Worker, k: number) =>
  `MarqueeW${worker.index}E${String(k).padStart(2, '0')}`;

/** The `seq`-th delivery of a worker; the same (worker, seq) always gives the same bytes. */
function deliveryOf(worker: Worker, seq: number): Delivery {
  const rng = random(SEED ^ (worker.index * 1_000_003 + seq * 7919));
  const at = UPDATED_BASE + seq * 60_000;
  let op: Op;
  let body: Buffer;
  if (worker.source === 'stager') {
    const sync = seq % 10 === 9;
    const ks = sync
      ? [...Array(POOL).keys()].filter(() => rng() < 0.7)
      : [
          ...new Set(
            [0, 1, 2].slice(0, 1 + Math.floor(rng() * 3)).map(() => Math.floor(rng() * POOL)),
          ),
        ];
    const events = ks.map((k) => {
      const roll = rng();
      const status = roll < 0.8 ? 'CONFIRMED' : roll < 0.9 ? 'CANCELLED' : 'OPTION';
      return { id: stagerIdOf(worker, k), title: `Stager w${worker.index} e${k} s${seq}`, status };
    });
    op = { kind: 'stager', sync, at, events };
    body = stagerMessage(
      sync ? 'ORGANIZATION_SYNC' : 'UPDATE_EVENTS',
      { id: organizationOf(worker), name: `Organization ${worker.index}` },
      events.map((event) =>
        stagerEvent({
          id: Number(event.id),
          name: event.title,
          status: event.status,
          start: startFor(Number(event.id)),
          updatedAt: new Date(at),
        }),
      ),
      { nonce: `${worker.index}-${seq}` },
    );
  } else if (seq % 8 === 7) {
    // Ids POOL and POOL+1 are never posted: a cancel of an unknown event changes nothing.
    const id = eventportIdOf(worker, Math.floor(rng() * (POOL + 2)));
    op = { kind: 'cancel', id };
    body = eventportCancel(id, { nonce: `${worker.index}-${seq}` });
  } else {
    const k = Math.floor(rng() * POOL);
    const id = eventportIdOf(worker, k);
    const title = `Eventport w${worker.index} e${k} s${seq}`;
    op = { kind: 'post', at, id, title };
    body = eventportPost(
      { id, name: title, start: startFor(worker.index * 100 + k), changedOn: new Date(at) },
      { nonce: `${worker.index}-${seq}` },
    );
  }
  return { seq, body, sha: sha256(body), op };
}

interface ModelEvent {
  title: string;
  status: 'scheduled' | 'cancelled';
  visibility: 'public' | 'hidden' | 'removed';
  /** Published, then no longer: calendars show it as a tombstone. */
  withdrawn: boolean;
  updatedAt: number;
}

/**
 * A removal by a sync takes the receive time (the real now, after every `updatedAt` here) as its
 * update time: an update sent before it cannot bring the event back, a later sync listing it can.
 */
const REMOVED_AT = Number.POSITIVE_INFINITY;

/** Whether an event moving from `stored` to `visibility` counts as withdrawn. */
function withdrawnAfter(stored: ModelEvent | undefined, visibility: ModelEvent['visibility']) {
  if (visibility === 'public') return false;
  return stored?.visibility === 'public' || (stored?.withdrawn ?? false);
}

/** The ingest rules that matter here: newest update wins, syncs remove the unlisted, cancels stick. */
function applyOp(state: Map<string, ModelEvent>, source: Worker['source'], op: Op): void {
  if (op.kind === 'stager') {
    const listed = new Set<string>();
    for (const event of op.events) {
      const id = `${source}-${event.id}`;
      listed.add(id);
      const stored = state.get(id);
      const restoredBySync = op.sync && stored?.visibility === 'removed';
      if (stored && stored.updatedAt > op.at && !restoredBySync) continue;
      const visibility = event.status === 'OPTION' ? 'hidden' : 'public';
      state.set(id, {
        title: event.title,
        status: event.status === 'CANCELLED' ? 'cancelled' : 'scheduled',
        visibility,
        withdrawn: withdrawnAfter(stored, visibility),
        updatedAt: op.at,
      });
    }
    if (op.sync) {
      for (const [id, event] of state)
        if (!listed.has(id) && event.visibility !== 'removed') {
          event.withdrawn = withdrawnAfter(event, 'removed');
          event.visibility = 'removed';
          event.updatedAt = REMOVED_AT;
        }
    }
  } else if (op.kind === 'post') {
    const id = `${source}-${op.id}`;
    const stored = state.get(id);
    if (stored && stored.updatedAt > op.at) return;
    state.set(id, {
      title: op.title,
      status: 'scheduled',
      visibility: 'public',
      withdrawn: false,
      updatedAt: op.at,
    });
  } else {
    const stored = state.get(`${source}-${op.id}`);
    // A cancel takes the receive time (the real now, after every changedOn here) as update time.
    if (stored) Object.assign(stored, { status: 'cancelled', updatedAt: Number.POSITIVE_INFINITY });
  }
}

function requestFor(app: ChildApp, worker: Worker, body: Buffer): [string, RequestInit] {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (worker.auth === 'signature') {
    headers['x-signature'] = signStager(body, TEST_SECRETS.stagerKeys[worker.index % 2]);
    return [`${app.url}/webhooks/stager`, { method: 'POST', headers, body }];
  }
  if (worker.auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`).toString('base64')}`;
    return [`${app.url}/webhooks/eventport`, { method: 'POST', headers, body }];
  }
  return [
    `${app.url}/webhooks/eventport?accessToken=${TEST_SECRETS.eventportToken}`,
    { method: 'POST', headers, body },
  ];
}

interface Acknowledged {
  worker: number;
  seq: number;
  id: number;
  sha: string;
}

interface RoundResult {
  sent: number;
  acknowledged: Acknowledged[];
  unexpected: string[];
  /** Per worker, the next sequence number it had not yet sent. */
  attempted: number[];
}

/** Streams deliveries from every worker until the app dies; returns what was sent and acknowledged. */
async function stream(app: ChildApp, next: number[]): Promise<RoundResult> {
  const result: RoundResult = { sent: 0, acknowledged: [], unexpected: [], attempted: [...next] };
  await Promise.all(
    WORKERS.map(async (worker) => {
      for (let seq = next[worker.index] as number; ; seq += 1) {
        const delivery = deliveryOf(worker, seq);
        result.sent += 1;
        result.attempted[worker.index] = seq + 1;
        let response: Response;
        try {
          response = await fetch(...requestFor(app, worker, delivery.body));
        } catch {
          return; // the process is gone: this delivery may or may not have been stored
        }
        let answer: { delivery?: number };
        try {
          answer = (await response.json()) as { delivery?: number };
        } catch {
          return; // killed while answering: not acknowledged
        }
        if (response.status !== 202 || typeof answer.delivery !== 'number') {
          result.unexpected.push(
            `worker ${worker.index} seq ${seq}: ${response.status} ${JSON.stringify(answer)}`,
          );
          return;
        }
        result.acknowledged.push({
          worker: worker.index,
          seq,
          id: answer.delivery,
          sha: delivery.sha,
        });
      }
    }),
  );
  return result;
}

interface InboxRow {
  id: number;
  source: string;
  body_sha256: string;
  status: string;
  error: string | null;
}
interface EventRow {
  id: string;
  title: string;
  status: string;
  visibility: string;
}

const outputs: string[] = [];
const figures: string[] = [];

afterAll(() => {
  if (figures.length > 0) console.log(`crash-safety (seed ${SEED}):\n  ${figures.join('\n  ')}`);
});

describe('crash safety (SIGKILL, restart on the same database)', () => {
  it(
    `keeps every acknowledged delivery across ${KILL_POINTS} kill points of a stream over ${WORKERS.length} connections`,
    { timeout: 240_000 },
    async () => {
      const database = await tempDatabase();
      const env = { LOG_LEVEL: 'info' };
      let app = await startChildApp(database, env);
      const next = WORKERS.map(() => 0);
      const allAcknowledged: Acknowledged[] = [];
      const rng = random(SEED);
      try {
        for (let point = 1; point <= KILL_POINTS; point += 1) {
          const delay = 150 + Math.floor(rng() * 1200);
          const running = stream(app, next);
          await new Promise((resolve) => setTimeout(resolve, delay));
          expect(await app.kill()).toBe('SIGKILL');
          outputs.push(app.output());
          const round = await running;
          expect(round.unexpected).toEqual([]);
          allAcknowledged.push(...round.acknowledged);

          app = await startChildApp(database, env);
          await app.diagnose(app.waitForEmptyInbox());

          const inbox = await queryDatabase<InboxRow>(
            database,
            'select id, source, body_sha256, status, error from deliveries order by id',
          );
          const events = await queryDatabase<EventRow>(
            database,
            'select id, title, status, visibility from events order by id',
          );

          // Every acknowledged delivery is in the inbox under the id it was answered with, processed.
          const bySha = new Map(inbox.map((row) => [row.body_sha256, row]));
          expect(bySha.size, 'no body is stored twice').toBe(inbox.length);
          for (const acknowledged of allAcknowledged) {
            const row = bySha.get(acknowledged.sha);
            expect(
              row?.id,
              `acknowledged delivery ${acknowledged.id} (worker ${acknowledged.worker}, seq ${acknowledged.seq})`,
            ).toBe(acknowledged.id);
          }
          expect(
            inbox.filter((row) => row.status !== 'processed'),
            'every delivery processed',
          ).toEqual([]);

          // Per worker: the inbox holds a prefix of what it sent, and the events follow from it.
          const expected = new Map<string, ModelEvent>();
          let recovered = 0;
          for (const worker of WORKERS) {
            const state = new Map<string, ModelEvent>();
            let previousId = 0;
            let present = 0;
            const attempted = round.attempted[worker.index] as number;
            for (let seq = 0; seq < attempted; seq += 1) {
              const delivery = deliveryOf(worker, seq);
              const row = bySha.get(delivery.sha);
              if (!row) break;
              expect(
                row.id,
                `worker ${worker.index}: inbox order follows send order`,
              ).toBeGreaterThan(previousId);
              previousId = row.id;
              applyOp(state, worker.source, delivery.op);
              present = seq + 1;
            }
            for (let seq = present; seq < attempted; seq += 1) {
              expect(
                bySha.has(deliveryOf(worker, seq).sha),
                `worker ${worker.index}: no gap in the inbox at seq ${seq}`,
              ).toBe(false);
            }
            // This round: everything acknowledged, plus at most the one delivery in flight at the kill.
            const acknowledgedNow = round.acknowledged.filter(
              (item) => item.worker === worker.index,
            ).length;
            const before = next[worker.index] as number;
            expect(present, `worker ${worker.index}`).toBeGreaterThanOrEqual(
              before + acknowledgedNow,
            );
            expect(present, `worker ${worker.index}`).toBeLessThanOrEqual(
              before + acknowledgedNow + 1,
            );
            recovered += present - (next[worker.index] as number);
            next[worker.index] = present;
            for (const [id, event] of state) expected.set(id, event);
          }

          // The database holds exactly the modelled events, each once.
          expect(
            events.map((row) => ({
              id: row.id,
              title: row.title,
              status: row.status,
              visibility: row.visibility,
            })),
          ).toEqual(
            [...expected]
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([id, event]) => ({
                id,
                title: event.title,
                status: event.status,
                visibility: event.visibility,
              })),
          );

          // The feeds show the last acknowledged state: public events, once each, with their titles.
          const publicEvents = [...expected]
            .filter(([, event]) => event.visibility === 'public')
            .map(([id, event]) => ({ id, title: event.title, status: event.status }))
            .sort((a, b) => (a.id < b.id ? -1 : 1));
          const api = (await (await fetch(`${app.url}/api/events?limit=1000`)).json()) as {
            total: number;
            events: { id: string; title: string; status: string }[];
          };
          expect(api.total).toBe(publicEvents.length);
          expect(
            api.events
              .map(({ id, title, status }) => ({ id, title, status }))
              .sort((a, b) => (a.id < b.id ? -1 : 1)),
          ).toEqual(publicEvents);
          // Calendars also keep withdrawn events (every event here is upcoming) as tombstones.
          const ics = await (await fetch(`${app.url}/events.ics`)).text();
          const uids = [...ics.matchAll(/^UID:(.+)\r$/gm)].map((match) => match[1]!);
          expect(new Set(uids).size).toBe(uids.length);
          expect(uids.map((uid) => uid.split('@')[0]).sort()).toEqual(
            [...expected]
              .filter(([, event]) => event.visibility === 'public' || event.withdrawn)
              .map(([id]) => id)
              .sort(),
          );

          figures.push(
            `kill point ${point}: killed after ${delay} ms; deliveries sent ${round.sent}, acknowledged ${round.acknowledged.length}, ` +
              `recovered ${recovered} (inbox ${inbox.length}, events ${events.length}, public ${publicEvents.length})`,
          );
        }
      } finally {
        await app.stop();
        outputs.push(app.output());
      }
      expect(allAcknowledged.length).toBeGreaterThan(KILL_POINTS * 10);
      assertNoSecrets(outputs.join('\n'), allAcknowledged.length);
    },
  );

  it(
    'finishes a large ORGANIZATION_SYNC after being killed in the middle of processing it',
    { timeout: 240_000 },
    async () => {
      const SYNC_SIZE = Number(process.env.MARQUEE_CRASH_SYNC_SIZE ?? 4000);
      const organization = { id: 8001, name: 'Big Venue' };
      const database = await tempDatabase();
      const rng = random(SEED + 1);
      let app = await startChildApp(database);
      const post = async (body: Buffer) => {
        const response = await app.diagnose(
          fetch(`${app.url}/webhooks/stager`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-signature': signStager(body) },
            body,
          }),
        );
        expect(response.status).toBe(202);
        return ((await response.json()) as { delivery: number }).delivery;
      };
      const syncOf = (round: number, ids: number[]) =>
        stagerMessage(
          'ORGANIZATION_SYNC',
          organization,
          ids.map((id) =>
            stagerEvent({
              id,
              name: `Big ${id} r${round}`,
              start: startFor(id),
              updatedAt: new Date(UPDATED_BASE + round * 3_600_000),
            }),
          ),
        );
      const everSeen = new Set<number>();
      try {
        // Round 0 creates the events; its repetition (updating them all, as the killed rounds
        // do) measures how long processing such a sync takes here. Neither is killed.
        const first = [...Array(SYNC_SIZE).keys()].map((index) => index + 1);
        first.forEach((id) => everSeen.add(id));
        await post(syncOf(0, first));
        await app.diagnose(app.waitForEmptyInbox(120_000));
        let started = Date.now();
        await post(syncOf(0.5, first));
        await app.diagnose(app.waitForEmptyInbox(120_000));
        const processingMs = Date.now() - started;

        let pendingAtKill = 0;
        for (let round = 1; round <= 3; round += 1) {
          const listed = [
            ...first.filter((id) => id % 7 !== round),
            ...[...Array(100).keys()].map((index) => SYNC_SIZE + round * 1000 + index),
          ];
          listed.forEach((id) => everSeen.add(id));
          started = Date.now();
          const deliveryId = await post(syncOf(round, listed));
          const delay = Math.floor(processingMs * (0.1 + 0.5 * rng()));
          await new Promise((resolve) => setTimeout(resolve, delay));
          await app.kill();
          outputs.push(app.output());
          const statusOf = async () => {
            const [row] = await queryDatabase<{ status: string }>(
              database,
              'select status from deliveries where id = ?',
              deliveryId,
            );
            return row?.status;
          };
          const statusAtKill = await statusOf();
          if (statusAtKill === 'pending') pendingAtKill += 1;

          app = await startChildApp(database);
          await app.diagnose(app.waitForEmptyInbox(120_000));
          const status = await statusOf();
          const rows = await queryDatabase<{
            external_id: string;
            title: string;
            visibility: string;
          }>(
            database,
            "select external_id, title, visibility from events where organization_id = '8001'",
          );
          expect(status).toBe('processed');
          const listedSet = new Set(listed.map(String));
          expect(rows).toHaveLength(everSeen.size);
          for (const row of rows) {
            if (listedSet.has(row.external_id)) {
              expect(row).toEqual({
                external_id: row.external_id,
                title: `Big ${row.external_id} r${round}`,
                visibility: 'public',
              });
            } else {
              expect(row.visibility, `event ${row.external_id} left the sync`).toBe('removed');
            }
          }
          const api = (await (
            await fetch(`${app.url}/api/events?organizer=8001&limit=1`)
          ).json()) as { total: number };
          expect(api.total).toBe(listed.length);
          figures.push(
            `large sync round ${round}: ${listed.length} events (${(syncOf(round, listed).length / 1e6).toFixed(1)} MB), processing takes ~${processingMs} ms; ` +
              `killed ${delay} ms after the 202, delivery ${statusAtKill} at the kill, all ${listed.length} applied after restart`,
          );
        }
        expect(
          pendingAtKill,
          'at least one kill landed before the sync was committed',
        ).toBeGreaterThanOrEqual(1);
      } finally {
        await app.stop();
        outputs.push(app.output());
      }
      assertNoSecrets(outputs.join('\n'), 0);
    },
  );
});

/** No configured secret, token, Basic credential or signature appears in the children's output. */
function assertNoSecrets(output: string, minimumLength: number): void {
  expect(output.length).toBeGreaterThanOrEqual(minimumLength);
  const secrets = [
    ...TEST_SECRETS.stagerKeys,
    TEST_SECRETS.eventportToken,
    TEST_SECRETS.basicPassword,
    Buffer.from(`${TEST_SECRETS.basicUser}:${TEST_SECRETS.basicPassword}`).toString('base64'),
  ];
  for (const secret of secrets)
    expect(output.includes(secret), `a secret appears in the process output`).toBe(false);
  // Signatures are 64 hex digits; none of the ones sent may appear.
  const hex = new Set(
    [...output.matchAll(/[0-9a-f]{64}/gi)].map((match) => match[0].toLowerCase()),
  );
  expect(hex.size, 'no 64-hex-digit value (a signature) in the process output').toBe(0);
}
