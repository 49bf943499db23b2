import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/child-app.js';

/**
 * The reverse proxy examples in deploy/, checked with the real tools (Debian's `nginx` and
 * `caddy` packages; .ci/run installs them): each passes `nginx -t` or `caddy validate`, and with
 * Marquee down (a restart) a webhook request carrying Eventport's ?accessToken= leaves no trace
 * of the token in any log the proxy writes. Without the tools the checks are skipped with the
 * reason printed; in CI (CI=true) a missing tool fails instead.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const deploy = (name: string) => fs.readFileSync(path.join(root, 'deploy', name), 'utf8');
const TOKEN = 'tokenthatmustnotbelogged0123456789';

function installed(tool: string, args: string[]): boolean {
  return spawnSync(tool, args, { stdio: 'ignore' }).status === 0;
}
const hasNginx = installed('nginx', ['-v']);
const hasCaddy = installed('caddy', ['version']);
const hasOpenssl = installed('openssl', ['version']);
for (const [tool, present] of [
  ['nginx', hasNginx && hasOpenssl],
  ['caddy', hasCaddy],
] as const) {
  if (present) continue;
  if (process.env.CI)
    throw new Error(`proxy-configs: ${tool} (and openssl) must be installed in CI`);
  console.warn(
    `proxy-configs: ${tool === 'nginx' ? 'nginx or openssl' : 'caddy'} is not installed; its checks are skipped (Debian: apt-get install ${tool === 'nginx' ? 'nginx openssl' : 'caddy'})`,
  );
}

const folders: string[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-proxy-'));
  // nginx's workers run as nobody when started by root: they must reach the files inside.
  fs.chmodSync(folder, 0o755);
  folders.push(folder);
  return folder;
}

/** Every file under `folder`, as text. */
function everythingWritten(folder: string): string {
  return fs
    .readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

/** Sends one request and resolves with its status (the body is read and dropped). */
function request(url: string, options: { host: string; method?: string }): Promise<number> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const sent = client.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: { host: options.host, 'content-type': 'application/json' },
        servername: options.host,
        rejectUnauthorized: false,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    sent.on('error', reject);
    sent.end(options.method === 'POST' ? '{}' : undefined);
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`proxy-configs: exited early:\n${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = new net.Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`proxy-configs: port ${port} not listening:\n${output()}`);
}

/** `text` with `from` replaced by `to`; throws when `from` is not there (the file changed shape). */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`proxy-configs: ${String(from)} not found in the deploy file`);
  return text.replace(from, to);
}

/** deploy/nginx.conf with deploy/nginx-scale-out.conf applied as its comments say. */
function nginxScaleOut(): string {
  const scaleOut = deploy('nginx-scale-out.conf');
  const upstream = /upstream marquee \{[\s\S]*?\n\}/.exec(scaleOut)?.[0];
  const added = [...scaleOut.matchAll(/^# {5}(proxy_next_upstream\S* .*;)$/gm)].map((m) => m[1]);
  expect(upstream).toBeDefined();
  expect(added).toHaveLength(2);
  const withUpstream = replaceOnce(
    deploy('nginx.conf'),
    /upstream marquee \{[\s\S]*?\n\}/,
    upstream as string,
  );
  return replaceOnce(
    withUpstream,
    '    proxy_read_timeout 120s;\n',
    `    proxy_read_timeout 120s;\n${added.map((line) => `    ${line}\n`).join('')}`,
  );
}

interface Ports {
  http: number;
  https: number;
  /** Where the upstream would be: nothing listens there, as while Marquee restarts. */
  upstream: number;
}

/**
 * The config in a folder of its own: certificate (self-signed, made now), logs and temporary
 * files there instead of /etc, /var/log and /var/lib; with `ports`, listening on loopback. The
 * wrapper is what Debian's /etc/nginx/nginx.conf amounts to: an http block whose default access
 * log uses the `combined` format (query strings included).
 */
function nginxSetup(config: string, ports: Ports | null): { folder: string; wrapper: string } {
  const folder = tempFolder();
  for (const sub of ['logs', 'www', 'tmp']) fs.mkdirSync(path.join(folder, sub));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=events.example.org',
      '-keyout',
      path.join(folder, 'key.pem'),
      '-out',
      path.join(folder, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  let text = replaceOnce(
    config,
    '/etc/letsencrypt/live/events.example.org/fullchain.pem',
    path.join(folder, 'cert.pem'),
  );
  text = replaceOnce(
    text,
    '/etc/letsencrypt/live/events.example.org/privkey.pem',
    path.join(folder, 'key.pem'),
  );
  text = replaceOnce(text, /\/var\/log\/nginx\//g, `${folder}/logs/`);
  text = replaceOnce(text, '/var/www/letsencrypt', path.join(folder, 'www'));
  if (ports) {
    text = replaceOnce(
      text,
      '    listen 80;\n    listen [::]:80;\n',
      `    listen 127.0.0.1:${ports.http};\n`,
    );
    text = replaceOnce(
      text,
      '    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n',
      `    listen 127.0.0.1:${ports.https} ssl http2;\n`,
    );
    text = replaceOnce(text, /server 127\.0\.0\.1:300\d/g, `server 127.0.0.1:${ports.upstream}`);
  }
  fs.writeFileSync(path.join(folder, 'marquee.conf'), text);
  const temp = (name: string) => path.join(folder, 'tmp', name);
  const wrapper = path.join(folder, 'nginx.conf');
  fs.writeFileSync(
    wrapper,
    `pid ${folder}/nginx.pid;
error_log ${folder}/logs/error.log;
events {}
http {
    access_log ${folder}/logs/access.log combined;
    client_body_temp_path ${temp('body')};
    proxy_temp_path ${temp('proxy')};
    fastcgi_temp_path ${temp('fastcgi')};
    uwsgi_temp_path ${temp('uwsgi')};
    scgi_temp_path ${temp('scgi')};
    include ${folder}/marquee.conf;
}
`,
  );
  return { folder, wrapper };
}

/** Sends what Eventport sends, to each path Marquee routes to its webhook, and a control request. */
async function sendWebhooks(base: { https: string; http: string | null }, host: string) {
  const statuses = [
    await request(`${base.https}/webhooks/eventport?accessToken=${TOKEN}`, {
      host,
      method: 'POST',
    }),
    await request(`${base.https}/Webhooks/EventPort?version=1&accessToken=${TOKEN}`, {
      host,
      method: 'POST',
    }),
  ];
  if (base.http)
    statuses.push(
      await request(`${base.http}/webhooks/eventport?accessToken=${TOKEN}`, {
        host,
        method: 'POST',
      }),
    );
  // The control: a query that may be logged, to show the logs do record request lines.
  statuses.push(await request(`${base.https}/events.ics?city=ControlCityInTheLog`, { host }));
  return statuses;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

describe.skipIf(!hasNginx || !hasOpenssl)(
  'deploy/nginx*.conf with the nginx installed here',
  () => {
    const version = hasNginx ? spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.trim() : '';

    for (const [name, config] of [
      ['nginx.conf', () => deploy('nginx.conf')],
      ['nginx.conf with nginx-scale-out.conf', nginxScaleOut],
    ] as const) {
      it(`${name} passes nginx -t (${version})`, () => {
        const { folder, wrapper } = nginxSetup(config(), null);
        const result = spawnSync('nginx', ['-t', '-c', wrapper, '-p', `${folder}/`], {
          encoding: 'utf8',
        });
        expect(result.stderr).toContain('test is successful');
        expect(result.status).toBe(0);
      });

      it(`${name}: no log holds the token while Marquee is down`, { timeout: 60_000 }, async () => {
        const ports = {
          http: await freePort(),
          https: await freePort(),
          upstream: await freePort(),
        };
        const { folder, wrapper } = nginxSetup(config(), ports);
        const output: Buffer[] = [];
        const child = spawn('nginx', ['-c', wrapper, '-p', `${folder}/`, '-g', 'daemon off;'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
        child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
        const printed = () => Buffer.concat(output).toString('utf8');
        await waitForPort(ports.https, child, printed);
        const statuses = await sendWebhooks(
          { https: `https://127.0.0.1:${ports.https}`, http: `http://127.0.0.1:${ports.http}` },
          'events.example.org',
        );
        expect(statuses).toEqual([502, 502, 301, 502]);
        await stop(child, 'SIGQUIT');
        const logs = everythingWritten(path.join(folder, 'logs')) + printed();
        expect(logs).toContain('ControlCityInTheLog');
        expect(logs).toContain('/webhooks/eventport');
        expect(logs).not.toContain(TOKEN);
      });
    }
  },
);

