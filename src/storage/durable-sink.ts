/**
 * Where intake's reports go: straight to the database through the group-commit batcher, or, when
 * the database cannot take them, into the local journal, so that a valid report is still
 * acknowledged once it is safe on disk. While the journal holds reports not yet stored, new ones
 * join it behind them, and a replayer stores them in arrival order as soon as the database answers.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ReportSink } from '../intake/report-sink.js';
import type { Journal, JournalEntry } from './journal.js';
import type { ReportBatcher } from './report-batcher.js';
import { BatcherClosedError, QueueFullError, isDataError } from './report-batcher.js';
import type { ReportToStore } from './write-reports.js';
import { errorSummary } from '../lib/error-summary.js';
import { refusedWritesLine } from './server-writes.js';

export interface DurableSinkOptions {
  readonly batcher: ReportBatcher;
  /** Stores replayed requests: one slot, so its batches commit in the journal's order. */
  readonly replayBatcher: ReportBatcher;
  readonly journal: Journal;
  readonly logger: FastifyBaseLogger;
  /** Wait between attempts to replay while the database is away. */
  readonly retryMs: number;
  /** How often a line reports the journal's depth while it holds reports. */
  readonly depthLogMs: number;
}

export type StoringTo = 'database' | 'journal';

export interface DurableSink extends ReportSink {
  readonly storingTo: () => StoringTo;
  readonly journalReports: () => number;
  /** Starts replaying what an earlier run left in the journal. */
  readonly start: () => void;
  /** Starts no replay from now on, and ends one under way after its chunk: the receiver is stopping. */
  readonly stopReplaying: () => void;
  /** Settles every request taken, stops replaying, and closes the journal. */
  readonly close: () => Promise<void>;
}

/** About a thousand reports' worth of journal per replay step. */
const REPLAY_CHUNK_BYTES = 1 << 20;

export function durableSink(options: DurableSinkOptions): DurableSink {
  const { batcher, replayBatcher, journal, logger } = options;
  /** Requests taken and not settled yet; close() waits for none to be left. */
  let taken = 0;
  let allSettled: (() => void) | null = null;
  let closed = false;
  let closing: Promise<void> | null = null;
  let replaying: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  let depthTimer: NodeJS.Timeout | null = null;
  let lastProblem: string | null = null;
  /**
   * Set when the receiver begins to stop: no replay starts, and one under way ends after its chunk.
   * What the journal holds is left to the next start; a replay that went on would hold the stop up
   * for as long as the database takes to fail it (a hung server: WRITE_TIMEOUT_MS a batch).
   */
  let stopping = false;

  const toJournal = async (items: readonly ReportToStore[]): Promise<void> => {
    await journal.append(items);
    startReplay();
  };

  const storeDirectly = async (items: readonly ReportToStore[]): Promise<void> => {
    try {
      await batcher.store(items);
    } catch (error) {
      if (isDataError(error) || error instanceof QueueFullError || error instanceof BatcherClosedError) throw error;
      noteJournalStart(error);
      await toJournal(items);
    }
  };

  const storeTaken = async (items: readonly ReportToStore[]): Promise<void> => {
    taken += 1;
    try {
      await (journal.holdsUnreplayed() ? toJournal(items) : storeDirectly(items));
    } finally {
      taken -= 1;
      if (taken === 0) allSettled?.();
    }
  };

  const noteJournalStart = (error: unknown) => {
    if (depthTimer !== null) return;
    logger.warn(
      { err: errorSummary(error) },
      refusedWritesLine(error) ?? 'the database is not taking reports: keeping them in the local journal until it does',
    );
    depthTimer = setInterval(() => {
      if (replaying === null && !journal.holdsUnreplayed()) {
        // The journal took nothing (it failed too, on a full disk): nothing waits, and the next
        // report goes to the database first again.
        endJournalMode({}, 'the local journal holds no reports: storing reports directly again');
        return;
      }
      logger.info(
        { journalReports: journal.unreplayedReports(), journalBytes: journal.unreplayedBytes(), lastProblem },
        'reports waiting in the local journal',
      );
    }, options.depthLogMs);
    depthTimer.unref();
  };

  const startReplay = () => {
    if (replaying !== null || stopping) return;
    replaying = replayAll().finally(() => {
      replaying = null;
    });
  };

  const replayAll = async (): Promise<void> => {
    let stored = 0;
    while (!stopping) {
      if (!journal.holdsUnreplayed()) {
        if (await journal.clearIfReplayed()) break;
        continue;
      }
      const chunk = await journal.readNext(REPLAY_CHUNK_BYTES);
      if (chunk.entries.length === 0) {
        // Only appends still being written: wait for them.
        await journal.settled();
        continue;
      }
      const outcome = await replayChunk(chunk.entries);
      if (outcome.ok) {
        await journal.markReplayed(chunk.end, outcome.reports);
        stored += outcome.reports;
        lastProblem = null;
      } else {
        lastProblem = outcome.problem;
        await pause(options.retryMs);
      }
    }
    if (stopping) return;
    endJournalMode({ replayedReports: stored }, 'the local journal is stored in the database: storing reports directly again');
  };

  const endJournalMode = (fields: Record<string, number>, message: string) => {
    if (depthTimer === null) return;
    clearInterval(depthTimer);
    depthTimer = null;
    logger.info(fields, message);
  };

  /** Stores a chunk's requests; a request the database refuses is set aside, anything else stops the chunk. */
  const replayChunk = async (entries: readonly JournalEntry[]): Promise<{ ok: true; reports: number } | { ok: false; problem: string }> => {
    const results = await Promise.allSettled(entries.map((entry) => (entry.items === null ? Promise.resolve() : replayBatcher.store(entry.items))));
    const unavailable = results.find((result) => result.status === 'rejected' && !isDataError(result.reason));
    if (unavailable !== undefined && unavailable.status === 'rejected') return { ok: false, problem: errorSummary(unavailable.reason).message };
    let reports = 0;
    for (const [index, entry] of entries.entries()) {
      reports += entry.items?.length ?? 0;
      const result = results[index];
      const reason = entry.problem ?? (result?.status === 'rejected' ? errorSummary(result.reason).message : null);
      if (reason === null) continue;
      logger.error({ reason }, 'a journaled request could not be stored: set aside in set-aside.jsonl of the journal folder');
      await journal.setAside(entry.line, reason);
    }
    return { ok: true, reports };
  };

  const stopReplaying = () => {
    stopping = true;
    wake?.();
  };

  const closeOnce = async (): Promise<void> => {
    stopReplaying();
    if (taken > 0) {
      await new Promise<void>((resolve) => {
        allSettled = resolve;
      });
    }
    closed = true;
    await replaying;
    if (depthTimer !== null) clearInterval(depthTimer);
    await Promise.all([batcher.close(), replayBatcher.close()]);
    await journal.close();
  };

  /** Waits `ms`, or less once the receiver stops (at once if it has). */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  return {
    store: (items) => (closed ? Promise.reject(new BatcherClosedError()) : storeTaken(items)),
    storingTo: () => (journal.holdsUnreplayed() ? 'journal' : 'database'),
    journalReports: () => journal.unreplayedReports(),
    start: () => {
      if (!journal.holdsUnreplayed()) return;
      noteJournalStart(new Error('reports left in the journal by an earlier run'));
      startReplay();
    },
    stopReplaying,
    // Every caller waits for the one closing: a second caller must not take the first one's wake-up.
    close: () => (closing ??= closeOnce()),
  };
}
