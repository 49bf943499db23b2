#!/usr/bin/env node
import { ConfigError, withEnvFile } from '../config.js';
import { runCli } from './run-cli.js';

// The `marquee` bin, the one file of the command line that runs on import: it hands runCli this
// process's arguments, environment (with .env in the working directory added, as the server
// reads it), clock, streams and network, and exits with its code.
let env: NodeJS.ProcessEnv = process.env;
try {
  env = withEnvFile(process.env, '.env').env;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
runCli(process.argv.slice(2), {
  env,
  now: () => new Date(),
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  fetch: globalThis.fetch,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('marquee: failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
