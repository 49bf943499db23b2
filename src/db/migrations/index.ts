import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as cityWindowIndex from './0002-city-window-index.js';
import * as jobClaims from './0003-job-claims.js';
import * as identityAndWithdrawals from './0004-identity-and-withdrawals.js';
import * as structuredData from './0005-structured-data.js';
import * as messageOrder from './0006-message-order.js';
import * as announcedAndGeo from './0007-announced-and-geo.js';
import * as shortFeeds from './0008-short-feeds.js';
import * as moderation from './0009-moderation.js';
import * as schemaWatch from './0010-schema-watch.js';
import * as changeLog from './0011-change-log.js';
import * as sourceHashes from './0012-source-hashes.js';
import * as webhooksFollowup from './0013-webhooks-followup.js';
import * as duplicates from './0014-duplicates.js';
import * as lookupIndexes from './0015-lookup-indexes.js';
import * as deliveryBodies from './0016-delivery-bodies.js';

/** Every migration, in order. Never edit one that shipped: add the next. */
export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-city-window-index': cityWindowIndex,
  '0003-job-claims': jobClaims,
  '0004-identity-and-withdrawals': identityAndWithdrawals,
  '0005-structured-data': structuredData,
  '0006-message-order': messageOrder,
  '0007-announced-and-geo': announcedAndGeo,
  '0008-short-feeds': shortFeeds,
  '0009-moderation': moderation,
  '0010-schema-watch': schemaWatch,
  '0011-change-log': changeLog,
  '0012-source-hashes': sourceHashes,
  '0013-webhooks-followup': webhooksFollowup,
  '0014-duplicates': duplicates,
  '0015-lookup-indexes': lookupIndexes,
  '0016-delivery-bodies': deliveryBodies,
};
