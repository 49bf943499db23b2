import { JOB_NAMES, JOBS, runJob } from '../../jobs/scheduler.js';
import {
  CliError,
  refuseExtraArguments,
  UsageError,
  withContext,
  type Command,
} from '../command.js';

/** `marquee job <name>`: runs one scheduled job now, as the scheduler would. */
export const jobCommand: Command = {
  usage: `marquee job <${JOB_NAMES.join('|')}>`,
  summary: 'run one scheduled job now',
  details: `Runs a job once, as the scheduler would, and prints its result.

Jobs:
${JOBS.map((definition) => `  ${definition.name.padEnd(14)}${definition.description}`).join('\n')}`,
  options: {},
  async run(positionals, _values, io) {
    const [name, ...extra] = positionals;
    if (!name || !JOB_NAMES.includes(name))
      throw new UsageError(`the job must be one of ${JOB_NAMES.join(', ')}`);
    refuseExtraArguments(extra);
    return withContext(io, async (ctx) => {
      const run = await runJob(ctx, name);
      if (run.status !== 'ok') throw new CliError(`${name} failed: ${run.error ?? run.status}`);
      io.out(`${name} finished in ${run.durationMs} ms: ${JSON.stringify(run.result)}`);
      return 0;
    });
  },
};
