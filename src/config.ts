import fs from 'node:fs';
import { parseEnv } from 'node:util';
import bytes from 'bytes';
import { validate as isCronExpression } from 'node-cron';
import { z } from 'zod';
import { DEFAULT_CACHE_MAX_BYTES } from './cache/caches.js';
import type { InstallationIdentity } from './db/installation.js';
import { isKnownTimeZone } from './events/time.js';

/**
 * Every setting Marquee reads from the environment, in one schema. Each key is documented in
 * README.md and .env.example; `loadConfig` reports every problem at once.
 */

const csv = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);

/** Parses `25mb`, `512kb`, `1048576` into bytes; null when malformed. */
export function parseByteSize(value: string): number | null {
  const parsed = bytes.parse(value.trim());
  return parsed !== null && Number.isFinite(parsed) && parsed >= 0 ? Math.floor(parsed) : null;
}

/** The smallest CACHE_MAX_BYTES: room for a few rendered feeds beside their fragments. */
const CACHE_MIN_BYTES = 4 * 1024 ** 2;

/** The smallest ICS_MAX_BYTES: room for the calendar's head and a few events. */
const ICS_MIN_BYTES = 16 * 1024;

/** A DNS host name such as `events.example.org`: the authority of ICS UIDs and `tag:` URIs. */
function isHostName(value: string): boolean {
  return (
    value.length <= 253 &&
    value.split('.').every((label) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(label))
  );
}

const port = z.coerce.number().int().min(0).max(65535);

/** The scheme of `value` (`https`), or null when it has none (`events.example.org`). */
function schemeOf(value: string): string | null {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase() ?? null;
}

/** DATABASE_URL: a PostgreSQL URL; the message names the supported schemes. */
const databaseUrl = z
  .string()
  .superRefine((value, context) => {
    const scheme = schemeOf(value);
    if (scheme === 'postgres' || scheme === 'postgresql') {
      if (!URL.canParse(value)) context.addIssue({ code: 'custom', message: 'is not a valid URL' });
      return;
    }
    context.addIssue({
      code: 'custom',
      message:
        `${scheme === null ? 'has no scheme' : `scheme "${scheme}:" is not supported`}; ` +
        'supported: postgres:// and postgresql:// (for SQLite, leave DATABASE_URL unset and set DATABASE_PATH)',
    });
  })
  .optional();

/** PUBLIC_URL: an absolute http(s) URL; the message says when the scheme is missing. */
const publicUrl = z
  .string()
  .superRefine((value, context) => {
    const scheme = schemeOf(value);
    if (scheme === null) {
      context.addIssue({
        code: 'custom',
        message: `has no scheme: write it with https:// (or http://), such as https://${value.replace(/^\/+/, '')}`,
      });
    } else if (scheme !== 'http' && scheme !== 'https') {
      context.addIssue({
        code: 'custom',
        message: `scheme "${scheme}:" is not supported; use https:// (or http://)`,
      });
    } else if (!URL.canParse(value)) {
      context.addIssue({ code: 'custom', message: 'is not a valid URL' });
    }
  })
  .optional();
/** A node-cron expression (5 or 6 fields), or `off` to disable the job. */
const schedule = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (value) => value === 'off' || isCronExpression(value),
      'must be a cron expression such as "30 3 * * *", or off',
    );
