import { describe, expect, it } from 'vitest';
import { DataVersion } from '../../src/cache/data-version.js';

/** Lets the event loop finish its turn: immediates queued in this one have run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('DataVersion', () => {
  it('stays the same between writes and changes with each bump', () => {
    const version = new DataVersion();
    const first = version.value;
    expect(version.value).toBe(first);
    version.bump();
    expect(version.value).not.toBe(first);
  });

  it('is new on every read while writes may go unseen, and settles once they are seen again', () => {
    const version = new DataVersion();
    const seen = version.value;
    version.setSeeingAllWrites(false);
    const reads = [version.value, version.value, version.value];
    expect(new Set([seen, ...reads]).size).toBe(4);
    version.setSeeingAllWrites(true);
    const settled = version.value;
    expect(reads).not.toContain(settled);
    expect(version.value).toBe(settled);
  });

  it('changes the filter choices version only with writes that may change them', () => {
    const version = new DataVersion();
    const facets = version.facets;
    version.bump({ facets: false });
    expect(version.facets).toBe(facets);
    version.bump({ facets: true });
    expect(version.facets).not.toBe(facets);
    const seen = version.facets;
    version.setSeeingAllWrites(false);
    expect(version.facets).not.toBe(seen);
  });

  it('changes both versions when the file was written by another connection, and only then', async () => {
    const version = new DataVersion();
    let file = 7;
    version.followFileWrites(() => file);
    const value = version.value;
    const facets = version.facets;
    await nextTurn();
    expect([version.value, version.facets]).toEqual([value, facets]);
    file = 8;
    await nextTurn();
    expect(version.value).not.toBe(value);
    expect(version.facets).not.toBe(facets);
    const settled = version.value;
    await nextTurn();
    expect(version.value).toBe(settled);
  });

  it('reads the file version once per event-loop turn, and again in the next turn', async () => {
    const version = new DataVersion();
    let file = 1;
    let reads = 0;
    version.followFileWrites(() => {
      reads += 1;
      return file;
    });
    await nextTurn();
    reads = 0;
    const value = version.value;
    file = 2;
    // Requests handled in the same turn share one check.
    expect(version.value).toBe(value);
    expect(version.value).toBe(value);
    expect(reads).toBe(1);
    await nextTurn();
    expect(version.value).not.toBe(value);
    expect(reads).toBe(2);
  });
});
