#!/usr/bin/env node
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createContext, type AppContext } from './context.js';
import {
  migrateToLatest,
  openDatabase,
  pendingMigrations,
  type DatabaseHandle,
} from './db/connection.js';
import { exportDatabase, importDatabase, TransferError, type TableCounts } from './db/transfer.js';
import { RestoreError, restoreBackup } from './jobs/backup.js';
import { JOB_NAMES, JOBS, runJob } from './jobs/scheduler.js';
import { createLogger, redactUrl } from './logger.js';
import { collectStatus, type OperationsStatus } from './operations/status.js';
import { SOURCE_NAMES } from './sources/index.js';

/**
 * The `marquee` command line: operations on the database and the webhooks of one installation,
 * configured by the same environment as the server. Exit codes: 0 done, 1 failed, 2 misuse.
 */

/** A failure the user can act on: printed without a stack trace, exit code 1. */
class CliError extends Error {}
/** Wrong arguments: printed with the command's usage, exit code 2. */
class UsageError extends Error {}

type Values = Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  summary: string;
  details: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(positionals: string[], values: Values): Promise<number>;
}

const out = (line = '') => console.log(line);

/** Logs go to stderr and stay quiet (warnings and errors) unless LOG_LEVEL is set. */
function cliLogger(cfg: Config) {
  const level = process.env.LOG_LEVEL ? cfg.logLevel : 'warn';
  return createLogger({ ...cfg, logLevel: level }, pino.destination({ dest: 2, sync: true }));
}

/** Opens an existing, migrated database and builds a context on it; the caller closes it. */
async function openContext(cfg: Config): Promise<AppContext> {
  if (!cfg.databaseUrl && cfg.databasePath !== ':memory:' && !fs.existsSync(cfg.databasePath)) {
    throw new CliError(
      `no database at ${cfg.databasePath} (DATABASE_PATH); run \`marquee migrate\` to create one`,
    );
  }
  const database = openDatabase(cfg);
  const pending = await pendingMigrations(database.db);
  if (pending.length > 0) {
    await database.close();
    throw new CliError(
      `the database schema is behind (pending: ${pending.join(', ')}); run \`marquee migrate\` first`,
    );
  }
  return createContext({ config: cfg, database, logger: cliLogger(cfg) });
}

async function withContext(run: (ctx: AppContext) => Promise<number>): Promise<number> {
  const ctx = await openContext(loadConfig());
  try {
    return await run(ctx);
  } finally {
    await ctx.database.close();
  }
}

/** A sample message per source with one upcoming event, stable ids so repeats update it. */
function sampleMessage(source: string, cfg: Config): unknown {
  const start = new Date(Date.now() + 7 * 86_400_000);
  start.setUTCHours(19, 0, 0, 0);
  const end = new Date(start.getTime() + 3 * 3_600_000);
  if (source === 'stager') {
    return {
      messageType: 'UPDATE_EVENTS',
      messageContent: {
        organization: { id: 'marquee-send-test', name: 'Marquee send-test' },
        events: [
          {
            id: 'marquee-send-test',
            // OPTION keeps the event out of the public feeds; the admin page counts it as hidden.
            status: 'OPTION',
            name: 'Marquee test event',
            startsAt: start.toISOString(),
            endsAt: end.toISOString(),
            timeZone: cfg.timeZone,
            location: { name: 'Test venue', city: 'Amsterdam', country: 'NL' },
            description: { format: 'HTML', text: '<p>Sent by <code>marquee send-test</code>.</p>' },
            updatedAt: new Date().toISOString(),
          },
        ],
      },
    };
  }
  return {
    type: 'event',
    method: 'post',
    version: '1.0',
    data: {
      event: {
        _id: 'marquee-send-test',
        name: 'Marquee test event',
        begin: start.toISOString(),
        end: end.toISOString(),
        openEnd: false,
        description: 'Sent by marquee send-test.',
        location: { name: 'Test venue', city: 'Berlin' },
        cancelled: false,
        changedOn: new Date().toISOString(),
      },
    },
  };
}

