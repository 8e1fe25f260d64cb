/**
 * The most sessions a PostgreSQL server lets the receiver's user open at once, against the most
 * the receiver may ask for. Under a lower limit (a role's or a database's `CONNECTION LIMIT`, a small
 * hosted plan's `max_connections`) the receiver keeps working on the sessions it holds (see
 * session-limit.ts), but lookups wait their turn, and with no session free in time a lookup is
 * answered `503` and reports go to the local journal: said once at start, the cause is found
 * before the load finds it.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Tables } from './tables.js';

/** The server's limits as it tells them to the receiver's user. */
export interface ConnectionLimits {
  readonly user: string;
  readonly database: string;
  /** Superusers are held to none but `max_connections`. */
  readonly superuser: boolean;
  /** `rolconnlimit`: -1 for none. */
  readonly roleLimit: number;
  /** `datconnlimit`: -1 for none. */
  readonly databaseLimit: number;
  readonly maxConnections: number;
  /** Of `max_connections`, the sessions kept for superusers and for `pg_use_reserved_connections`, where this user may not use them. */
  readonly reservedFromUser: number;
}

interface Limit {
  readonly sessions: number;
  readonly what: string;
  readonly raise: string;
}

/** A warning when the server lets the user open fewer sessions than the receiver may use; null when it does not. */
export function connectionLimitLine(limits: ConnectionLimits, receiverMayUse: number): string | null {
  const [tightest] = limitsOn(limits).sort((one, other) => one.sessions - other.sessions);
  if (tightest === undefined || tightest.sessions >= receiverMayUse) return null;
  return (
    `the database server lets user "${limits.user}" open at most ${tightest.sessions} sessions (${tightest.what}), ` +
    `fewer than the ${receiverMayUse} the receiver may use at once, and other clients of that user share them: ` +
    `past the limit, lookups and reports take turns on the sessions the receiver holds, and with none free in time ` +
    `a lookup is answered 503 and a report waits in the local journal; ${tightest.raise}`
  );
}

function limitsOn(limits: ConnectionLimits): Limit[] {
  const found: Limit[] = [];
  if (!limits.superuser && limits.roleLimit >= 0) {
    found.push({
      sessions: limits.roleLimit,
      what: `the role's CONNECTION LIMIT`,
      raise: `raise it (ALTER ROLE ${quoteIdentifier(limits.user)} CONNECTION LIMIT …)`,
    });
  }
  if (!limits.superuser && limits.databaseLimit >= 0) {
    found.push({
      sessions: limits.databaseLimit,
      what: `database "${limits.database}"'s CONNECTION LIMIT`,
      raise: `raise it (ALTER DATABASE ${quoteIdentifier(limits.database)} CONNECTION LIMIT …)`,
    });
  }
  const reserved = limits.superuser ? 0 : limits.reservedFromUser;
  found.push({
    sessions: Math.max(0, limits.maxConnections - reserved),
    what:
      reserved === 0
        ? `max_connections ${limits.maxConnections}`
        : `max_connections ${limits.maxConnections}, less ${reserved} reserved for others`,
    raise: 'raise max_connections (a setting of the server, or of a hosted plan)',
  });
  return found;
}

/** SQL's quoting of a name, so that the line's statement runs as written. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The limits, as the server tells any user: superusers may use `superuser_reserved_connections`,
 * members of `pg_use_reserved_connections` (PostgreSQL 16) `reserved_connections`, no one else either.
 */
export async function readConnectionLimits(db: Kysely<Tables>): Promise<ConnectionLimits | null> {
  const { rows } = await sql<ConnectionLimits>`
    SELECT current_user AS "user", current_database() AS database, r.rolsuper AS superuser,
      r.rolconnlimit AS "roleLimit", d.datconnlimit AS "databaseLimit",
      current_setting('max_connections')::int AS "maxConnections",
      current_setting('superuser_reserved_connections')::int
        + CASE WHEN coalesce(pg_has_role(current_user, to_regrole('pg_use_reserved_connections'), 'MEMBER'), false) THEN 0
          ELSE coalesce(current_setting('reserved_connections', true)::int, 0) END AS "reservedFromUser"
    FROM pg_roles r, pg_database d
    WHERE r.rolname = current_user AND d.datname = current_database()`.execute(db);
  return rows[0] ?? null;
}
