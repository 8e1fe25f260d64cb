/**
 * Opens the database: a PostgreSQL server when a URL is given, else the embedded PostgreSQL
 * (PGlite) kept under the data folder. Both speak the same SQL, so the rest of the code does not know.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledQuery } from 'kysely';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Tables } from './tables.js';
import type { WriteTransaction } from './write-transaction.js';
import { embeddedWriteTransaction, serverWriteTransaction, WriteTimeoutError } from './write-transaction.js';
import { onSessionWithin } from './session-deadline.js';
import type { ReadRows } from './prepared-reads.js';
import { embeddedPreparedReads, ReadTimeoutError, serverPreparedReads } from './prepared-reads.js';
import { holdsDatabase } from './embedded-creation.js';
import type { EmbeddedEngine } from './embedded-thread.js';
import { EmbeddedThread } from './embedded-thread.js';
import { EmbeddedDialect } from './embedded-dialect.js';
import { foldersToSync, syncFolderNow } from '../lib/sync-folder.js';
import { withinTime } from '../lib/within-time.js';
import type { SessionWait } from './session-waits.js';
import { sessionWaits } from './session-waits.js';
import { shareSessions } from './session-limit.js';

export type DatabaseKind = 'server' | 'embedded';

export interface Database {
  readonly db: Kysely<Tables>;
  readonly kind: DatabaseKind;
  /** The embedded database's folder; null for a server, or an embedded database in memory. */
  readonly folder: string | null;
  /** The write path's transactions, in one or two round trips (see write-transaction.ts). */
  readonly writeTransaction: WriteTransaction;
  /** Runs a read the query API makes on every request, parsed and planned once per session (see prepared-reads.ts). */
  readonly readRows: ReadRows;
  /**
   * A short transaction on the read pool (keeping a refused request): on a server within the read
   * deadline, past which its session is cancelled and WriteTimeoutError thrown. Its statements go
   * unprepared.
   */
  readonly shortTransaction: <T>(work: (run: ReadRows) => Promise<T>) => Promise<T>;
  /** Whether the database answers a trivial query within the time. */
  readonly ping: (timeoutMs?: number) => Promise<boolean>;
  /** What the read pool's busy sessions (the migrations', at start) wait for at a server; none on the embedded database. */
  readonly readSessionWaits: () => Promise<SessionWait[]>;
  /** Cancels what the read pool's sessions run at a server, waiting for nothing: a stop during a start the server holds up. */
  readonly cancelReads: () => void;
  readonly close: () => Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…`; null opens the embedded database. */
  readonly databaseUrl: string | null;
  /** Folder of the embedded database; `memory://` keeps it in memory (tests). */
  readonly dataDir: string;
  /** A schema to work in instead of `public` (tests isolate themselves this way). */
  readonly schema?: string;
  /** Connections for reads (the query API, health, rejected requests); the write path has its own. */
  readonly poolSize?: number;
  /** The longest a write transaction on a server may take (see WriteTimeoutError); 5 s unless given. */
  readonly writeTimeoutMs?: number;
  /** The longest a lookup's read on a server may take (see ReadTimeoutError); 5 s unless given. */
  readonly readTimeoutMs?: number;
  /** Told when an idle pooled connection fails, so a dropped connection does not crash the process. */
  readonly onConnectionError?: (error: Error) => void;
  /**
   * Told, once, when two of the receiver's connections to a server are given one session: a pooler
   * that shares sessions among its clients (PgBouncer's transaction mode) stands before PostgreSQL.
   */
  readonly onSharedSession?: () => void;
  /**
   * Told when the disk fails the embedded database (an fsync refused), just before the process
   * stops; without it the error goes to stderr.
   */
  readonly onEmbeddedDiskFailure?: (error: Error) => void;
  /**
   * Told when the embedded database's thread ended on its own, just before the process stops;
   * without it the error goes to stderr.
   */
  readonly onEmbeddedStopped?: (error: Error) => void;
  /** Told when there is no embedded database yet and a new one is being made in `folder`. */
  readonly onEmbeddedCreation?: (folder: string) => void;
  /** Abandons the making of a new embedded database (a stop signal at start); the next start makes it again. */
  readonly stopCreation?: AbortSignal | undefined;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.databaseUrl === null ? openEmbedded(options) : openServer(options.databaseUrl, options);
}

