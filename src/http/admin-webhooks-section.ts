import type { AppContext } from '../context.js';
import { escapeHtml } from '../events/description.js';
import { subscriptionViews, type SubscriptionView } from './webhook-admin-handlers.js';

/**
 * The admin page's section on outgoing webhooks: each subscription with its backlog, failures
 * and latest attempts. Plain HTML in the page's own classes (the page's style sheet and CSP
 * allow nothing else); managed through /admin/api/webhooks.
 */

/** The section's HTML for these subscriptions, times in `timeZone`. */
export function renderWebhookSection(
  subscriptions: readonly SubscriptionView[],
  timeZone: string,
): string {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
  const time = (iso: string | null) =>
    iso === null
      ? '<span class="muted">–</span>'
      : `<time datetime="${escapeHtml(iso)}">${escapeHtml(format.format(new Date(iso)))}</time>`;
  const rows = subscriptions.map((each) => {
    const last = each.recent[0];
    const lastText = last
      ? `${escapeHtml(last.message)} ${escapeHtml(last.outcome)}${last.status === null ? '' : ` (${last.status})`} ${time(last.attemptedAt)}${last.error ? `<br><code>${escapeHtml(last.error)}</code>` : ''}`
      : '<span class="muted">none yet</span>';
    const failing =
      each.failures > 0
        ? `<span class="bad">${each.failures} failed since ${time(each.failingSince)}; next ${time(each.nextAttemptAt)}</span>`
        : '<span class="ok">ok</span>';
    return [
      '<tr>',
      `<td><code>${escapeHtml(each.id)}</code></td>`,
      `<td><code>${escapeHtml(each.url)}</code></td>`,
      `<td><code>${escapeHtml(each.filter || 'every event')}</code></td>`,
      `<td class="n">${each.backlog}</td>`,
      `<td>${failing}</td>`,
      `<td>${lastText}</td>`,
      '</tr>',
    ].join('');
  });
  const body =
    rows.length > 0
      ? rows.join('\n')
      : '<tr><td colspan="6" class="muted">No subscriptions: POST /admin/api/webhooks adds one.</td></tr>';
  return [
    '<h2>Outgoing webhooks</h2>',
    '<table>',
    '<thead><tr><th>Subscription</th><th>URL</th><th>Filter</th><th>Backlog</th><th>State</th><th>Last attempt</th></tr></thead>',
    `<tbody>\n${body}\n</tbody>`,
    '</table>',
    '',
  ].join('\n');
}

/** `html` (the admin page) with the webhook section added at its end. */
export async function withWebhookSection(ctx: AppContext, html: string): Promise<string> {
  const section = renderWebhookSection(await subscriptionViews(ctx, 1), ctx.config.timeZone);
  const end = html.lastIndexOf('</body>');
  return end < 0 ? html + section : html.slice(0, end) + section + html.slice(end);
}
