import { afterAll, expect } from 'vitest';
import { capturedLogs, removeTempDatabases, sentCredentials } from './test-app.js';

/**
 * Runs after every test file (vitest setupFiles): no configured secret and no credential a test
 * sent (signature, token, Basic credentials, right or wrong) appears in any log line the file's
 * test apps wrote. Values shorter than 8 characters are too likely to occur by chance.
 */
afterAll(() => {
  const logs = capturedLogs.join('');
  if (logs.length === 0) return;
  const leaked = [...sentCredentials].filter(
    (credential) => credential.length >= 8 && logs.includes(credential),
  );
  expect(leaked, 'credentials found in log output').toEqual([]);
});

// Registered first, so it runs after the file's own afterAll hooks have closed their apps.
afterAll(async () => {
  await removeTempDatabases();
});