/** The webhook URL for `source` from a base URL or a full webhook URL. */
function webhookUrl(base: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url: not a URL: ${base}`);
  }
  if (!/^https?:$/.test(url.protocol))
    throw new UsageError(`--url: must be http or https: ${base}`);
  if (url.username || url.password)
    throw new UsageError(
      '--url: leave credentials out of the URL; they come from EVENTPORT_BASIC_AUTH',
    );
  if (!url.pathname.endsWith(`/webhooks/${source}`))
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/webhooks/${source}`;
  return url;
}

const sendTest: Command = {
  usage: 'marquee send-test <stager|eventport> [FILE] [--url URL] [--basic]',
  summary: 'POST a signed sample message (or FILE) to a Marquee webhook',
  details: `Sends FILE, or a built-in sample with one upcoming event, to the webhook of a running
Marquee, authenticated as the source would: Stager with an X-Signature HMAC made with the first
STAGER_SIGNING_KEYS key; Eventport with ?accessToken= and the first EVENTPORT_TOKENS token, or
HTTP Basic with the first EVENTPORT_BASIC_AUTH pair. Prints the HTTP status and the answer.

The Stager sample is an OPTION (kept out of public feeds); the Eventport sample is a public
event named "Marquee test event". Both use the id marquee-send-test, so repeats update it.

Options:
  --url URL   Marquee's base URL or the full webhook URL (default: PUBLIC_URL)
  --basic     Eventport: use HTTP Basic even when a token is configured`,
  options: { url: { type: 'string' }, basic: { type: 'boolean' } },
  async run(positionals, values) {
    const [source, file, ...extra] = positionals;
    if (!source || !SOURCE_NAMES.includes(source as never))
      throw new UsageError(`the source must be one of ${SOURCE_NAMES.join(', ')}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    const cfg = loadConfig();
    const url = webhookUrl(typeof values.url === 'string' ? values.url : cfg.publicUrl, source);
    let body: Buffer;
    if (file) {
      try {
        body = fs.readFileSync(file);
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
      }
    } else {
      body = Buffer.from(JSON.stringify(sampleMessage(source, cfg), null, 2));
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'marquee-send-test',
    };
    if (source === 'stager') {
      const key = cfg.stager.signingKeys[0];
      if (!key) throw new CliError('STAGER_SIGNING_KEYS is not set; nothing to sign with');
      headers['x-signature'] = createHmac('sha256', key).update(body).digest('hex');
    } else {
      const token = cfg.eventport.tokens[0];
      const pair = cfg.eventport.basicAuth[0];
      if (token && !(values.basic && pair)) url.searchParams.set('accessToken', token);
      else if (pair)
        headers.authorization = `Basic ${Buffer.from(`${pair.user}:${pair.password}`).toString('base64')}`;
      else
        throw new CliError(
          'neither EVENTPORT_TOKENS nor EVENTPORT_BASIC_AUTH is set; nothing to authenticate with',
        );
    }
    out(
      `POST ${redactUrl(url.toString())} (${body.length} bytes${file ? ` from ${file}` : ', built-in sample'})`,
    );
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new CliError(
        `request failed: ${(error as Error).message}${cause ? ` (${cause})` : ''}`,
      );
    }
    out(`HTTP ${response.status} ${response.statusText}`);
    out(await response.text());
    return response.ok ? 0 : 1;
  },
};

const replay: Command = {
  usage: 'marquee replay [--failed | --all] [--since DATE]',
  summary: 'queue stored deliveries again and process them',
  details: `Puts deliveries back in the queue and processes them with the current code, e.g.
after a fix of a source's normalizer. Deliveries whose raw body was purged (older than
INBOX_RETENTION_DAYS) cannot be replayed.

Options:
  --failed      only failed deliveries (the default)
  --all         every delivery that still has its body
  --since DATE  only deliveries received at or after DATE (ISO 8601, e.g. 2026-11-01)

While Marquee runs, prefer the admin page's replay button (POST /admin/replay).`,
  options: { failed: { type: 'boolean' }, all: { type: 'boolean' }, since: { type: 'string' } },
  async run(positionals, values) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (values.failed && values.all) throw new UsageError('--failed and --all exclude each other');
    let since: Date | null = null;
    if (typeof values.since === 'string') {
      since = new Date(values.since);
      if (Number.isNaN(since.getTime()))
        throw new UsageError(`--since: not a date: ${values.since}`);
    }
    const scope = values.all ? 'all' : 'failed';
    return withContext(async (ctx) => {
      const outcomes = { processed: 0, ignored: 0, failed: 0 };
      ctx.inbox.on('processed', ({ outcome }) => {
        outcomes[outcome] += 1;
      });
      const requeued = await ctx.inbox.replay({ scope, since });
      await ctx.inbox.stop();
      out(
        `requeued ${requeued} ${scope === 'all' ? '' : 'failed '}deliveries${since ? ` received since ${since.toISOString()}` : ''}`,
      );
      out(
        `processed ${outcomes.processed}, ignored ${outcomes.ignored}, failed ${outcomes.failed}`,
      );
      if (outcomes.failed > 0) out('see `marquee status` for the reasons');
      return 0;
    });
  },
};

