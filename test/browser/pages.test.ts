import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS_DIR,
  launchChromium,
  PLACEHOLDER_SVG,
  skipBrowserTests,
  startHostServer,
} from '../helpers/browser.js';
import { seedPageEvents } from '../helpers/page-data.js';
import { startTestApp, TEST_SECRETS, type TestApp } from '../helpers/test-app.js';

/** The pages in a real browser: the filter form, an event page, the embed, hostile data. */

// What the functions passed to evaluate() use in the page; the project compiles without the DOM lib.
declare const document: {
  documentElement: {
    getBoundingClientRect(): { height: number };
    scrollWidth: number;
    clientWidth: number;
  };
  activeElement: { textContent: string | null } | null;
};
declare function getComputedStyle(element: unknown): { borderLeftColor: string };
interface PageElement {
  tagName: string;
  className: unknown;
  scrollWidth: number;
  clientWidth: number;
  getBoundingClientRect(): { left: number; right: number };
  contains(other: PageElement): boolean;
}
declare const window: { document: { querySelectorAll(selector: string): Iterable<PageElement> } };
declare const navigator: { clipboard: { readText(): Promise<string> } };

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
/** The phone widths every page must fit without scrolling sideways. */
const PHONE_WIDTHS = [320, 360, 390];
/** The Eventport event carrying Eventport's own price labels (test/helpers/page-data.ts). */
const PRICED_EVENT = 'eventport-K8qjtKSegBfbdGppg';

