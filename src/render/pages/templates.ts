import path from 'node:path';
import { Eta } from 'eta';

/**
 * What every HTML page shares: the template engine over views/ (the Eta templates lay out the
 * view models the page modules build, and escape every value) and the site-wide facts.
 */

export const VIEWS_DIR = path.resolve(import.meta.dirname, '..', '..', '..', 'views');

/** The template engine, created once per app: auto-escaping, compiled templates cached. */
export function createTemplates(viewsDir: string = VIEWS_DIR): Eta {
  return new Eta({ views: viewsDir, autoEscape: true, cache: true });
}

/** Site-wide facts every page needs. */
export interface SiteInfo {
  siteTitle: string;
  /** PUBLIC_URL without trailing slash. */
  publicUrl: string;
  /** TIMEZONE: list pages group and show times in it. */
  timeZone: string;
  /** Root-relative URLs of the stylesheets and scripts, with content versions. */
  assets: { siteCss: string; siteJs: string; embedCss: string; embedFrameJs: string };
  /** Paths of the feed formats: `/events.ics`, `/events.rss`, ... */
  feedPaths: { ics: string; rss: string; atom: string; json: string };
}
