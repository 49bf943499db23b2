import { describe, expect, it } from 'vitest';
import {
  instantFromWallTime,
  localDateKey,
  wallTimeIn,
  zoneOffsetMs,
} from '../../src/events/time.js';

describe('time-zone arithmetic', () => {
  it('agrees with Intl on every hour across both 2026 DST changes in several zones', () => {
    for (const zone of [
      'Europe/Amsterdam',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'UTC',
    ]) {
      const format = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      });
      for (
        let t = Date.UTC(2026, 2, 1);
        t < Date.UTC(2026, 10, 30);
        t += 3_600_000 * 7 + 60_000 * 13
      ) {
        const wall = wallTimeIn(new Date(t), zone);
        const expected = format.format(new Date(t)).replace(', ', 'T');
        const actual = `${wall.year}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}T${String(wall.hour).padStart(2, '0')}:${String(wall.minute).padStart(2, '0')}`;
        expect(actual, `${zone} ${new Date(t).toISOString()}`).toBe(expected);
      }
    }
  });

  it('maps wall times back to instants, also on DST days', () => {
    expect(
      instantFromWallTime(
        { year: 2026, month: 3, day: 29, hour: 12, minute: 0, second: 0 },
        'Europe/Amsterdam',
      ).toISOString(),
    ).toBe('2026-03-29T10:00:00.000Z');
    expect(
      instantFromWallTime(
        { year: 2026, month: 10, day: 25, hour: 12, minute: 0, second: 0 },
        'Europe/Amsterdam',
      ).toISOString(),
    ).toBe('2026-10-25T11:00:00.000Z');
    expect(zoneOffsetMs(new Date('2026-07-01T00:00:00Z'), 'Europe/Amsterdam')).toBe(7_200_000);
    expect(localDateKey(new Date('2026-12-05T23:30:00Z'), 'Europe/Amsterdam')).toBe('2026-12-06');
  });
});
