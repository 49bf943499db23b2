/**
 * The V8 flags every start command passes to Node: package.json's `start`, the Dockerfile and
 * the systemd units in deploy/ (test/integration/start-commands.test.ts keeps them equal). Node
 * refuses `--heap-growing-percent` in NODE_OPTIONS: it must be on the command line.
 *
 * `--max-semi-space-size=16`: Node 24 sizes the young generation from the machine's memory, up to
 * 64 MB per semi-space on a large machine, and a burst of requests fills it before collecting it:
 * a flood of 50,000 distinct feed URLs grew the process by 140 MB, against 60 MB with 16 MB
 * semi-spaces (V8's size before it began to scale them).
 *
 * `--heap-growing-percent=25`: after a full collection V8 lets the old generation grow by a factor
 * it picks from how fast it collects, up to 4x the live objects when collecting is cheap, as it is
 * for a server whose caches are bounded. The same flood then grew the process by 130 to 145 MB on
 * Node 22 and up to 115 MB on 26, all of it garbage; with 1.25x, 35 to 47 MB on 22, 24 and 26.
 * See "Limits against hostile input" in the README.
 */
export const NODE_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=25'] as const;
