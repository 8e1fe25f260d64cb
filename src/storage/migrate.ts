/** Brings the schema up to date. Runs at every start; concurrent starts wait on kysely's migration lock. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { errorCode } from '../lib/error-code.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { serverProblem } from './server-requirements.js';
import { READ_ONLY_CAUSES, READ_ONLY_SQL_TRANSACTION } from './server-writes.js';
import type { Tables } from './tables.js';

export class MigrationError extends Error {
  constructor(
    readonly migrationName: string | undefined,
    override readonly cause: unknown,
    schema: string,
  ) {
    const what = migrationName === undefined ? 'the migrations could not begin' : `migration ${migrationName} failed`;
    super(`${what}: ${cause instanceof Error ? cause.message : String(cause)}${privilegeHint(cause, schema)}${readOnlyHint(cause)}${takenNameHint(cause, schema)}`);
    this.name = 'MigrationError';
  }
}

/**
 * Since PostgreSQL 15 only the database's owner may create tables in `public`: a user that is not
 * (as on most hosted servers) is refused before the first table, in words that do not say what to do.
 */
function privilegeHint(cause: unknown, schema: string): string {
  if (errorCode(cause) !== INSUFFICIENT_PRIVILEGE) return '';
  return `; the user of DATABASE_URL needs to own schema "${schema}" or be granted CREATE on it (GRANT CREATE ON SCHEMA "${schema}" TO …), or name a schema of its own in search_path (the options of DATABASE_URL)`;
}

const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * The receiver's tables have common names (`messages`, `reports`), and a DATABASE_URL pointed at an
 * application's own database often finds one there; each migration runs in a transaction, so the
 * receiver cannot have made it half-way. Creating it over the other was refused in words that do
 * not say what to do.
 */
function takenNameHint(cause: unknown, schema: string): string {
  if (errorCode(cause) !== DUPLICATE_TABLE) return '';
  return `; schema "${schema}" holds a table or index of that name that the receiver did not make (another program's): give the receiver a schema of its own (CREATE SCHEMA dlr, and ?options=-c%20search_path%3Ddlr in DATABASE_URL)`;
}

const DUPLICATE_TABLE = '42P07';

/** A standby, or sessions made read-only, refuse the first table in words that do not name either. */
function readOnlyHint(cause: unknown): string {
  if (errorCode(cause) !== READ_ONLY_SQL_TRANSACTION) return '';
  return `; the server takes no writes: ${READ_ONLY_CAUSES} (default_transaction_read_only); point it at the primary`;
}

/** Runs every migration not yet applied; returns the names it applied. */
export async function migrateToLatest(db: Kysely<Tables>): Promise<string[]> {
  return onMigrationConnection(db, async (connection) => {
    const { migrator, schema } = await migratorFor(connection);
    const { error, results = [] } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const failed = results.find((result) => result.status === 'Error');
      throw new MigrationError(failed?.migrationName, error, schema);
    }
    return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
  });
}

/**
 * Undoes the newest migration applied, so that the receiver of the release before it can run on
 * the database again; returns its name, or null when none is applied.
 */
export async function undoLatestMigration(db: Kysely<Tables>): Promise<string | null> {
  return onMigrationConnection(db, async (connection) => {
    const { migrator, schema } = await migratorFor(connection);
    const { error, results = [] } = await migrator.migrateDown();
    const [result] = results;
    if (error !== undefined) throw new MigrationError(result?.migrationName, error, schema);
    return result?.migrationName ?? null;
  });
}

/**
 * Runs the migrations on one connection without the user's `statement_timeout` and `lock_timeout`,
 * which hosted servers often set: a migration over a large table, or one waiting for another
 * receiver's, was cancelled, and a cancelled statement reads as a database away, so the start
 * tried the same migration again and again, saying the database did not answer. Held up, the
 * migrations are reported while they wait (see migration-watch.ts); once they have run, the
 * connection goes back to the pool with the user's timeouts.
 */
