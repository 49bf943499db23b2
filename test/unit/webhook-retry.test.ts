import { describe, expect, it } from 'vitest';
import { MAX_RETRY_MS, retryAfterMs, retryDelayMs } from '../../src/changes/webhook-sender.js';

/** When an outgoing webhook is tried again: backoff with jitter, Retry-After, the bound. */

describe('webhook retry delays', () => {
  it('doubles the base at each failure, spread by a jitter of ±20 %', () => {
    const low = () => 0;
    const middle = () => 0.5;
    const high = () => 0.999_999;
    expect(retryDelayMs(1, 10_000, null, middle)).toBe(10_000);
    expect(retryDelayMs(3, 10_000, null, middle)).toBe(40_000);
    expect(retryDelayMs(1, 10_000, null, low)).toBe(8_000);
    expect(retryDelayMs(1, 10_000, null, high)).toBe(12_000);
    const spread = new Set(
      Array.from({ length: 50 }, () => retryDelayMs(2, 10_000, null, Math.random)),
    );
    expect(spread.size).toBeGreaterThan(1);
    for (const delay of spread) {
      expect(delay).toBeGreaterThanOrEqual(16_000);
      expect(delay).toBeLessThanOrEqual(24_000);
    }
  });

  it('waits at least what Retry-After asks, and never more than an hour', () => {
    const middle = () => 0.5;
    expect(retryDelayMs(1, 10_000, 120_000, middle)).toBe(120_000);
    // A shorter Retry-After does not shorten the backoff.
    expect(retryDelayMs(3, 10_000, 1_000, middle)).toBe(40_000);
    expect(retryDelayMs(1, 10_000, 86_400_000, middle)).toBe(MAX_RETRY_MS);
    expect(retryDelayMs(40, 10_000, null, middle)).toBe(MAX_RETRY_MS);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Tue, 01 Dec 2026 12:05:00 GMT', now)).toBe(300_000);
    expect(retryAfterMs('Tue, 01 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('-5', now)).toBeNull();
  });
});