/** Runs caddy with HOME and XDG folders in `folder` (it keeps certificates and state there). */
function caddyEnv(folder: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: folder,
    XDG_DATA_HOME: folder,
    XDG_CONFIG_HOME: folder,
  };
}

/** The Caddyfile with its commented access log block switched on, writing into `folder`. */
function withAccessLog(caddyfile: string, folder: string): string {
  const block = /\t# log \{\n(?:\t# .*\n)*?\t# \}\n/.exec(caddyfile)?.[0];
  if (!block) throw new Error('proxy-configs: the commented access log block is gone');
  const enabled = block
    .replace(/^\t# ?/gm, '\t')
    .replace('/var/log/caddy/marquee.access.log', path.join(folder, 'access.log'));
  return caddyfile.replace(block, enabled);
}

describe.skipIf(!hasCaddy)('deploy/Caddyfile* with the caddy installed here', () => {
  const version = hasCaddy
    ? spawnSync('caddy', ['version'], { encoding: 'utf8' }).stdout.trim()
    : '';

  for (const [name, accessLog] of [
    ['Caddyfile', false],
    ['Caddyfile', true],
    ['Caddyfile.scale-out', false],
  ] as const) {
    const label = `${name}${accessLog ? ' with its access log block enabled' : ''}`;

    it(`${label} passes caddy validate (${version})`, () => {
      const folder = tempFolder();
      const file = path.join(folder, 'Caddyfile');
      fs.writeFileSync(file, accessLog ? withAccessLog(deploy(name), folder) : deploy(name));
      const result = spawnSync('caddy', ['validate', '--config', file, '--adapter', 'caddyfile'], {
        encoding: 'utf8',
        env: caddyEnv(folder),
      });
      expect(result.stdout + result.stderr).toContain('Valid configuration');
      expect(result.status).toBe(0);
    });

    it(`${label}: no log holds the token while Marquee is down`, { timeout: 60_000 }, async () => {
      const folder = tempFolder();
      const port = await freePort();
      const upstream = await freePort();
      let text = accessLog ? withAccessLog(deploy(name), folder) : deploy(name);
      // Plain HTTP on loopback (no certificate to fetch) and no admin endpoint (port 2019 may be taken).
      text = replaceOnce(text, 'events.example.org {', `http://127.0.0.1:${port} {`);
      text = replaceOnce(text, /^\{\n/m, '{\n\tadmin off\n');
      text = replaceOnce(text, /127\.0\.0\.1:300\d( 127\.0\.0\.1:300\d)?/, `127.0.0.1:${upstream}`);
      // One upstream down: no need to wait for another.
      text = text.replace(/lb_try_duration \S+/, 'lb_try_duration 0');
      const file = path.join(folder, 'Caddyfile');
      fs.writeFileSync(file, text);
      const output: Buffer[] = [];
      const child = spawn('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], {
        env: caddyEnv(folder),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
      const printed = () => Buffer.concat(output).toString('utf8');
      await waitForPort(port, child, printed);
      const statuses = await sendWebhooks(
        { https: `http://127.0.0.1:${port}`, http: null },
        `127.0.0.1:${port}`,
      );
      // 503 once the scale-out health checks found no upstream up, 502 before.
      for (const status of statuses) expect([502, 503]).toContain(status);
      await stop(child, 'SIGTERM');
      const logs = everythingWritten(folder) + printed();
      expect(logs).toContain('ControlCityInTheLog');
      expect(logs).toContain('accessToken=REDACTED');
      if (accessLog) {
        expect(fs.readFileSync(path.join(folder, 'access.log'), 'utf8')).toContain(
          'accessToken=REDACTED',
        );
      }
      expect(logs).not.toContain(TOKEN);
    });
  }
});
