import type { Kysely } from 'kysely';

// Frozen. Several instances on one PostgreSQL database each schedule the same jobs; the first to
// insert a job's row for a scheduled time runs it, the others see the conflict and skip.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('job_claims')
    .addColumn('job', 'text', (col) => col.notNull())
    .addColumn('scheduled_for', 'text', (col) => col.notNull())
    .addColumn('instance', 'text', (col) => col.notNull())
    .addColumn('claimed_at', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('job_claims_pk', ['job', 'scheduled_for'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_claims').execute();
}
