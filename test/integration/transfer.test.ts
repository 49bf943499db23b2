import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStoredFilter } from '../../src/changes/change-log.js';
import { filterQueryString } from '../../src/events/filter.js';
import { saveShortFeed } from '../../src/events/short-feeds.js';
import { runJob } from '../../src/jobs/scheduler.js';
import {
  databaseEnv,
  FIXED_NOW,
  fixture,
  startTestApp,
  tempDatabase,
  tempDatabasePath,
  sentCredentials,
  TEST_SECRETS,
  type TestApp,
  usingPostgres,
} from '../helpers/test-app.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { cli } from '../helpers/cli.js';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';

/**
 * `marquee export` and `marquee import` move an installation between databases: a SQLite one
 * filled over HTTP goes into PostgreSQL (with DATABASE_URL: a server on which the test may create
 * and drop databases) or, without it, into another SQLite file, and comes out the same.
 */

const DAY_MS = 86_400_000;

const apps: TestApp[] = [];
const receivers: WebhookReceiver[] = [];
afterAll(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

/** A delivery creating one event the installation does not have yet. */
const newEventMessage = (id: number) =>
  stagerMessage('UPDATE_EVENTS', { id: 9200, name: 'Moved Hall' }, [
    stagerEvent({ id, name: `After the move ${id}`, start: startFor(id) }),
  ]);

const admin = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };

async function subscribe(app: TestApp, url: string): Promise<string> {
  const response = await fetch(`${app.url}/admin/api/webhooks`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ url }),
  });
  expect(response.status).toBe(201);
  const { id, secret } = (await response.json()) as { id: string; secret: string };
  sentCredentials.add(secret);
  return id;
}

/** Receivers of the installation's webhooks: one answering, one failing until told otherwise. */
async function webhookReceivers() {
  const state = { failing: true };
  const healthy = await startWebhookReceiver();
  const failing = await startWebhookReceiver(() => (state.failing ? 500 : 204));
  receivers.push(healthy, failing);
  return { healthy, failing, recover: () => (state.failing = false) };
}

interface DumpLine {
  format?: string;
  exportedAt?: string;
  table?: string;
  row?: Record<string, unknown>;
  end?: Record<string, number>;
}

const dumpLines = (text: string): DumpLine[] =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as DumpLine);

/** The dump's lines without the export time, which is all two exports of the same data differ in. */
const comparable = (text: string) =>
  dumpLines(text).map(({ exportedAt: _exportedAt, ...line }) => line);

const rowsOf = (text: string, table: string) =>
  dumpLines(text)
    .filter((line) => line.table === table)
    .map((line) => line.row as Record<string, unknown>);

interface Served {
  status: number;
  etag: string | null;
  body: Buffer;
}

async function served(app: TestApp, paths: string[]): Promise<Map<string, Served>> {
  const answers = new Map<string, Served>();
  for (const url of paths) {
    const response = await app.get(url);
    answers.set(url, {
      status: response.status,
      etag: response.headers.get('etag'),
      body: Buffer.from(await response.arrayBuffer()),
    });
  }
  return answers;
}

/** Polls `check` until it holds; fails after 10 seconds. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function post(app: TestApp, source: 'stager' | 'eventport', body: Buffer | string) {
  const response = source === 'stager' ? await app.postStager(body) : await app.postEventport(body);
  expect(response.status).toBeLessThan(500);
  return response;
}

/**
 * A SQLite installation after some use: processed deliveries of both sources, an ignored, a
 * failed and a rejected one, one whose body retention purged; its outputs, and its dump
 * (exported while it runs).
 */
