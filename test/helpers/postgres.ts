import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** An empty database of its own on a PostgreSQL server. */
export interface TestPostgresDatabase {
  url: string;
  /** Removes the database, disconnecting whoever still uses it. */
  drop(): Promise<void>;
}

async function onServer(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Creates `<prefix>_<pid>_<random>` on the server `serverUrl` names (a role that may create and
 * drop databases), so that test files running in parallel never share one.
 */
export async function createTestPostgresDatabase(
  serverUrl: string,
  prefix: string,
): Promise<TestPostgresDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onServer(serverUrl, `create database ${pg.escapeIdentifier(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      onServer(serverUrl, `drop database if exists ${pg.escapeIdentifier(name)} with (force)`),
  };
}
