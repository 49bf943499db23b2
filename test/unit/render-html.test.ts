import { describe, expect, it } from 'vitest';
import type { EventFilter } from '../../src/events/filter.js';
import { isoInZone } from '../../src/events/time.js';
import { embedModel, renderEmbed } from '../../src/render/pages/embed-page.js';
import { groupByDay, statusBadges } from '../../src/render/pages/event-list.js';
import {
  eventJsonLd,
  jsonForScriptElement,
  renderEventPage,
} from '../../src/render/pages/event-page.js';
import { listPageModel, renderListPage, subscribeLinks } from '../../src/render/pages/home-page.js';
import { createTemplates, type SiteInfo } from '../../src/render/pages/templates.js';
import { FragmentCache } from '../../src/cache/fragment-cache.js';
import { STATUS_WORDS } from '../../src/render/status-words.js';
import { buildEvent, sampleEvents } from '../helpers/sample-events.js';

const templates = createTemplates();
const site: SiteInfo = {
  siteTitle: 'Marquee',
  publicUrl: 'https://marquee.test',
  timeZone: 'Europe/Amsterdam',
  assets: {
    siteCss: '/assets/site.css?v=1',
    siteJs: '/assets/site.js?v=1',
    embedCss: '/assets/embed.css?v=1',
    embedFrameJs: '/assets/embed-frame.js?v=1',
  },
  feedPaths: { ics: '/events.ics', rss: '/events.rss', atom: '/events.atom', json: '/events.json' },
};
const noFilter: EventFilter = {
  city: [],
  genre: [],
  organizer: [],
  venue: [],
  source: [],
  from: null,
  to: null,
  q: [],
  cancelled: 'status',
  days: null,
  order: 'start',
  near: null,
  radius: 25,
  limit: 50,
  offset: 0,
};

describe('html renderer', () => {
  it('writes times with the zone offset of the date, across DST', () => {
    expect(isoInZone(new Date('2026-12-05T19:30:00Z'), 'Europe/Amsterdam')).toBe(
      '2026-12-05T20:30:00+01:00',
    );
    expect(isoInZone(new Date('2027-06-19T12:00:00Z'), 'Europe/Berlin')).toBe(
      '2027-06-19T14:00:00+02:00',
    );
    expect(isoInZone(new Date('2026-12-05T19:30:00Z'), 'America/St_Johns')).toBe(
      '2026-12-05T16:00:00-03:30',
    );
  });

  it('groups by the start day in the site zone, not in UTC', () => {
    const late = buildEvent({
      id: 'stager-late',
      startsAt: new Date('2026-12-05T23:30:00Z'),
      endsAt: null,
    });
    const groups = groupByDay([buildEvent(), late], 'Europe/Amsterdam');
    expect(
      groups.map((group) => [
        group.heading,
        group.events.map((event) => ('time' in event ? event.time : null)),
      ]),
    ).toEqual([
      ['Saturday 5 December 2026', ['20:30–23:00']],
      ['Sunday 6 December 2026', ['00:30']],
    ]);
  });

  it('keeps JSON-LD inside its element whatever the values hold', () => {
    const text = jsonForScriptElement({ name: '</script><script>alert(1)</script> & <!-- \u2028' });
    expect(text).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(text)).toEqual({ name: '</script><script>alert(1)</script> & <!-- \u2028' });
  });

  it('describes a rescheduled, sold-out event in schema.org terms', () => {
    const rescheduled = sampleEvents()[3]!;
    const data = eventJsonLd(rescheduled, site);
    expect(data.eventStatus).toBe('https://schema.org/EventRescheduled');
    expect(data.previousStartDate).toBe('2027-06-12T14:00:00+02:00');
    expect(data.offers).toEqual([
      {
        '@type': 'Offer',
        name: 'Early bird',
        price: 35,
        priceCurrency: 'EUR',
        url: 'https://eventport.test/e/88',
        availability: 'https://schema.org/SoldOut',
      },
      {
        '@type': 'Offer',
        name: 'Odd currency',
        price: 12,
        priceCurrency: 'XX1',
        url: 'https://eventport.test/e/88',
        availability: 'https://schema.org/SoldOut',
      },
    ]);
    expect(data.organizer).toBeUndefined();
  });

  it('renders the hostile sample event inert', () => {
    const hostile = sampleEvents()[4]!;
    const html = renderEventPage(templates, { site, event: hostile });
    expect(html).not.toMatch(
      /<script>alert|<iframe|<img src=x|onerror=alert\(1\)>|href="javascript:/,
    );
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; Night ]]&gt; Tapes');
    // The image URL is normalized and escaped, never able to close its attribute.
    expect(html).toContain(
      'src="https://evil.test/pic.png?a=1&amp;b=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"',
    );
    const json = /<script type="application\/ld\+json">([^<]*)<\/script>/.exec(html)![1]!;
    // The name is the title as text: XML-illegal control characters dropped, whitespace collapsed.
    expect((JSON.parse(json) as { name: string }).name).toBe(
      '<script>alert(1)</script> Night ]]> Tapes ]]> 🎸 X-INJECTED:1',
    );
  });

  it('builds subscription links, webcal from http too', () => {
    const links = subscribeLinks(
      { ...site, publicUrl: 'http://localhost:3000' },
      { ...noFilter, city: ['München'] },
    );
    expect(links.ics).toBe('http://localhost:3000/events.ics?city=M%C3%BCnchen');
    expect(links.webcal).toBe('webcal://localhost:3000/events.ics?city=M%C3%BCnchen');
    // Google Calendar drops STATUS:CANCELLED events: its subscription asks to see them.
    expect(links.google).toBe(
      `https://calendar.google.com/calendar/r?cid=${encodeURIComponent(`${links.webcal}&cancelled=visible`)}`,
    );
    expect(links.name).toBe('Marquee: Events in München');
  });
});

