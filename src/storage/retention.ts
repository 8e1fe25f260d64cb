/**
 * Deletes messages whose newest report was received longer ago than RETENTION_DAYS, with every
 * report of theirs: a receiver that keeps every report forever fills its disk in the end (about
 * 600 bytes a report in tables and indexes). Off unless RETENTION_DAYS is set.
 *
 * A message goes whole or not at all, judged by its newest report, so a lookup never finds one
 * with some of its reports gone. Each batch locks its messages as the write path does
 * (write-reports.ts), and checks their age again under the lock: a report a receiver is storing
 * for an old message meanwhile makes it new, and the message is kept. Without the lock, the
 * message and its reports could be deleted between the write's two steps, and the write would
 * then bring the message back counting parts whose reports were gone.
 */
import type { FastifyBaseLogger } from 'fastify';
import { CompiledQuery, sql } from 'kysely';
import { errorSummary } from '../lib/error-summary.js';
import type { SparingLog } from '../lib/log-sparingly.js';
import { logSparingly } from '../lib/log-sparingly.js';
import { rounds } from '../lib/rounds.js';
import type { Database } from './database.js';
import { LOCK_MESSAGES } from './write-reports.js';

/** How often old messages are looked for: an age in days needs no finer grain. */
export const RETENTION_EVERY_MS = 60 * 60 * 1000;
/** Messages a transaction deletes at most: short transactions, few locks, and the write path gets its turn between them. */
export const RETENTION_BATCH_MESSAGES = 500;
const DAY_MS = 24 * 60 * 60 * 1000;
const FAILURE_LOG_MS = 60 * 60 * 1000;

export interface Deleted {
  readonly messages: number;
  readonly reports: number;
}

/**
 * Deletes up to `batch` messages whose newest report was received before `cutoff`, oldest first,
 * with their reports, in one transaction.
 */
export async function deleteMessagesBefore(
  { db, shortTransaction }: Pick<Database, 'db' | 'shortTransaction'>,
  cutoff: Date,
  batch = RETENTION_BATCH_MESSAGES,
): Promise<Deleted> {
  const before = cutoff.toISOString();
  return shortTransaction(async (run) => {
    const candidates = await run(
      sql<{ ids: string }>`SELECT coalesce(json_agg(message_id), '[]')::text AS ids FROM (
          SELECT message_id FROM messages WHERE last_report_at < ${before}::timestamptz
          ORDER BY last_report_at, last_seq LIMIT ${batch}) AS old`.compile(db),
    );
    const ids = candidates[0]?.ids ?? '[]';
    if (ids === '[]') return { messages: 0, reports: 0 };
    await run(CompiledQuery.raw(LOCK_MESSAGES, [ids]));
    // Under the lock each statement sees what the write path committed: a message a report made new is kept.
    const [deleted] = await run(
      sql<{ messages: number; reports: number }>`WITH gone AS (
          DELETE FROM messages WHERE message_id IN (SELECT json_array_elements_text(${ids}::json))
            AND last_report_at < ${before}::timestamptz
          RETURNING message_id),
        gone_reports AS (
          DELETE FROM reports WHERE message_id IN (SELECT message_id FROM gone) RETURNING 1)
        SELECT (SELECT count(*) FROM gone)::int AS messages, (SELECT count(*) FROM gone_reports)::int AS reports`.compile(db),
    );
    return { messages: deleted?.messages ?? 0, reports: deleted?.reports ?? 0 };
  });
}

export interface RetentionOptions {
  readonly database: Pick<Database, 'db' | 'shortTransaction'>;
  readonly days: number;
  readonly logger: FastifyBaseLogger;
  readonly everyMs?: number;
  readonly batchMessages?: number;
  readonly now?: () => Date;
}

export interface Retention {
  /** A round now, then one every `everyMs`. */
  readonly start: () => void;
  /** One round now (every old message, batch by batch); while one is in hand, that one. */
  readonly runOnce: () => Promise<Deleted>;
  /** Stops the rounds after the batch in hand, and waits for it, so that the database may close. */
  readonly stop: () => Promise<void>;
}

export function retention(options: RetentionOptions): Retention {
  const { database, days, logger } = options;
  const now = options.now ?? (() => new Date());
  const logFailure: SparingLog = logSparingly(FAILURE_LOG_MS);
  /** Set at stop: a round under way ends after its batch. */
  let stopping = false;

  const round = async (): Promise<Deleted> => {
    const cutoff = new Date(now().getTime() - days * DAY_MS);
    let messages = 0;
    let reports = 0;
    try {
      while (!stopping) {
        const deleted = await deleteMessagesBefore(database, cutoff, options.batchMessages);
        messages += deleted.messages;
        reports += deleted.reports;
        if (deleted.messages === 0) break;
        // Reports that came meanwhile are committed between one batch and the next.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      // Also when a batch fails: the batches before it are committed, and gone.
      if (messages > 0) {
        logger.info({ messages, reports, receivedBefore: cutoff.toISOString() }, `deleted the messages whose newest report is older than RETENTION_DAYS (${days})`);
      }
    }
    return { messages, reports };
  };

  const deleting = rounds(round, options.everyMs ?? RETENTION_EVERY_MS, (error) => {
    logFailure((suppressed) => {
      logger.warn({ err: errorSummary(error), alsoFailedSinceLastLine: suppressed }, 'deleting old messages failed: trying again at the next round');
    });
  });
  return {
    start: () => {
      logger.info({ retentionDays: days }, `keeping each message ${days} days after its newest report (RETENTION_DAYS): older ones are deleted now and every hour`);
      deleting.start({ now: true });
    },
    runOnce: deleting.runOnce,
    stop: async () => {
      stopping = true;
      await deleting.stop();
    },
  };
}
