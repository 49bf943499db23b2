import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import {
  CONFIG_VARIABLES,
  ConfigError,
  loadConfig,
  parseByteSize,
  withEnvFile,
} from '../../src/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      databasePath: 'data/marquee.db',
      publicUrl: 'http://localhost:3000',
      timeZone: 'Europe/Amsterdam',
      bodyLimitBytes: 25 * 1024 * 1024,
      icsMaxBytes: 900 * 1024,
      inboxRetentionDays: 30,
      pastDays: 0,
      cancelledPrefix: 'Cancelled: ',
    });
    expect(config.stager.signingKeys).toEqual([]);
  });

  it('reads lists, pairs and aliases', () => {
    const config = loadConfig({
      STAGER_SIGNING_KEYS: 'a, b ,,c',
      EVENTPORT_BASIC_AUTH: 'user:pa:ss,other:x',
      CITY_ALIASES: 'Munich=München, Muenchen=München',
      PUBLIC_URL: 'https://events.example.org/',
    });
    expect(config.stager.signingKeys).toEqual(['a', 'b', 'c']);
    expect(config.eventport.basicAuth).toEqual([
      { user: 'user', password: 'pa:ss' },
      { user: 'other', password: 'x' },
    ]);
    expect(config.cityAliases).toEqual({ Munich: 'München', Muenchen: 'München' });
    expect(config.publicUrl).toBe('https://events.example.org');
    expect(config.publicHost).toBe('events.example.org');
  });

  it('reads UID_DOMAIN as a lower-case host name, and leaves the identity to the start', () => {
    expect(loadConfig({})).toMatchObject({ uidDomain: null, identity: null });
    expect(loadConfig({ UID_DOMAIN: 'Events.Example.ORG' }).uidDomain).toBe('events.example.org');
    expect(loadConfig({ UID_DOMAIN: 'localhost' }).uidDomain).toBe('localhost');
    for (const bad of [
      'https://events.example.org',
      'events.example.org/',
      '-x.example',
      'a..b',
      'ex ample.org',
      'a'.repeat(64) + '.org',
    ]) {
      expect(() => loadConfig({ UID_DOMAIN: bad }), bad).toThrow(/UID_DOMAIN: must be a host name/);
    }
  });

  it('reports every problem at once, naming each variable', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        TIMEZONE: 'Mars/Olympus',
        BODY_LIMIT: 'huge',
        EVENTPORT_BASIC_AUTH: 'nopassword',
        PUBLIC_URL: 'ftp://x',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      for (const name of ['PORT', 'TIMEZONE', 'BODY_LIMIT', 'EVENTPORT_BASIC_AUTH', 'PUBLIC_URL'])
        expect(message).toContain(name);
      expect((error as ConfigError).problems).toHaveLength(5);
    }
  });

  it('says what is wrong with DATABASE_URL and PUBLIC_URL, and what would do', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@db:5433/m' }).databaseUrl).toBe(
      'postgresql://u:p@db:5433/m',
    );
    expect(() => loadConfig({ DATABASE_URL: 'sqlite:///data/marquee.db' })).toThrow(
      'DATABASE_URL: scheme "sqlite:" is not supported; supported: postgres:// and postgresql:// (for SQLite, leave DATABASE_URL unset and set DATABASE_PATH)',
    );
    expect(() => loadConfig({ DATABASE_URL: 'db.example.org/marquee' })).toThrow(
      'DATABASE_URL: has no scheme; supported: postgres://',
    );
    expect(() => loadConfig({ PUBLIC_URL: 'events.example.org/' })).toThrow(
      'PUBLIC_URL: has no scheme: write it with https:// (or http://), such as https://events.example.org/',
    );
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://events.example.org' })).toThrow(
      'PUBLIC_URL: scheme "ftp:" is not supported; use https:// (or http://)',
    );
    expect(() => loadConfig({ PUBLIC_URL: 'https://exa mple.org' })).toThrow(
      'PUBLIC_URL: is not a valid URL',
    );
  });

  it('adds the variables of a .env file that the environment does not set', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-env-'));
    try {
      const file = path.join(folder, '.env');
      expect(withEnvFile({ A: '1' }, file)).toEqual({ env: { A: '1' }, read: false });
      fs.writeFileSync(
        file,
        '# comment\nPORT=4000\nSITE_TITLE="Events here"\nHOST=127.0.0.1\nADMIN_TOKEN=x\n',
      );
      const { env, read } = withEnvFile({ HOST: '0.0.0.0', ADMIN_TOKEN: '' }, file);
      expect(read).toBe(true);
      // Set in the environment, even empty: the environment's value stays.
      expect(env).toEqual({
        PORT: '4000',
        SITE_TITLE: 'Events here',
        HOST: '0.0.0.0',
        ADMIN_TOKEN: '',
      });
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('loads the container example as it stands: every interface, names Marquee knows', () => {
    const text = fs.readFileSync(new URL('../../docker.env.example', import.meta.url), 'utf8');
    const env = parseEnv(text);
    for (const name of Object.keys(env)) expect(CONFIG_VARIABLES, name).toContain(name);
    for (const name of [...text.matchAll(/^# ([A-Z_]+)=/gm)].map((match) => match[1]))
      expect(CONFIG_VARIABLES, name).toContain(name);
    const config = loadConfig(env);
    expect(config).toMatchObject({ host: '0.0.0.0', port: 3000, trustProxy: '1' });
  });

  it('reads ICS_MAX_BYTES as a size of at least 16kb', () => {
    expect(loadConfig({ ICS_MAX_BYTES: '2mb' }).icsMaxBytes).toBe(2 * 1024 * 1024);
    expect(loadConfig({ ICS_MAX_BYTES: '500000' }).icsMaxBytes).toBe(500_000);
    for (const bad of ['lots', '10kb', '-1'])
      expect(() => loadConfig({ ICS_MAX_BYTES: bad }), bad).toThrow(
        /ICS_MAX_BYTES: must be a size/,
      );
  });

  it('reads CACHE_MAX_BYTES as a size of at least 4mb, 64mb by default', () => {
    expect(loadConfig({}).cacheMaxBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ CACHE_MAX_BYTES: '1gb' }).cacheMaxBytes).toBe(1024 ** 3);
    for (const bad of ['lots', '1mb', '-1'])
      expect(() => loadConfig({ CACHE_MAX_BYTES: bad }), bad).toThrow(
        /CACHE_MAX_BYTES: must be a size/,
      );
  });

  it('parses byte sizes', () => {
    expect(parseByteSize('25mb')).toBe(26_214_400);
    expect(parseByteSize('512KB')).toBe(524_288);
    expect(parseByteSize('100')).toBe(100);
    expect(parseByteSize(' 25mb ')).toBe(26_214_400);
    expect(parseByteSize('lots')).toBeNull();
    expect(parseByteSize('-5')).toBeNull();
  });
});

describe('documentation', () => {
  it('lists every variable in README.md and .env.example', async () => {
    const { CONFIG_VARIABLES } = await import('../../src/config.js');
    const fs = await import('node:fs');
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const example = fs.readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    expect(CONFIG_VARIABLES.length).toBeGreaterThan(30);
    for (const name of CONFIG_VARIABLES) {
      expect(readme, name).toContain(`| \`${name}\` |`);
      expect(example, name).toMatch(new RegExp(`^(# )?${name}=`, 'm'));
    }
  });
});
