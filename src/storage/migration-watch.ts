/**
 * What the receiver's start and `npm run migrate` do while migrations run on a server: say what
 * holds them up once they run long, and on a stop signal cancel them. Held up by a lock another
 * session holds, or by a synchronous standby that does not confirm, they waited without a word;
 * a process that then exited left its session waiting at the server, in the lock's queue, where
 * it kept every later taker of the lock (the receivers' writes among them) waiting behind it.
 */
import type { Database } from './database.js';
import { describeWait } from './session-waits.js';

/** A report of migrations held up: how long they have run, and each busy session's wait in words. */
export interface HeldUpMigrations {
  readonly seconds: number;
  readonly sessions: readonly { readonly pid: number; readonly seconds: number; readonly doing: string }[];
}

export interface MigrationWatchOptions {
  readonly database: Pick<Database, 'readSessionWaits'>;
  readonly onHeldUp: (heldUp: HeldUpMigrations) => void;
  /** The first report, after the migrations have run this long. */
  readonly firstAfterMs: number;
  /** The reports after it. */
  readonly everyMs: number;
}

/** Starts watching; the function returned stops it. */
export function watchMigrations(options: MigrationWatchOptions): () => void {
  // The monotonic clock: a wall clock set back meanwhile would shorten the wait told.
  const startedAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tell = async () => {
    // None busy, or no answer: the database is away between attempts, which has its own line.
    const waits = await options.database.readSessionWaits().catch(() => []);
    if (stopped) return;
    if (waits.length > 0) {
      options.onHeldUp({
        seconds: Math.round((performance.now() - startedAt) / 1000),
        sessions: waits.map((wait) => ({ pid: wait.pid, seconds: wait.seconds, doing: describeWait(wait) })),
      });
    }
    timer = setTimeout(() => void tell(), options.everyMs);
  };
  timer = setTimeout(() => void tell(), options.firstAfterMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** How often the cancel is repeated once a stop signal came. */
const CANCEL_AGAIN_MS = 200;

/**
 * Once `stop` aborts, cancels what the read pool's sessions (the migrations') run at the server, and
 * again every 200 ms: a commit cancelled in its wait for a standby ends committed, and the next
 * statement waits in turn. The function returned ends it, once the migrations have ended.
 */
export function cancelMigrationsOnStop(database: Pick<Database, 'cancelReads'>, stop: AbortSignal): () => void {
  let cancelling: NodeJS.Timeout | undefined;
  const cancel = () => {
    database.cancelReads();
    cancelling = setInterval(() => { database.cancelReads(); }, CANCEL_AGAIN_MS);
  };
  stop.addEventListener('abort', cancel, { once: true });
  return () => {
    stop.removeEventListener('abort', cancel);
    clearInterval(cancelling);
  };
}

/** When a report says what holds the migrations up, and how often after. */
const FIRST_REPORT_MS = 10_000;
const REPORT_EVERY_MS = 30_000;

/** Both of the above around `migrations`, with the times a start and `npm run migrate` use. */
export async function whileMigrating<T>(
  database: Pick<Database, 'readSessionWaits' | 'cancelReads'>,
  options: { readonly stop: AbortSignal; readonly onHeldUp: (heldUp: HeldUpMigrations) => void },
  migrations: () => Promise<T>,
): Promise<T> {
  const stopCancelling = cancelMigrationsOnStop(database, options.stop);
  const stopWatching = watchMigrations({ database, onHeldUp: options.onHeldUp, firstAfterMs: FIRST_REPORT_MS, everyMs: REPORT_EVERY_MS });
  try {
    return await migrations();
  } finally {
    stopWatching();
    stopCancelling();
  }
}

/** A report as one line of text, for a command's stderr. */
export function heldUpLine(heldUp: HeldUpMigrations): string {
  const sessions = heldUp.sessions.map((session) => `session ${String(session.pid)} ${session.doing}`);
  return `the migrations have not finished after ${String(heldUp.seconds)} s: ${sessions.join('; ')}`;
}
