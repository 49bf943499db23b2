import { PostgresAdapter, sql, type QueryExecutorProvider } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DataVersion } from './data-version.js';

/**
 * Instances sharing a PostgreSQL database tell each other that events changed: a writer announces
 * inside its transaction, every instance listens and bumps its data version. SQLite has a single
 * process; nothing to tell.
 */

/**
 * PostgreSQL channel on which writers announce that events changed. The payload names the writer,
 * followed by ` facets` when the change may alter the list page's filter choices.
 */
export const EVENTS_CHANGED_CHANNEL = 'marquee_events_changed';

export interface EventsChange {
  writer: string;
  /** Whether cities, genres or organizers of upcoming public events may have changed. */
  facets: boolean;
}

/**
 * Tells other instances on the same PostgreSQL database that events changed, so that their render
 * caches drop what they hold. Sent inside the writing transaction, it is delivered only if that
 * commits. SQLite has a single process; nothing to tell.
 */
export async function announceEventsChanged(
  db: QueryExecutorProvider,
  change: EventsChange,
): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  const payload = change.facets ? `${change.writer} facets` : change.writer;
  await sql`select pg_notify(${EVENTS_CHANGED_CHANNEL}, ${payload})`.execute(db);
}

/** Reads an announcement's payload. */
export function parseEventsChange(payload: string): EventsChange {
  const facets = payload.endsWith(' facets');
  return { writer: facets ? payload.slice(0, -' facets'.length) : payload, facets };
}

export interface ChangeListener {
  close(): Promise<void>;
}

/**
 * Keeps `dataVersion` in step with other instances' announcements. While the listener is not
 * connected, announcements may be missed, so the data version trusts nothing cached.
 */
export function followEventsChanged(
  connection: pg.ClientConfig,
  options: { instanceId: string; logger: Logger; dataVersion: DataVersion },
): ChangeListener {
  return listenForNotifications(connection, {
    channel: EVENTS_CHANGED_CHANNEL,
    applicationName: `marquee listener ${options.instanceId}`,
    logger: options.logger,
    onNotification: (payload) => {
      const change = parseEventsChange(payload);
      if (change.writer !== options.instanceId) options.dataVersion.bump(change);
    },
    onConnectionChange: (listening) => options.dataVersion.setSeeingAllWrites(listening),
  });
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Listens on a PostgreSQL notification channel on a connection of its own (a pooled one would be
 * handed to queries), reconnecting with backoff. `onConnectionChange(false)` tells the owner
 * that announcements may be missed until `onConnectionChange(true)`.
 */
function listenForNotifications(
  connection: pg.ClientConfig,
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
      ...connection,
      application_name: options.applicationName.slice(0, 63),
    });
    client = current;
    current.on('notification', (message) => {
      if (message.channel === channel) options.onNotification(message.payload ?? '');
    });
    current.on('error', (error) => {
      logger.warn({ err: error }, 'cache: change listener lost its connection; reconnecting');
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
      logger.warn({ err: error }, 'cache: change listener could not connect; retrying');
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
