import { startSeededServer } from './render.js';
import { stagerEventWithLongDescription, stagerMessage } from './payloads.js';
import type { Row } from './report.js';

const EVENTS = 500;

async function icsBody(url: string): Promise<string> {
  const response = await fetch(`${url}/events.ics`, { headers: { 'accept-encoding': 'identity' } });
  if (response.status !== 200) throw new Error(`bench: /events.ics answered ${response.status}`);
  return response.text();
}

const count = (text: string, part: string) => text.split(part).length - 1;

/**
 * The bytes of the default calendar (500 events, each with a description as long as venues'
 * real ones) within ICS_MAX_BYTES, beside the same calendar without a budget.
 */
export async function measureIcsSize(options: {
  databaseEnv: Record<string, string>;
  log: (line: string) => void;
}): Promise<Row[]> {
  const running = await startSeededServer({ ...options, events: 0 });
  try {
    options.log(`ics size: ${EVENTS} events with long descriptions`);
    const events = Array.from({ length: EVENTS }, (_, index) =>
      stagerEventWithLongDescription(index + 1),
    );
    await running.post(stagerMessage('UPDATE_EVENTS', 1, events));
    const budget = running.ctx.config.icsMaxBytes;
    const bounded = await icsBody(running.url);
    running.ctx.config.icsMaxBytes = Number.POSITIVE_INFINITY;
    running.ctx.caches.clear();
    const unbounded = await icsBody(running.url);
    running.ctx.config.icsMaxBytes = budget;
    const bytes = Buffer.byteLength(bounded, 'utf8');
    const kb = (value: number) => `${(value / 1024).toFixed(0)} KB`;
    return [
      {
        measure: `bytes of ${EVENTS} realistic events in ICS (long descriptions)`,
        marquee: `${kb(bytes)} (ICS_MAX_BYTES ${kb(budget)})`,
        baseline: `${kb(Buffer.byteLength(unbounded, 'utf8'))} without a budget`,
        ratio: bytes / 1024,
        target: 'reported',
        pass: bytes <= budget,
        note: `${count(bounded, 'BEGIN:VEVENT')} events, ${count(bounded, ' … More: ')} descriptions shortened`,
        lowerIsBetter: true,
        unit: 'KB',
      },
    ];
  } finally {
    await running.close();
  }
}
