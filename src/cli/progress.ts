import type { CliDeps } from './command.js';

/**
 * A one-line progress display on standard error for long commands (export, import, replay,
 * backup), shown only when standard error is a terminal: redirected output, logs and pipes never
 * get carriage returns. Time comes from the command line's clock, so tests can drive it.
 */
export interface Progress {
  /** Shows `text` (what was done so far) with the time taken; redrawn at most 5 times a second. */
  update(text: string): void;
  /** Clears the line; resolves to the seconds taken since the start, for the summary. */
  finish(): number;
}

/** Redraws at most this often: more is flicker, and costs time on a slow terminal. */
const REDRAW_MS = 200;

/** Starts a progress line labelled `label` (`exporting`); inert unless stderr is a TTY. */
export function startProgress(io: Pick<CliDeps, 'stderr' | 'now'>, label: string): Progress {
  const shown = (io.stderr as { isTTY?: boolean }).isTTY === true;
  const started = io.now().getTime();
  let lastDrawn = Number.NEGATIVE_INFINITY;
  let drawn = false;
  const seconds = () => (io.now().getTime() - started) / 1000;
  return {
    update(text) {
      if (!shown) return;
      const at = io.now().getTime();
      if (at - lastDrawn < REDRAW_MS) return;
      lastDrawn = at;
      drawn = true;
      // \r and "erase line": the next drawing replaces this one.
      io.stderr.write(`\r\x1b[2K${label}: ${text} (${formatSeconds(seconds())})`);
    },
    finish() {
      if (drawn) io.stderr.write('\r\x1b[2K');
      return seconds();
    },
  };
}

/** `0.4 s`, `12.3 s`, `2 min 05 s`. */
export function formatSeconds(value: number): string {
  if (value < 60) return `${value.toFixed(1)} s`;
  const minutes = Math.floor(value / 60);
  return `${minutes} min ${String(Math.floor(value % 60)).padStart(2, '0')} s`;
}

/** `1,234`: thousands grouped, as in the summaries. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
