/**
 * The public addresses of one event, built in one place: every output links to the same page,
 * and the routes in http/routes.ts serve them.
 */

/** `/events/<id>`: the root-relative path of an event's page. */
export function eventPagePath(id: string): string {
  return `/events/${encodeURIComponent(id)}`;
}

/** `${publicUrl}/events/<id>`: the absolute URL of an event's page. */
export function eventPageUrl(publicUrl: string, id: string): string {
  // publicUrl is PUBLIC_URL as config.ts keeps it: without a trailing slash.
  return `${publicUrl}${eventPagePath(id)}`;
}

/** `/events/<id>.ics`: the root-relative path of a calendar holding only this event. */
export function eventIcsPath(id: string): string {
  return `${eventPagePath(id)}.ics`;
}
