import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (no browser download). `.ci/run` installs it;
 * where it is missing outside CI, browser tests are skipped rather than failed.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumAvailable = fs.existsSync(CHROMIUM_PATH);
/** In CI a missing browser is a failure, never a skip. */
export const skipBrowserTests = !chromiumAvailable && !process.env.CI;

export const ARTIFACTS_DIR = path.join(import.meta.dirname, '..', 'artifacts');

/** Starts headless Chromium; Playwright gives it a fresh temporary user-data-dir. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // The machine has no network: no update checks, sync or component downloads.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface HostServer {
  url: string;
  close(): Promise<void>;
}

/** A second origin serving one HTML page, standing in for a site that embeds Marquee. */
export async function startHostServer(html: string): Promise<HostServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A small placeholder image for event pages (the test machine reaches no image host). */
export const PLACEHOLDER_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" viewBox="0 0 1200 630">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#2b1055"/><stop offset="1" stop-color="#d53369"/></linearGradient></defs>
<rect width="1200" height="630" fill="url(#g)"/>
<text x="600" y="335" font-family="sans-serif" font-size="64" fill="#fff" text-anchor="middle">Night Tapes on stage</text>
</svg>`;
