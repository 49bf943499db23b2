import type SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  eventportPost,
  stagerEvent,
  stagerMessage,
  startFor,
} from '../helpers/contract-payloads.js';
import { startTestApp, TEST_SECRETS, usingPostgres, type TestApp } from '../helpers/test-app.js';

/**
 * SQLite picks join orders from statistics that a young database does not have (`PRAGMA optimize`
 * runs nightly; an empty `event_links` has none at all). A correlated subquery that the planner
 * drives from the wrong table runs once per candidate row over a whole table: a feed with
 * `source=` took 200 ms on 800 events that way, growing with the square of the events. Every
 * statement behind deliveries, feeds, pages, filters and the admin API is checked here: inside a
 * correlated subquery, every table is looked up by the row it correlates with (an id, member_id
 * or primary_id); and no statement behind a public feed, page or filter reads the whole events
 * table (the summary of what left a feed did, on every cold render).
 */

const PATHS = [
  '/events.ics',
  '/events.rss?source=eventport',
  '/events.atom?source=stager&city=Amsterdam',
  '/events.json?genre=Indie',
  '/api/events?source=eventport,stager&q=night',
  '/api/events?near=52.37,4.89&radius=10',
  '/api/events?order=announced&limit=2',
  '/api/events?cancelled=visible&organizer=Paradiso',
  '/api/events?limit=1&offset=1',
  '/api/events?days=30',
  '/',
  '/embed?limit=3&source=eventport',
  '/events/stager-5001',
  '/events/stager-5001.ics',
  '/healthz',
];

/** Operator pages and endpoints, read with the admin token. */
const ADMIN_PATHS = [
  '/admin',
  '/admin/status.json',
  '/admin/api/events?q=night',
  '/admin/api/duplicates',
  '/admin/api/deliveries',
  '/admin/api/organizations',
  '/admin/api/audit',
  '/admin/api/schema-watch',
  '/admin/api/webhooks',
];

/** The `EXPLAIN QUERY PLAN` rows of `source` run with `parameters`. */
function planOf(
  sqlite: SqliteDatabase.Database,
  source: string,
  parameters: unknown[],
): { id: number; parent: number; detail: string }[] {
  return sqlite.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...parameters) as {
    id: number;
    parent: number;
    detail: string;
  }[];
}

/** `EXPLAIN QUERY PLAN` rows under a correlated subquery that do not look up by the correlation. */
function unkeyedCorrelatedLookups(
  sqlite: SqliteDatabase.Database,
  source: string,
  parameters: unknown[],
): string[] {
  const rows = planOf(sqlite, source, parameters);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const correlated = (row: { parent: number }): boolean => {
    const parent = byId.get(row.parent);
    if (!parent) return false;
    return parent.detail.startsWith('CORRELATED') || correlated(parent);
  };
  return rows
    .filter((row) => /^(SEARCH|SCAN) /.test(row.detail) && correlated(row))
    .filter((row) => !/^SEARCH \S+ .*\((\w+_)?id=\?( AND [^)]*)?\)$/.test(row.detail))
    .map((row) => row.detail);
}

/** Records each statement prepared on `sqlite` with the parameters of its first run. */
function recordStatements(sqlite: SqliteDatabase.Database): {
  seen: Map<string, unknown[]>;
  stop(): void;
} {
  const seen = new Map<string, unknown[]>();
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) =>
    new Proxy(prepare(source), {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (!seen.has(source)) seen.set(source, args);
          return (value as (...args: unknown[]) => unknown).apply(target, args);
        };
      },
    })) as typeof sqlite.prepare;
  return {
    seen,
    stop: () => delete (sqlite as { prepare?: unknown }).prepare,
  };
}

let app: TestApp;
afterAll(async () => {
  await app?.close();
});

describe('query plans', () => {
  it.skipIf(usingPostgres)(
    'looks rows up by their correlation in every correlated subquery behind deliveries, feeds, pages, filters and the admin API, and never scans every event for a public read',
    async () => {
      app = await startTestApp({ env: { ADMIN_TOKEN: TEST_SECRETS.adminToken } });
      const handle = app.ctx.database;
      if (handle.dialect !== 'sqlite') throw new Error('SQLite only');
      const recording = recordStatements(handle.sqlite);
      // The statement each public path prepared first: these run on every cold render.
      const readPaths = new Map<string, string>();
      try {
        const organization = { id: 1042, name: 'Paradiso' };
        const events = [1, 2, 3, 4].map((key) =>
          stagerEvent({
            id: 5000 + key,
            name: `Night ${key}`,
            start: startFor(key),
            city: key % 2 ? 'Amsterdam' : 'Utrecht',
          }),
        );
        const stager = await app.postStager(stagerMessage('UPDATE_EVENTS', organization, events));
        expect(stager.status).toBe(202);
        for (const key of [1, 5, 6]) {
          const body = eventportPost({
            id: `Plan${key}`,
            name: `Club ${key}`,
            start: startFor(key),
          });
          expect((await app.postEventport(body)).status).toBe(202);
        }
        await app.settle();
        for (const path of PATHS) {
          const before = new Set(recording.seen.keys());
          expect((await app.get(path)).status, path).toBe(200);
          for (const source of recording.seen.keys())
            if (!before.has(source)) readPaths.set(source, path);
        }
        const admin = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };
        for (const path of ADMIN_PATHS) expect((await app.get(path, admin)).status, path).toBe(200);
      } finally {
        recording.stop();
      }
      const selects = [...recording.seen].filter(([source]) => /^select /i.test(source));
      expect(selects.some(([source]) => source.includes('"member_record"."source" in'))).toBe(true);
      const problems = selects.flatMap(([source, parameters]) =>
        unkeyedCorrelatedLookups(handle.sqlite, source, parameters).map(
          (detail) => `${detail} in ${source}`,
        ),
      );
      expect(problems).toEqual([]);
      // A cold render reads index ranges: a scan of every stored event grows with the history
      // the database keeps, not with what the feed shows. (`SEARCH events` naming no index is
      // SQLite's plan for a table read row by row under an OR.)
      const scans = [...readPaths].flatMap(([source, path]) =>
        planOf(handle.sqlite, source, recording.seen.get(source) ?? [])
          .filter((row) => /^(SCAN events\b|SEARCH events$)/.test(row.detail))
          .map((row) => `${path}: ${row.detail} in ${source}`),
      );
      expect(scans).toEqual([]);
    },
  );
});