async function usedInstallation(dumpFile: string) {
  let clock = new Date(FIXED_NOW.getTime() - 40 * DAY_MS);
  const app = await startTestApp({
    database: tempDatabasePath(),
    now: () => clock,
    env: { ADMIN_TOKEN: TEST_SECRETS.adminToken },
  });
  apps.push(app);
  const hooks = await webhookReceivers();
  await subscribe(app, hooks.healthy.url);
  await subscribe(app, hooks.failing.url);
  await post(app, 'stager', fixture('stager/not-json.txt'));
  await post(app, 'stager', fixture('stager/update-events.json'));
  await app.settle();
  clock = FIXED_NOW;
  for (const name of [
    'organization-sync-removes-one.json',
    'cancelled-event.json',
    'option-event-not-public.json',
    'unknown-message-type.json',
    'event-missing-required-field.json',
  ]) {
    await post(app, 'stager', fixture(`stager/${name}`));
  }
  await post(app, 'stager', JSON.stringify({ messageType: 'UPDATE_EVENTS', messageContent: {} }));
  for (const name of [
    'post-full-example.json',
    'post-upcoming-munich-house.json',
    'post-upcoming-munich-english-spelling.json',
    'cancel-unknown-event-example.json',
  ]) {
    await post(app, 'eventport', fixture(`eventport/${name}`));
  }
  await app.settle();
  expect((await runJob(app.ctx, 'retention')).result).toMatchObject({ purgedBodies: 2 });
  const shortQuery = filterQueryString(parseStoredFilter('city=München&genre=House', 'UTC'));
  const shortId = await saveShortFeed(app.ctx.database.db, shortQuery, clock);
  // Every change reached the answering receiver; the failing one has all of them ahead.
  await hooks.healthy.waitFor((received) => received.length >= 9);
  await hooks.failing.waitFor((received) => received.length >= 1);
  await app.ctx.webhooks.stop();

  const exported = await cli(['export', '--out', dumpFile], { DATABASE_PATH: app.database });
  expect(exported.stderr).toBe('');
  expect(exported.code).toBe(0);
  expect(exported.stdout).toContain(
    'exported 12 deliveries, 7 events, 10 event genres, 1 organizations, 2 audit entries, 1 short feeds, 2 webhook subscriptions from ',
  );
  const dump = gunzipSync(fs.readFileSync(dumpFile)).toString('utf8');
  const publicEvent = rowsOf(dump, 'events').find((row) => row.visibility === 'public');
  expect(publicEvent).toBeDefined();
  const outputs = [
    '/events.ics',
    '/events.rss',
    '/events.atom',
    '/events.json',
    '/api/events',
    '/api/events?city=München',
    '/',
    '/embed',
    `/events/${String(publicEvent?.id)}`,
    `/events/${String(publicEvent?.id)}.ics`,
    `/f/${shortId}.ics`,
    `/f/${shortId}.rss`,
    '/changes.atom',
  ];
  return { dump, outputs, served: await served(app, outputs), hooks };
}

