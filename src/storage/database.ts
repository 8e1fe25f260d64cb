/**
 * Opens the database: a PostgreSQL server when a URL is given, else the embedded PostgreSQL
 * (PGlite) kept under the data folder. Both speak the same SQL, so the rest of the code does not know.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Tables } from './tables.js';
import type { WriteTransaction } from './write-transaction.js';
import { embeddedWriteTransaction, serverWriteTransaction } from './write-transaction.js';

export type DatabaseKind = 'server' | 'embedded';

export interface Database {
  readonly db: Kysely<Tables>;
  readonly kind: DatabaseKind;
  /** The write path's transactions, in one or two round trips (see write-transaction.ts). */
  readonly writeTransaction: WriteTransaction;
  /** Whether the database answers a trivial query within the time. */
  readonly ping: (timeoutMs?: number) => Promise<boolean>;
  readonly close: () => Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…`; null opens the embedded database. */
  readonly databaseUrl: string | null;
  /** Folder of the embedded database; `memory://` keeps it in memory (tests). */
  readonly dataDir: string;
  /** A schema to work in instead of `public` (tests isolate themselves this way). */
  readonly schema?: string;
  readonly poolSize?: number;
  /** Told when an idle pooled connection fails, so a dropped connection does not crash the process. */
  readonly onConnectionError?: (error: Error) => void;
}

export function openDatabase(options: DatabaseOptions): Database {
  return options.databaseUrl === null ? openEmbedded(options) : openServer(options.databaseUrl, options);
}

// int8 arrives as text by default; sequence numbers stay far below 2^53, so numbers are safe.
// (PGlite reads int8 as a number already.) Set per pool, not on pg's global parsers.
const typeParsers = new pg.TypeOverrides();
typeParsers.setTypeParser(pg.types.builtins.INT8, Number);

function openServer(url: string, options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: typeParsers,
    connectionTimeoutMillis: 5_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  const connectionLost = (error: Error) => options.onConnectionError?.(error);
  // pg-pool listens for errors on idle clients only: a connection cut while checked out would emit
  // an 'error' nobody hears and end the process. The query in flight rejects by itself; this logs.
  pool.on('connect', (client) => client.on('error', connectionLost));
  pool.on('error', connectionLost);
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'server', writeTransaction: serverWriteTransaction(pool), ping: (timeoutMs) => ping(db, timeoutMs), close: () => db.destroy() };
}

function openEmbedded(options: DatabaseOptions): Database {
  if (!options.dataDir.startsWith('memory://')) mkdirSync(options.dataDir, { recursive: true });
  const pglite = new PGlite(options.dataDir);
  const db = new Kysely<Tables>({ dialect: new PGliteDialect(pglite) });
  return { db, kind: 'embedded', writeTransaction: embeddedWriteTransaction(pglite), ping: (timeoutMs) => ping(db, timeoutMs), close: () => db.destroy() };
}

async function ping(db: Kysely<Tables>, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => { resolve(false); }, timeoutMs);
  });
  const query = sql`SELECT 1`.execute(db).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
