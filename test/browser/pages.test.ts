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
import { startTestApp, type TestApp } from '../helpers/test-app.js';

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
declare const navigator: { clipboard: { readText(): Promise<string> } };

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

describe.skipIf(skipBrowserTests)('pages in Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    app = await startTestApp();
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
  ): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport });
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
