/**
 * A pool's connections kept within the sessions the server lets the receiver open. Past a role's or
 * a database's CONNECTION LIMIT, or `max_connections`, PostgreSQL refuses a new session (SQLSTATE
 * 53300), and the driver's pool fails whoever asked for it, although the sessions it holds come
 * free within milliseconds: lookups were answered 503 and readiness checks failed while the server
 * was answering, and reports went to the local journal. On such a refusal the pool's size becomes
 * the sessions it holds, so whoever asks waits for one of them; a pool that holds none asks the
 * server again after a pause, or gives up (see WithNoSessionHeld). The pool's own size comes back a
 * while later: the limit may have been raised, or other clients have gone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { errorCode } from '../lib/error-code.js';

/** SQLSTATE too_many_connections: for the role, for the database, or for the server. */
const TOO_MANY_CONNECTIONS = '53300';

/** The wait before a pool that holds no session asks the server for one again. */
export const SESSION_RETRY_PAUSE_MS = 100;

/** How long a pool stays at the size a refusal gave it. */
export const POOL_SIZE_BACK_AFTER_MS = 30_000;

/** The pools whose size a refusal lowered, with the size each had. */
const ownSizes = new WeakMap<pg.Pool, number>();

/**
 * What a refusal does when the pool holds no session to wait for: the query API asks the server
 * again (its alternative is a 503); the write path gives up at once, as its reports are safe in
 * the local journal, acknowledged without a wait.
 */
export type WithNoSessionHeld = 'ask again' | 'give up';

/**
 * A connection of the pool. A refusal for too many sessions is waited out until `untilMs` (on the
 * `performance.now()` clock), past which it is thrown; any other failure is thrown at once.
 */
export async function connectUnderSessionLimit(pool: pg.Pool, untilMs: number, withNoneHeld: WithNoSessionHeld): Promise<pg.PoolClient> {
  for (;;) {
    try {
      return await pool.connect();
    } catch (error) {
      if (errorCode(error) !== TOO_MANY_CONNECTIONS) throw error;
      // The refused connection has left the pool: what it counts are sessions it holds or is opening.
      const held = pool.totalCount;
      lowerPoolSize(pool, Math.max(1, held));
      if (held === 0 && withNoneHeld === 'give up') throw error;
      const pauseMs = held === 0 ? SESSION_RETRY_PAUSE_MS : 0;
      if (performance.now() + pauseMs >= untilMs) throw error;
      if (pauseMs > 0) await sleep(pauseMs);
    }
  }
}

/**
 * The driver's pool reads its size at each request for a connection, so a smaller one makes the
 * next request wait for a connection to come back rather than open another.
 */
function lowerPoolSize(pool: pg.Pool, size: number): void {
  const current = pool.options.max;
  if (size >= current) return;
  if (!ownSizes.has(pool)) {
    ownSizes.set(pool, current);
    setTimeout(() => { restorePoolSize(pool); }, POOL_SIZE_BACK_AFTER_MS).unref();
  }
  pool.options.max = size;
}

function restorePoolSize(pool: pg.Pool): void {
  const size = ownSizes.get(pool);
  ownSizes.delete(pool);
  if (size !== undefined) pool.options.max = size;
}
