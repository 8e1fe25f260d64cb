/**
 * One index on reports instead of three: the primary key (message_id, fingerprint) both refuses a
 * report stored already and finds a message's reports. The unique fingerprint and the index on
 * (message_id, seq) did those jobs apart, and the key on seq served no query; each report stored
 * paid for all three. The fingerprint covers the report's id, so a report is still stored once.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE reports
    DROP CONSTRAINT reports_pkey,
    DROP CONSTRAINT reports_fingerprint_key,
    ADD CONSTRAINT reports_pkey PRIMARY KEY (message_id, fingerprint)`.execute(db);
  await sql`DROP INDEX reports_message_idx`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE reports
    DROP CONSTRAINT reports_pkey,
    ADD CONSTRAINT reports_pkey PRIMARY KEY (seq),
    ADD CONSTRAINT reports_fingerprint_key UNIQUE (fingerprint)`.execute(db);
  await sql`CREATE INDEX reports_message_idx ON reports (message_id, seq)`.execute(db);
}
