/**
 * SMPP receipts: a receipt has no result code; it carries its state word (`stat`), its `err` and
 * the err's description, kept with the report.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE reports ADD COLUMN stat text, ADD COLUMN err text, ADD COLUMN err_description text`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE reports DROP COLUMN stat, DROP COLUMN err, DROP COLUMN err_description`.execute(db);
}
