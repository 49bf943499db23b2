import type { AppContext } from '../context.js';
import { escapeHtml } from '../events/description.js';
import {
  reviewQueueViews,
  type PairRecordView,
  type PairView,
} from './admin-duplicates-handlers.js';

/**
 * The admin page's section on possible duplicates: each pair waiting for a person, its two
 * records side by side with the facts that matched. Plain HTML in the page's own classes (its
 * style sheet and CSP allow nothing else); decided through /admin/api/duplicates.
 */

/** The section's HTML for these pairs, times in `timeZone`. */
export function renderDuplicatesSection(pairs: readonly PairView[], timeZone: string): string {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  const record = (view: PairRecordView) =>
    [
      `<a href="${escapeHtml(view.url)}">${escapeHtml(view.title)}</a>`,
      `<br><span class="muted">${escapeHtml(view.source)} · <code>${escapeHtml(view.id)}</code></span>`,
      `<br><time datetime="${escapeHtml(view.start)}">${escapeHtml(format.format(new Date(view.start)))}</time>`,
      `<br>${escapeHtml([view.venue, view.city].filter(Boolean).join(', ') || '–')}`,
      view.ticketUrl ? `<br><code>${escapeHtml(view.ticketUrl)}</code>` : '',
      view.status === 'scheduled' ? '' : `<br><span class="bad">${escapeHtml(view.status)}</span>`,
      view.visibility === 'public'
        ? ''
        : `<br><span class="muted">${escapeHtml(view.visibility)}</span>`,
    ].join('');
  const rows = pairs.map((pair) =>
    [
      '<tr>',
      `<td><code>${escapeHtml(pair.id)}</code><br><span class="muted">${escapeHtml(pair.state)}</span>`,
      pair.note ? `<br><span class="bad">${escapeHtml(pair.note)}</span>` : '',
      '</td>',
      `<td>${record(pair.records[0])}</td>`,
      `<td>${record(pair.records[1])}</td>`,
      `<td>${escapeHtml(pair.facts.join(', ') || '–')}</td>`,
      '</tr>',
    ].join(''),
  );
  const body =
    rows.length > 0
      ? rows.join('\n')
      : '<tr><td colspan="4" class="muted">No possible duplicates waiting.</td></tr>';
  return [
    '<h2>Possible duplicates</h2>',
    '<p class="muted">POST /admin/api/duplicates/&lt;pair&gt;/merge or /dismiss decides a pair; POST /admin/api/events/&lt;id&gt;/unmerge separates a merged event.</p>',
    '<table>',
    '<thead><tr><th>Pair</th><th>Ticket seller</th><th>Other source</th><th>Matched</th></tr></thead>',
    `<tbody>\n${body}\n</tbody>`,
    '</table>',
    '',
  ].join('\n');
}

/** `html` (the admin page) with the duplicates section added at its end. */
export async function withDuplicatesSection(ctx: AppContext, html: string): Promise<string> {
  const section = renderDuplicatesSection(await reviewQueueViews(ctx), ctx.config.timeZone);
  const end = html.lastIndexOf('</body>');
  return end < 0 ? html + section : html.slice(0, end) + section + html.slice(end);
}
