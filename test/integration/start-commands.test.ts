import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../src/node-flags.js';

/**
 * Every way this repository starts the server runs `dist/main.js` with NODE_FLAGS, so an
 * operator gets the memory behaviour the README gives whichever they use.
 */

const root = path.resolve(import.meta.dirname, '..', '..');
const read = (name: string) => fs.readFileSync(path.join(root, name), 'utf8');

/** The words of a command line, from a shell line or a Dockerfile's JSON exec form. */
function words(command: string): string[] {
  const trimmed = command.trim();
  return trimmed.startsWith('[') ? (JSON.parse(trimmed) as string[]) : trimmed.split(/\s+/);
}

const commands: Record<string, string> = {
  "package.json's start": (JSON.parse(read('package.json')) as { scripts: { start: string } })
    .scripts.start,
  'the Dockerfile': /^CMD (.*)$/m.exec(read('Dockerfile'))?.[1] ?? '',
  'deploy/marquee.service': /^ExecStart=(.*)$/m.exec(read('deploy/marquee.service'))?.[1] ?? '',
  'deploy/marquee@.service': /^ExecStart=(.*)$/m.exec(read('deploy/marquee@.service'))?.[1] ?? '',
};

describe('the start commands', () => {
  for (const [name, command] of Object.entries(commands)) {
    it(`${name} runs dist/main.js with ${NODE_FLAGS.join(' ')}`, () => {
      const [node, ...rest] = words(command);
      expect(path.basename(node ?? '')).toBe('node');
      expect(rest).toEqual([...NODE_FLAGS, 'dist/main.js']);
    });
  }
});