describe.skipIf(skipBrowserTests)('pages in Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    app = await startTestApp({ env: { ADMIN_TOKEN: TEST_SECRETS.adminToken } });
    await seedPageEvents(app);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A fresh context that records dialogs, console errors and page errors. */
  async function open(
    viewport = DESKTOP,
    options: { httpCredentials?: { username: string; password: string } } = {},
  ): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport, ...options });
    const problems: string[] = [];
    // Nothing outside the test servers is reachable; serve the one event image locally.
    await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) =>
      route.request().url().startsWith('https://cdn.example/')
        ? route.fulfill({ status: 200, contentType: 'image/svg+xml', body: PLACEHOLDER_SVG })
        : route.abort(),
    );
    context.on('page', (page) => watch(page, problems));
    const page = await context.newPage();
    return { context, page, problems };
  }

  function watch(page: Page, problems: string[]): void {
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  }

  const places = (page: Page) => page.locator('.event-place').allTextContents();

  it('filters by a city chosen in the form, with a shareable URL', async () => {
    const { context, page, problems } = await open();
    await page.goto(`${app.url}/`);
    expect(await page.title()).toBe('Marquee');
    expect(new Set(await places(page)).size).toBeGreaterThan(2);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'list-desktop.png'), fullPage: true });

    await page.selectOption('#f-city', 'Berlin');
    await Promise.all([
      page.waitForURL(/\?city=Berlin$/),
      page.getByRole('button', { name: 'Show events' }).click(),
    ]);
    expect(new URL(page.url()).search).toBe('?city=Berlin');
    const shown = await places(page);
    expect(shown.length).toBeGreaterThan(0);
    for (const place of shown) expect(place).toMatch(/, Berlin$/);
    expect(await page.locator('h1').textContent()).toBe('Events in Berlin');
    expect(await page.locator('#f-city').inputValue()).toBe('Berlin');
    // The subscribe panel follows the filter and its copy buttons are live.
    expect(await page.locator('a', { hasText: 'Calendar (webcal)' }).getAttribute('href')).toBe(
      'webcal://events.example.org/events.ics?city=Berlin',
    );
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
    await page.locator('button.copy').first().click();
    await expect
      .poll(() => page.locator('.copy-status').textContent())
      .toBe('Link copied to the clipboard.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      'webcal://events.example.org/events.ics?city=Berlin',
    );
    expect(problems).toEqual([]);
    await context.close();
  });

  it('is usable by keyboard alone', async () => {
    const { context, page, problems } = await open();
    await page.goto(`${app.url}/`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.focus('#f-city');
    await page.keyboard.press('ArrowDown'); // Amsterdam
    await page.keyboard.press('ArrowDown'); // Berlin
    await page.keyboard.press('ArrowDown'); // Munich
    await page.focus('#f-q');
    await Promise.all([page.waitForURL(/city=Munich/), page.keyboard.press('Enter')]);
    for (const place of await places(page)) expect(place).toMatch(/, Munich$/);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fits a phone screen', async () => {
    const { context, page, problems } = await open(PHONE);
    await page.goto(`${app.url}/`);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'list-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  /**
   * How far the page scrolls sideways (0 when it fits), and the first elements reaching past the
   * right edge or whose content does (a long word), to say what is too wide whatever the page
   * holds.
   */
  function horizontalOverflow(page: Page): Promise<{ overflow: number; wide: string[] }> {
    return page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...window.document.querySelectorAll('body *')].filter((element) => {
        const box = element.getBoundingClientRect();
        const contentRight = box.left + Math.max(element.scrollWidth, element.clientWidth);
        return box.right > width + 0.5 || (element.clientWidth > 0 && contentRight > width + 0.5);
      });
      // The innermost ones: their containers are only too wide because of them.
      const innermost = wide
        .filter((element) => !wide.some((other) => other !== element && element.contains(other)))
        .slice(0, 3)
        .map((element) => `${element.tagName.toLowerCase()}.${String(element.className)}`);
      return { overflow: document.documentElement.scrollWidth - width, wide: innermost };
    });
  }

  /** Every public page a phone shows: name (for the screenshot), path, expected status. */
  const PHONE_PAGES: [string, string, number][] = [
    ['home', '/', 200],
    ['home-munich', '/?city=Munich', 200],
    ['event', '/events/stager-700001', 200],
    ['event-prices', `/events/${PRICED_EVENT}`, 200],
    ['event-hostile', '/events/stager-666', 200],
    ['embed', '/embed', 200],
    ['error-unknown-event', '/events/stager-999999', 404],
    ['error-bad-filter', '/?limit=0', 400],
    ['error-no-route', '/no/such/page', 404],
  ];

  it.each(PHONE_WIDTHS)('shows every page at %i px without scrolling sideways', async (width) => {
    const { context, page, problems } = await open({ width, height: 800 });
    const tooWide: string[] = [];
    for (const [name, url, status] of PHONE_PAGES) {
      const response = await page.goto(`${app.url}${url}`);
      expect(response?.status(), url).toBe(status);
      const { overflow, wide } = await horizontalOverflow(page);
      if (overflow > 0) tooWide.push(`${url}: ${overflow} px (${wide.join(', ')})`);
      if (width === PHONE_WIDTHS[0]) {
        await page.screenshot({
          path: path.join(ARTIFACTS_DIR, `phone-${width}-${name}.png`),
          fullPage: true,
        });
      }
    }
    expect(tooWide).toEqual([]);
    // The error pages' own status is the only resource error a browser reports.
    expect(problems.filter((problem) => !/status of 40[04] /.test(problem))).toEqual([]);
    await context.close();
  });

  it('shows Eventport price labels in the list on the narrowest phone', async () => {
    const { context, page } = await open({ width: PHONE_WIDTHS[0]!, height: 800 });
    await page.goto(`${app.url}/?city=Munich`);
    const prices = page.locator('.event-prices');
    expect(await prices.textContent()).toMatch(/Pre-sale.*Box office price/);
    const box = (await prices.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE_WIDTHS[0]!);
    await context.close();
  });

  it.each(PHONE_WIDTHS)(
    'shows the admin page at %i px without scrolling sideways',
    async (width) => {
      const { context, page, problems } = await open(
        { width, height: 800 },
        { httpCredentials: { username: 'admin', password: TEST_SECRETS.adminToken } },
      );
      const response = await page.goto(`${app.url}/admin`);
      expect(response?.status()).toBe(200);
      const { overflow, wide } = await horizontalOverflow(page);
      expect(overflow, wide.join(', ')).toBeLessThanOrEqual(0);
      if (width === PHONE_WIDTHS[0]) {
        await page.screenshot({
          path: path.join(ARTIFACTS_DIR, `phone-${width}-admin.png`),
          fullPage: true,
        });
      }
      expect(problems).toEqual([]);
      await context.close();
    },
  );

  it('puts date, venue and tickets before the description on a phone, beside it on a desktop', async () => {
    const { context, page } = await open();
    const boxes = async () => {
      const of = async (selector: string) => (await page.locator(selector).boundingBox())!;
      return {
        when: await of('dt:text-is("When")'),
        where: await of('dt:text-is("Where")'),
        tickets: await of('a:text-is("Buy tickets")'),
        image: await of('img.event-image'),
        description: await of('.description'),
      };
    };
    for (const width of PHONE_WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${app.url}/events/stager-700001`);
      const { when, where, tickets, image, description } = await boxes();
      for (const fact of [when, where, tickets]) {
        expect(fact.y + fact.height, `${width} px`).toBeLessThanOrEqual(image.y);
        expect(fact.y + fact.height, `${width} px`).toBeLessThanOrEqual(description.y);
      }
    }
    await page.setViewportSize(DESKTOP);
    await page.goto(`${app.url}/events/stager-700001`);
    const { when, tickets, image, description } = await boxes();
    // The facts stand in a column right of the image and description, starting at the top.
    expect(when.x).toBeGreaterThanOrEqual(description.x + description.width);
    expect(tickets.x).toBeGreaterThanOrEqual(image.x + image.width);
    expect(when.y).toBeLessThan(description.y);
    await context.close();
  });

  it('opens an event page from the list', async () => {
    const { context, page, problems } = await open();
    await page.goto(`${app.url}/`);
    await Promise.all([
      page.waitForURL(/\/events\/stager-700001$/),
      page.getByRole('link', { name: 'Night Tapes' }).click(),
    ]);
    expect(await page.title()).toBe('Night Tapes · Marquee');
    expect(await page.locator('h1').textContent()).toBe('Night Tapes');
    expect(
      await page
        .locator('img.event-image')
        .evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth),
    ).toBe(1200);
    expect(
      await page.locator('a', { hasText: 'Add to calendar (.ics)' }).getAttribute('href'),
    ).toBe('/events/stager-700001.ics');
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'event-desktop.png'), fullPage: true });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'event-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('embeds in a page on another origin and keeps the iframe as tall as its content', async () => {
    const host = await startHostServer(`<!doctype html><html><head><title>Host</title></head>
<body style="font-family:sans-serif;max-width:40rem;margin:2rem auto">
<h1>A small venue site</h1>
<script src="${app.url}/embed.js" data-city="Amsterdam" data-limit="3" data-accent="#c03" async></script>
<div id="second"></div>
<script src="${app.url}/embed.js" data-target="#second" data-genre="Techno" data-theme="dark" async></script>
<p id="after">After the embeds.</p>
</body></html>`);
    const { context, page, problems } = await open();
    try {
      await page.goto(host.url);
      const iframes = page.locator('iframe');
      await expect.poll(() => iframes.count()).toBe(2);
      const frames = [await iframes.nth(0).elementHandle(), await iframes.nth(1).elementHandle()];
      for (const handle of frames) {
        const frame = (await handle!.contentFrame())!;
        await frame.waitForLoadState('load');
        expect(new URL(frame.url()).origin).toBe(new URL(app.url).origin);
        expect(new URL(frame.url()).origin).not.toBe(new URL(host.url).origin);
        const content = await frame.evaluate(() =>
          Math.ceil(document.documentElement.getBoundingClientRect().height),
        );
        await expect.poll(async () => (await handle!.boundingBox())!.height).toBe(content);
      }
      const first = (await frames[0]!.contentFrame())!;
      expect(await first.locator('.event-title').count()).toBe(3);
      expect(await first.locator('html').getAttribute('data-theme')).toBeNull();
      expect(
        await first
          .locator('.event')
          .first()
          .evaluate((item) => getComputedStyle(item).borderLeftColor),
      ).toBe('rgb(204, 0, 51)');
      const second = (await frames[1]!.contentFrame())!;
      expect(await second.locator('.event-title').allTextContents()).toEqual([
        'Berlin Techno Marathon',
      ]);
      expect(await second.locator('html').getAttribute('data-theme')).toBe('dark');
      // The shorter list gets the shorter frame; the page flows on below both.
      expect((await frames[1]!.boundingBox())!.height).toBeLessThan(
        (await frames[0]!.boundingBox())!.height,
      );

      // A narrower window wraps the text: the frame follows the new height.
      const before = (await frames[0]!.boundingBox())!.height;
      await page.setViewportSize({ width: 300, height: 800 });
      await expect
        .poll(async () => (await frames[0]!.boundingBox())!.height)
        .toBeGreaterThan(before);
      const content = await first.evaluate(() =>
        Math.ceil(document.documentElement.getBoundingClientRect().height),
      );
      await expect.poll(async () => (await frames[0]!.boundingBox())!.height).toBe(content);
      await page.setViewportSize(DESKTOP);
      await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'embed-host.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await host.close();
    }
  });

  it('executes nothing from titles and descriptions carrying script payloads', async () => {
    const host = await startHostServer(`<!doctype html><html><head><title>Host</title></head><body>
<script src="${app.url}/embed.js" data-q="evil" async></script></body></html>`);
    const { context, page, problems } = await open();
    try {
      for (const url of [
        `${app.url}/events/stager-666`,
        `${app.url}/`,
        `${app.url}/?q=evil`,
        `${app.url}/embed?q=evil`,
        host.url,
      ]) {
        await page.goto(url);
        await page.waitForLoadState('load');
        // Give any deferred handler (onerror, onload) a moment to fire.
        await page.waitForTimeout(200);
        expect(problems, url).toEqual([]);
      }
      const frame = (await (await page.locator('iframe').elementHandle())!.contentFrame())!;
      await frame.waitForLoadState('load');
      expect(await frame.locator('.event-title').first().textContent()).toContain(
        '<script>alert("title")</script> Evil',
      );
      await page.goto(`${app.url}/events/stager-666`);
      expect(await page.locator('h1').textContent()).toBe(
        '<script>alert("title")</script> Evil <img src=x onerror=alert("img")> Night',
      );
      expect(
        await page
          .locator('.description script, .description iframe, .description img, [onclick]')
          .count(),
      ).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await host.close();
    }
  });
});
