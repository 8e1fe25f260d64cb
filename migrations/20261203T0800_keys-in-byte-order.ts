/**
 * The indexed text columns compare as bytes (`COLLATE "C"`): message ids, `refId`s and status
 * words are identifiers, never sorted for a reader, and under the database's own collation every
 * step through their indexes asked the C library to collate them. PostgreSQL's official image
 * creates its database in en_US.utf8, where a million such ids went into a text key in 5.8 s, and
 * in 3.4 s as bytes (see BENCHMARKS.md); each report adds three or four keys. Equality is the same
 * under both (a deterministic collation calls strings equal only when their bytes are), so no
 * lookup answers differently. The indexes on these columns are rebuilt; the tables are not rewritten.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await collate(db, '"C"');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await collate(db, '"default"');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
async function collate(db: Kysely<any>, collation: string): Promise<void> {
  const type = sql.raw(`text COLLATE ${collation}`);
  await sql`ALTER TABLE messages
    ALTER COLUMN message_id TYPE ${type},
    ALTER COLUMN ref_id TYPE ${type},
    ALTER COLUMN status TYPE ${type}`.execute(db);
  await sql`ALTER TABLE reports ALTER COLUMN message_id TYPE ${type}`.execute(db);
}
