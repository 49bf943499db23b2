import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqliteHandle } from './connection.js';

/** How often the checkpointer copies the write-ahead log into the database file. */
const CHECKPOINT_INTERVAL_MS = 1_000;
/** How long stopping waits for the thread's last checkpoint. */
const STOP_WAIT_MS = 500;

// CommonJS, run as a worker thread's script: its own connection, so that the checkpoint's
// fsync waits in that thread. PASSIVE never waits for readers or writers.
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db = null;
const checkpoint = () => {
  try {
    if (db === null) {
      db = new Database(workerData.path, { fileMustExist: true });
      db.pragma('busy_timeout = 0');
    }
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy (another process checkpoints or holds a lock), or the file is being closed: the
    // next round does it.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  try {
    db?.close();
  } catch {
    // Ending anyway.
  }
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Runs a last checkpoint and ends the thread; call before closing the database. */
  stop(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the thread that serves requests. SQLite checkpoints on commit when
 * the log passes 1,000 pages, synchronously, fsync included: during a large sync that stalled
 * every request for up to hundreds of milliseconds. The server's connection stops checkpointing
 * and a worker thread with its own connection does it every second.
 */
export function startCheckpointer(handle: SqliteHandle): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SCRIPT, {
    eval: true,
    workerData: { driver, path: handle.path, intervalMs: CHECKPOINT_INTERVAL_MS },
  });
  worker.unref();
  const exited = once(worker, 'exit').then(() => undefined);
  // If the thread cannot run, SQLite's own checkpoints on commit take over again.
  const fallBack = () => {
    if (handle.sqlite.open) handle.sqlite.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('error', fallBack);
  handle.sqlite.pragma('wal_autocheckpoint = 0');
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= (async () => {
        fallBack();
        worker.postMessage('stop');
        // A checkpoint is crash-safe: a thread that does not end at once is simply ended.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), STOP_WAIT_MS);
        });
        if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
