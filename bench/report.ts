import fs from 'node:fs';
import path from 'node:path';

export interface Row {
  measure: string;
  marquee: string;
  baseline: string;
  /** Marquee/baseline, or the absolute figure where there is no baseline (see `unit`). */
  ratio: number;
  target: string;
  pass: boolean;
  note: string;
  lowerIsBetter?: boolean;
  unit?: string;
}

export type Dialect = 'sqlite' | 'postgres';

export interface RunInfo {
  dialect: Dialect;
  /** The database Marquee ran on, for the reader (engine, version, durability settings). */
  database: string;
  quick: boolean;
  seconds: number;
  durationPerRun: number;
  rounds: number;
  connections: number;
  node: string;
  cpus: string;
  memory: string;
  platform: string;
}

interface Results extends RunInfo {
  date: string;
  rows: Row[];
}

const root = path.resolve(import.meta.dirname, '..');

const RESULTS_FILES: Record<Dialect, string> = {
  sqlite: 'bench/results.json',
  postgres: 'bench/results.postgres.json',
};

const TITLES: Record<Dialect, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

function figure(row: Row): string {
  if (Number.isNaN(row.ratio)) return 'n/a';
  if (row.unit) return `${row.ratio.toFixed(row.unit === 'ms' ? 1 : 0)} ${row.unit}`;
  return `${row.ratio.toFixed(2)}x`;
}

const met = (row: Row) => (row.pass ? 'yes' : '**no**');

function tableOf(rows: Row[]): string {
  return [
    '| measure | Marquee | baseline | ratio / figure | target | met |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.measure} | ${row.marquee} | ${row.baseline} | ${figure(row)} | ${row.target} | ${met(row)} |`,
    ),
  ].join('\n');
}

function notesOf(rows: Row[]): string {
  return rows
    .filter((row) => row.note)
    .map((row) => `- ${row.measure}: ${row.note}`)
    .join('\n');
}

/**
 * Prints the table and writes this dialect's results file (bench/results.json for SQLite,
 * bench/results.postgres.json for PostgreSQL); after a full run, rewrites BENCHMARKS.md from
 * both files, so a run on one database keeps the other's figures.
 */
export function writeReport(rows: Row[], info: RunInfo): void {
  const results: Results = { date: new Date().toISOString(), ...info, rows };
  process.stdout.write(
    `\n${tableOf(rows)}\n\n${notesOf(rows)}\n\nTotal ${info.seconds.toFixed(0)} s\n`,
  );
  fs.writeFileSync(
    path.join(root, RESULTS_FILES[info.dialect]),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  if (info.quick) return;
  fs.writeFileSync(path.join(root, 'BENCHMARKS.md'), benchmarksMarkdown());
}

/** A results file; files written before PostgreSQL support carry no dialect and are SQLite's. */
function readResults(dialect: Dialect): Results | null {
  const file = path.join(root, RESULTS_FILES[dialect]);
  if (!fs.existsSync(file)) return null;
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Results> & {
    date: string;
    rows: Row[];
  };
  return {
    ...stored,
    dialect,
    database: stored.database ?? 'SQLite (better-sqlite3), synchronous=FULL',
  } as Results;
}

function sectionOf(results: Results): string {
  const title = TITLES[results.dialect];
  return `## ${title}${results.quick ? ' (quick run: smaller sizes, not comparable)' : ''}

- Run on ${results.date.slice(0, 10)}: ${results.cpus}, ${results.memory}, ${results.platform}, Node.js ${results.node}
- Database: ${results.database}
- Load: autocannon, ${results.connections} connections, ${results.durationPerRun} s per run, ${results.rounds} alternating rounds of baseline and Marquee (figures: means of the rounds; ratios: the median of the rounds' ratios); requests per second are completed requests over elapsed time
- Whole run: ${results.seconds.toFixed(0)} s

${tableOf(results.rows)}

Notes:

${notesOf(results.rows)}
`;
}

/** Marquee's figure on each database for every measure both runs made. */
function sideBySide(sqlite: Results, postgres: Results): string {
  const lines = sqlite.rows.flatMap((row) => {
    const other = postgres.rows.find((candidate) => candidate.measure === row.measure);
    if (!other) return [];
    const verdict = (item: Row) => (item.pass ? 'met' : '**not met**');
    const cell = (item: Row) =>
      item.unit
        ? `${item.marquee}${item.pass ? '' : ' (**not met**)'}`
        : `${item.marquee} (${figure(item)}, ${verdict(item)})`;
    return [`| ${row.measure} | ${cell(row)} | ${cell(other)} | ${row.target} |`];
  });
  const onlyPostgres = postgres.rows.filter(
    (row) => !sqlite.rows.some((candidate) => candidate.measure === row.measure),
  );
  return `## SQLite and PostgreSQL side by side

Marquee's figure on each database (ratio to the baseline of the same run and whether the target
was met, in brackets). The baselines are the same bare Express app in both runs, except for the
sync: a raw better-sqlite3 insert on SQLite, a raw \`pg\` insert on PostgreSQL.

| measure | SQLite | PostgreSQL | target |
|---|---|---|---|
${lines.join('\n')}
${onlyPostgres.length > 0 ? `\nPostgreSQL only:\n\n${tableOf(onlyPostgres)}\n` : ''}`;
}

function benchmarksMarkdown(): string {
  const sqlite = readResults('sqlite');
  const postgres = readResults('postgres');
  const runs = [sqlite, postgres].filter((results): results is Results => results !== null);
  const commands = [
    sqlite ? '`npm run bench` (SQLite)' : null,
    postgres ? '`npm run bench -- --postgres URL` (PostgreSQL)' : null,
  ].filter(Boolean);
  return `# Benchmarks

Generated by ${commands.join(' and ')}; do not edit by hand.

- Baseline: a minimal Express 5 app in its own process answering a POST of the same body with 202, a GET with a fixed string of the same size as the feed (the same bytes, since the load generator's cost depends on content), and an empty 200 (bench/baseline-server.mjs)
- Marquee: the built app (\`dist/main.js\`) with its default configuration (request logging, security headers), on a fresh database per section

${sqlite && postgres ? `${sideBySide(sqlite, postgres)}\n` : ''}${runs.map(sectionOf).join('\n')}`;
}
