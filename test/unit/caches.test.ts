import { describe, expect, it } from 'vitest';
import { createCaches } from '../../src/cache/caches.js';
import { EventCache } from '../../src/cache/event-cache.js';
import { FragmentCache } from '../../src/cache/fragment-cache.js';
import { ResponseStore, type CachedResponse } from '../../src/cache/response-store.js';
import { eventRevisionKey, keyOfEvent } from '../../src/cache/revision-key.js';
import { buildEvent } from '../helpers/sample-events.js';

const response = (text: string, expiresAt: Date | null = null): CachedResponse => ({
  body: Buffer.from(text),
  contentType: 'text/plain',
  lastModified: new Date(0),
  expiresAt,
  etag: `"${text}"`,
  lastModifiedHeader: new Date(0).toUTCString(),
});

/** Asks `store` for `key` once, at data version 0, so that its next response is kept. */
async function askedBefore(store: ResponseStore, key: string): Promise<void> {
  await store.getOrRender(key, 0, new Date(0), async () => response('first'));
}

/** A render that finishes when told to. */
function pendingRender(text: string) {
  let finish: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<CachedResponse>((resolve, reject) => {
    finish = () => resolve(response(text));
    fail = reject;
  });
  return { render: () => done, finish, fail };
}

describe('the revision key', () => {
  it('changes with the revision and with the dates an output shows', () => {
    const event = buildEvent({});
    const key = keyOfEvent(event);
    expect(keyOfEvent({ ...event })).toBe(key);
    expect(keyOfEvent({ ...event, revision: event.revision + 1 })).not.toBe(key);
    expect(keyOfEvent({ ...event, lastChangedAt: new Date(1) })).not.toBe(key);
    expect(keyOfEvent({ ...event, effectiveEndsAt: new Date(1) })).not.toBe(key);
    expect(key.startsWith(eventRevisionKey(event.id, ''))).toBe(true);
  });
});