const backup: Command = {
  usage: 'marquee backup',
  summary: 'write an online backup into BACKUP_DIR',
  details: `Copies the database with SQLite's online backup (safe while Marquee runs) to
BACKUP_DIR/marquee-YYYYMMDD-HHMMSS.db (UTC) and deletes all but the newest BACKUP_KEEP backups.`,
  options: {},
  async run(positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (loadConfig().databaseUrl) throw new CliError(POSTGRES_BACKUP_HINT);
    return withContext(async (ctx) => {
      const run = await runJob(ctx, 'backup');
      if (run.status !== 'ok') throw new CliError(`backup failed: ${run.error ?? run.status}`);
      out(`backup written: ${String(run.result?.file)} (${String(run.result?.bytes)} bytes)`);
      out(`old backups deleted: ${String(run.result?.deleted)}`);
      return 0;
    });
  },
};

const POSTGRES_BACKUP_HINT =
  'backup and restore copy SQLite files; with DATABASE_URL, back up PostgreSQL with pg_dump and restore with pg_restore (or use marquee export and import)';

const restore: Command = {
  usage: 'marquee restore FILE [--force]',
  summary: 'replace the database with a backup (stop Marquee first)',
  details: `Checks that FILE is a sound Marquee database (its tables, PRAGMA integrity_check) and
copies it to DATABASE_PATH, removing stale -wal/-shm files. Refuses while another process has the
database open. An existing database is only replaced with --force; it is kept beside it as
<DATABASE_PATH>.pre-restore. Pending migrations run when Marquee starts.

Options:
  --force  replace an existing database`,
  options: { force: { type: 'boolean' } },
  async run(positionals, values) {
    const [file, ...extra] = positionals;
    if (!file) throw new UsageError('which backup? give its FILE');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    const cfg = loadConfig();
    if (cfg.databaseUrl) throw new CliError(POSTGRES_BACKUP_HINT);
    try {
      const result = restoreBackup(file, cfg.databasePath, { force: values.force === true });
      out(`restored ${file} to ${result.restored}`);
      if (result.replaced) out(`the previous database is kept as ${result.replaced}`);
      return 0;
    } catch (error) {
      if (error instanceof RestoreError)
        throw new CliError(error.message.replace(/^restore: /, ''));
      throw error;
    }
  },
};

const migrate: Command = {
  usage: 'marquee migrate',
  summary: 'create the database or apply pending migrations',
  details:
    'Applies every pending migration to the database (DATABASE_URL, or DATABASE_PATH, creating the file if needed). Marquee also migrates on start.',
  options: {},
  async run(positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const cfg = loadConfig();
    const database = openDatabase(cfg);
    try {
      const applied = await migrateToLatest(database.db);
      out(
        applied.length > 0
          ? `applied: ${applied.join(', ')}`
          : `${database.location}: schema is up to date`,
      );
      return 0;
    } finally {
      await database.close();
    }
  },
};

/** Opens the configured database for `run` and closes it after; TransferErrors are the user's to fix. */
async function withDatabase(
  cfg: Config,
  run: (database: DatabaseHandle) => Promise<number>,
): Promise<number> {
  const database = openDatabase(cfg);
  try {
    return await run(database);
  } catch (error) {
    if (error instanceof TransferError) throw new CliError(error.message);
    throw error;
  } finally {
    await database.close();
  }
}

