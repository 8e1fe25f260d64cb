/**
 * A rejected request's body is kept cut at 4 KiB; its size as it arrived says whether what is kept
 * is all of it. Requests kept before this migration have none (`null`).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE rejected_requests ADD COLUMN body_bytes integer`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE rejected_requests DROP COLUMN body_bytes`.execute(db);
}