describe('FragmentCache', () => {
  it('drops the least recently used entries beyond its entry bound', () => {
    const cache = new FragmentCache<string>({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) cache.set(key, key);
    cache.get('a');
    cache.set('d', 'd');
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key))).toEqual(['a', undefined, 'c', 'd']);
  });

  it('keeps its size in bytes (keys included) within bound', () => {
    const cache = new FragmentCache<Uint8Array>({ maxEntries: 1000, maxBytes: 100 });
    for (let index = 0; index < 20; index += 1) cache.set(`k${index}`, new Uint8Array(10));
    expect(cache.size).toBeLessThanOrEqual(100 / 12);
    expect(cache.get('k19')).toHaveLength(10);
    expect(cache.get('k0')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('gives each name its own namespace, never reused', () => {
    const cache = new FragmentCache<string>();
    const a = cache.namespace('ics|a');
    expect(cache.namespace('ics|a')).toBe(a);
    const b = cache.namespace('ics|b');
    expect(b).not.toBe(a);
    cache.clear();
    expect([cache.namespace('ics|a'), cache.namespace('ics|b')]).not.toContain(a);
  });
});

describe('EventCache', () => {
  it('holds mapped events within a byte bound when told their size', () => {
    const cache = new EventCache<{ description: string }>({
      maxBytes: 10_000,
      sizeOf: (event) => event.description.length,
    });
    for (let index = 0; index < 10; index += 1) {
      cache.set(`stager-${index}`, 'r1', { description: 'x'.repeat(3_000) });
    }
    expect(cache.size).toBe(3);
    expect(cache.get('stager-9', 'r1')).toBeDefined();
    expect(cache.get('stager-0', 'r1')).toBeUndefined();
    // One larger than the bound is counted as the whole bound, and keeps only itself.
    cache.set('stager-big', 'r1', { description: 'x'.repeat(50_000) });
    expect(cache.size).toBe(1);
  });

  it('returns an event only for the row version it was mapped from', () => {
    const cache = new EventCache<{ title: string }>({ maxEntries: 2 });
    const event = { title: 'one' };
    cache.set('stager-1', 'r1', event);
    expect(cache.get('stager-1', 'r1')).toBe(event);
    expect(cache.get('stager-1', 'r2')).toBeUndefined();
    cache.set('stager-2', 'r1', { title: 'two' });
    cache.set('stager-3', 'r1', { title: 'three' });
    expect(cache.size).toBe(2);
    expect(cache.get('stager-1', 'r1')).toBeUndefined();
  });
});

describe('ResponseStore', () => {
  const now = new Date('2026-11-22T12:00:00Z');

  it('keeps a response from the second request of its key on, rendering it once per data version', async () => {
    const store = new ResponseStore();
    let renders = 0;
    const render = async () => response(`v${++renders}`);
    // Asked once: rendered, not kept.
    expect((await store.getOrRender('k', 1, now, render)).etag).toBe('"v1"');
    expect(store.size).toBe(0);
    // Asked again: rendered and kept.
    expect((await store.getOrRender('k', 1, now, render)).etag).toBe('"v2"');
    expect((await store.getOrRender('k', 1, now, render)).etag).toBe('"v2"');
    expect((await store.getOrRender('k', 2, now, render)).etag).toBe('"v3"');
    expect((await store.getOrRender('k', 2, now, render)).etag).toBe('"v3"');
    expect(store.stats).toEqual({ hits: 2, misses: 3 });
    expect(store.size).toBe(1);
  });

  it('keeps nothing of a flood of keys each asked once, compressed bodies included', async () => {
    const store = new ResponseStore();
    let encodes = 0;
    const encode = (body: Buffer) => {
      encodes += 1;
      return body;
    };
    for (let index = 0; index < 1_000; index += 1) {
      const entry = await store.getOrRender(`k${index}`, 1, now, async () => response(`${index}`));
      store.encodedBody(entry, 'gzip', encode);
      store.encodedBody(entry, 'gzip', encode);
    }
    expect(store.size).toBe(0);
    expect(encodes).toBe(2_000);
    // A key asked before is kept, as are its compressed bodies; clear() keeps what was asked.
    store.clear();
    const kept = await store.getOrRender('k7', 1, now, async () => response('7'));
    store.encodedBody(kept, 'gzip', encode);
    store.encodedBody(kept, 'gzip', encode);
    expect(store.size).toBe(1);
    expect(encodes).toBe(2_001);
  });

  it('renders URLs asked once one at a time, back to back while nothing is answered from the store', async () => {
    const store = new ResponseStore();
    let running = 0;
    let most = 0;
    const spans: [number, number][] = [];
    const slowRender = (text: string) => async () => {
      const started = performance.now();
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running -= 1;
      spans.push([started, performance.now()]);
      return response(text);
    };
    const answers = await Promise.all(
      ['a', 'b', 'c'].map((key) => store.getOrRender(key, 1, now, slowRender(key))),
    );
    expect(answers.map((answer) => answer.etag)).toEqual(['"a"', '"b"', '"c"']);
    expect(most).toBe(1);
    // No hits: no pause between them (a pause would be three times the 30 ms render).
    expect(spans[1]![0] - spans[0]![1]).toBeLessThan(60);
    expect(spans[2]![0] - spans[1]![1]).toBeLessThan(60);
  });

  it('pauses between renders of URLs asked once while it answers hits, three times the last render', async () => {
    const store = new ResponseStore();
    await askedBefore(store, 'polled');
    await store.getOrRender('polled', 1, now, async () => response('polled'));
    const spans: [number, number][] = [];
    const slowRender = (text: string) => async () => {
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 30));
      spans.push([started, performance.now()]);
      return response(text);
    };
    const first = store.getOrRender('a', 1, now, slowRender('a'));
    const second = store.getOrRender('b', 1, now, slowRender('b'));
    await first;
    // A polled feed answered from the store between the two.
    expect((await store.getOrRender('polled', 1, now, slowRender('unused'))).etag).toBe('"polled"');
    await second;
    expect(spans[1]![0] - spans[0]![1]).toBeGreaterThanOrEqual(80);
  });

  it('renders again once a shown event left the window', async () => {
    const store = new ResponseStore();
    const expiresAt = new Date(now.getTime() + 1000);
    await store.getOrRender('k', 1, now, async () => response('old', expiresAt));
    const again = await store.getOrRender('k', 1, expiresAt, async () => response('new'));
    expect(again.etag).toBe('"new"');
  });

  it('lets the request that finds the data changed wait, and serves the others the previous response', async () => {
    const store = new ResponseStore();
    await askedBefore(store, 'k');
    await store.getOrRender('k', 1, now, async () => response('old'));
    const pending = pendingRender('new');
    const first = store.getOrRender('k', 2, now, pending.render);
    let unused = 0;
    const meanwhile = await store.getOrRender('k', 2, now, async () => {
      unused += 1;
      return response('other');
    });
    expect(meanwhile.etag).toBe('"old"');
    pending.finish();
    expect((await first).etag).toBe('"new"');
    expect((await store.getOrRender('k', 2, now, async () => response('other'))).etag).toBe(
      '"new"',
    );
    expect(unused).toBe(0);
  });

  it('shares a first render between concurrent requests', async () => {
    const store = new ResponseStore();
    const pending = pendingRender('only');
    const requests = [1, 2, 3].map(() => store.getOrRender('k', 1, now, pending.render));
    pending.finish();
    expect((await Promise.all(requests)).map((entry) => entry.etag)).toEqual([
      '"only"',
      '"only"',
      '"only"',
    ]);
  });

  it('keeps the previous response when a render fails, and tries again on the next request', async () => {
    const store = new ResponseStore();
    await askedBefore(store, 'k');
    await store.getOrRender('k', 1, now, async () => response('old'));
    const pending = pendingRender('never');
    const failing = store.getOrRender('k', 2, now, pending.render);
    const meanwhile = store.getOrRender('k', 2, now, pending.render);
    pending.fail(new Error('render: broken'));
    await expect(failing).rejects.toThrow('render: broken');
    expect((await meanwhile).etag).toBe('"old"');
    expect((await store.getOrRender('k', 2, now, async () => response('fixed'))).etag).toBe(
      '"fixed"',
    );
  });

  it('keeps responses and their encoded bodies within their byte bounds', async () => {
    const store = new ResponseStore({ maxBytes: 100, maxEncodedBytes: 100 });
    for (let index = 0; index < 10; index += 1) {
      const text = `${index}`.padEnd(30, '.');
      await askedBefore(store, `k${index}`);
      await store.getOrRender(`k${index}`, 1, now, async () => response(text));
    }
    expect(store.size).toBeLessThanOrEqual(3);
    let encodes = 0;
    const encode = (body: Buffer) => {
      encodes += 1;
      return Buffer.concat([body, body]);
    };
    const entry = response('x'.repeat(20));
    expect(store.encodedBody(entry, 'gzip', encode)).toHaveLength(40);
    expect(store.encodedBody(entry, 'gzip', encode)).toHaveLength(40);
    expect(encodes).toBe(1);
    store.encodedBody(response('y'.repeat(20)), 'gzip', encode);
    store.encodedBody(response('z'.repeat(20)), 'gzip', encode);
    store.encodedBody(entry, 'gzip', encode);
    expect(encodes).toBe(4);
  });
});

