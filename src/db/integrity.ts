import type { DatabaseHandle, IntegrityReport } from './connection.js';

/**
 * Checks the SQLite file (quick_check at start, integrity_check in the maintenance job) and keeps
 * the report on the handle. A damaged file is not refused: Marquee starts degraded, answers
 * /healthz 503 with the problems, and still serves what it can read while the operator restores
 * a backup. PostgreSQL checks its own pages; null there.
 */
export function checkIntegrity(
  handle: DatabaseHandle,
  mode: IntegrityReport['mode'],
  now: Date,
): IntegrityReport | null {
  if (handle.dialect !== 'sqlite') return null;
  let problems: string[];
  try {
    const pragma = mode === 'quick' ? 'quick_check' : 'integrity_check';
    const rows = handle.sqlite.pragma(`${pragma}(10)`) as Record<string, string>[];
    const lines = rows.map((row) => String(Object.values(row)[0]));
    problems = lines.length === 1 && lines[0] === 'ok' ? [] : lines.slice(0, 10);
  } catch (error) {
    problems = [
      `db: integrity check failed: ${error instanceof Error ? error.message : String(error)}`,
    ];
  }
  const report: IntegrityReport = { mode, checkedAt: now, problems };
  handle.integrity = report;
  return report;
}