const describeCounts = (counts: TableCounts) =>
  `${counts.deliveries} deliveries, ${counts.events} events, ${counts.event_genres} event genres, ` +
  `${counts.organizations} organizations`;

/** Deletes what a failed export wrote (import would only refuse it), once the file is closed. */
async function removePartialDump(output: Writable, file: string): Promise<void> {
  output.destroy();
  await finished(output).catch(() => undefined);
  fs.rmSync(file, { force: true });
}

const exportCommand: Command = {
  usage: 'marquee export [--out FILE]',
  summary: 'write the inbox, events and organizations to a dump',
  details: `Writes every delivery (with its raw body), event and organization of the database
(DATABASE_URL, or DATABASE_PATH) as newline-delimited JSON to FILE, gzipped when FILE ends in
.gz, or to standard output. The rows are one consistent snapshot. \`marquee import\` reads the
dump into a new database of either kind: the way from SQLite to PostgreSQL.

Options:
  --out FILE  where to write the dump (default, or -: standard output)`,
  options: { out: { type: 'string' } },
  async run(positionals, values) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    const file = typeof values.out === 'string' && values.out !== '-' ? values.out : null;
    const cfg = loadConfig();
    if (!cfg.databaseUrl && !fs.existsSync(cfg.databasePath))
      throw new CliError(`no database at ${cfg.databasePath} (DATABASE_PATH)`);
    return withDatabase(cfg, async (database) => {
      const output = file ? fs.createWriteStream(file) : process.stdout;
      let counts: TableCounts;
      try {
        counts = await exportDatabase(database, output, { gzip: file?.endsWith('.gz') === true });
      } catch (error) {
        if (file) await removePartialDump(output, file);
        throw error;
      }
      // On standard output the dump is all there is to print.
      if (file) out(`exported ${describeCounts(counts)} from ${database.location} to ${file}`);
      return 0;
    });
  },
};

const importCommand: Command = {
  usage: 'marquee import FILE',
  summary: 'read a dump into a new, empty database',
  details: `Reads a dump written by \`marquee export\` from FILE (gunzipped when it ends in .gz; - for
standard input) into the database (DATABASE_URL, or DATABASE_PATH), which is created or migrated
first and must hold no deliveries, events or organizations yet. Everything is imported in one
transaction: a truncated or damaged dump (the error names the line) leaves the database as it was.

Marquee instances on the same PostgreSQL database may keep running: deliveries they receive
meanwhile wait for the import to commit and take ids after the imported ones, and they serve the
imported events at once. On SQLite, stop Marquee first.`,
  options: {},
  async run(positionals) {
    const [file, ...extra] = positionals;
    if (!file) throw new UsageError('which dump? give its FILE, or - for standard input');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    if (file !== '-' && !fs.existsSync(file)) throw new CliError(`no such file: ${file}`);
    return withDatabase(loadConfig(), async (database) => {
      const applied = await migrateToLatest(database.db);
      if (applied.length > 0) out(`applied: ${applied.join(', ')}`);
      const input = file === '-' ? process.stdin : fs.createReadStream(file);
      const counts = await importDatabase(database, input, { gzip: file.endsWith('.gz') });
      out(`imported ${describeCounts(counts)} into ${database.location}`);
      return 0;
    });
  },
};

const prune: Command = {
  usage: 'marquee prune',
  summary: 'run retention now',
  details: `Deletes events that ended more than EVENT_RETENTION_DAYS ago and purges raw delivery
bodies older than INBOX_RETENTION_DAYS (their metadata is kept). The retention job does the same on schedule.`,
  options: {},
  async run(positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    return withContext(async (ctx) => {
      const run = await runJob(ctx, 'retention');
      if (run.status !== 'ok') throw new CliError(`retention failed: ${run.error ?? run.status}`);
      out(
        `events deleted (ended before ${String(run.result?.eventCutoff)}): ${String(run.result?.deletedEvents)}`,
      );
      out(
        `delivery bodies purged (received before ${String(run.result?.inboxCutoff)}): ${String(run.result?.purgedBodies)}`,
      );
      return 0;
    });
  },
};

