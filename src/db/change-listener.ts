import pg from 'pg';
import type { Logger } from 'pino';
import type { PostgresHandle } from './connection.js';

export interface ChangeListener {
  close(): Promise<void>;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Listens on a PostgreSQL notification channel on a connection of its own (a pooled one would be
 * handed to queries), reconnecting with backoff. `onConnectionChange(false)` tells the owner
 * that announcements may be missed until `onConnectionChange(true)`.
 */
export function listenForNotifications(
  handle: PostgresHandle,
  options: {
    channel: string;
    /** Shown in pg_stat_activity, so operators can tell the instances' listeners apart. */
    applicationName: string;
    logger: Logger;
    onNotification(payload: string): void;
    onConnectionChange(listening: boolean): void;
  },
): ChangeListener {
  const { channel, logger } = options;
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = RETRY_MIN_MS;
  let timer: NodeJS.Timeout | undefined;
  let listening = false;

  const setListening = (value: boolean) => {
    if (listening === value) return;
    listening = value;
    options.onConnectionChange(value);
  };

  const retry = () => {
    setListening(false);
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };

  const connect = async () => {
    const current = new pg.Client({
      ...handle.connection,
      application_name: options.applicationName.slice(0, 63),
    });
    client = current;
    current.on('notification', (message) => {
      if (message.channel === channel) options.onNotification(message.payload ?? '');
    });
    current.on('error', (error) => {
      logger.warn({ err: error }, 'db: change listener lost its connection; reconnecting');
      void current.end().catch(() => undefined);
      if (client === current) retry();
    });
    current.on('end', () => {
      if (client === current && !closed) retry();
    });
    try {
      await current.connect();
      await current.query(`listen ${pg.escapeIdentifier(channel)}`);
      if (closed) {
        await current.end();
        return;
      }
      retryMs = RETRY_MIN_MS;
      setListening(true);
    } catch (error) {
      logger.warn({ err: error }, 'db: change listener could not connect; retrying');
      void current.end().catch(() => undefined);
      if (client === current) retry();
    }
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
