import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildApp, type ChildApp } from '../helpers/child-app.js';
import { stagerEvent, stagerMessage, startFor } from '../helpers/contract-payloads.js';
import { signStager, TEST_SECRETS } from '../helpers/test-app.js';

/**
 * PostgreSQL killed under load (`pg_ctl stop -m immediate`) must not kill Marquee: it keeps
 * running, /healthz answers 503 and deliveries 503 with Retry-After while the server is gone,
 * and once it is back both recover by themselves. A throwaway cluster of its own
 * (scripts/throwaway-postgres.sh) on loopback, stopped and started three times.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const script = path.join(root, 'scripts/throwaway-postgres.sh');

/** The server binaries the script would use, or null when PostgreSQL is not installed. */
function findBindir(): string | null {
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((name) => fs.existsSync(path.join(debian, name, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(a) - Number(b));
    if (versions.length > 0) return path.join(debian, versions.at(-1)!, 'bin');
  }
  try {
    return path.dirname(execFileSync('which', ['pg_ctl'], { encoding: 'utf8' }).trim());
  } catch {
    return null;
  }
}

const bindir = findBindir();
const asOwner = (command: string, args: string[]) =>
  process.getuid?.() === 0
    ? execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { cwd: '/' })
    : execFileSync(command, args);

let parent: string | null = null;
let cluster: string | null = null;
let app: ChildApp | null = null;

afterAll(async () => {
  await app?.kill();
  if (cluster) execFileSync('bash', [script, 'stop', cluster], { stdio: 'ignore' });
  if (parent) fs.rmSync(parent, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers `status`; returns the last body. */
async function waitForStatus(url: string, status: number, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const response = await fetch(url);
      const body: unknown = await response.json();
      if (response.status === status) return body;
      last = `${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status}: ${last}`);
    await sleep(100);
  }
}

let sent = 0;
function delivery(): { body: Buffer; signature: string } {
  sent += 1;
  const body = stagerMessage('UPDATE_EVENTS', { id: 55, name: 'Fault Hall' }, [
    stagerEvent({ id: sent, name: `Event ${sent}`, start: startFor(sent) }),
  ]);
  return { body, signature: signStager(body, TEST_SECRETS.stagerKeys[0]) };
}

async function post(url: string): Promise<Response> {
  const { body, signature } = delivery();
  return fetch(`${url}/webhooks/stager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signature },
    body,
  });
}

describe.skipIf(bindir === null)('PostgreSQL killed under load', { timeout: 180_000 }, () => {
  it('keeps Marquee running, says 503 while the server is gone, and recovers by itself', async () => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-pg-faults-'));
    fs.chmodSync(parent, 0o711);
    cluster = path.join(parent, 'cluster');
    const url = execFileSync('bash', [script, 'start', cluster], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const port = new URL(url).port;
    const pgCtl = path.join(bindir!, 'pg_ctl');
    app = await startChildApp(url, { LOG_LEVEL: 'warn' });
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

    for (let round = 0; round < 3; round += 1) {
      let loading = true;
      const load = Promise.all(
        Array.from({ length: 6 }, async (_, worker) => {
          while (loading) {
            try {
              const response =
                worker % 2 === 0 ? await post(app!.url) : await fetch(`${app!.url}/events.json`);
              await response.arrayBuffer();
              count(response.status);
              if (response.status === 503) expect(response.headers.get('retry-after')).toBeTruthy();
            } catch {
              // A connection cut while the process is fine is tolerated; a dead process is not.
            }
          }
        }),
      );
      await sleep(400);
      asOwner(pgCtl, ['stop', `--pgdata=${cluster}/data`, '--mode=immediate', '--wait']);
      await sleep(1_500);
      loading = false;
      await load;
      expect(app.child.exitCode, app.output().slice(-2_000)).toBeNull();
      expect(app.child.signalCode).toBeNull();
      expect(await waitForStatus(`${app.url}/healthz`, 503, 10_000)).toMatchObject({
        database: 'unreachable',
      });
      const refused = await post(app.url);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBeTruthy();

      asOwner(pgCtl, [
        'start',
        `--pgdata=${cluster}/data`,
        `--log=${cluster}/postgres.log`,
        '--wait',
        '--timeout=60',
        `--options=-c listen_addresses=127.0.0.1 -p ${port} -k ${cluster} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
      ]);
      await waitForStatus(`${app.url}/healthz`, 200, 20_000);
      expect((await post(app.url)).status).toBe(202);
      await app.waitForEmptyInbox(40_000);
    }
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(app.child.exitCode).toBeNull();
  });
});
