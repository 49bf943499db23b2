/**
 * The V8 flags every start command passes to Node: package.json's `start`, the Dockerfile and
 * the systemd units in deploy/ (test/integration/start-commands.test.ts keeps them equal).
 *
 * `--max-semi-space-size=16`: Node 24 sizes the young generation from the machine's memory, up to
 * 64 MB per semi-space on a large machine, and a burst of requests fills it before collecting it:
 * a flood of 50,000 distinct feed URLs grew the process by 140 MB, against 60 MB with 16 MB
 * semi-spaces (V8's size before it began to scale them). See "Limits against hostile input" in
 * the README.
 */
export const NODE_FLAGS = ['--max-semi-space-size=16'] as const;
