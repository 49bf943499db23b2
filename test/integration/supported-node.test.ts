import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_NODE, unsupportedNodeMessage } from '../../src/supported-node.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** An installed Node older than supported (the system Node of some machines), if there is one. */
function olderNode(): string | null {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
      if (unsupportedNodeMessage(version) !== null) return candidate;
    } catch {
      // not installed there
    }
  }
  return null;
}

describe('supported Node.js versions', () => {
  it('accepts 22.12 and later, 24 and 26; refuses older ones naming the supported versions', () => {
    for (const version of ['v22.12.0', '22.23.3', 'v24.21.0', 'v26.10.0', 'v27.0.0']) {
      expect(unsupportedNodeMessage(version), version).toBeNull();
    }
    for (const version of ['v20.20.2', 'v22.11.0', 'v18.20.0']) {
      const message = unsupportedNodeMessage(version);
      expect(message, version).toContain(SUPPORTED_NODE);
      expect(message, version).toContain(version.replace(/^v/, ''));
    }
  });

  const older = olderNode();
  it.skipIf(older === null)(
    'exits at once with one line on an older Node, before loading the database driver',
    () => {
      const result = spawnSync(older!, ['--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, DATABASE_PATH: '/nonexistent/never-created.db' },
        timeout: 30_000,
      });
      expect(result.status).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(SUPPORTED_NODE);
    },
  );
});
