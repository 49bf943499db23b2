import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR, launchChromium, skipBrowserTests } from '../helpers/browser.js';
import { seedPageEvents } from '../helpers/page-data.js';
import { eventportPost, stagerEvent, stagerMessage } from '../helpers/contract-payloads.js';
import { fixture, startTestApp, TEST_SECRETS, type TestApp } from '../helpers/test-app.js';

/**
 * The admin page in a real browser: it fits a phone, and its moderation tools work under the
 * page's Content-Security-Policy with the token entered in the page (the page itself opened with
 * Basic credentials, which the JSON API refuses).
 */

declare const document: {
  documentElement: { scrollWidth: number; clientWidth: number };
};

const WIDTHS = [320, 360, 390];
const BEARER = { authorization: `Bearer ${TEST_SECRETS.adminToken}` };

describe.skipIf(skipBrowserTests)('the admin page in Chromium', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    app = await startTestApp({ env: { ADMIN_TOKEN: TEST_SECRETS.adminToken } });
    await seedPageEvents(app);
    // A failed delivery, a test one and audit entries: every table of the page has rows.
    await app.postStager(JSON.stringify({ messageType: 'UPDATE_EVENTS', messageContent: {} }));
    await app.postStager(fixture('stager/update-events.json'), {
      headers: { 'x-marquee-test': '1' },
    });
    await app.settle();
    // A possible duplicate waiting for a person: one show listed by both sources, an hour apart.
    const show = new Date('2026-12-12T19:30:00Z');
    await app.postStager(
      stagerMessage('UPDATE_EVENTS', { id: 1042, name: 'Paradiso' }, [
        stagerEvent({
          id: 990001,
          name: 'An extraordinarily long headline act name that goes on: the anniversary tour',
          start: show,
          venue: 'Paradiso Noord',
        }),
      ]),
    );
    await app.postEventport(
      eventportPost({
        id: 'ep-a-rather-long-eventport-identifier-0123456789',
        name: 'An extraordinarily long headline act name + very special guests from abroad',
        start: new Date(show.getTime() - 60 * 60_000),
        venue: 'Paradiso Noord',
        city: 'Amsterdam',
      }),
    );
    await app.settle();
    const admin = (pathAndAction: string) =>
      fetch(`${app.url}/admin/api/${pathAndAction}`, { method: 'POST', headers: BEARER });
    await admin('organizations/stager/a-rather-long-organization-id-0123456789/block');
    // Hidden events and the audit entries of hiding them.
    await admin('events/stager-990001/hide');
    await admin('events/eventport-ep-a-rather-long-eventport-identifier-0123456789/hide');
    await admin('events/eventport-ep-a-rather-long-eventport-identifier-0123456789/unhide');
    await admin('events/eventport-ep-a-rather-long-eventport-identifier-0123456789/hide');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function open(
    width: number,
  ): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({
      viewport: { width, height: 800 },
      httpCredentials: { username: 'admin', password: TEST_SECRETS.adminToken },
    });
    const problems: string[] = [];
    const page = await context.newPage();
    // Event titles carrying script payloads are listed too: nothing of them may run.
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    const response = await page.goto(`${app.url}/admin`);
    expect(response?.status()).toBe(200);
    return { context, page, problems };
  }

  const overflow = (page: Page) =>
    page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );

  it('fits a phone: no sideways scrolling at 320, 360 and 390 px', async () => {
    for (const width of WIDTHS) {
      const { context, page, problems } = await open(width);
      // With the lists filled too.
      await page.fill('#token', TEST_SECRETS.adminToken);
      await page.click('#token-form button[type=submit]');
      await page.click('#events-form button[type=submit]');
      await page.locator('#events-body tr').first().waitFor();
      await page.click('#deliveries-form button[type=submit]');
      await page.locator('#deliveries-body tr').first().waitFor();
      await page.locator('#deliveries-body button', { hasText: 'View' }).first().click();
      await page.locator('#delivery-view').waitFor();
      // Hidden events listed with their Unhide button, the pair queued, the audit log filled.
      await page.fill('#events-form input[name=q]', 'extraordinarily long');
      await page.click('#events-form button[type=submit]');
      await expect
        .poll(() => page.locator('#events-body button', { hasText: 'Unhide' }).count())
        .toBe(2);
      const queued = page.locator('h2:text-is("Possible duplicates") ~ table tbody tr');
      expect(await queued.count()).toBe(1);
      expect(await queued.first().textContent()).toContain('stager-990001');
      expect(await page.locator('#audit-body tr').count()).toBeGreaterThanOrEqual(5);
      expect(await overflow(page), `${width} px`).toBeLessThanOrEqual(0);
      await page.screenshot({
        path: path.join(ARTIFACTS_DIR, `admin-${width}.png`),
        fullPage: true,
      });
      expect(problems).toEqual([]);
      await context.close();
    }
  });

  it('hides and unhides an event with the token entered in the page', async () => {
    const { context, page, problems } = await open(390);
    // Without a token the tools say so and do nothing.
    await page.click('#events-form button[type=submit]');
    await expect.poll(() => page.textContent('#action-notice')).toContain('enter the admin token');

    await page.fill('#token', TEST_SECRETS.adminToken);
    await page.click('#token-form button[type=submit]');
    expect(await page.textContent('#token-state')).toBe('Token set for this tab.');
    await page.fill('#events-form input[name=q]', 'lowland choir');
    await page.click('#events-form button[type=submit]');
    const row = page.locator('#events-body tr', { hasText: 'Lowland Choir' });
    await row.locator('button', { hasText: 'Hide' }).click();
    await expect.poll(() => page.textContent('#action-notice')).toContain('/hide: done');
    await row.locator('button', { hasText: 'Unhide' }).waitFor();
    expect(await (await app.get('/api/events')).text()).not.toContain('Lowland Choir');
    await expect
      .poll(() => page.locator('#audit-body tr').first().textContent())
      .toContain('event.hide');

    await row.locator('button', { hasText: 'Unhide' }).click();
    await expect.poll(() => page.textContent('#action-notice')).toContain('/unhide: done');
    expect(await (await app.get('/api/events')).text()).toContain('Lowland Choir');

    // The token stays in this tab's sessionStorage: kept on reload, forgotten on request.
    await page.reload();
    expect(await page.textContent('#token-state')).toBe('Token set for this tab.');
    await page.click('#token-forget');
    expect(await page.textContent('#token-state')).toBe('No token set.');
    expect(problems).toEqual([]);
    await context.close();
  });
});