const nonNegativeInt = z.coerce.number().int().min(0);
const positiveInt = z.coerce.number().int().min(1);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const variablesSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_PATH: z.string().min(1).default('data/marquee.db'),
  DATABASE_URL: databaseUrl,
  DATABASE_POOL_SIZE: positiveInt.max(100).default(10),
  PUBLIC_URL: publicUrl,
  UID_DOMAIN: z
    .string()
    .optional()
    .refine(
      (value) => value === undefined || isHostName(value),
      'must be a host name such as events.example.org',
    ),
  TIMEZONE: z
    .string()
    .default('Europe/Amsterdam')
    .refine(isKnownTimeZone, 'must be an IANA time zone such as Europe/Amsterdam'),
  BODY_LIMIT: z
    .string()
    .default('25mb')
    .refine(
      (value) => parseByteSize(value) !== null,
      'must be a size such as 25mb, 512kb or 1048576',
    ),
  ICS_MAX_BYTES: z
    .string()
    .default('900kb')
    .refine(
      (value) => (parseByteSize(value) ?? 0) >= ICS_MIN_BYTES,
      'must be a size of at least 16kb, such as 900kb or 2mb',
    ),
  CACHE_MAX_BYTES: z
    .string()
    .default('64mb')
    .refine(
      (value) => (parseByteSize(value) ?? 0) >= CACHE_MIN_BYTES,
      'must be a size of at least 4mb, such as 64mb or 1gb',
    ),
  WEBHOOK_PENDING_BYTES: z
    .string()
    .default('64mb')
    .refine(
      (value) => parseByteSize(value) !== null,
      'must be a size such as 64mb, 512kb or 1048576',
    ),
  WEBHOOK_BODY_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(30),
  STAGER_SIGNING_KEYS: z.string().optional(),
  EVENTPORT_TOKENS: z.string().optional(),
  EVENTPORT_TIMEZONE: z
    .string()
    .default('Europe/Berlin')
    .refine(isKnownTimeZone, 'must be an IANA time zone such as Europe/Berlin'),
  EVENTPORT_BASIC_AUTH: z
    .string()
    .optional()
    .refine(
      (value) => csv(value).every((pair) => /^[^:]+:.+$/.test(pair)),
      'must be comma-separated user:password pairs',
    ),
  INBOX_RETENTION_DAYS: positiveInt.default(30),
  EVENT_RETENTION_DAYS: positiveInt.default(90),
  PAST_DAYS: nonNegativeInt.default(0),
  DEFAULT_DURATION_HOURS: z.coerce.number().positive().max(72).default(3),
  CITY_ALIASES: z
    .string()
    .optional()
    .refine(
      (value) => csv(value).every((pair) => /^[^=]+=[^=]+$/.test(pair)),
      'must be comma-separated Spelling=City pairs such as Munich=München',
    ),
  CANCELLED_PREFIX: z.string().default('Cancelled: '),
  FEED_CACHE_CONTROL: z.string().min(1).default('public, max-age=300, stale-while-revalidate=600'),
  SITE_TITLE: z.string().min(1).default('Marquee'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z.string().default(''),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BACKUP_DIR: z.string().min(1).default('data/backups'),
  BACKUP_KEEP: positiveInt.default(7),
  SCHEDULE_RETENTION: schedule('30 3 * * *'),
  SCHEDULE_BACKUP: schedule('0 4 * * *'),
  SCHEDULE_SYNC_WATCHDOG: schedule('*/15 * * * *'),
  SCHEDULE_MAINTENANCE: schedule('15 * * * *'),
  SCHEDULE_TIMEZONE: z
    .string()
    .optional()
    .refine((zone) => zone === undefined || isKnownTimeZone(zone), 'must be an IANA time zone'),
  SYNC_STALE_HOURS: z.coerce.number().positive().default(26),
  JOBS_ENABLED: flag.default(true),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(8),
  CHANGE_LOG_RETENTION_DAYS: positiveInt.default(30),
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().positive().max(86_400).default(10),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().positive().max(300).default(15),
  WEBSUB_HUB_URL: z.url({ protocol: /^https?$/ }).optional(),
  WEBSUB_MAX_PINGS: positiveInt.max(10_000).default(100),
  WEBSUB_DELAY_SECONDS: z.coerce.number().min(0).max(600).default(2),
  WEBSUB_RETRY_BASE_SECONDS: z.coerce.number().positive().max(3600).default(10),
});

