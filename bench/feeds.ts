/** The outputs measured: 1,000 matching events (10% of the stored ones are in Amsterdam). */
export const FEEDS = [
  ['ICS', '/events.ics?city=Amsterdam&limit=1000'],
  ['RSS', '/events.rss?city=Amsterdam&limit=1000'],
  ['Atom', '/events.atom?city=Amsterdam&limit=1000'],
  ['JSON Feed', '/events.json?city=Amsterdam&limit=1000'],
  ['JSON API', '/api/events?city=Amsterdam&limit=1000'],
  ['HTML', '/?city=Amsterdam&limit=1000'],
] as const;
