import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { runCli } from '../../src/cli/run-cli.js';
import { DEFAULT_TEST_ENV, FIXED_NOW } from './test-app.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test secrets, without LOG_LEVEL: the command line then logs warnings and errors only. */
function testEnv(env: Record<string, string>): Record<string, string> {
  const { LOG_LEVEL: _level, ...secrets } = DEFAULT_TEST_ENV;
  return { ...secrets, ...env };
}

/** A stream that keeps what is written to it. */
function capture(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * Runs the `marquee` command line in this process, as `marquee <args>` would run, with the test
 * secrets and only the given environment, `stdin` as its input, and the pinned test clock
 * (`now`, FIXED_NOW unless given); with `stderrIsTerminal`, standard error says it is a TTY.
 */
export async function cli(
  args: string[],
  env: Record<string, string> = {},
  stdin?: Buffer,
  now: () => Date = () => new Date(FIXED_NOW.getTime()),
  options: { stderrIsTerminal?: boolean } = {},
): Promise<CliResult> {
  const stdout = capture();
  const stderr = capture();
  // What a terminal's stream says of itself; the progress display looks for it.
  if (options.stderrIsTerminal) Object.assign(stderr.stream, { isTTY: true });
  const code = await runCli(args, {
    env: testEnv(env),
    now,
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: Readable.from(stdin ? [stdin] : []),
    fetch: globalThis.fetch,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/**
 * Runs the real bin, `src/cli/main.ts`, in a child process (as `npx tsx src/cli/main.ts` would)
 * with the test secrets and only the given environment, `stdin` as its input, on the real clock.
 */
export function spawnCli(
  args: string[],
  env: Record<string, string> = {},
  stdin?: Buffer,
): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      TMPDIR: os.tmpdir(),
      ...testEnv(env),
    },
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.end(stdin);
  return new Promise((resolve) => {
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
}
