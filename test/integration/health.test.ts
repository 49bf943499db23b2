import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

let app: TestApp | null = null;
let mirror: http.Server | null = null;
afterEach(async () => {
  await new Promise((resolve) => (mirror ? mirror.close(resolve) : resolve(undefined)));
  mirror = null;
  await app?.close();
  app = null;
});

describe('GET /healthz', () => {
  it('answers 503 "stopping" once shutdown began', async () => {
    app = await startTestApp();
    // The same app on a second listener, which keeps answering after the server stops listening.
    mirror = http.createServer(app.app);
    await new Promise<void>((resolve) => mirror!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/healthz`;
    expect((await fetch(url)).status).toBe(200);

    const closed = app.close();
    const response = await fetch(url);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'stopping' });
    await closed;
  });
});
