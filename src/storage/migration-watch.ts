/**
 * Says, while the migrations at start run long, what the database holds them up with. Held up by
 * a lock another session holds, or by a synchronous standby that does not confirm, they waited
 * without a word, `/readyz` saying `starting` for as long.
 */
import type { Logger } from 'pino';
import type { Database } from './database.js';
import { describeWait } from './session-waits.js';

export interface MigrationWatchOptions {
  readonly database: Pick<Database, 'readSessionWaits'>;
  readonly logger: Logger;
  /** The first line, after the migrations have run this long. */
  readonly firstAfterMs: number;
  /** The lines after it. */
  readonly everyMs: number;
}

/** Starts watching; the function returned stops it. */
export function watchMigrations(options: MigrationWatchOptions): () => void {
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tell = async () => {
    // None busy, or no answer: the database is away between attempts, which has its own line.
    const waits = await options.database.readSessionWaits().catch(() => []);
    if (stopped) return;
    if (waits.length > 0) {
      options.logger.warn(
        {
          seconds: Math.round((Date.now() - startedAt) / 1000),
          sessions: waits.map((wait) => ({ pid: wait.pid, seconds: wait.seconds, doing: describeWait(wait) })),
        },
        'the migrations have not finished: taking no reports until they do',
      );
    }
    timer = setTimeout(() => void tell(), options.everyMs);
  };
  timer = setTimeout(() => void tell(), options.firstAfterMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
