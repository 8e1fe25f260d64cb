/**
 * A database of the test file's own: a fresh schema on the PostgreSQL server named by DATABASE_URL,
 * or an in-memory embedded PostgreSQL when it is unset. Migrated, and removed again afterwards.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../../src/storage/database.js';
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';

export interface TestDatabase {
  readonly database: Database;
  /** The schema of the test's own on the server; null on the embedded database. */
  readonly schema: string | null;
  /** Opens another connection pool on the same data (a second receiver); the embedded one is shared. */
  readonly openAnother: (options?: { poolSize?: number; writeTimeoutMs?: number; readTimeoutMs?: number }) => Database;
  readonly drop: () => Promise<void>;
}

export const serverUrl = process.env.DATABASE_URL ?? null;

export async function createTestDatabase(): Promise<TestDatabase> {
  if (serverUrl === null) {
    const database = openDatabase({ databaseUrl: null, dataDir: 'memory://' });
    await migrateToLatest(database.db);
    return { database, schema: null, openAnother: () => database, drop: () => database.close() };
  }
  const schema = `test_${randomUUID().replaceAll('-', '')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const open = (options: { poolSize?: number; writeTimeoutMs?: number; readTimeoutMs?: number } = {}) => openDatabase({ databaseUrl: serverUrl, dataDir: '', schema, ...options });
  const database = open();
  await migrateToLatest(database.db);
  const others: Database[] = [];
  return {
    database,
    schema,
    openAnother: (options) => {
      const other = open(options);
      others.push(other);
      return other;
    },
    drop: async () => {
      await Promise.all([database, ...others].map((each) => each.close()));
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

/** Runs one statement as the server's user, on a connection of its own (creating and dropping schemas, databases). */
export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl ?? undefined });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export interface ProcessDatabase {
  /** What a receiver process needs in its environment to use this database. */
  readonly env: Record<string, string>;
  /** The schema of its own on the server; null on the embedded database. */
  readonly schema: string | null;
  readonly drop: () => Promise<void>;
}

/**
 * A database for receivers in their own processes: a fresh schema on the server, or nothing at all
 * on the embedded database (each process's DATA_DIR then holds its own).
 */
export async function createProcessDatabase(): Promise<ProcessDatabase> {
  if (serverUrl === null) return { env: {}, schema: null, drop: async () => {} };
  const schema = `test_${randomUUID().replaceAll('-', '')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { env: { DATABASE_URL: url.toString() }, schema, drop: () => adminQuery(`DROP SCHEMA ${schema} CASCADE`) };
}

/** Resolves once a statement of the server waits for an advisory lock (the write path's, on a message). */
export async function untilWaitingForAdvisoryLock(database: Database, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { rows } = await sql<{ waiting: number }>`SELECT count(*)::int AS waiting FROM pg_stat_activity
      WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'`.execute(database.db);
    if ((rows[0]?.waiting ?? 0) > 0) return;
    await sleep(20);
  }
  throw new Error(`${what} never waited for the lock`);
}
