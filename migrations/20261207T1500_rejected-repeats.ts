/**
 * A refused request that arrives again unchanged (LINK retries a report until it gets a 200) says
 * so: each kept try counts the tries of the same request so far and carries the time of the first,
 * so `GET /rejected` shows "the 37th try since 09:00" rather than 37 entries that read as new.
 *
 * `digest` names what makes two requests the same (src/storage/rejected-requests.ts), indexed with
 * `id` for the newest try of each. Entries kept before have none, a count of 1 and no first time
 * (their own time is their first); so have entries a release before this one keeps meanwhile.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE rejected_requests
    ADD COLUMN digest uuid,
    ADD COLUMN times bigint NOT NULL DEFAULT 1,
    ADD COLUMN first_received_at timestamptz`.execute(db);
  await sql`CREATE INDEX rejected_requests_digest_idx ON rejected_requests (digest, id)`.execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX rejected_requests_digest_idx`.execute(db);
  await sql`ALTER TABLE rejected_requests DROP COLUMN digest, DROP COLUMN times, DROP COLUMN first_received_at`.execute(db);
}
