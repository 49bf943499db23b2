import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Eta } from 'eta';
import type { ModerationView } from '../operations/moderation.js';
import type { OperationsStatus } from '../operations/status.js';
import { renderSchemaWatchSection } from './admin-schema-watch-section.js';
import { VIEWS_DIR } from '../render/pages/templates.js';
import { SOURCE_NAMES } from '../sources/index.js';
import { DELIVERY_STATUSES, EVENT_STATUSES } from './admin-api-handlers.js';

/**
 * The admin page: a view model from the operations status and the moderation state, laid out by
 * views/admin.eta (which escapes every value). Its one style element and its one script (the
 * moderation tools, views/admin.js, calling the Bearer-only JSON API) are allowed by their hashes
 * in the page's Content-Security-Policy; it posts forms only to itself and fetches only from
 * its own origin. The script is inlined, not an asset: nothing of the admin area is served
 * without the token.
 */

const SCRIPT = fs.readFileSync(path.join(VIEWS_DIR, 'admin.js'), 'utf8');

// Wide tables scroll inside their own box (on a phone every table does, sections added to the
// page included), so the page itself never scrolls sideways.
const CSS = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1b1b;background:#fafafa;overflow-wrap:anywhere}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem;margin-top:1.25rem}
.scroll{max-width:100%;overflow-x:auto;margin:.5rem 0}
table{border-collapse:collapse;width:100%;background:#fff;overflow-wrap:normal}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#a40000;font-weight:600}.ok{color:#1a6b1a}.muted{color:#666}
.notice{background:#e8f4e8;border:1px solid #9c9;padding:.5rem .75rem}
code{font:13px ui-monospace,monospace;white-space:pre-wrap;word-break:break-word}
pre{font:13px ui-monospace,monospace;white-space:pre-wrap;word-break:break-all;max-height:30rem;overflow:auto;background:#fff;border:1px solid #ddd;padding:.5rem}
button{font:inherit;padding:.35rem .8rem;cursor:pointer}
input,select{font:inherit;max-width:100%}
form.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:.5rem 0}
form.row label{display:flex;flex-direction:column;font-size:.9rem;max-width:100%}
@media (max-width:40rem){body{padding:.75rem}th,td{padding:.25rem .35rem}table{display:block;overflow-x:auto}}
`;

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64');

/**
 * The Content-Security-Policy for the page: nothing but its own style and script elements,
 * requests to its own origin and same-origin form posts.
 */
export const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${sha256(CSS)}'`,
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  "connect-src 'self'",
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
  moderation: ModerationView,
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
      path: `${encodeURIComponent(organization.source)}/${encodeURIComponent(organization.id)}`,
      blocked: moderation.blocks.some(
        (block) => block.source === organization.source && block.organizationId === organization.id,
      ),
    })),
    script: SCRIPT,
    sourceNames: SOURCE_NAMES,
    eventStatuses: EVENT_STATUSES,
    deliveryStatuses: DELIVERY_STATUSES,
    blocks: moderation.blocks.map((block) => ({ ...block, blockedAt: time(block.blockedAt) })),
    testDeliveries: moderation.testDeliveries.map((delivery) => ({
      ...delivery,
      receivedAt: time(delivery.receivedAt),
    })),
    audit: moderation.audit.map((entry) => ({ ...entry, at: time(entry.at) })),
    auditTotal: moderation.auditTotal,
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
  moderation: ModerationView,
  options: { siteTitle: string; timeZone: string; notice: string | null },
): string {
  return templates.render('./admin', adminPageModel(status, moderation, options));
}
