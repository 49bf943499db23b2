import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/child-app.js';
import { DEFAULT_TEST_ENV } from '../helpers/test-app.js';

/**
 * `src/main.ts` in a child process, started wrong as an operator would start it: each error says
 * what is wrong and what to do, and the process exits 1 before listening.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const tsx = import.meta.resolve('tsx');
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-start-'));
  folders.push(folder);
  return folder;
}

interface Started {
  code: number | null;
  output: string;
}

/** Starts Marquee with only `env` (and PATH) in `cwd`; resolves once it exits (or kills it after 30 s). */
async function start(
  env: Record<string, string>,
  options: { cwd?: string; withoutOverride?: boolean } = {},
): Promise<Started> {
  const command = [process.execPath, '--import', tsx, path.join(root, 'src/main.ts')];
  // As root, setpriv (util-linux) takes away the capabilities that let root write anywhere, so a
  // read-only folder is read-only to the server too; it stays root, which keeps the Node binary
  // and the checkout readable however the folders above them are set.
  if (options.withoutOverride)
    command.unshift('setpriv', '--bounding-set=-dac_override,-dac_read_search,-fowner', '--');
  const [file = '', ...args] = command;
  const child = spawn(file, args, {
    cwd: options.cwd ?? tempFolder(),
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => {
    // A child that cannot be started at all: its error is the output, so the test says why.
    child.on('error', (error) => resolve({ code: null, output: String(error) }));
    child.on('close', (code) => resolve({ code, output: Buffer.concat(chunks).toString('utf8') }));
  });
}

describe('startup errors that say what to do', { timeout: 60_000 }, () => {
  it('names the supported DATABASE_URL schemes', async () => {
    const started = await start({ DATABASE_URL: 'mysql://marquee@db/marquee' });
    expect(started.code).toBe(1);
    expect(started.output).toContain(
      'DATABASE_URL: scheme "mysql:" is not supported; supported: postgres:// and postgresql://',
    );
  });

  it('says that PUBLIC_URL lacks its scheme', async () => {
    const started = await start({ PUBLIC_URL: 'events.example.org' });
    expect(started.code).toBe(1);
    expect(started.output).toContain(
      'PUBLIC_URL: has no scheme: write it with https:// (or http://), such as https://events.example.org',
    );
  });

  it('names host:port and the cause when PostgreSQL cannot be reached', async () => {
    const port = await freePort();
    const started = await start({ DATABASE_URL: `postgres://marquee@127.0.0.1:${port}/marquee` });
    expect(started.code).toBe(1);
    expect(started.output).toContain(
      `marquee: failed to start: db: cannot connect to PostgreSQL at 127.0.0.1:${port} (DATABASE_URL): connect ECONNREFUSED`,
    );
  });

  it('names the data directory it cannot write', async () => {
    const folder = tempFolder();
    const data = path.join(folder, 'data');
    fs.mkdirSync(data);
    fs.chmodSync(data, 0o555);
    try {
      const started = await start(
        { DATABASE_PATH: path.join(data, 'marquee.db'), BACKUP_DIR: path.join(data, 'backups') },
        { cwd: folder, withoutOverride: process.getuid?.() === 0 },
      );
      expect(started.code).toBe(1);
      expect(started.output).toContain(
        `marquee: failed to start: db: the data directory ${data} is not writable (EACCES); make it writable for the user Marquee runs as`,
      );
    } finally {
      fs.chmodSync(data, 0o755);
    }
  });

  it('reads .env in the working directory; the process environment wins', async () => {
    const folder = tempFolder();
    fs.writeFileSync(
      path.join(folder, '.env'),
      '# read at start\nPUBLIC_URL=dotenv.example.org\nDATABASE_URL="mysql://from-dotenv/x"\n',
    );
    const started = await start({ PUBLIC_URL: 'https://env.example.org' }, { cwd: folder });
    expect(started.code).toBe(1);
    expect(started.output).toContain('DATABASE_URL: scheme "mysql:" is not supported');
    expect(started.output).not.toContain('PUBLIC_URL');

    // Nothing wrong in either: the server starts with the settings of both.
    fs.writeFileSync(
      path.join(folder, '.env'),
      `SITE_TITLE=From dotenv\nPUBLIC_URL=https://dotenv.example.org\n`,
    );
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'src/main.ts')], {
      cwd: folder,
      env: {
        PATH: process.env.PATH ?? '',
        ...DEFAULT_TEST_ENV,
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: 'https://env.example.org',
        DATABASE_PATH: path.join(folder, 'marquee.db'),
        BACKUP_DIR: path.join(folder, 'backups'),
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let page = '';
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        try {
          page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      expect(page).toContain('From dotenv');
      expect(page).toContain('https://env.example.org');
      expect(page).not.toContain('https://dotenv.example.org');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
