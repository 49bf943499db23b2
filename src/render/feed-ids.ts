/**
 * Ids that calendars and feed readers keep: built from the installation's identity
 * (db/installation.ts), never from PUBLIC_URL, so that moving the site keeps every id.
 */

/** `tag:<domain>,<date>:`: the start of every `tag:` URI (RFC 4151) of an installation. */
export function tagPrefix(identity: { uidDomain: string; since: string }): string {
  return `tag:${identity.uidDomain},${identity.since}:`;
}

/** `tag:<domain>,<date>:<event id>`: the RSS guid, Atom entry id and JSON Feed item id. */
export function feedItemId(prefix: string, eventId: string): string {
  return prefix + tagSpecific(eventId);
}

/**
 * `tag:<domain>,<date>:events?<filter>`: the id of a feed showing the filter whose query string
 * (URL-encoded, empty or starting with `?`) is `query`.
 */
export function feedIdFor(prefix: string, query: string): string {
  return `${prefix}events${query}`;
}

/**
 * Text fit for a tag URI's specific part: characters other than the URI's unreserved ones,
 * sub-delimiters, `:`, `@`, `/` and `?` percent-encoded (as UTF-8). Public event ids pass
 * unchanged.
 */
function tagSpecific(text: string): string {
  return text.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]/gu, (char) =>
    // A lone surrogate has no UTF-8 form: it stands as U+FFFD.
    /^[\uD800-\uDFFF]$/.test(char) ? '%EF%BF%BD' : encodeURIComponent(char),
  );
}
