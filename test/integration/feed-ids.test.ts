import { spawnSync } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SaxesParser } from 'saxes';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/connection.js';
import { exportDatabase, importDatabase } from '../../src/operations/transfer.js';
import {
  FIXED_NOW,
  databaseEnv,
  fixture,
  startTestApp,
  type TestApp,
} from '../helpers/test-app.js';

/**
 * Ids that calendars and feed readers keep (ICS UIDs, RSS guids, Atom and JSON Feed ids) belong
 * to the installation, not to PUBLIC_URL: a restart on the same database with another PUBLIC_URL
 * keeps every one of them, while links follow the new PUBLIC_URL.
 */

const HELPERS = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers');
const SYSTEM_PYTHON = '/usr/bin/python3';
const hasFeedparser =
  spawnSync(SYSTEM_PYTHON, ['-c', 'import feedparser'], { stdio: 'ignore' }).status === 0;
if (!hasFeedparser) {
  console.warn('feed-ids: skipping the feedparser check (apt-get install python3-feedparser)');
}

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(options: Parameters<typeof startTestApp>[0]): Promise<TestApp> {
  const app = await startTestApp(options);
  apps.push(app);
  return app;
}

/** Stager's Amsterdam events and Eventport's Munich ones. */
async function deliverEvents(app: TestApp): Promise<void> {
  expect((await app.postStager(fixture('stager/update-events.json'))).status).toBe(202);
  expect(
    (await app.postEventport(fixture('eventport/post-upcoming-munich-house.json'))).status,
  ).toBe(202);
  await app.settle();
}

async function text(app: TestApp, path: string): Promise<string> {
  const response = await app.get(path);
  expect(response.status, path).toBe(200);
  return response.text();
}

/** One item of a feed: its id and the link it points to. */
interface ItemIds {
  id: string;
  link: string;
}

interface Outputs {
  uids: string[];
  /** ICS URL properties. */
  icsUrls: string[];
  rss: (ItemIds & { isPermaLink: string | undefined })[];
  atomId: string;
  atom: ItemIds[];
  json: ItemIds[];
}

/** The child elements of each `item` (RSS) or `entry` (Atom): their text and attributes. */
function xmlItems(
  xml: string,
  item: string,
): { text: Map<string, string>; attributes: Map<string, Record<string, string>> }[] {
  const parser = new SaxesParser({ xmlns: true });
  const items: ReturnType<typeof xmlItems> = [];
  let current: ReturnType<typeof xmlItems>[number] | null = null;
  let field: string | null = null;
  parser.on('opentag', (tag) => {
    if (tag.local === item) current = { text: new Map(), attributes: new Map() };
    else if (current !== null) {
      field = tag.local;
      // The first element of a name: an entry's page link comes before its enclosure.
      if (!current.attributes.has(tag.local)) {
        current.attributes.set(
          tag.local,
          Object.fromEntries(Object.values(tag.attributes).map((a) => [a.local, a.value])),
        );
      }
    }
  });
  parser.on('text', (value) => {
    if (current !== null && field !== null)
      current.text.set(field, (current.text.get(field) ?? '') + value);
  });
  parser.on('closetag', (tag) => {
    if (tag.local === item && current !== null) {
      items.push(current);
      current = null;
    }
    field = null;
  });
  parser.write(xml).close();
  return items;
}

/** The ids and links every output shows for the app's upcoming events. */
async function outputs(app: TestApp): Promise<Outputs> {
  const ics = (await text(app, '/events.ics')).replace(/\r\n[ \t]/g, '');
  const rss = xmlItems(await text(app, '/events.rss'), 'item');
  const atomText = await text(app, '/events.atom');
  const atom = xmlItems(atomText, 'entry');
  const json = JSON.parse(await text(app, '/events.json')) as {
    items: { id: string; url: string }[];
  };
  return {
    uids: [...ics.matchAll(/^UID:(.*)\r$/gm)].map((match) => match[1] ?? ''),
    icsUrls: [...ics.matchAll(/^URL[;:](?:VALUE=URI:)?(.*)\r$/gm)].map((match) => match[1] ?? ''),
    rss: rss.map((item) => ({
      id: item.text.get('guid') ?? '',
      isPermaLink: item.attributes.get('guid')?.isPermaLink,
      link: item.text.get('link') ?? '',
    })),
    atomId: /<feed[^>]*>\s*<id>([^<]*)<\/id>/.exec(atomText)?.[1] ?? '',
    atom: atom.map((entry) => ({
      id: entry.text.get('id') ?? '',
      link: entry.attributes.get('link')?.href ?? '',
    })),
    json: json.items.map((item) => ({ id: item.id, link: item.url })),
  };
}

/** The outputs without their links: what must not change when PUBLIC_URL does. */
function ids(out: Outputs) {
  return {
    uids: out.uids,
    rss: out.rss.map((item) => [item.id, item.isPermaLink]),
    atomId: out.atomId,
    atom: out.atom.map((entry) => entry.id),
    json: out.json.map((item) => item.id),
  };
}

function links(out: Outputs): string[] {
  return [
    ...out.icsUrls,
    ...out.rss.map((item) => item.link),
    ...out.atom.map((entry) => entry.link),
    ...out.json.map((item) => item.link),
  ];
}