describe('createCaches', () => {
  it('empties every cache with clear(), keeping the data version', async () => {
    const caches = createCaches<{ title: string }, { validUntil: Date | null }>();
    const version = caches.dataVersion.value;
    await askedBefore(caches.responses, 'k');
    await caches.responses.getOrRender('k', version, new Date(), async () => response('a'));
    expect(caches.responses.size).toBe(1);
    caches.feedItems.set('f', new Uint8Array(1));
    caches.listItems.set('l', '<li>');
    caches.rows.set('stager-1', 'r1', { title: 'one' });
    let facetLoads = 0;
    const loadFacets = async () => {
      facetLoads += 1;
      return { validUntil: null };
    };
    await caches.facets.get(1, 0, loadFacets);

    caches.clear();
    expect([
      caches.responses.size,
      caches.feedItems.size,
      caches.listItems.size,
      caches.rows.size,
    ]).toEqual([0, 0, 0, 0]);
    await caches.facets.get(1, 0, loadFacets);
    expect(facetLoads).toBe(2);
    expect(caches.dataVersion.value).toBe(version);
  });

  it('shares CACHE_MAX_BYTES out: 40% for whole responses, a quarter for fragments, a fifth for mapped events', async () => {
    const caches = createCaches({ maxBytes: 4 * 1024 * 1024 });
    const now = new Date('2026-11-22T12:00:00Z');
    const body = 'x'.repeat(100 * 1024);
    for (let index = 0; index < 60; index += 1) {
      await askedBefore(caches.responses, `k${index}`);
      await caches.responses.getOrRender(`k${index}`, 1, now, async () => response(body));
    }
    // 1.6 MB of 100 KB bodies: 16 of them, less the keys and per-entry overhead.
    expect(caches.responses.size).toBeGreaterThanOrEqual(15);
    expect(caches.responses.size).toBeLessThanOrEqual(16);
    const fragment = new Uint8Array(64 * 1024);
    for (let index = 0; index < 60; index += 1) caches.feedItems.set(`f${index}`, fragment);
    // A quarter: 1 MB of 64 KB fragments.
    expect(caches.feedItems.size).toBeGreaterThanOrEqual(14);
    expect(caches.feedItems.size).toBeLessThanOrEqual(16);
    // A fifth: 819 KB of mapped events of 64 KB each, as rowBytes counts them.
    const sized = createCaches<{ title: string }, { validUntil: Date | null }>({
      maxBytes: 4 * 1024 * 1024,
      rowBytes: () => 64 * 1024,
    });
    for (let index = 0; index < 60; index += 1) sized.rows.set(`e${index}`, 'r1', { title: 't' });
    expect(sized.rows.size).toBe(12);
  });

  it('trusts nothing cached while other writers may go unheard', () => {
    const caches = createCaches({ otherWriters: true });
    expect(caches.dataVersion.value).not.toBe(caches.dataVersion.value);
  });
});
