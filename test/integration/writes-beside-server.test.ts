import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli } from '../helpers/cli.js';
import { startChildApp, type ChildApp } from '../helpers/child-app.js';
import {
  databaseEnv,
  fixture,
  startTestApp,
  tempDatabasePath,
  usingPostgres,
} from '../helpers/test-app.js';

const children: ChildApp[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.stop()));
});

async function apiTotal(url: string): Promise<number> {
  const response = await fetch(`${url}/api/events?limit=1`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { total: number }).total;
}

// SQLite only: on PostgreSQL other writers announce their changes (postgres-coordination.test.ts).
describe.skipIf(usingPostgres)('writes made beside a running server (SQLite)', () => {
  it(
    'serves what a CLI import in another process wrote within a second',
    { timeout: 90_000 },
    async () => {
      const source = await startTestApp({ database: tempDatabasePath() });
      expect((await source.postStager(fixture('stager/update-events.json'))).status).toBe(202);
      await source.settle();
      await source.close();
      const dump = await cli(['export'], databaseEnv(source.database));
      expect(dump.code).toBe(0);
      const dumpFile = path.join(path.dirname(source.database), 'dump.jsonl');
      fs.writeFileSync(dumpFile, dump.stdout);

      const database = tempDatabasePath();
      // Every imported event stays listed whatever day the test runs.
      const server = await startChildApp(database, { PAST_DAYS: '100000' });
      children.push(server);
      // Cached now: without the data version check, this answer would be served until a restart.
      expect(await apiTotal(server.url)).toBe(0);
      expect(await apiTotal(server.url)).toBe(0);

      const imported = await spawnCli(['import', dumpFile], databaseEnv(database));
      expect(imported).toMatchObject({ code: 0, stderr: '' });
      const written = Date.now();
      let total = 0;
      while (Date.now() - written < 1_000) {
        total = await server.diagnose(apiTotal(server.url));
        if (total > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(total).toBeGreaterThan(0);
      expect(Date.now() - written).toBeLessThan(1_000);
    },
  );
});
