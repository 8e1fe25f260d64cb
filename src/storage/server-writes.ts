/**
 * Whether a PostgreSQL server takes the receiver's writes. A standby (a replica's address, a
 * cluster's reader endpoint) takes none, nor a server that makes the user's sessions read-only.
 * On one whose schema is migrated the receiver starts, and keeps every report in its local
 * journal, acknowledged, until the server takes writes (a standby promoted): said once at start,
 * and by the journal's warning when the server refuses writes so while the receiver runs, where
 * the journal's line named only a statement refused in a read-only transaction.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { errorCode } from '../lib/error-code.js';
import type { Tables } from './tables.js';

/** SQLSTATE of a write refused in a read-only transaction. */
export const READ_ONLY_SQL_TRANSACTION = '25006';

/** What makes a server refuse writes so, where the refusal names only the statement. */
export const READ_ONLY_CAUSES = 'DATABASE_URL leads to a standby (a replica, a reader endpoint), or the server makes its sessions read-only';

export interface ServerWrites {
  /** `pg_is_in_recovery()`: a standby. */
  readonly inRecovery: boolean;
  /** `transaction_read_only`, as `default_transaction_read_only` makes it for the user or database. */
  readonly readOnly: boolean;
}

/** A warning when the server takes no writes; null when it does. */
export function readOnlyServerLine(writes: ServerWrites): string | null {
  if (writes.inRecovery) {
    return (
      'DATABASE_URL leads to a standby server (in recovery), which takes no writes: reports wait in the local journal, ' +
      'acknowledged, until it is promoted; point DATABASE_URL at the primary, not a replica or a reader endpoint'
    );
  }
  if (writes.readOnly) {
    return (
      "the database server makes the receiver's sessions read-only (default_transaction_read_only is on): reports wait in the " +
      "local journal, acknowledged, until it takes writes; turn it off for the receiver's user and database"
    );
  }
  return null;
}

export async function readServerWrites(db: Kysely<Tables>): Promise<ServerWrites | null> {
  const { rows } = await sql<ServerWrites>`
    SELECT pg_is_in_recovery() AS "inRecovery", current_setting('transaction_read_only') = 'on' AS "readOnly"`.execute(db);
  return rows[0] ?? null;
}

/**
 * Why the journal took over, when the server refused a write as read-only while the receiver ran:
 * the refusal names a statement, not the cause. A hosted service may make a database's sessions
 * read-only once its storage is full, and a server that reloads such a setting applies it to the
 * sessions already open; null for any other refusal.
 */
export function refusedWritesLine(error: unknown): string | null {
  if (errorCode(error) !== READ_ONLY_SQL_TRANSACTION) return null;
  return (
    `the database server takes no writes (a read-only transaction): keeping reports in the local journal until it does; ${READ_ONLY_CAUSES} ` +
    "(default_transaction_read_only, as a hosted service may once the database's storage is full)"
  );
}
