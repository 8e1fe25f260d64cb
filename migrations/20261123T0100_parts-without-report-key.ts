/**
 * The parts table no longer checks its report against the reports table: the write transaction
 * stores both together, and the check cost an index lookup on every part write.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE parts DROP CONSTRAINT IF EXISTS parts_report_seq_fkey`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE parts ADD CONSTRAINT parts_report_seq_fkey FOREIGN KEY (report_seq) REFERENCES reports (seq)`.execute(db);
}
