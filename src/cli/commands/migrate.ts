import { migrateToLatest, openDatabase } from '../../db/connection.js';
import { loadCliConfig, refuseExtraArguments, type Command } from '../command.js';

/** `marquee migrate`: creates the database or applies pending migrations. */
export const migrateCommand: Command = {
  usage: 'marquee migrate',
  summary: 'create the database or apply pending migrations',
  details:
    'Applies every pending migration to the database (DATABASE_URL, or DATABASE_PATH, creating the file if needed). Marquee also migrates on start.',
  options: {},
  async run(positionals, _values, io) {
    refuseExtraArguments(positionals);
    const database = openDatabase(loadCliConfig(io));
    try {
      const applied = await migrateToLatest(database.db);
      io.out(
        applied.length > 0
          ? `applied: ${applied.join(', ')}`
          : `${database.location}: schema is up to date`,
      );
      return 0;
    } finally {
      await database.close();
    }
  },
};
