/**
 * A report's fingerprint is kept as a `uuid`: the first 128 bits of the facts' SHA-256 (see
 * `src/meaning/fingerprint.ts`), 16 bytes in the row and in the reports' key, where the whole hash
 * as base64url text took 44. The key holds the message's id and the fingerprint, so it shrinks by
 * about a third, and each report writes 78-99 bytes less to the log (see BENCHMARKS.md).
 *
 * A stored fingerprint becomes the one the receiver now works out from the same facts, so a report
 * that LINK sends again after the upgrade is still known as stored. Text in neither form (never
 * written by a receiver) is hashed into a uuid rather than refused, so the migration cannot fail
 * on it. The table and its key are rewritten once.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE reports ALTER COLUMN fingerprint TYPE uuid USING (
    CASE WHEN fingerprint ~ '^[A-Za-z0-9_-]{43}$'
      THEN encode(substring(decode(translate(fingerprint, '-_', '+/') || '=', 'base64') FROM 1 FOR 16), 'hex')::uuid
      ELSE md5(fingerprint)::uuid
    END)`.execute(db);
}

/**
 * Back to text, in the uuid's text form. The rest of the hash is gone, so an older receiver does
 * not know the reports stored before as its own: a report LINK sends again would be stored twice.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE reports ALTER COLUMN fingerprint TYPE text USING fingerprint::text`.execute(db);
}
