import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentHash } from '../../src/events/ingest.js';
import { buildEvent } from '../helpers/sample-events.js';
import type { NormalizedEvent } from '../../src/events/types.js';

/** An event's content hash decides whether a delivery is a change (a new SEQUENCE). */

function normalized(overrides: Partial<NormalizedEvent> = {}): NormalizedEvent {
  const {
    id: _id,
    effectiveEndsAt: _end,
    previousStartsAt: _previous,
    firstSeenAt: _first,
    lastChangedAt: _changed,
    revision: _revision,
    withdrawnAt: _withdrawn,
    ...event
  } = buildEvent(overrides);
  return event;
}

describe('contentHash', () => {
  it('is what it was before organizer URL, city, pre-sale start and line-up, when none is given', () => {
    const event = normalized();
    const {
      sourceUpdatedAt: _ignored,
      presaleStartsAt: _presale,
      performers: _performers,
      ...before
    } = event;
    const organizer = { id: event.organizer.id, name: event.organizer.name };
    const beforeHash = createHash('sha256')
      .update(JSON.stringify({ ...before, organizer }))
      .digest('base64url');
    expect(contentHash(event)).toBe(beforeHash);
  });

  it('changes with each of them', () => {
    const base = contentHash(normalized());
    const changed = [
      normalized({ presaleStartsAt: new Date('2026-10-01T08:00:00Z') }),
      normalized({ performers: ['Night Tapes'] }),
      normalized({
        organizer: { id: 'org-7', name: 'Paradiso', url: 'https://p.test/', city: null },
      }),
      normalized({ organizer: { id: 'org-7', name: 'Paradiso', url: null, city: 'Amsterdam' } }),
    ].map(contentHash);
    expect(new Set([base, ...changed]).size).toBe(5);
    expect(contentHash(normalized({ sourceUpdatedAt: new Date() }))).toBe(base);
  });
});
