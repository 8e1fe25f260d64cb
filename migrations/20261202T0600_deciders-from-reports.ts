/**
 * No `parts` table: a part's deciding report is one of its message's reports, picked by a rule
 * (`src/meaning/deciding-report.ts`), so the receiver works it out from the reports it reads
 * anyway. The table held a copy of each decider's fields, and every new message paid for a row
 * and an index entry there, and every lookup for one more index read.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE parts`.execute(db);
}

/**
 * The table as it was, filled by the same rule: per part, the final report before a non-final one,
 * then the latest `report_timestamp` (none counts as oldest), then the report received last.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE parts (
      message_id text NOT NULL,
      part smallint,
      report_seq bigint NOT NULL,
      status text NOT NULL,
      final boolean NOT NULL,
      report_timestamp timestamptz,
      result_code integer,
      result_description text NOT NULL,
      operator text,
      CONSTRAINT parts_message_part_key UNIQUE NULLS NOT DISTINCT (message_id, part))`.execute(db);
  await sql`INSERT INTO parts (message_id, part, report_seq, status, final, report_timestamp, result_code, result_description, operator)
    SELECT DISTINCT ON (message_id, part) message_id, part, seq, status, final, report_timestamp, result_code, result_description, operator
    FROM reports
    ORDER BY message_id, part, final DESC, report_timestamp DESC NULLS LAST, seq DESC`.execute(db);
  await sql`ALTER TABLE parts ALTER COLUMN message_id SET (n_distinct = -0.5)`.execute(db);
  await sql`ANALYZE parts`.execute(db);
}
