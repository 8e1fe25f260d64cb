/**
 * Messages by the number they were sent to (`GET /messages?destination=`): "the customer at
 * +4799999999 says nothing arrived" is the question support asks most after an order's. The index
 * leads with the number, its `+` left off, so that `+4799999999` (as LINK's REST reports give it) and
 * `4799999999` (as an SMPP receipt's address, or as typed) are one key, then the listing's order, so
 * a page of one number's messages is a range of it at any depth. The column compares as bytes, as
 * the other indexed keys do (see 20261203T0800). Building it takes a while on a large table, once,
 * at the start that applies this migration.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE messages ALTER COLUMN destination TYPE text COLLATE "C"`.execute(db);
  await sql`CREATE INDEX messages_destination_idx ON messages ((ltrim(destination, '+')), last_report_at, last_seq)`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX messages_destination_idx`.execute(db);
  await sql`ALTER TABLE messages ALTER COLUMN destination TYPE text COLLATE "default"`.execute(db);
}
