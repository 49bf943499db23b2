import fs from 'node:fs';

/**
 * Marquee's version, from package.json: one level above this file both in src/ (tsx) and in
 * dist/ (the build, and the Docker image, which copies package.json beside dist/).
 */
export const MARQUEE_VERSION: string = (
  JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