async function onMigrationConnection<T>(db: Kysely<Tables>, run: (connection: Kysely<Tables>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`SET statement_timeout = 0`.execute(connection);
    await sql`SET lock_timeout = 0`.execute(connection);
    let result: T;
    try {
      result = await run(connection);
    } catch (error) {
      // Failed too: a start waiting for the database tries again, and the query API reads on this
      // connection meanwhile. On a connection that is gone the reset fails; the migration's error is told.
      await resetTimeouts(connection).catch(() => undefined);
      throw error;
    }
    await resetTimeouts(connection);
    return result;
  }).catch((error: unknown) => {
    throw passwordNotGiven(error) ?? error;
  });
}

/**
 * The driver's words when the server asks for a password (SCRAM, PostgreSQL's default since 14)
 * and none is given name neither what is missing nor where it goes.
 */
const NO_PASSWORD = /^SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a (non-empty )?string$/;

function passwordNotGiven(error: unknown): Error | null {
  if (!(error instanceof Error) || !NO_PASSWORD.test(error.message)) return null;
  return new Error('the database server asks for a password, and none is given: put it in DATABASE_URL (percent-encoded) or in the environment\'s PGPASSWORD', { cause: error });
}

async function resetTimeouts(connection: Kysely<Tables>): Promise<void> {
  await sql`RESET statement_timeout`.execute(connection);
  await sql`RESET lock_timeout`.execute(connection);
}

async function migratorFor(db: Kysely<Tables>): Promise<{ migrator: Migrator; schema: string }> {
  // Kysely takes its bookkeeping tables in any schema for its own unless told which schema is
  // meant; a database holding several receivers' schemas needs it said.
  const { rows } = await sql<{ schema: string | null; searchPath: string; versionNumber: string; version: string; encoding: string }>`
    SELECT current_schema() AS schema, current_setting('search_path') AS "searchPath", current_setting('server_version_num') AS "versionNumber",
      current_setting('server_version') AS version, current_setting('server_encoding') AS encoding`.execute(db);
  const [found] = rows;
  if (found === undefined) throw new Error('the database did not say which schema is current');
  const unfit = serverProblem({ versionNumber: Number(found.versionNumber), version: found.version, encoding: found.encoding });
  if (unfit !== null) throw new Error(unfit);
  if (found.schema === null) {
    // Else kysely fails on its own lock table, which says nothing of the cause.
    throw new Error(
      `no schema of the search_path (${found.searchPath}) exists, or this user may not use it: create it (CREATE SCHEMA), or fix search_path in the options of DATABASE_URL`,
    );
  }
  if (await hasMigrationRecord(db, found.schema)) {
    await refuseUnknownMigrations(db, found.schema);
    await keepRecordInNameOrder(db, found.schema);
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableSchema: found.schema,
  });
  return { migrator, schema: found.schema };
}

/** Whether kysely's record of applied migrations is there: not in a new database. */
async function hasMigrationRecord(db: Kysely<Tables>, schema: string): Promise<boolean> {
  const { rows } = await sql<{ present: boolean }>`SELECT EXISTS (SELECT FROM pg_tables WHERE schemaname = ${schema} AND tablename = 'kysely_migration') AS present`.execute(db);
  return rows[0]?.present === true;
}

/**
 * Kysely reads the applied migrations in the order of the times it recorded for them (the clock of
 * the machine that ran each) and refuses to go on when that is not the order of their names. A
 * migration recorded by a clock behind the one that recorded an earlier migration (a machine booted
 * before its clock was set, a second receiver on a machine whose clock runs late) stopped every
 * later start with "corrupted migrations". Kysely now records a migration after the latest one
 * whatever the clock says; a record written out of order before that is put in the order of the
 * names, the order the receiver applies them in. A record in order is only read: a standby takes
 * no writes, and the receiver starts on one.
 */
