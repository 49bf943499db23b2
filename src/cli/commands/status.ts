import type { SchemaWatchFinding, SourceSchemaWatch } from '../../operations/schema-watch.js';
import { collectStatus, type OperationsStatus } from '../../operations/status.js';
import { refuseExtraArguments, withContext, type Command, type CommandIo } from '../command.js';

/** Findings printed per source; `--json` and GET /admin/api/schema-watch list them all. */
const FINDINGS_PER_SOURCE = 50;

function describeFinding(label: string, finding: SchemaWatchFinding): string {
  const times = finding.occurrences === 1 ? '1 time' : `${finding.occurrences} times`;
  const deliveries = finding.deliveries === 1 ? '1 delivery' : `${finding.deliveries} deliveries`;
  return (
    `    ${label} ${finding.value}: ${times} in ${deliveries}, first ${finding.firstSeenAt}, ` +
    `last ${finding.lastSeenAt}, e.g. delivery ${finding.exampleDelivery}`
  );
}

function printSchemaWatch(watch: readonly SourceSchemaWatch[], out: CommandIo['out']): void {
  out('schema watch (what the senders sent that Marquee does not read or know):');
  let printed = false;
  for (const source of watch) {
    const lines = [
      ...source.unknownMessageTypes.map((finding) =>
        describeFinding('unknown message type', finding),
      ),
      ...source.unknownStatuses.map((finding) => describeFinding('unknown status', finding)),
      ...source.combinations.map((finding) =>
        describeFinding(finding.handled ? 'form (read)' : 'form (ignored)', finding),
      ),
      ...source.unreadPaths.map((finding) => describeFinding('unread key', finding)),
    ];
    if (lines.length === 0) continue;
    printed = true;
    out(`  ${source.source}:`);
    for (const line of lines.slice(0, FINDINGS_PER_SOURCE)) out(line);
    if (lines.length > FINDINGS_PER_SOURCE) {
      out(`    ... ${lines.length - FINDINGS_PER_SOURCE} more (marquee status --json)`);
    }
  }
  if (!printed) out('  nothing seen yet');
}

function printStatus(status: OperationsStatus, out: CommandIo['out']): void {
  out(
    `status at ${status.generatedAt}; database ${status.database.location} (${status.database.bytes} bytes)`,
  );
  out(`marquee ${status.version.marquee}, schema ${status.version.schema ?? 'none'}`);
  out(`inbox backlog: ${status.inboxBacklog}`);
  out();
  out('sources (last 24 hours):');
  for (const source of status.sources) {
    const c = source.last24h;
    out(
      `  ${source.name}: ${source.configured ? 'configured' : 'NOT CONFIGURED'}; last delivery ${source.lastDeliveryAt ?? 'never'}`,
    );
    out(
      `    accepted ${c.accepted}, processed ${c.processed}, ignored ${c.ignored}, failed ${c.failed}, rejected ${c.rejected}, pending ${c.pending}`,
    );
    for (const error of source.recentErrors) {
      out(
        `    ! delivery ${error.delivery} ${error.status} ${error.receivedAt} ${error.messageType ?? ''}: ${error.error ?? ''}`,
      );
    }
  }
  out();
  out(`organizations (stale after ${status.staleAfterHours} hours):`);
  if (status.organizations.length === 0) out('  none has synced yet');
  for (const organization of status.organizations) {
    out(
      `  ${organization.source}/${organization.id} ${organization.name ?? ''}: last sync ${organization.lastSyncAt ?? 'never'}` +
        `${organization.stale ? ' STALE' : ''}`,
    );
  }
  out();
  out('events:');
  if (status.events.length === 0) out('  none');
  for (const row of status.events) out(`  ${row.visibility} ${row.status}: ${row.count}`);
  out();
  printSchemaWatch(status.schemaWatch, out);
}

/** `marquee status`: what the admin page shows, as text or JSON, at the command line's clock. */
export const statusCommand: Command = {
  usage: 'marquee status [--json]',
  summary: 'print sources, counts, organizations and the backlog',
  details: `Prints what the admin page shows: each source (configured, last delivery, counts of the last
24 hours, recent errors), each organization's last full sync, the inbox backlog, events by status
and the schema watch (payload keys, message types and statuses the adapters do not read or know).

Options:
  --json  print the status as JSON (the same as GET /admin/status.json)`,
  options: { json: { type: 'boolean' } },
  async run(positionals, values, io) {
    refuseExtraArguments(positionals);
    return withContext(io, async (ctx) => {
      const current = await collectStatus(ctx);
      if (values.json) io.out(JSON.stringify(current, null, 2));
      else printStatus(current, io.out);
      return 0;
    });
  },
};
