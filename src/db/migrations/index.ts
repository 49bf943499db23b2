import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as cityWindowIndex from './0002-city-window-index.js';
import * as jobClaims from './0003-job-claims.js';
import * as identityAndWithdrawals from './0004-identity-and-withdrawals.js';
import * as shortFeeds from './0005-short-feeds.js';

/** Every migration, in order. Never edit one that shipped: add the next. */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-city-window-index': cityWindowIndex,
  '0003-job-claims': jobClaims,
  '0004-identity-and-withdrawals': identityAndWithdrawals,
  '0005-short-feeds': shortFeeds,
};