// int8 arrives as text by default; sequence numbers stay far below 2^53, so numbers are safe.
// (PGlite reads int8 as a number already.) Set per pool, not on pg's global parsers.
const typeParsers = new pg.TypeOverrides();
typeParsers.setTypeParser(pg.types.builtins.INT8, Number);

/** Connections of the query API, health checks, migrations and rejected requests, unless told. */
const READ_POOL_SIZE = 10;

/** Connections of the write path: its two slots, the journal's replay, and one to spare. */
const WRITE_POOL_SIZE = 4;

/** The most sessions a receiver opens at a server at once (README: "allow each receiver 14"). */
export const SERVER_CONNECTIONS_AT_MOST = READ_POOL_SIZE + WRITE_POOL_SIZE;

const DEFAULT_WRITE_TIMEOUT_MS = 5_000;

/**
 * The longest a lookup of the query API may take before it is answered 503: its reads go along
 * indexes and take milliseconds, and a client has given up long before.
 */
const DEFAULT_READ_TIMEOUT_MS = 5_000;


/**
 * Set on each connection of the read pool (the query API, health, migrations, rejected requests).
 * No sequential scans, for the reason the write path gives at `WRITE_SESSION_SETTINGS`: a read
 * prepared once may keep one generic plan for the connection's life, and one made while the tables
 * were small would scan them whole. The query API reads by key or along an index only; any other
 * statement still runs, as the setting makes a scan the last resort, not impossible.
 *
 * Times in UTC: PostgreSQL writes a time into JSON in the session's time zone (a server set up in
 * Oslo writes `+01:00`), and the query API passes UTC text on as it is, where any other offset
 * costs a Date (`src/query/time.ts`). The instants are the same in any zone; no read depends on it.
 *
 * Dates in ISO: the driver reads a time column's text only as ISO writes it, and a server whose
 * DateStyle is SQL or German (`05.12.2026 11:00:00 UTC`) made every such time null: the listing's
 * first and last report times, a rejected request's. JSON is written in ISO whatever the setting.
 */
export const READ_SESSION_SETTINGS = "SET enable_seqscan = off; SET TIME ZONE 'UTC'; SET DateStyle = ISO";

