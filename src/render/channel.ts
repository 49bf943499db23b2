/**
 * What a renderer needs to know about the feed besides its events. Built by the HTTP layer from
 * the request's filter and the configuration; renderers stay pure.
 */
export interface FeedChannel {
  /** "Marquee: House in München" */
  title: string;
  /** Human description of the filter: "House in München". */
  description: string;
  /** Canonical URL of this very response (self link). */
  selfUrl: string;
  /** The HTML page showing the same filter. */
  htmlUrl: string;
  /** PUBLIC_URL without trailing slash; event pages are at eventPageUrl(publicUrl, id). */
  publicUrl: string;
  /**
   * The installation's UID domain (db/installation.ts), not PUBLIC_URL's host: ICS UIDs are
   * `<event id>@<uidDomain>`, so they survive a domain move.
   */
  uidDomain: string;
  /**
   * `tag:<uidDomain>,<since>:` (RFC 4151): feed item ids are this and the event id (itemIdFor),
   * ids that are no URL of the site and so survive a domain move.
   */
  tagPrefix: string;
  /** The feed's own id where a format has one (Atom): `tagPrefix` and the filter. */
  feedId: string;
  /** Zone for the human-readable times in titles (TIMEZONE). */
  timeZone: string;
  /** Prefix for cancelled events' titles and summaries (CANCELLED_PREFIX). */
  cancelledPrefix: string;
  /** Data-derived modification time of this result set (never the clock). */
  updated: Date;
  /** Site name (SITE_TITLE), used as author/generator where a format needs one. */
  siteTitle: string;
  /** The WebSub hub (WEBSUB_HUB_URL) RSS, Atom and JSON Feed name; none when absent or null. */
  hubUrl?: string | null;
}
