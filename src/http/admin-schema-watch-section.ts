import { escapeHtml } from '../events/description.js';
import type { SchemaWatchFinding, SourceSchemaWatch } from '../operations/schema-watch.js';

/** Rows shown per source; the API lists them all. */
const ROWS_PER_SOURCE = 100;

interface Row {
  label: string;
  finding: SchemaWatchFinding;
  bad: boolean;
}

function rowsOf(watch: SourceSchemaWatch): Row[] {
  return [
    ...watch.unknownMessageTypes.map((finding) => ({
      label: 'unknown message type',
      finding,
      bad: true,
    })),
    ...watch.unknownStatuses.map((finding) => ({ label: 'unknown status', finding, bad: true })),
    ...watch.combinations.map((finding) => ({
      label: finding.handled ? 'form (read)' : 'form (ignored)',
      finding,
      bad: !finding.handled,
    })),
    ...watch.unreadPaths.map((finding) => ({ label: 'unread key', finding, bad: false })),
  ];
}

/**
 * The admin page's schema watch section, as HTML (every value escaped): per source, what the
 * sender sent that its adapter does not read or know, with counts, times and an example delivery.
 */
export function renderSchemaWatchSection(
  watch: readonly SourceSchemaWatch[],
  timeZone: string,
): string {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
  const time = (iso: string) =>
    `<time datetime="${escapeHtml(iso)}">${escapeHtml(format.format(new Date(iso)))}</time>`;
  const parts = [
    '<h2 id="schema-watch">Schema watch</h2>',
    '<p class="muted">What the senders sent that Marquee does not read or know: payload keys (array indexes as <code>[]</code>), message types, statuses, and the envelope forms seen. <a href="/admin/api/schema-watch">schema-watch JSON</a></p>',
  ];
  const sources = watch.filter((source) => rowsOf(source).length > 0);
  if (sources.length === 0) {
    parts.push('<p class="muted">Nothing seen yet that the adapters do not read.</p>');
    return parts.join('\n');
  }
  for (const source of sources) {
    const rows = rowsOf(source);
    parts.push(
      `<h3>${escapeHtml(source.source)}</h3>`,
      '<table>',
      '<thead><tr><th>Kind</th><th>Value</th><th>Times</th><th>Deliveries</th><th>First seen</th><th>Last seen</th><th>Example delivery</th></tr></thead>',
      '<tbody>',
      ...rows
        .slice(0, ROWS_PER_SOURCE)
        .map(
          ({ label, finding, bad }) =>
            `<tr><td${bad ? ' class="bad"' : ''}>${label}</td><td><code>${escapeHtml(finding.value)}</code></td>` +
            `<td class="n">${finding.occurrences}</td><td class="n">${finding.deliveries}</td>` +
            `<td>${time(finding.firstSeenAt)}</td><td>${time(finding.lastSeenAt)}</td>` +
            `<td class="n">${finding.exampleDelivery}</td></tr>`,
        ),
      '</tbody>',
      '</table>',
    );
    if (rows.length > ROWS_PER_SOURCE) {
      parts.push(
        `<p class="muted">${rows.length - ROWS_PER_SOURCE} more in <a href="/admin/api/schema-watch">the JSON</a>.</p>`,
      );
    }
  }
  return parts.join('\n');
}
