import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');

/**
 * Compares `actual` byte for byte with `test/golden/<name>`; with UPDATE_GOLDEN=1 it writes
 * the file instead.
 */
export function expectGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(`golden: ${path} is missing; run the tests with UPDATE_GOLDEN=1 to write it`);
  }
  const expected = readFileSync(path);
  if (!expected.equals(Buffer.from(actual, 'utf8'))) {
    // A string comparison gives a readable diff; the byte comparison above catches the rest.
    expect(actual).toBe(expected.toString('utf8'));
    expect.fail(`golden: ${name} differs from the rendered output in bytes only`);
  }
}