describe('ids that survive a domain move', () => {
  it('keeps UIDs, guids and ids when PUBLIC_URL changes; links follow PUBLIC_URL', async () => {
    const first = await start({ env: { PUBLIC_URL: 'https://events.old.example' } });
    await deliverEvents(first);
    const before = await outputs(first);
    await first.close();

    expect(before.uids.length).toBeGreaterThan(2);
    for (const uid of before.uids) expect(uid).toMatch(/^[a-z]+-[^@]+@events\.old\.example$/);
    const tag = 'tag:events.old.example,2026-11-22:';
    for (const list of [before.rss, before.atom, before.json]) {
      expect(list.map((item) => item.id)).toEqual(
        before.uids.map((uid) => tag + uid.slice(0, uid.indexOf('@'))),
      );
    }
    for (const item of before.rss) expect(item.isPermaLink).toBe('false');
    expect(before.atomId).toBe(`${tag}events`);
    for (const link of links(before)) expect(link).toMatch(/^https:\/\/events\.old\.example\//);

    // Moved to another domain, a day later.
    const moved = await start({
      database: first.database,
      env: { PUBLIC_URL: 'https://calendar.new.example' },
      now: () => new Date(FIXED_NOW.getTime() + 86_400_000),
    });
    const after = await outputs(moved);
    expect(ids(after)).toEqual(ids(before));
    expect(links(after)).toEqual(
      links(before).map((link) =>
        link.replace('https://events.old.example/', 'https://calendar.new.example/'),
      ),
    );
    expect(await moved.query('select key, value from installation order by key')).toEqual([
      { key: 'since', value: '2026-11-22' },
      { key: 'uid_domain', value: 'events.old.example' },
    ]);
  });

  it('takes UID_DOMAIN over the stored domain, and stores it on a first start', async () => {
    const first = await start({ env: { PUBLIC_URL: 'https://events.old.example' } });
    await deliverEvents(first);
    const before = await outputs(first);
    await first.close();

    const overridden = await start({
      database: first.database,
      env: { PUBLIC_URL: 'https://calendar.new.example', UID_DOMAIN: 'Events.Example.ORG' },
    });
    const after = await outputs(overridden);
    await overridden.close();
    expect(after.uids).toEqual(
      before.uids.map((uid) => uid.replace('@events.old.example', '@events.example.org')),
    );
    expect(after.json.map((item) => item.id)).toEqual(
      before.json.map((item) =>
        item.id.replace('tag:events.old.example,', 'tag:events.example.org,'),
      ),
    );
    // The override changes nothing stored: without it, the stored domain is back.
    const restored = await start({
      database: first.database,
      env: { PUBLIC_URL: 'https://calendar.new.example' },
    });
    expect(ids(await outputs(restored))).toEqual(ids(before));

    const fresh = await start({
      env: { PUBLIC_URL: 'http://localhost:3000', UID_DOMAIN: 'events.example.org' },
    });
    await deliverEvents(fresh);
    await fresh.close();
    const later = await start({
      database: fresh.database,
      env: { PUBLIC_URL: 'https://events.example.net' },
    });
    for (const uid of (await outputs(later)).uids) expect(uid).toMatch(/@events\.example\.org$/);
  });

  it('keeps them through export and import, into a database another start settled', async () => {
    const source = await start({ env: { PUBLIC_URL: 'https://events.old.example' } });
    await deliverEvents(source);
    const before = await outputs(source);
    await source.close();
    // The target was started once (another domain, another day) before the import.
    const target = await start({
      env: { PUBLIC_URL: 'https://calendar.new.example' },
      now: () => new Date(FIXED_NOW.getTime() + 30 * 86_400_000),
    });
    await target.close();

    const dump: Buffer[] = [];
    const sink = new PassThrough().on('data', (chunk: Buffer) => dump.push(chunk));
    const from = openDatabase(loadConfig(databaseEnv(source.database)));
    await exportDatabase(from, sink, { exportedAt: FIXED_NOW }).finally(() => from.close());
    const into = openDatabase(loadConfig(databaseEnv(target.database)));
    await importDatabase(into, Readable.from([Buffer.concat(dump)])).finally(() => into.close());

    const moved = await start({
      database: target.database,
      env: { PUBLIC_URL: 'https://calendar.new.example' },
    });
    expect(ids(await outputs(moved))).toEqual(ids(before));
  });

  // feedparser 6.0 reads RSS and Atom (JSON Feed only from 6.1).
  it.skipIf(!hasFeedparser)('reads back as the same ids in feedparser', async () => {
    const app = await start({ env: { PUBLIC_URL: 'https://events.old.example' } });
    await deliverEvents(app);
    const expected = await outputs(app);
    for (const [path, items] of [
      ['/events.rss', expected.rss],
      ['/events.atom', expected.atom],
    ] as const) {
      const read = spawnSync(SYSTEM_PYTHON, [join(HELPERS, 'feedparser-ids.py')], {
        input: await text(app, path),
        encoding: 'utf8',
      });
      expect(read.status, read.stderr).toBe(0);
      const entries = (read.stdout.trim().split('\n') as string[]).map(
        (line) => JSON.parse(line) as { id: string; link: string; guidislink: boolean },
      );
      expect(
        entries.map((entry) => ({ id: entry.id, link: entry.link })),
        path,
      ).toEqual(items.map((item) => ({ id: item.id, link: item.link })));
      // An RSS guid is no permalink (isPermaLink="false"). (feedparser reads every Atom id
      // before the entry's first link as one, so only RSS says something here.)
      if (path === '/events.rss') for (const entry of entries) expect(entry.guidislink).toBe(false);
    }
  });
});
