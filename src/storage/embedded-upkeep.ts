/**
 * The upkeep a PostgreSQL server's background processes do, which the embedded database never gets:
 * PGlite runs PostgreSQL as one process, with no checkpointer and no autovacuum.
 *
 * Without checkpoints, the write-ahead log grows by every report (about 1.1 KB each, 2.2 GB after
 * two million) for as long as the receiver runs, and a crash replays all of it at the next start.
 * Without vacuum, the rows a later report replaced are never made reusable, and the planner's
 * statistics are never brought up to date.
 *
 * Each round reads what is due, by autovacuum's own rules and settings, and does it. PGlite runs one
 * statement at a time, so the work waits for the write path's transaction in hand, and reports wait
 * for the work (a checkpoint of 256 MB of log takes a few hundred milliseconds). Between one piece
 * of work and the next the event loop gets its turn, so reports that came meanwhile are committed
 * between them rather than after the whole round.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import { errorSummary } from '../lib/error-summary.js';
import type { SparingLog } from '../lib/log-sparingly.js';
import { logSparingly } from '../lib/log-sparingly.js';
import { rounds } from '../lib/rounds.js';
import type { Tables } from './tables.js';

/** How often what is due is read: a few milliseconds' work. */
export const UPKEEP_EVERY_MS = 10_000;
/** A checkpoint once this much log was written since the last: it bounds the log on disk and a crash's replay. */
export const CHECKPOINT_AFTER_WAL_BYTES = 256 * 1024 * 1024;
const FAILURE_LOG_MS = 60_000;

/**
 * Settings of the embedded database for its upkeep. ANALYZE samples 300 rows for each unit of
 * `default_statistics_target`: at a server's 100, 30,000 rows, which on the embedded database took
 * 85-300 ms for `reports` with every report waiting; at 10, 3,000 rows took 18 (see BENCHMARKS.md).
 * The receiver's plans turn on equal ids and ordered index ranges, which 3,000 rows describe well.
 */
export const UPKEEP_START_PARAMS: readonly string[] = ['-c', 'default_statistics_target=10'];

export interface EmbeddedUpkeepOptions {
  readonly db: Kysely<Tables>;
  readonly logger: FastifyBaseLogger;
  readonly everyMs?: number;
  readonly checkpointAfterWalBytes?: number;
}

export interface EmbeddedUpkeep {
  readonly start: () => void;
  /** One round now; while one is in hand, that one. */
  readonly runOnce: () => Promise<UpkeepDone>;
  /** Stops the rounds and waits for one in hand, so that the database may close. */
  readonly stop: () => Promise<void>;
}

export interface UpkeepDone {
  readonly vacuumed: readonly string[];
  readonly analyzed: readonly string[];
  readonly checkpointed: boolean;
}

interface TableDue {
  readonly table: string;
  readonly vacuum: boolean;
  readonly analyze: boolean;
}

export function embeddedUpkeep(options: EmbeddedUpkeepOptions): EmbeddedUpkeep {
  const { db, logger } = options;
  const checkpointAfter = options.checkpointAfterWalBytes ?? CHECKPOINT_AFTER_WAL_BYTES;
  const logFailure: SparingLog = logSparingly(FAILURE_LOG_MS);

  const round = async (): Promise<UpkeepDone> => {
    const vacuumed: string[] = [];
    const analyzed: string[] = [];
    // A session counts its changes privately and publishes them at most once a second; the embedded
    // database has one session, this one, so its counts are published before they are read.
    await sql`SELECT pg_stat_force_next_flush()`.execute(db);
    for (const due of await tablesDue(db)) {
      await turnOfTheEventLoop();
      const startedAt = performance.now();
      if (due.vacuum) await sql`VACUUM (ANALYZE) ${sql.table(due.table)}`.execute(db);
      else await sql`ANALYZE ${sql.table(due.table)}`.execute(db);
      (due.vacuum ? vacuumed : analyzed).push(due.table);
      logger.info({ table: due.table, ms: elapsed(startedAt) }, due.vacuum ? 'embedded database: vacuumed a table' : 'embedded database: analyzed a table');
    }
    await turnOfTheEventLoop();
    const walBytes = await walSinceCheckpoint(db);
    const checkpointed = walBytes >= checkpointAfter;
    if (checkpointed) {
      const startedAt = performance.now();
      await sql`CHECKPOINT`.execute(db);
      logger.info({ walMegabytes: Math.round(walBytes / 1024 / 1024), ms: elapsed(startedAt) }, 'embedded database: checkpoint');
    }
    return { vacuumed, analyzed, checkpointed };
  };

  const upkeep = rounds(round, options.everyMs ?? UPKEEP_EVERY_MS, (error) => {
    logFailure((suppressed) => {
      logger.warn({ err: errorSummary(error), alsoFailedSinceLastLine: suppressed }, 'embedded database upkeep failed: trying again at the next round');
    });
  });
  return { start: () => { upkeep.start(); }, runOnce: upkeep.runOnce, stop: upkeep.stop };
}

/**
 * The tables of the receiver's schema autovacuum would work on now: a vacuum when enough rows died
 * or were inserted since the last, or the oldest transaction id in the table is old enough to need
 * freezing; an analyze when enough rows changed since the last. The statistics the rules read are
 * counted from the start of the process.
 */
async function tablesDue(db: Kysely<Tables>): Promise<TableDue[]> {
  const { rows } = await sql<TableDue>`
    SELECT s.relname AS "table",
      s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
          + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0)
        OR s.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
          + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * greatest(c.reltuples, 0)
        OR age(c.relfrozenxid) > current_setting('autovacuum_freeze_max_age')::float8 AS vacuum,
      s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
          + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0) AS analyze
    FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.schemaname = current_schema()
    ORDER BY s.relname`.execute(db);
  return rows.filter((due) => due.vacuum || due.analyze);
}

/** Bytes of write-ahead log written since the last checkpoint began. */
async function walSinceCheckpoint(db: Kysely<Tables>): Promise<number> {
  const { rows } = await sql<{ bytes: string | number }>`
    SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), redo_lsn) AS bytes FROM pg_control_checkpoint()`.execute(db);
  return Number(rows[0]?.bytes ?? 0);
}

/** Lets the event loop read what came in, and the write path commit it, before the next piece of work. */
function turnOfTheEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function elapsed(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
