import { DurabilityGate } from '../../src/db/durability.js';
import type { Db } from '../../src/db/connection.js';
import { InboxProcessor, type ProcessorHooks } from '../../src/inbox/processor.js';
import type { TestApp } from './test-app.js';

/**
 * An inbox processor of a test's own on `app`'s database and sources (stop the app's first, so
 * that it takes the deliveries), with `db` (a plugin's view of it), hooks or spacing of its own.
 */
export function processorOn(
  app: TestApp,
  options: { db?: Db; hooks?: Partial<ProcessorHooks>; batchSpacingMs?: number } = {},
): InboxProcessor {
  return new InboxProcessor({
    db: options.db ?? app.ctx.database.db,
    gate: new DurabilityGate(app.ctx.database),
    sources: app.ctx.inbox.sources,
    defaultDurationHours: app.ctx.config.defaultDurationHours,
    now: app.ctx.now,
    logger: app.ctx.logger,
    instanceId: 'test',
    batchSpacingMs: options.batchSpacingMs,
    hooks: {
      onEventsChanged: options.hooks?.onEventsChanged ?? (() => undefined),
      onProcessed: options.hooks?.onProcessed ?? (() => undefined),
    },
  });
}