const envSchema = variablesSchema.transform((env) => {
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  return {
    port: env.PORT,
    host: env.HOST,
    databasePath: env.DATABASE_PATH,
    databaseUrl: env.DATABASE_URL ?? null,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    publicUrl,
    publicHost: new URL(publicUrl).hostname,
    /** UID_DOMAIN: replaces the installation's stored UID domain while set. */
    uidDomain: env.UID_DOMAIN?.toLowerCase() ?? null,
    /**
     * The installation's identity as stored in its database (db/installation.ts), UID_DOMAIN
     * applied: null in the environment's configuration, filled in by startServer.
     */
    identity: null as InstallationIdentity | null,
    timeZone: env.TIMEZONE,
    bodyLimitBytes: parseByteSize(env.BODY_LIMIT) ?? 25 * 1024 ** 2,
    /** ICS_MAX_BYTES: calendars stay within this many bytes (uncompressed). */
    icsMaxBytes: parseByteSize(env.ICS_MAX_BYTES) ?? 900 * 1024,
    /** CACHE_MAX_BYTES: what the render caches may hold in all (see cache/caches.ts). */
    cacheMaxBytes: parseByteSize(env.CACHE_MAX_BYTES) ?? DEFAULT_CACHE_MAX_BYTES,
    /** WEBHOOK_PENDING_BYTES: body bytes held at once for requests not yet authenticated. */
    webhookPendingBytes: parseByteSize(env.WEBHOOK_PENDING_BYTES) ?? 64 * 1024 ** 2,
    /** WEBHOOK_BODY_TIMEOUT_SECONDS: the time a webhook body has to arrive in full. */
    webhookBodyTimeoutMs: env.WEBHOOK_BODY_TIMEOUT_SECONDS * 1000,
    stager: { signingKeys: csv(env.STAGER_SIGNING_KEYS) },
    eventport: {
      tokens: csv(env.EVENTPORT_TOKENS),
      timeZone: env.EVENTPORT_TIMEZONE,
      basicAuth: csv(env.EVENTPORT_BASIC_AUTH).map((pair) => {
        const colon = pair.indexOf(':');
        return { user: pair.slice(0, colon), password: pair.slice(colon + 1) };
      }),
    },
    inboxRetentionDays: env.INBOX_RETENTION_DAYS,
    eventRetentionDays: env.EVENT_RETENTION_DAYS,
    pastDays: env.PAST_DAYS,
    defaultDurationHours: env.DEFAULT_DURATION_HOURS,
    cityAliases: Object.fromEntries(
      csv(env.CITY_ALIASES).map((pair) => {
        const [spelling = '', city = ''] = pair.split('=');
        return [spelling.trim(), city.trim()];
      }),
    ) as Record<string, string>,
    cancelledPrefix: env.CANCELLED_PREFIX,
    feedCacheControl: env.FEED_CACHE_CONTROL,
    siteTitle: env.SITE_TITLE,
    logLevel: env.LOG_LEVEL,
    trustProxy: env.TRUST_PROXY,
    adminToken: env.ADMIN_TOKEN ?? null,
    backupDir: env.BACKUP_DIR,
    backupKeep: env.BACKUP_KEEP,
    schedules: {
      retention: env.SCHEDULE_RETENTION,
      backup: env.SCHEDULE_BACKUP,
      syncWatchdog: env.SCHEDULE_SYNC_WATCHDOG,
      maintenance: env.SCHEDULE_MAINTENANCE,
      timeZone: env.SCHEDULE_TIMEZONE ?? env.TIMEZONE,
    },
    syncStaleHours: env.SYNC_STALE_HOURS,
    jobsEnabled: env.JOBS_ENABLED,
    metricsToken: env.METRICS_TOKEN ?? null,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    /** CHANGE_LOG_RETENTION_DAYS: how long the change log keeps a change (feed and webhooks). */
    changeLogRetentionDays: env.CHANGE_LOG_RETENTION_DAYS,
    /** WEBHOOK_RETRY_BASE_SECONDS: the first retry of a failed outgoing webhook, doubled after. */
    webhookRetryBaseMs: env.WEBHOOK_RETRY_BASE_SECONDS * 1000,
    /** WEBHOOK_TIMEOUT_SECONDS: how long a subscriber has to answer an outgoing webhook. */
    webhookTimeoutMs: env.WEBHOOK_TIMEOUT_SECONDS * 1000,
    websub: {
      /** WEBSUB_HUB_URL: the hub feeds name and changes are announced to; null: no WebSub. */
      hubUrl: env.WEBSUB_HUB_URL === undefined ? null : new URL(env.WEBSUB_HUB_URL).href,
      /** WEBSUB_MAX_PINGS: at most this many feeds announced per change. */
      maxPingsPerChange: env.WEBSUB_MAX_PINGS,
      /** WEBSUB_DELAY_SECONDS: changes within this time are announced together. */
      delayMs: env.WEBSUB_DELAY_SECONDS * 1000,
      /** WEBSUB_RETRY_BASE_SECONDS: the first retry of a failed ping, doubled each time. */
      retryBaseMs: env.WEBSUB_RETRY_BASE_SECONDS * 1000,
    },
  };
});

export type Config = z.output<typeof envSchema>;

/** Every environment variable Marquee reads. */
export const CONFIG_VARIABLES = Object.keys(variablesSchema.shape);

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`config: invalid environment\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = envSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map(
        (issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`,
      ),
    );
  }
  return result.data;
}

/**
 * The environment with the variables of the `.env` file at `file` added (when it exists): a
 * variable already set in `env`, even to an empty value, keeps its value. Node's own parser reads
 * the file (the same syntax as `node --env-file`).
 */
export function withEnvFile(
  env: NodeJS.ProcessEnv,
  file: string,
): { env: NodeJS.ProcessEnv; read: boolean } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { env, read: false };
    throw new ConfigError([`${file}: cannot be read (${(error as Error).message})`]);
  }
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (!(name in env)) merged[name] = value;
  }
  return { env: merged, read: true };
}

/** Adds the variables of `.env` in the working directory to process.env; the process's own win. */
export function loadEnvFile(file = '.env'): boolean {
  const { env, read } = withEnvFile(process.env, file);
  if (read) Object.assign(process.env, env);
  return read;
}
