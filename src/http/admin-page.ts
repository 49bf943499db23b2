import { createHash } from 'node:crypto';
import type { OperationsStatus } from '../operations/status.js';

/**
 * The admin status page, rendered on the server with every value escaped. No script; the only
 * style is the element below, allowed by its hash in the page's Content-Security-Policy.
 */

const CSS = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;background:#fff}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#a40000;font-weight:600}.ok{color:#1a6b1a}.muted{color:#666}
.notice{background:#e8f4e8;border:1px solid #9c9;padding:.5rem .75rem}
code,pre{font:13px ui-monospace,monospace;white-space:pre-wrap;word-break:break-word;margin:0}
button{font:inherit;padding:.35rem .8rem;cursor:pointer}
`;

/** The Content-Security-Policy for the page: nothing but its own style element and same-origin form posts. */
export const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

function timeOf(iso: string | null, timeZone: string): string {
  if (!iso) return '<span class="muted">never</span>';
  const text = new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso));
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(text)}</time>`;
}

const table = (head: string[], rows: string[][], empty: string): string =>
  rows.length === 0
    ? `<p class="muted">${escapeHtml(empty)}</p>`
    : `<table><thead><tr>${head.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>${rows
        .map((row) => `<tr>${row.join('')}</tr>`)
        .join('')}</tbody></table>`;

const td = (html: string) => `<td>${html}</td>`;
const num = (value: number, bad = false) => `<td class="n${bad && value > 0 ? ' bad' : ''}">${escapeHtml(value)}</td>`;

/** Renders the whole page; `notice` is shown on top (after a replay). */
export function renderAdminPage(status: OperationsStatus, options: { siteTitle: string; timeZone: string; notice: string | null }): string {
  const { timeZone } = options;
  const sources = table(
    ['Source', 'Configured', 'Last delivery', 'Accepted', 'Processed', 'Ignored', 'Failed', 'Rejected', 'Pending'],
    status.sources.map((source) => [
      td(`<strong>${escapeHtml(source.name)}</strong>`),
      td(source.configured ? '<span class="ok">yes</span>' : '<span class="bad">no</span>'),
      td(timeOf(source.lastDeliveryAt, timeZone)),
      num(source.last24h.accepted),
      num(source.last24h.processed),
      num(source.last24h.ignored),
      num(source.last24h.failed, true),
      num(source.last24h.rejected, true),
      num(source.last24h.pending),
    ]),
    'No sources.',
  );
  const errors = table(
    ['Source', 'Delivery', 'Received', 'Status', 'Message type', 'Reason'],
    status.sources.flatMap((source) =>
      source.recentErrors.map((error) => [
        td(escapeHtml(source.name)),
        num(error.delivery),
        td(timeOf(error.receivedAt, timeZone)),
        td(`<span class="bad">${escapeHtml(error.status)}</span>`),
        td(escapeHtml(error.messageType ?? '')),
        td(`<code>${escapeHtml(error.error ?? '')}</code>`),
      ]),
    ),
    'No failed or rejected deliveries.',
  );
  const organizations = table(
    ['Source', 'Organization', 'Name', 'Last full sync', 'Events', 'State'],
    status.organizations.map((organization) => [
      td(escapeHtml(organization.source)),
      td(escapeHtml(organization.id)),
      td(escapeHtml(organization.name ?? '')),
      td(timeOf(organization.lastSyncAt, timeZone)),
      organization.lastSyncEventCount === null ? td('') : num(organization.lastSyncEventCount),
      td(organization.stale ? '<span class="bad">stale</span>' : '<span class="ok">fresh</span>'),
    ]),
    'No organization has synced yet.',
  );
  const events = table(
    ['Visibility', 'Status', 'Events'],
    status.events.map((row) => [td(escapeHtml(row.visibility)), td(escapeHtml(row.status)), num(row.count)]),
    'No events stored.',
  );
  const jobs = table(
    ['Job', 'Schedule', 'Next run', 'Last run', 'Outcome', 'Duration (ms)', 'Result'],
    status.jobs.map((job) => [
      td(`<strong>${escapeHtml(job.name)}</strong><br><span class="muted">${escapeHtml(job.description)}</span>`),
      td(`<code>${escapeHtml(job.schedule)}</code>`),
      td(job.nextRunAt ? timeOf(job.nextRunAt, timeZone) : '<span class="muted">not scheduled</span>'),
      td(job.running ? '<strong>running</strong>' : timeOf(job.lastRun?.startedAt ?? null, timeZone)),
      td(job.lastRun ? `<span class="${job.lastRun.status === 'failed' ? 'bad' : 'ok'}">${escapeHtml(job.lastRun.status)}</span>` : ''),
      job.lastRun ? num(job.lastRun.durationMs) : td(''),
      td(`<code>${escapeHtml(job.lastRun ? (job.lastRun.error ?? JSON.stringify(job.lastRun.result)) : '')}</code>`),
    ]),
    'No jobs.',
  );
  const failed = status.sources.reduce((sum, source) => sum + source.last24h.failed, 0);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(options.siteTitle)} admin</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(options.siteTitle)} admin</h1>
${options.notice ? `<p class="notice">${escapeHtml(options.notice)}</p>` : ''}
<p>Status at ${timeOf(status.generatedAt, timeZone)} · inbox backlog <strong>${escapeHtml(status.inboxBacklog)}</strong> ·
database ${escapeHtml(Math.round(status.database.bytes / 1024))} KiB (WAL ${escapeHtml(Math.round(status.database.walBytes / 1024))} KiB) ·
<a href="/admin/status.json">status.json</a></p>
<h2>Sources (last 24 hours)</h2>
${sources}
<h2>Recent errors</h2>
${errors}
<form method="post" action="/admin/replay"><button type="submit">Replay failed deliveries</button>
<span class="muted">${escapeHtml(failed)} failed in the last 24 hours; replay after fixing their cause.</span></form>
<h2>Organizations (stale after ${escapeHtml(status.staleAfterHours)} hours)</h2>
${organizations}
<h2>Events</h2>
${events}
<h2>Jobs${status.jobsEnabled ? '' : ' (JOBS_ENABLED is off)'} · ${escapeHtml(status.scheduleTimeZone)}</h2>
${jobs}
</body>
</html>
`;
}
