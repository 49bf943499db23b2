import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/lru-cache.js';

describe('LruCache', () => {
  it('drops the least recently used entries beyond its entry bound', () => {
    const cache = new LruCache<string>(3);
    for (const key of ['a', 'b', 'c']) cache.set(key, key);
    cache.get('a');
    cache.set('d', 'd');
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((key) => cache.get(key))).toEqual(['a', undefined, 'c', 'd']);
  });

  it('keeps its total weight within bound, evicting a tenth below it', () => {
    const cache = new LruCache<string>(1000, 100, (key, value) => value.length);
    for (let index = 0; index < 20; index += 1) cache.set(`k${index}`, 'x'.repeat(10));
    expect(cache.totalWeight).toBeLessThanOrEqual(100);
    expect(cache.get('k19')).toBe('x'.repeat(10));
    expect(cache.get('k0')).toBeUndefined();
    cache.set('k19', 'y');
    expect(cache.totalWeight).toBe(10 * (cache.size - 1) + 1);
    cache.clear();
    expect([cache.size, cache.totalWeight]).toEqual([0, 0]);
  });

  it('replaces an entry stored again under the same key', () => {
    const cache = new LruCache<number>(2);
    cache.set('a', 1);
    cache.set('a', 2);
    expect([cache.size, cache.get('a')]).toEqual([1, 2]);
    expect(cache.delete('a')).toBe(true);
    expect(cache.delete('a')).toBe(false);
  });
});
