import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config.js';
import { createContext, type AppContext } from '../context.js';
import { openDatabase, pendingMigrations, type DatabaseHandle } from '../db/connection.js';
import { TransferError, type TableCounts } from '../operations/transfer.js';
import { createLogger } from '../logger.js';

/**
 * What one command shares with the others: its shape, its errors, and the way it reaches the
 * world outside (environment, clock, standard streams, network), which `runCli` is given.
 */

/** Everything the command line reaches outside itself; the bin passes the process's own. */
export interface CliDeps {
  /** The environment the configuration is read from. */
  env: NodeJS.ProcessEnv;
  /** The clock every command takes time from. */
  now: () => Date;
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  fetch: typeof fetch;
}

/** The deps as a command sees them, with a line printer for standard output. */
export interface CommandIo extends CliDeps {
  /** Prints one line (or an empty one) on standard output. */
  out(line?: string): void;
}

export type Values = Record<string, string | boolean | undefined>;

/** One `marquee <command>`: its help texts, its options, and what it does. */
export interface Command {
  usage: string;
  summary: string;
  details: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Resolves to the exit code. */
  run(positionals: string[], values: Values, io: CommandIo): Promise<number>;
}

/** A failure the user can act on: printed without a stack trace, exit code 1. */
export class CliError extends Error {}
/** Wrong arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Throws a UsageError naming the first of `extra` arguments, if there is one. */
export function refuseExtraArguments(extra: string[]): void {
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
}

/** The configuration from the environment the command line was given. */
export function loadCliConfig(io: CliDeps): Config {
  return loadConfig(io.env);
}

/** Logs go to stderr and stay quiet (warnings and errors) unless LOG_LEVEL is set. */
function cliLogger(cfg: Config, io: CliDeps) {
  const level = io.env.LOG_LEVEL ? cfg.logLevel : 'warn';
  return createLogger({ ...cfg, logLevel: level }, io.stderr);
}

/** Opens an existing, migrated database and builds a context on it; the caller closes it. */
async function openContext(cfg: Config, io: CliDeps): Promise<AppContext> {
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
  return createContext({ config: cfg, database, logger: cliLogger(cfg, io), now: io.now });
}

/** Runs `run` on a context over the configured database, on the command line's clock; closes it after. */
export async function withContext(
  io: CliDeps,
  run: (ctx: AppContext) => Promise<number>,
): Promise<number> {
  const ctx = await openContext(loadCliConfig(io), io);
  try {
    return await run(ctx);
  } finally {
    await ctx.database.close();
  }
}

/** Opens the configured database for `run` and closes it after; TransferErrors are the user's to fix. */
export async function withDatabase(
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

/** Row counts of a dump, as export and import report them. */
export function describeCounts(counts: TableCounts): string {
  const moderation = [
    counts.hidden_events > 0 ? `${counts.hidden_events} hidden events` : null,
    counts.organization_blocks > 0 ? `${counts.organization_blocks} organization blocks` : null,
    counts.audit_log > 0 ? `${counts.audit_log} audit entries` : null,
  ].filter((part) => part !== null);
  return (
    `${counts.deliveries} deliveries, ${counts.events} events, ${counts.event_genres} event genres, ` +
    `${counts.organizations} organizations` +
    moderation.map((part) => `, ${part}`).join('')
  );
}
