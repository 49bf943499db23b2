import { createHash } from 'node:crypto';
import type { Eta } from 'eta';
import type { OperationsStatus } from '../operations/status.js';
import { renderSchemaWatchSection } from './admin-schema-watch-section.js';

/**
 * The admin status page: a view model from the operations status, laid out by views/admin.eta
 * (which escapes every value). No script; the only style is the element below, allowed by its
 * hash in the page's Content-Security-Policy.
 */

const CSS = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;background:#fff}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#a40000;font-weight:600}.ok{color:#1a6b1a}.muted{color:#666}
.notice{background:#e8f4e8;border:1px solid #9c9;padding:.5rem .75rem}
code{font:13px ui-monospace,monospace;white-space:pre-wrap;word-break:break-word}
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

interface TimeView {
  iso: string;
  text: string;
}

/** Builds the page's view model: times formatted in `timeZone`, errors of all sources in one list. */
export function adminPageModel(
  status: OperationsStatus,
  options: { siteTitle: string; timeZone: string; notice: string | null },
) {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone: options.timeZone,
    dateStyle: 'medium',
    timeStyle: 'medium',
  });
  const time = (iso: string | null): TimeView | null =>
    iso ? { iso, text: format.format(new Date(iso)) } : null;
  return {
    title: `${options.siteTitle} admin`,
    css: CSS,
    notice: options.notice,
    generatedAt: time(status.generatedAt),
    version: status.version,
    inboxBacklog: status.inboxBacklog,
    database: status.database.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite',
    databaseKiB: Math.round(status.database.bytes / 1024),
    walKiB: status.database.walBytes === null ? null : Math.round(status.database.walBytes / 1024),
    integrity: status.integrity
      ? { ...status.integrity, checkedAt: time(status.integrity.checkedAt) }
      : null,
    sources: status.sources.map((source) => ({
      ...source,
      lastDeliveryAt: time(source.lastDeliveryAt),
    })),
    errors: status.sources.flatMap((source) =>
      source.recentErrors.map((error) => ({
        ...error,
        source: source.name,
        receivedAt: time(error.receivedAt),
      })),
    ),
    failedLast24h: status.sources.reduce((sum, source) => sum + source.last24h.failed, 0),
    staleAfterHours: status.staleAfterHours,
    organizations: status.organizations.map((organization) => ({
      ...organization,
      lastSyncAt: time(organization.lastSyncAt),
    })),
    events: status.events,
    schemaWatchSection: renderSchemaWatchSection(status.schemaWatch, options.timeZone),
    jobsEnabled: status.jobsEnabled,
    scheduleTimeZone: status.scheduleTimeZone,
    jobs: status.jobs.map((job) => ({
      name: job.name,
      description: job.description,
      schedule: job.schedule,
      nextRunAt: time(job.nextRunAt),
      running: job.running,
      lastRunAt: time(job.lastRun?.startedAt ?? null),
      outcome: job.lastRun?.status ?? null,
      durationMs: job.lastRun?.durationMs ?? null,
      summary: job.lastRun ? (job.lastRun.error ?? JSON.stringify(job.lastRun.result)) : '',
    })),
  };
}

/** Renders the whole page; `notice` is shown on top (after a replay). */
export function renderAdminPage(
  templates: Eta,
  status: OperationsStatus,
  options: { siteTitle: string; timeZone: string; notice: string | null },
): string {
  return templates.render('./admin', adminPageModel(status, options));
}
