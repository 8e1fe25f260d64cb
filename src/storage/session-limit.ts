/**
 * The receiver's pools at a server kept within the sessions the server lets its user open. Past a
 * role's or a database's CONNECTION LIMIT, or `max_connections`, PostgreSQL refuses a new session
 * (SQLSTATE 53300), and the driver's pool fails whoever asked for it, although the sessions it holds
 * come free within milliseconds: lookups were answered 503 and readiness checks failed while the
 * server was answering, and reports went to the local journal. On such a refusal the pool's size
 * becomes the sessions it holds, so whoever asks waits for one of them. A pool that holds none has
 * the receiver's other pool give back a session it holds idle (the write pool keeps one for 10 s
 * after its last report, while lookups found none), then asks the server again after a pause, or
 * gives up (see WithNoSessionHeld). The pool's own size comes back a while later: the limit may have
 * been raised, or other clients have gone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { errorCode } from '../lib/error-code.js';

/** SQLSTATE too_many_connections: for the role, for the database, or for the server. */
const TOO_MANY_CONNECTIONS = '53300';

/** Whether the server refused a session for too many: the role's, the database's, or its own. */
export function refusedForTooManySessions(error: unknown): boolean {
  return errorCode(error) === TOO_MANY_CONNECTIONS;
}

/** The wait before a pool that holds no session asks the server for one again. */
export const SESSION_RETRY_PAUSE_MS = 100;

/** How long a pool stays at the size a refusal gave it. */
export const POOL_SIZE_BACK_AFTER_MS = 30_000;

/**
 * What a refusal does when the pool holds no session to wait for: the query API asks the server
 * again (its alternative is a 503); the write path gives up at once, as its reports are safe in
 * the local journal, acknowledged without a wait.
 */
export type WithNoSessionHeld = 'ask again' | 'give up';

interface SharedPool {
  /** Sessions open, busy or idle; not those still being opened, which may yet be refused. */
  held: number;
  readonly partners: readonly pg.Pool[];
  /** The pool's own size while a refusal has lowered it. */
  ownSize: number | null;
}

const shared = new WeakMap<pg.Pool, SharedPool>();

/**
 * Pools of the receiver at one server, under the same limits: each counts the sessions it holds,
 * and one refused with none may take a session another holds idle. Called before they connect.
 */
export function shareSessions(...pools: readonly pg.Pool[]): void {
  for (const pool of pools) {
    const state: SharedPool = { held: 0, partners: pools.filter((other) => other !== pool), ownSize: null };
    shared.set(pool, state);
    pool.on('connect', () => { state.held += 1; });
    pool.on('remove', () => { state.held -= 1; });
  }
}

/**
 * A connection of the pool. For a pool given to `shareSessions`, a refusal for too many sessions is
 * waited out until `untilMs` (on the `performance.now()` clock), past which it is thrown; any other
 * failure is thrown at once.
 */
export async function connectUnderSessionLimit(pool: pg.Pool, untilMs: number, withNoneHeld: WithNoSessionHeld): Promise<pg.PoolClient> {
  const state = shared.get(pool);
  if (state === undefined) return pool.connect();
  for (;;) {
    try {
      return await pool.connect();
    } catch (error) {
      if (!refusedForTooManySessions(error)) throw error;
      lowerPoolSize(pool, state, Math.max(1, state.held));
      if (state.held > 0) {
        // The next request waits for one of the pool's own sessions.
        if (performance.now() >= untilMs) throw error;
        continue;
      }
      giveBackOneIdle(state.partners);
      if (withNoneHeld === 'give up' || performance.now() + SESSION_RETRY_PAUSE_MS >= untilMs) throw error;
      await sleep(SESSION_RETRY_PAUSE_MS);
    }
  }
}

/**
 * The driver's pool reads its size at each request for a connection, so a smaller one makes the
 * next request wait for a connection to come back rather than open another.
 */
function lowerPoolSize(pool: pg.Pool, state: SharedPool, size: number): void {
  if (size >= pool.options.max) return;
  if (state.ownSize === null) {
    state.ownSize = pool.options.max;
    setTimeout(() => { restorePoolSize(pool, state); }, POOL_SIZE_BACK_AFTER_MS).unref();
  }
  pool.options.max = size;
}

function restorePoolSize(pool: pg.Pool, state: SharedPool): void {
  if (state.ownSize !== null) pool.options.max = state.ownSize;
  state.ownSize = null;
}

/** Ends one idle session of the first of the pools that holds one, so that the server has it to give again. */
function giveBackOneIdle(pools: readonly pg.Pool[]): void {
  const holder = pools.find((pool) => pool.idleCount > 0);
  // An idle connection is handed out at once, not opened; dropped, its session ends at the server.
  holder?.connect().then((client) => { client.release(true); }, () => undefined);
}