async function keepRecordInNameOrder(db: Kysely<Tables>, schema: string): Promise<void> {
  const table = sql.id(schema, 'kysely_migration');
  // Each migration's time is due to be the latest of its own and those of the names before it.
  const late = sql`SELECT name, due FROM (SELECT name, "timestamp" COLLATE "C" AS at,
    max("timestamp" COLLATE "C") OVER (ORDER BY name COLLATE "C") AS due FROM ${table}) AS r WHERE at <> due`;
  const found = await sql<{ count: number }>`SELECT count(*)::int AS count FROM (${late}) AS l`.execute(db);
  if ((found.rows[0]?.count ?? 0) === 0) return;
  await sql`UPDATE ${table} AS m SET "timestamp" = l.due FROM (${late}) AS l WHERE m.name = l.name`.execute(db);
}

/**
 * The migrations refused to run: the schema records migrations this release does not have. The
 * message ends "; nothing was changed"; `reason` is the rest, for a command that says in its own
 * words what it left undone (the copy to a server).
 */
export class UnknownMigrationsError extends Error {
  constructor(readonly reason: string) {
    super(`${reason}; nothing was changed`);
    this.name = 'UnknownMigrationsError';
  }
}

/**
 * Kysely stops at a recorded migration this release does not have, with "corrupted migrations:
 * previously executed migration … is missing", which reads as damage and says nothing of what to
 * do. Such a record comes from a newer release (an upgrade rolled back without undoing its
 * migrations), or from another program keeping its kysely migrations in the same schema.
 */
async function refuseUnknownMigrations(db: Kysely<Tables>, schema: string): Promise<void> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM ${sql.id(schema, 'kysely_migration')} ORDER BY name COLLATE "C"`.execute(db);
  const known = Object.keys(migrations);
  const unknown = rows.map((row) => row.name).filter((name) => !known.includes(name));
  if (unknown.length === 0) return;
  const latestKnown = known.at(-1) ?? '';
  const named = `${unknown.length === 1 ? 'migration' : 'migrations'} ${unknown.join(', ')}`;
  if (unknown.every((name) => RELEASE_MIGRATION.test(name) && name > latestKnown)) {
    throw new UnknownMigrationsError(
      `the database was migrated by a newer release of the receiver (${named}, which this release does not have): ` +
        'run that release, or go back with it: stop the receivers on this database and run `npm run migrate -- down` with the newer ' +
        'release, once for each migration it added',
    );
  }
  throw new UnknownMigrationsError(
    `schema "${schema}" records ${named}, which the receiver does not have: another program keeps its kysely migrations there; ` +
      'give the receiver a schema of its own (search_path in the options of DATABASE_URL)',
  );
}

/** How the receiver names its migrations: the time they were written, then what they do. */
const RELEASE_MIGRATION = /^\d{8}T\d{4}_[a-z0-9-]+$/;

export interface ReachOptions {
  /** Wait between attempts. */
  readonly retryMs: number;
  /** Told of each failed attempt while the database is away. */
  readonly onAway: (error: unknown, attempt: number) => void;
  /** Ends the wait (a stop signal): then the migrations are not run and null is returned. */
  readonly signal: AbortSignal;
}

/**
 * Runs the migrations once the database answers: at boot a receiver can start before its
 * PostgreSQL server does, or while the server still recovers and refuses connections. A failure of
 * the database itself is tried again; any other (a wrong password, a failing migration) is thrown.
 */
export async function migrateOnceReachable(db: Kysely<Tables>, options: ReachOptions): Promise<string[] | null> {
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    try {
      return await migrateToLatest(db);
    } catch (error) {
      if (!isDatabaseUnavailable(error instanceof MigrationError ? error.cause : error)) throw error;
      options.onAway(error, attempt);
    }
    await sleep(options.retryMs, undefined, { signal: options.signal }).catch((error: unknown) => {
      // Cut short by the stop signal: the loop ends.
      if (!options.signal.aborted) throw error;
    });
  }
  return null;
}