describe('list item caching', () => {
  it('renders the same bytes from cached item markup as from the templates alone', () => {
    const events = sampleEvents();
    const input = {
      site,
      filter: noFilter,
      page: { total: events.length, events },
      facets: { cities: [], genres: [], organizers: [] },
      paging: { page: 1, pageSize: 50, defaultPageSize: 50 },
    };
    const plain = templates.render('./home', listPageModel(input));
    const cache = new FragmentCache<string>({ maxEntries: 100 });
    expect(renderListPage(templates, input, cache)).toBe(plain);
    expect(cache.size).toBe(events.length);
    expect(renderListPage(templates, input, cache)).toBe(plain);

    const embedInput = {
      site,
      filter: noFilter,
      page: { total: events.length, events },
      theme: { theme: null, accent: null },
    };
    const plainEmbed = templates.render('./embed', embedModel(embedInput));
    expect(renderEmbed(templates, embedInput, cache)).toBe(plainEmbed);
    expect(renderEmbed(templates, embedInput, cache)).toBe(plainEmbed);
  });
});

describe('status words on pages', () => {
  it('labels badges with the words feeds and calendars use', () => {
    const zone = 'Europe/Amsterdam';
    const label = (event: Parameters<typeof statusBadges>[0]) =>
      statusBadges(event, zone).map((badge) => badge.label);
    expect(label(buildEvent({ status: 'cancelled' }))).toEqual([STATUS_WORDS.cancelled]);
    expect(label(buildEvent({ status: 'rescheduled' }))).toEqual([STATUS_WORDS.rescheduled]);
    expect(label(buildEvent({ status: 'relocated', soldOut: true }))).toEqual([
      STATUS_WORDS.relocated,
      STATUS_WORDS.soldOut,
    ]);
  });

  it('says an end time was not announced where the end would show, on the list and the page', () => {
    const openEnded = buildEvent({ endsAt: null });
    const page = renderEventPage(templates, { site, event: openEnded });
    expect(page).toContain(`<span class="end-note">${STATUS_WORDS.openEnded}</span>`);
    expect(renderEventPage(templates, { site, event: buildEvent() })).not.toContain(
      STATUS_WORDS.openEnded,
    );
    const list = renderListPage(templates, {
      site,
      filter: noFilter,
      page: { total: 2, events: [openEnded, buildEvent({ id: 'stager-1003' })] },
      facets: { cities: [], genres: [], organizers: [] },
      paging: { page: 1, pageSize: 50, defaultPageSize: 50 },
    });
    expect(list.split(STATUS_WORDS.openEnded)).toHaveLength(2);
    expect(list).toContain(
      `<div class="event-when"><time class="event-time" datetime="2026-12-05T20:30:00+01:00">20:30</time> <span class="end-note">${STATUS_WORDS.openEnded}</span></div>`,
    );
  });
});
