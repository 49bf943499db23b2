import { afterEach, describe, expect, it } from 'vitest';
import { fixture, startTestApp, type TestApp } from '../helpers/test-app.js';

/** What Eventport sends for search engines reaches the event page's JSON-LD. */

let app: TestApp | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

function jsonLd(html: string): Record<string, unknown> {
  const match = /<script type="application\/ld\+json">([^<]*)<\/script>/.exec(html);
  expect(match, 'JSON-LD element').not.toBeNull();
  return JSON.parse(match![1]!) as Record<string, unknown>;
}

interface EventportPost {
  data: { event: Record<string, unknown>; profile: Record<string, unknown> };
}

function munichHouse(change: (post: EventportPost) => void): string {
  const post = JSON.parse(
    fixture('eventport/post-upcoming-munich-house.json').toString(),
  ) as EventportPost;
  change(post);
  return JSON.stringify(post);
}

describe("Eventport's line-up, pre-sale start and organizer homepage", () => {
  it('show as performer, offers.validFrom and organizer.url', async () => {
    app = await startTestApp();
    const body = munichHouse((post) => {
      post.data.event.lineup = ['DJ Koze', { name: 'Roman Flügel' }, '', { name: null }];
      post.data.event.preSaleBegin = '2026-11-01T09:00:00.000Z';
    });
    expect((await app.postEventport(body)).status).toBe(202);
    await app.settle();
    const data = jsonLd(await (await app.get('/events/eventport-MunichHouse000001')).text());
    expect(data.performer).toEqual([
      { '@type': 'PerformingGroup', name: 'DJ Koze' },
      { '@type': 'PerformingGroup', name: 'Roman Flügel' },
    ]);
    expect(data.organizer).toMatchObject({ url: 'http://www.eventport.net/' });
    const offers = data.offers as Record<string, unknown>[];
    expect(offers.length).toBeGreaterThan(0);
    for (const offer of offers) expect(offer.validFrom).toBe('2026-11-01T10:00:00+01:00');
  });

  it("locates an event without a venue in the organizer's city", async () => {
    app = await startTestApp();
    const body = munichHouse((post) => {
      delete post.data.event.location;
    });
    expect((await app.postEventport(body)).status).toBe(202);
    await app.settle();
    const data = jsonLd(await (await app.get('/events/eventport-MunichHouse000001')).text());
    expect(data.location).toEqual({
      '@type': 'Place',
      name: 'München',
      address: { '@type': 'PostalAddress', addressLocality: 'München' },
    });
  });
});