function openServer(url: string, options: DatabaseOptions): Database {
  const connectionLost = (error: Error) => options.onConnectionError?.(error);
  const openPool = (max: number, onConnect: (client: pg.ClientBase) => Promise<void>) => {
    const pool = new pg.Pool({
      connectionString: url,
      max,
      types: typeParsers,
      connectionTimeoutMillis: 5_000,
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
      // pg-pool awaits this before it hands the connection out (its types say void).
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onConnect,
    });
    // pg-pool listens for errors on idle clients only: a connection cut while checked out would emit
    // an 'error' nobody hears and end the process. The query in flight rejects by itself; this logs.
    pool.on('connect', (client) => client.on('error', connectionLost));
    // An idle client's error comes again from its pool, which must have a listener or end the
    // process: the client's own listener above has told it already.
    pool.on('error', () => {});
    return pool;
  };
  // Each connection's session is known by its process id, for a cancel (the driver's own id is a
  // pooler's, behind one).
  const sessions = new WeakMap<pg.ClientBase, number>();
  // How many live connections of either pool each session has: PostgreSQL gives each connection a
  // session of its own, so a second one means a pooler between them.
  const connectionsOfSession = new Map<number, number>();
  let sharedSessionTold = false;
  const noteSession = async (client: pg.ClientBase) => {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]?.pid;
    if (pid === undefined) return;
    sessions.set(client, pid);
    const others = connectionsOfSession.get(pid) ?? 0;
    connectionsOfSession.set(pid, others + 1);
    if (others > 0 && !sharedSessionTold) {
      sharedSessionTold = true;
      options.onSharedSession?.();
    }
  };
  const forgetSession = (client: pg.ClientBase) => {
    const pid = sessions.get(client);
    if (pid === undefined) return;
    const left = (connectionsOfSession.get(pid) ?? 1) - 1;
    if (left > 0) connectionsOfSession.set(pid, left);
    else connectionsOfSession.delete(pid);
  };
  const readSessions = new Set<number>();
  const pool = openPool(options.poolSize ?? READ_POOL_SIZE, async (client) => {
    await client.query(READ_SESSION_SETTINGS);
    await noteSession(client);
    const pid = sessions.get(client);
    if (pid !== undefined) readSessions.add(pid);
  });
  pool.on('remove', (client) => {
    const pid = sessions.get(client);
    if (pid !== undefined) readSessions.delete(pid);
    forgetSession(client);
  });
  // Apart from the reads: the write path deallocates the statements it prepared when it prepares
  // again, and it would take the reads' prepared statements with them.
  const writePool = openPool(WRITE_POOL_SIZE, noteSession);
  writePool.on('remove', forgetSession);
  shareSessions(pool, writePool);
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  const cancel = (client: pg.PoolClient) => {
    const pid = sessions.get(client);
    if (pid !== undefined) cancelSessions(pool, [pid]);
  };
  const readDeadline = { timeoutMs: options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS, cancel };
  // Closing twice is closing once (a pool refuses a second end).
  let closing: Promise<void> | undefined;
  return {
    db,
    kind: 'server',
    folder: null,
    writeTransaction: serverWriteTransaction(writePool, { timeoutMs: options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS, cancel }),
    readRows: serverPreparedReads(pool, readDeadline),
    shortTransaction: (work) => onSessionWithin(pool, readDeadline, async (client) => {
      await client.query('BEGIN');
      const value = await work(async <R>(query: CompiledQuery<R>) => (await client.query<R & pg.QueryResultRow>(query.sql, [...query.parameters])).rows);
      await client.query('COMMIT');
      return value;
    }, () => new WriteTimeoutError(readDeadline.timeoutMs)),
    ping: (timeoutMs) => serverPing(pool, timeoutMs),
    readSessionWaits: () => onPoolWithin(pool, BRIEF_QUERY_TIMEOUT_MS, (client) => sessionWaits(client, [...readSessions])),
    cancelReads: () => { cancelSessions(pool, [...readSessions]); },
    close: () => {
      // Kysely ends the read pool only if it ran a query on it; a receiver that has only pinged
      // and looked up has not.
      const endReads = () => (pool.ending ? undefined : pool.end());
      closing ??= Promise.all([db.destroy().then(endReads), writePool.end()]).then(() => undefined);
      return closing;
    },
  };
}

function openEmbedded(options: DatabaseOptions): Database {
  const folder = options.dataDir.startsWith('memory://') ? null : embeddedFolder(options.dataDir);
  const thread = new EmbeddedThread({ dataDir: options.dataDir, folder }, {
    onDiskFailure: stopOnDiskFailure(options),
    onCreation: options.onEmbeddedCreation,
    stopCreation: options.stopCreation,
    onStopped: stopOnThreadEnd(options),
  });
  return databaseOnEmbedded(thread, folder);
}

/** The receiver's database over an embedded one: its thread, or PGlite in the caller's thread (tests). */
export function databaseOnEmbedded(engine: EmbeddedEngine, folder: string | null): Database {
  const db = new Kysely<Tables>({ dialect: new EmbeddedDialect(engine) });
  return {
    db,
    kind: 'embedded',
    folder,
    writeTransaction: embeddedWriteTransaction(engine),
    readRows: embeddedPreparedReads(engine),
    shortTransaction: (work) => engine.transaction((statements) => work(async <R>(query: CompiledQuery<R>) => (await statements.query<R>(query.sql, query.parameters)).rows)),
    ping: (timeoutMs) => embeddedPing(db, timeoutMs),
    // Its one session is in the process: no other session can hold it up.
    readSessionWaits: () => Promise.resolve([]),
    cancelReads: () => undefined,
    close: async () => {
      await db.destroy();
      const opened = await engine.waitReady.then(() => true, () => false);
      // One that never opened is closed all the same (its thread ends), its failure reported where it was met.
      await (opened ? engine.close() : engine.close().catch(() => undefined));
    },
  };
}

