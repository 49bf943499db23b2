import { collectStatus, type OperationsStatus } from '../../operations/status.js';
import { refuseExtraArguments, withContext, type Command, type CommandIo } from '../command.js';

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
}

/** `marquee status`: what the admin page shows, as text or JSON, at the command line's clock. */
export const statusCommand: Command = {
  usage: 'marquee status [--json]',
  summary: 'print sources, counts, organizations and the backlog',
  details: `Prints what the admin page shows: each source (configured, last delivery, counts of the last
24 hours, recent errors), each organization's last full sync, the inbox backlog and events by status.

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
