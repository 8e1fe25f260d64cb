/**
 * Group commit. Requests waiting at one moment are stored together in one transaction, started as
 * soon as a write slot is free: no timer, so a lone request is written at once, and under load each
 * transaction carries many reports. Each request's promise settles only when its own reports are
 * committed, or fail.
 *
 * The first request of a quiet moment goes alone; the requests that come while its transaction
 * runs gather behind it, since the transaction gives the event loop back while it waits (on a
 * server, and on the embedded database in its own thread).
 *
 * A transaction beyond the first starts only once enough reports wait to fill it well: a
 * transaction has a fixed cost (its commit waits for the disk), and two small ones at once cost
 * the database more than one twice their size, while two large ones keep it busy on both of its
 * connections. When a batch commits, the next one is sent before the committed requests are
 * answered, so the database works while the answers go out.
 *
 * When a batch fails, a dropped connection is retried once on a fresh one, and a batch that a bad
 * report broke is split in halves until the bad request stands alone: the good reports of the batch
 * are committed, and only the request that cannot be stored is refused. A batch the database did
 * not finish in time is not retried: its requests have waited long enough. When the database could
 * not take a batch, the requests waiting behind it fail with it instead of trying it in turn.
 */
import { errorCode } from '../lib/error-code.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { WriteTimeoutError } from './write-transaction.js';
import type { ReportToStore } from './write-reports.js';

export interface BatcherOptions {
  readonly store: (items: readonly ReportToStore[]) => Promise<unknown>;
  /** Transactions under way at once; the rest wait and grow the next batch. */
  readonly slots: number;
  /** Reports waiting before a transaction starts beside one already under way. */
  readonly minReportsForExtraSlot: number;
  /** Reports in one transaction at the most. */
  readonly maxBatchReports: number;
  /** Reports waiting at the most; past this a request is refused at once rather than queued. */
  readonly maxQueuedReports: number;
}

export class QueueFullError extends Error {
  constructor(queued: number) {
    super(`${queued} reports are waiting to be stored; refusing more until the database catches up`);
    this.name = 'QueueFullError';
  }
}

export class BatcherClosedError extends Error {
  constructor() {
    super('the receiver is shutting down');
    this.name = 'BatcherClosedError';
  }
}

interface Waiting {
  readonly items: readonly ReportToStore[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface ReportBatcher {
  /** Resolves once the reports are committed (or were stored already). */
  readonly store: (items: readonly ReportToStore[]) => Promise<void>;
  /** Refuses new requests and resolves once every accepted one is settled. */
  readonly close: () => Promise<void>;
  readonly queuedReports: () => number;
}

export function reportBatcher(options: BatcherOptions): ReportBatcher {
  const queue: Waiting[] = [];
  let queued = 0;
  let running = 0;
  /** Committed batches whose requests are not answered yet. */
  let answering = 0;
  let closed = false;
  let idle: (() => void) | undefined;

  const pump = () => {
    while (running < options.slots && queue.length > 0 && (running === 0 || queued >= options.minReportsForExtraSlot)) {
      const batch = takeBatch();
      running += 1;
      void settle(batch, 1).then((answers) => {
        running -= 1;
        answering += 1;
        pump();
        // The next batch's statement is written (a few ticks after pump) before these answers go out.
        setImmediate(() => {
          answering -= 1;
          for (const answer of answers) answer();
          if (isIdle()) idle?.();
        });
      });
    }
  };

  const isIdle = () => running === 0 && answering === 0 && queue.length === 0;

  /** The longest run of waiting requests from the front that fits in one batch (at least one). */
  const takeBatch = (): Waiting[] => {
    let count = 0;
    let size = 0;
    for (const waiting of queue) {
      if (count > 0 && size + waiting.items.length > options.maxBatchReports) break;
      count += 1;
      size += waiting.items.length;
    }
    queued -= size;
    return queue.splice(0, count);
  };

  const takeAllWaiting = (): Waiting[] => {
    queued = 0;
    return queue.splice(0);
  };

  /** Stores the batch; returns how to answer each of its requests, without answering yet. */
  const settle = async (batch: readonly Waiting[], retries: number): Promise<Array<() => void>> => {
    try {
      await options.store(batch.flatMap((waiting) => waiting.items));
      return batch.map((waiting) => waiting.resolve);
    } catch (error) {
      if (!isDataError(error) && !(error instanceof WriteTimeoutError) && retries > 0) return settle(batch, retries - 1);
      // The requests queued behind a batch the database could not take would each meet the same
      // database, one batch at a time (a hung one takes its whole time): they fail with it, after it.
      const failing = isDatabaseUnavailable(error) ? [...batch, ...takeAllWaiting()] : batch;
      if (batch.length === 1 || !isDataError(error)) return failing.map((waiting) => () => { waiting.reject(error); });
      const half = Math.ceil(batch.length / 2);
      return [...(await settle(batch.slice(0, half), retries)), ...(await settle(batch.slice(half), retries))];
    }
  };

  return {
    store: (items) => {
      if (closed) return Promise.reject(new BatcherClosedError());
      if (queued + items.length > options.maxQueuedReports) return Promise.reject(new QueueFullError(queued));
      return new Promise<void>((resolve, reject) => {
        queue.push({ items, resolve, reject });
        queued += items.length;
        pump();
      });
    },
    close: async () => {
      closed = true;
      if (isIdle()) return;
      await new Promise<void>((resolve) => {
        idle = resolve;
      });
    },
    queuedReports: () => queued,
  };
}

/**
 * An error the data caused (SQLSTATE classes 22 data exception, 23 integrity, 54 a limit the data
 * exceeded, P0 raised by a trigger, and 42601, a syntax error, since the write statements carry
 * the reports as literals): the same reports would fail again, so the batch is split. Anything else
 * is about the database: a dropped connection, a timeout, a shutdown, and the rest of class 42 (a
 * table or column that is not there, a privilege not granted), where the schema no longer fits the
 * statements and the same reports are stored once it does.
 */
export function isDataError(error: unknown): boolean {
  const code = errorCode(error) ?? '';
  return /^(22|23|54|P0)/.test(code) || code === '42601';
}
