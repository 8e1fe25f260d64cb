/**
 * Tells the planner that `message_id` in `parts` and `reports` is nearly unique (a message has one
 * or a few parts and reports). Statistics gathered while the tables were young, when their rows
 * belonged to a handful of messages, otherwise make every lookup by message id look like most of
 * the table, and each write batch scanned all of `parts`: slower with every report stored.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  // A negative n_distinct is a share of the rows: about two parts, or three reports, per message.
  await sql`ALTER TABLE parts ALTER COLUMN message_id SET (n_distinct = -0.5)`.execute(db);
  await sql`ALTER TABLE reports ALTER COLUMN message_id SET (n_distinct = -0.3)`.execute(db);
  // The setting is read by ANALYZE: take it into account now rather than at the next autovacuum.
  await sql`ANALYZE parts`.execute(db);
  await sql`ANALYZE reports`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE parts ALTER COLUMN message_id RESET (n_distinct)`.execute(db);
  await sql`ALTER TABLE reports ALTER COLUMN message_id RESET (n_distinct)`.execute(db);
}