describe('marquee export and import', { timeout: 120_000 }, () => {
  let dumpFile: string;
  let original: Awaited<ReturnType<typeof usedInstallation>>;
  beforeAll(async () => {
    dumpFile = path.join(path.dirname(tempDatabasePath()), 'marquee.ndjson.gz');
    original = await usedInstallation(dumpFile);
  }, 120_000);

  it('dumps every delivery, event and organization, with the inbox as it was', () => {
    const statuses = rowsOf(original.dump, 'deliveries').map((row) => row.status);
    expect(new Set(statuses)).toEqual(new Set(['processed', 'ignored', 'failed', 'rejected']));
    const purged = rowsOf(original.dump, 'deliveries').filter((row) => row.purged_at !== null);
    expect(purged.map((row) => [row.id, row.body])).toEqual([
      [1, null],
      [2, null],
    ]);
    const lines = dumpLines(original.dump);
    expect(lines[0]).toMatchObject({
      format: 'marquee-dump',
      version: 1,
      schema: '0016-delivery-bodies',
    });
    expect(lines.at(-1)?.end).toEqual({
      deliveries: 12,
      events: 7,
      event_genres: 10,
      organizations: 1,
      schema_watch: 34,
      hidden_events: 0,
      organization_blocks: 0,
      audit_log: 2,
      duplicate_pairs: 0,
      event_links: 0,
      short_feeds: 1,
      event_changes: 6,
      webhook_subscriptions: 2,
    });
    // What the senders sent beyond what the adapters read travels too (see transfer.ts).
    expect(rowsOf(original.dump, 'schema_watch')).toContainEqual(
      expect.objectContaining({
        source: 'stager',
        kind: 'message-type',
        value: 'ORGANIZATION_SETTINGS_CHANGED',
      }),
    );
    expect(rowsOf(original.dump, 'deliveries')[2]?.body).toBe(
      fixture('stager/organization-sync-removes-one.json').toString('base64'),
    );
    for (const [url, answer] of original.served) expect(answer.status, url).toBe(200);
  });

  it('dumps webhook subscriptions with their secrets and cursors, but not their leases', () => {
    const subscriptions = rowsOf(original.dump, 'webhook_subscriptions');
    const changes = rowsOf(original.dump, 'event_changes').map((row) => Number(row.id));
    const byUrl = new Map(subscriptions.map((row) => [row.url, row]));
    expect(byUrl.get(original.hooks.healthy.url)).toMatchObject({
      cursor: Math.max(...changes),
      failures: 0,
    });
    // Its first message was given up when the clock jumped 40 days; the next ones are unsent.
    const failing = byUrl.get(original.hooks.failing.url);
    expect(failing).toMatchObject({ cursor: 1 });
    expect(Number(failing?.failures)).toBeGreaterThan(0);
    expect(changes.filter((id) => id > 1)).toHaveLength(6);
    for (const row of subscriptions) {
      expect(String(row.secret)).toMatch(/^whsec_/);
      expect(Object.keys(row)).not.toContain('lease_owner');
    }
  });

  it('imports into a new database that then exports the same rows and serves the same bytes', async () => {
    const target = await tempDatabase();
    const imported = await cli(['import', dumpFile], databaseEnv(target));
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(
      `imported 12 deliveries, 7 events, 10 event genres, 1 organizations, 2 audit entries, 1 short feeds, 2 webhook subscriptions into ${target}`,
    );

    const again = await cli(['export'], databaseEnv(target));
    expect(again.code).toBe(0);
    expect(comparable(again.stdout)).toEqual(comparable(original.dump));

    const { healthy, failing } = original.hooks;
    const sentBefore = healthy.received.map((each) => each.id);
    original.hooks.recover();
    let clock = FIXED_NOW;
    const app = await startTestApp({ database: target, now: () => clock });
    apps.push(app);
    const answers = await served(app, original.outputs);
    for (const [url, answer] of original.served) {
      expect(answers.get(url), url).toEqual(answer);
    }

    // Once its next attempt is due, the failing subscription gets what was unsent at export
    // time, under the same webhook ids; the answering one gets nothing again.
    clock = new Date(FIXED_NOW.getTime() + 60_000);
    app.ctx.webhooks.notify();
    // Changes of events since deleted (retention removed a past one) match no filter.
    const stored = new Set(rowsOf(original.dump, 'events').map((row) => row.id));
    const unsent = rowsOf(original.dump, 'event_changes')
      .filter((row) => row.id !== 1 && stored.has(row.event_id))
      .map((row) => `msg_${String(row.id)}`);
    expect(unsent).toHaveLength(5);
    const answered = () => failing.received.filter((each) => each.status === 204);
    await failing.waitFor(() => answered().length >= unsent.length);
    await app.ctx.webhooks.idle();
    expect(answered().map((each) => each.id)).toEqual(unsent);
    expect(healthy.received.map((each) => each.id)).toEqual(sentBefore);

    // The next delivery takes the id after the imported ones; none collides.
    const next = await app.postStager(fixture('stager/update-events.json'));
    expect(next.status).toBe(202);
    expect(await next.json()).toEqual({ status: 'accepted', delivery: 13 });
    await app.settle();
    // So do the changes it makes: new webhook ids.
    expect((await app.postStager(newEventMessage(970_001))).status).toBe(202);
    await app.settle();
    await healthy.waitFor((received) => received.length > sentBefore.length);
    const lastBefore = Math.max(...sentBefore.map((id) => Number(id.replace('msg_', ''))));
    for (const each of healthy.received.slice(sentBefore.length)) {
      expect(Number(each.id.replace('msg_', ''))).toBeGreaterThan(lastBefore);
    }
  });

  it('numbers changes after every cursor when the log was pruned to nothing', async () => {
    const lines = original.dump.trimEnd().split('\n');
    const withoutLog = lines.filter((line) => !line.startsWith('{"table":"event_changes"'));
    const end = JSON.parse(withoutLog.at(-1)!) as { end: Record<string, number> };
    withoutLog[withoutLog.length - 1] = JSON.stringify({ end: { ...end.end, event_changes: 0 } });
    const target = await tempDatabase();
    const imported = await cli(
      ['import', '-'],
      databaseEnv(target),
      Buffer.from(`${withoutLog.join('\n')}\n`, 'utf8'),
    );
    expect(imported.stderr).toBe('');
    const hook = await startWebhookReceiver();
    receivers.push(hook);
    const app = await startTestApp({
      database: target,
      env: { ADMIN_TOKEN: TEST_SECRETS.adminToken },
    });
    apps.push(app);
    await subscribe(app, hook.url);
    const cursor = Math.max(...rowsOf(original.dump, 'event_changes').map((row) => Number(row.id)));
    expect((await app.postStager(newEventMessage(970_002))).status).toBe(202);
    await app.settle();
    await hook.waitFor((received) => received.length >= 1);
    expect(Number(hook.received[0]!.id.replace('msg_', ''))).toBeGreaterThan(cursor);
  });

  it.runIf(usingPostgres)(
    'drops the cached outputs of instances already running on the PostgreSQL target',
    async () => {
      const target = await tempDatabase();
      const app = await startTestApp({ database: target });
      apps.push(app);
      // Until its change listener is connected, an instance trusts no cached rendering at all.
      await until(() => app.ctx.caches.dataVersion.value === app.ctx.caches.dataVersion.value);
      // Asked twice: kept from the second request on.
      await app.get('/api/events');
      await app.get('/api/events');
      const hits = app.ctx.caches.responses.stats.hits;
      const empty = await (await app.get('/api/events')).text();
      expect(app.ctx.caches.responses.stats.hits).toBe(hits + 1);

      expect((await cli(['import', dumpFile], databaseEnv(target))).code).toBe(0);
      const expected = original.served.get('/api/events')?.body.toString('utf8');
      expect(expected).not.toBe(empty);
      await until(async () => (await (await app.get('/api/events')).text()) === expected);
    },
  );

  it('refuses a damaged or truncated dump, leaving the database empty, and a non-empty one', async () => {
    const target = databaseEnv(await tempDatabase());
    const folder = path.dirname(dumpFile);
    const lines = original.dump.trimEnd().split('\n');
    const firstEvent = lines.findIndex((line) => line.startsWith('{"table":"events"'));
    const importText = (text: string) => cli(['import', '-'], target, Buffer.from(text, 'utf8'));

    const withoutEnd = await importText(`${lines.slice(0, -1).join('\n')}\n`);
    expect(withoutEnd.code).toBe(1);
    expect(withoutEnd.stderr).toContain(
      `marquee import: the dump ends at line ${lines.length - 1} without its end line: it is truncated`,
    );

    const missingRow = lines.filter((_line, index) => index !== 1);
    const counted = await importText(`${missingRow.join('\n')}\n`);
    expect(counted.code).toBe(1);
    expect(counted.stderr).toContain(
      `line ${lines.length - 1}: rows are missing (deliveries: 12 exported, 11 in the dump)`,
    );

    const corrupt = [...lines];
    corrupt[firstEvent + 1] = corrupt[firstEvent + 1]!.slice(0, 40);
    const notJson = await importText(`${corrupt.join('\n')}\n`);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toContain(`marquee import: line ${firstEvent + 2}: not JSON`);

    const wrongType = [...lines];
    wrongType[firstEvent] = wrongType[firstEvent]!.replace(/"title":"[^"]*"/, '"title":42');
    const invalid = await importText(`${wrongType.join('\n')}\n`);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(`marquee import: line ${firstEvent + 1}: title: `);

    // A short feed id that is not its query's would serve another filter; a webhook URL must be
    // http(s).
    const shortFeed = lines.findIndex((line) => line.startsWith('{"table":"short_feeds"'));
    const wrongId = [...lines];
    wrongId[shortFeed] = wrongId[shortFeed]!.replace(/"id":"[^"]*"/, '"id":"AAAAAAAAAAAA"');
    const forged = await importText(`${wrongId.join('\n')}\n`);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain(`line ${shortFeed + 1}: id: is not the id of its query`);
    const hook = lines.findIndex((line) => line.startsWith('{"table":"webhook_subscriptions"'));
    const ftp = [...lines];
    ftp[hook] = ftp[hook]!.replace(/"url":"http:/, '"url":"ftp:');
    const notHttp = await importText(`${ftp.join('\n')}\n`);
    expect(notHttp.code).toBe(1);
    expect(notHttp.stderr).toContain(`line ${hook + 1}: url: is not an http(s) URL`);

    const newer = await importText(
      [lines[0]!.replace('"0016-delivery-bodies"', '"9999-later"'), ...lines.slice(1)].join('\n'),
    );
    expect(newer.code).toBe(1);
    expect(newer.stderr).toContain('the dump comes from a newer Marquee (schema 9999-later');

    const cutFile = path.join(folder, 'cut.ndjson.gz');
    const gzipped = fs.readFileSync(dumpFile);
    fs.writeFileSync(cutFile, gzipped.subarray(0, Math.floor(gzipped.length / 2)));
    const cut = await cli(['import', cutFile], target);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain('the dump is not valid gzip or is truncated');

    // Nothing of the refused dumps stayed: the whole dump still goes in.
    const whole = await cli(['import', dumpFile], target);
    expect(whole.stderr).toBe('');
    expect(whole.code).toBe(0);

    const twice = await cli(['import', dumpFile], target);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(
      'marquee import: the target database is not empty (12 deliveries, ',
    );
  });

  it('explains what it needs', async () => {
    const missing = await cli(['export'], { DATABASE_PATH: tempDatabasePath() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no database at');
    const unmigrated = tempDatabasePath();
    fs.writeFileSync(unmigrated, '');
    const partial = path.join(path.dirname(unmigrated), 'partial.ndjson.gz');
    const behind = await cli(['export', '--out', partial], { DATABASE_PATH: unmigrated });
    expect(behind.code).toBe(1);
    expect(behind.stderr).toContain('marquee export: the database schema is behind (pending: ');
    expect(fs.existsSync(partial)).toBe(false);
    expect((await cli(['import'], {})).code).toBe(2);
    const noFile = await cli(['import', 'no-such-dump.ndjson'], {
      DATABASE_PATH: tempDatabasePath(),
    });
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain('no such file: no-such-dump.ndjson');
  });
});

describe('moderation in dumps', { timeout: 120_000 }, () => {
  const ADMIN_ENV = { ADMIN_TOKEN: TEST_SECRETS.adminToken };
  const bearer = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };
  const BRUNCH = 'stager-583922';

  /** An installation with the Stager fixtures, the brunch hidden and an organization blocked. */
  async function moderatedDump(): Promise<string> {
    const app = await startTestApp({ database: tempDatabasePath(), env: ADMIN_ENV });
    apps.push(app);
    await post(app, 'stager', fixture('stager/update-events.json'));
    await app.settle();
    for (const path of [
      `/admin/api/events/${BRUNCH}/hide`,
      '/admin/api/organizations/stager/777/block',
    ]) {
      expect((await fetch(`${app.url}${path}`, { method: 'POST', headers: bearer })).status).toBe(
        200,
      );
    }
    const exported = await cli(['export'], { DATABASE_PATH: app.database });
    expect(exported.code).toBe(0);
    return exported.stdout;
  }

  it('carries hidden events, blocked organizations and the audit log, still in force', async () => {
    const dump = await moderatedDump();
    expect(dumpLines(dump).at(-1)?.end).toMatchObject({
      hidden_events: 1,
      organization_blocks: 1,
      audit_log: 2,
    });
    const target = await tempDatabase();
    const imported = await cli(['import', '-'], databaseEnv(target), Buffer.from(dump));
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toContain(
      '0 organizations, 1 hidden events, 1 organization blocks, 2 audit entries into',
    );
    const app = await startTestApp({ database: target, env: ADMIN_ENV });
    apps.push(app);
    expect((await app.get(`/events/${BRUNCH}`)).status).toBe(410);
    const audit = (await (await app.get('/admin/api/audit', bearer)).json()) as {
      entries: { action: string }[];
    };
    expect(audit.entries.map((entry) => entry.action)).toEqual([
      'organization.block',
      'event.hide',
    ]);
    // Still hidden through a new delivery; the next audit entry takes the next id.
    const renamed = fixture('stager/update-events.json')
      .toString('utf8')
      .replace('Sunday Brunch Jazz', 'Sunday Brunch Jazz Again');
    await post(app, 'stager', renamed);
    await app.settle();
    expect((await app.get(`/events/${BRUNCH}`)).status).toBe(410);
    expect(await (await app.get('/api/events')).text()).not.toContain('Sunday Brunch');
    const unhide = await fetch(`${app.url}/admin/api/events/${BRUNCH}/unhide`, {
      method: 'POST',
      headers: bearer,
    });
    expect(unhide.status).toBe(200);
    expect(await (await app.get('/api/events')).text()).toContain('Sunday Brunch Jazz Again');
  });

  it('imports a dump from before moderation (schema 0008)', async () => {
    const dump = await moderatedDump();
    const older = dumpLines(dump)
      .filter(
        (line) => !['hidden_events', 'organization_blocks', 'audit_log'].includes(line.table ?? ''),
      )
      .map((line) => {
        if (line.format) return { ...line, schema: '0008-short-feeds' };
        if (line.end) {
          const { hidden_events: _h, organization_blocks: _b, audit_log: _a, ...end } = line.end;
          return { end };
        }
        const { test: _test, source_visibility: _visibility, ...row } = line.row ?? {};
        return { table: line.table, row };
      })
      .map((line) => JSON.stringify(line))
      .join('\n');
    const target = await tempDatabase();
    const imported = await cli(['import', '-'], databaseEnv(target), Buffer.from(`${older}\n`));
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const app = await startTestApp({ database: target });
    apps.push(app);
    // Without its hold the brunch is published as the stored row says (hidden, withdrawn).
    expect(await app.query('select count(*) as count from hidden_events')).toEqual([{ count: 0 }]);
    expect(
      await app.query('select test, source_visibility from events where id = ?', BRUNCH),
    ).toEqual([{ test: 0, source_visibility: null }]);
  });
});