/**
 * Where the embedded database lives in the data folder: `postgres/`, beside the journal. PGlite
 * creates a database only in an empty folder, and this one is, while the data folder already holds
 * the journal's claim, taken before the database is opened. Receivers before this layout kept the
 * database in the data folder itself, which is used where it is.
 */
export function embeddedFolder(dataDir: string): string {
  if (holdsDatabase(dataDir)) return dataDir;
  const folder = join(dataDir, EMBEDDED_SUBFOLDER);
  const firstCreated = mkdirSync(folder, { recursive: true });
  // Its name must be on disk with the database in it; PostgreSQL syncs what is inside.
  if (firstCreated !== undefined) for (const path of foldersToSync(folder, firstCreated).slice(1)) syncFolderNow(path);
  return folder;
}

const EMBEDDED_SUBFOLDER = 'postgres';

/** Whether the data folder holds an embedded database, in either layout; looks without making anything. */
export function holdsEmbeddedDatabase(dataDir: string): boolean {
  return holdsDatabase(dataDir) || holdsDatabase(join(dataDir, EMBEDDED_SUBFOLDER));
}

/**
 * Stops the process when the disk refuses to sync the embedded database, or to take a write to its
 * write-ahead log, as a PostgreSQL server stops itself: the commit waiting for it is never
 * acknowledged (its thread holds still until then), LINK sends its report again, and the next start
 * recovers the database from the write-ahead log that is on disk.
 */
function stopOnDiskFailure(options: DatabaseOptions): (error: Error) => never {
  return stopTheProcess(options.onEmbeddedDiskFailure);
}

/**
 * Stops the process when the embedded database's thread ends on its own: nothing in the process can
 * open the database again, and a restart does, replaying what the local journal holds. What was
 * acknowledged is in the database or in the journal already.
 */
function stopOnThreadEnd(options: DatabaseOptions): (error: Error) => never {
  return stopTheProcess(options.onEmbeddedStopped);
}

function stopTheProcess(tell: ((error: Error) => void) | undefined): (error: Error) => never {
  return (error) => {
    if (tell === undefined) process.stderr.write(`${error.message}\n`);
    else tell(error);
    process.exit(1);
  };
}

/**
 * Cancels what the sessions are doing, through a read connection (a session's own is stuck), not
 * the one running the cancel, and waits for nothing: the work it ends was given up on already (a
 * write's reports are in the journal), and a server that cannot be reached ends a session once its
 * connection is gone.
 */
function cancelSessions(pool: pg.Pool, pids: readonly number[]): void {
  onPoolWithin(pool, BRIEF_QUERY_TIMEOUT_MS, (client) =>
    client.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid WHERE pid <> pg_backend_pid()', [[...pids]]),
  ).catch(() => undefined);
}

/**
 * A health check, a cancel or a look at what sessions wait for, not answered in this time, is given
 * up on: each takes milliseconds, and the network to the server may be silent.
 */
const BRIEF_QUERY_TIMEOUT_MS = 2_000;

function serverPing(pool: pg.Pool, timeoutMs = BRIEF_QUERY_TIMEOUT_MS): Promise<boolean> {
  return onPoolWithin(pool, timeoutMs, (client) => client.query('SELECT 1')).then(
    () => true,
    () => false,
  );
}

/**
 * Work on a connection of the pool that holds nothing at the server worth cancelling (a ping, a
 * cancel): past its time its connection is dropped. Left waiting on a connection to a server whose
 * network went silent, such work held its connection until TCP gave up, minutes after the network
 * spoke again, and enough of it held every connection of the query API.
 */
function onPoolWithin<T>(pool: pg.Pool, timeoutMs: number, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return onSessionWithin(pool, { timeoutMs, cancel: () => undefined }, work, () => new ReadTimeoutError(timeoutMs));
}

async function embeddedPing(db: Kysely<Tables>, timeoutMs = BRIEF_QUERY_TIMEOUT_MS): Promise<boolean> {
  const query = sql`SELECT 1`.execute(db).then(
    () => true,
    () => false,
  );
  return withinTime(query, timeoutMs, false);
}
