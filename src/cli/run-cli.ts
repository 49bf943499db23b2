import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { latestSchemaVersion } from '../db/connection.js';
import { MARQUEE_VERSION } from '../version.js';
import { CliError, UsageError, type CliDeps, type Command, type Values } from './command.js';
import { backupCommand } from './commands/backup.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { jobCommand } from './commands/job.js';
import { migrateCommand } from './commands/migrate.js';
import { pruneCommand } from './commands/prune.js';
import { replayCommand } from './commands/replay.js';
import { restoreCommand } from './commands/restore.js';
import { sendTestCommand } from './commands/send-test.js';
import { statusCommand } from './commands/status.js';

export type { CliDeps } from './command.js';

/**
 * The `marquee` command line: operations on the database and the webhooks of one installation,
 * configured by the same environment as the server. Exit codes: 0 done, 1 failed, 2 misuse.
 */

/** Every command, in the order `marquee --help` lists them; one file each in commands/. */
const COMMANDS: Record<string, Command> = {
  'send-test': sendTestCommand,
  replay: replayCommand,
  backup: backupCommand,
  restore: restoreCommand,
  export: exportCommand,
  import: importCommand,
  migrate: migrateCommand,
  prune: pruneCommand,
  status: statusCommand,
  job: jobCommand,
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  return `Usage: marquee <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`)
  .join('\n')}

Run \`marquee <command> --help\` for a command's arguments, \`marquee --version\` for the version
and schema. Settings come from the environment and from .env in the working directory,
as for the server (DATABASE_PATH, BACKUP_DIR, STAGER_SIGNING_KEYS, ...).`;
}

/** Runs the command line on `argv` (without node and the script) and `deps`; resolves to the exit code. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  const out = (line = '') => {
    deps.stdout.write(`${line}\n`);
  };
  const error = (text: string) => {
    deps.stderr.write(`${text}\n`);
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    out(topic ? `${topic.usage}\n\n${topic.details}` : usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    // The schema this build migrates to; `marquee status` shows the database's own.
    out(`marquee ${MARQUEE_VERSION}`);
    out(`schema ${latestSchemaVersion()}`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    error(`marquee: unknown command "${name}"\n\n${usage()}`);
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
  } catch (failure) {
    error(`marquee ${name}: ${(failure as Error).message}\nusage: ${command.usage}`);
    return 2;
  }
  if (parsed.values.help) {
    out(`${command.usage}\n\n${command.details}`);
    return 0;
  }
  try {
    return await command.run(parsed.positionals, parsed.values, { ...deps, out });
  } catch (failure) {
    if (failure instanceof UsageError) {
      error(`marquee ${name}: ${failure.message}\nusage: ${command.usage}`);
      return 2;
    }
    if (failure instanceof ConfigError) error(failure.message);
    else if (failure instanceof CliError) error(`marquee ${name}: ${failure.message}`);
    else
      error(
        `marquee ${name}: failed: ${failure instanceof Error ? failure.message : String(failure)}`,
      );
    return 1;
  }
}
