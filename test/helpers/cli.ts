import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TEST_ENV } from './test-app.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `src/cli.ts` in a child process (as `npx tsx src/cli.ts` would) with the test secrets and
 * only the given environment, `stdin` as its input.
 */
export function cli(
  args: string[],
  env: Record<string, string> = {},
  stdin?: Buffer,
): Promise<CliResult> {
  const { LOG_LEVEL: _level, ...testEnv } = DEFAULT_TEST_ENV;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT,
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      TMPDIR: os.tmpdir(),
      ...testEnv,
      ...env,
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
