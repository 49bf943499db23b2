import type { Config } from '../config.js';
import { SOURCE_NAMES, type SourceName } from '../events/types.js';
import { createEventportAdapter, type EventportSettings } from './eventport/index.js';
import { createStagerAdapter, type StagerSettings } from './stager/index.js';
import type { SourceAdapter } from './types.js';

/**
 * Every webhook source. Adding one: a folder beside these, a name in SourceName, its settings
 * here and a line in `createSources`.
 */
export type Sources = Readonly<Record<SourceName, SourceAdapter>>;

/** Each source's own settings. */
export interface SourceSettings {
  stager: StagerSettings;
  eventport: EventportSettings;
}

export { SOURCE_NAMES };

/** Builds every source's adapter from its settings. */
export function createSources(settings: SourceSettings): Sources {
  return {
    stager: createStagerAdapter(settings.stager),
    eventport: createEventportAdapter(settings.eventport),
  };
}

/** Picks each source's settings from the configuration. */
export function sourceSettingsFrom(config: Config): SourceSettings {
  return {
    stager: { signingKeys: config.stager.signingKeys, timeZone: config.timeZone },
    eventport: config.eventport,
  };
}

/** True when `name` names a source. */
export function isSourceName(name: string): name is SourceName {
  return (SOURCE_NAMES as readonly string[]).includes(name);
}