function printStatus(status: OperationsStatus): void {
  out(
    `status at ${status.generatedAt}; database ${status.database.location} (${status.database.bytes} bytes)`,
  );
  out(`inbox backlog: ${status.inboxBacklog}`);
  out();
  out('sources (last 24 hours):');
  for (const source of status.sources) {
    const c = source.last24h;
    out(
      `  ${source.name}: ${source.configured ? 'configured' : 'NOT CONFIGURED'}; last delivery ${source.lastDeliveryAt ?? 'never'}`,
    );
    out(
      `    accepted ${c.accepted}, processed ${c.processed}, ignored ${c.ignored}, failed ${c.failed}, rejected ${c.rejected}, pending ${c.pending}`,
    );
    for (const error of source.recentErrors) {
      out(
        `    ! delivery ${error.delivery} ${error.status} ${error.receivedAt} ${error.messageType ?? ''}: ${error.error ?? ''}`,
      );
    }
  }
  out();
  out(`organizations (stale after ${status.staleAfterHours} hours):`);
  if (status.organizations.length === 0) out('  none has synced yet');
  for (const organization of status.organizations) {
    out(
      `  ${organization.source}/${organization.id} ${organization.name ?? ''}: last sync ${organization.lastSyncAt ?? 'never'}` +
        `${organization.stale ? ' STALE' : ''}`,
    );
  }
  out();
  out('events:');
  if (status.events.length === 0) out('  none');
  for (const row of status.events) out(`  ${row.visibility} ${row.status}: ${row.count}`);
}

const status: Command = {
  usage: 'marquee status [--json]',
  summary: 'print sources, counts, organizations and the backlog',
  details: `Prints what the admin page shows: each source (configured, last delivery, counts of the last
24 hours, recent errors), each organization's last full sync, the inbox backlog and events by status.

Options:
  --json  print the status as JSON (the same as GET /admin/status.json)`,
  options: { json: { type: 'boolean' } },
  async run(positionals, values) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    return withContext(async (ctx) => {
      const current = await collectStatus(ctx);
      if (values.json) out(JSON.stringify(current, null, 2));
      else printStatus(current);
      return 0;
    });
  },
};

const job: Command = {
  usage: `marquee job <${JOB_NAMES.join('|')}>`,
  summary: 'run one scheduled job now',
  details: `Runs a job once, as the scheduler would, and prints its result.

Jobs:
${JOBS.map((definition) => `  ${definition.name.padEnd(14)}${definition.description}`).join('\n')}`,
  options: {},
  async run(positionals) {
    const [name, ...extra] = positionals;
    if (!name || !JOB_NAMES.includes(name))
      throw new UsageError(`the job must be one of ${JOB_NAMES.join(', ')}`);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
    return withContext(async (ctx) => {
      const run = await runJob(ctx, name);
      if (run.status !== 'ok') throw new CliError(`${name} failed: ${run.error ?? run.status}`);
      out(`${name} finished in ${run.durationMs} ms: ${JSON.stringify(run.result)}`);
      return 0;
    });
  },
};

const COMMANDS: Record<string, Command> = {
  'send-test': sendTest,
  replay,
  backup,
  restore,
  export: exportCommand,
  import: importCommand,
  migrate,
  prune,
  status,
  job,
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  return `Usage: marquee <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`)
  .join('\n')}

Run \`marquee <command> --help\` for a command's arguments. Settings come from the environment,
as for the server (DATABASE_PATH, BACKUP_DIR, STAGER_SIGNING_KEYS, ...).`;
}

/** Runs the command line; resolves to the exit code. */
async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    out(topic ? `${topic.usage}\n\n${topic.details}` : usage());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`marquee: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    console.error(`marquee ${name}: ${(error as Error).message}\nusage: ${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    out(`${command.usage}\n\n${command.details}`);
    return 0;
  }
  try {
    return await command.run(parsed.positionals, parsed.values);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`marquee ${name}: ${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (error instanceof ConfigError) console.error(error.message);
    else if (error instanceof CliError) console.error(`marquee ${name}: ${error.message}`);
    else
      console.error(
        `marquee ${name}: failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    return 1;
  }
}

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('marquee: failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
