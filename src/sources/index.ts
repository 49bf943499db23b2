import type { SourceName } from '../events/types.js';
import { eventportAdapter } from './eventport/index.js';
import { stagerAdapter } from './stager/index.js';
import type { SourceAdapter } from './types.js';

/** Every webhook source. Adding one: a folder beside these, a name in SourceName, a line here. */
export const sources: Record<SourceName, SourceAdapter> = {
  stager: stagerAdapter,
  eventport: eventportAdapter,
};

export const SOURCE_NAMES = Object.keys(sources) as SourceName[];

/** The adapter for a source name, or undefined for a name no source has. */
export function findSource(name: string): SourceAdapter | undefined {
  return Object.hasOwn(sources, name) ? sources[name as SourceName] : undefined;
}
