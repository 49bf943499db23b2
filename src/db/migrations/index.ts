import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';

/** Every migration, in order. Never edit one that shipped: add the next. */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
};
