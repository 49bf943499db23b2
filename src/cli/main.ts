#!/usr/bin/env node
import { runCli } from './run-cli.js';

// The `marquee` bin, the one file of the command line that runs on import: it hands runCli this
// process's arguments, environment, clock, streams and network, and exits with its code.
runCli(process.argv.slice(2), {
  env: process.env,
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
