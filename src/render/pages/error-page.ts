import type { Eta } from 'eta';
import type { SiteInfo } from './templates.js';

/** HTML error pages, laid out by views/error.eta. */

export interface ErrorPageInput {
  site: SiteInfo;
  status: number;
  message: string;
}

const ERROR_TEXTS: Record<number, { heading: string; text: string | null }> = {
  // 400: the message names the parameter and what it accepts; it is worth showing.
  400: { heading: 'This address has a problem', text: null },
  404: {
    heading: 'Not found',
    text: 'There is nothing at this address. The event may have been hidden, or the link is mistyped.',
  },
  410: {
    heading: 'This event was removed',
    text: 'The organizer removed this event; it is no longer listed here.',
  },
};

/** An error page: 400 (bad filter, with its explanation), 404, 410 or a 500 without detail. */
export function renderErrorPage(templates: Eta, input: ErrorPageInput): string {
  const known = ERROR_TEXTS[input.status];
  const heading =
    known?.heading ?? (input.status >= 500 ? 'Something went wrong' : 'Request failed');
  const message =
    input.status >= 500
      ? 'The page could not be shown. Please try again in a moment.'
      : (known?.text ?? input.message);
  return templates.render('./error', {
    site: input.site,
    title: `${heading} · ${input.site.siteTitle}`,
    status: input.status,
    heading,
    message,
  });
}
