/**
 * A deadline for work on one pooled connection to a PostgreSQL server. Past it the work is given
 * up on: its session is cancelled at the server and the connection dropped. Dropping the connection
 * alone is not enough: a session waiting for a lock, or in a commit waiting for a synchronous
 * standby, does not notice, and keeps its place among the server's connections.
 */
import type pg from 'pg';
import { withinTime } from '../lib/within-time.js';
import type { WithNoSessionHeld } from './session-limit.js';
import { connectUnderSessionLimit } from './session-limit.js';

export interface SessionDeadline {
  readonly timeoutMs: number;
  /** Asks the server to stop what the connection's session is doing. */
  readonly cancel: (client: pg.PoolClient) => void;
}

/** What work settled with; work given to `beforeDeadline` settles with this and never rejects. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown; readonly broken: boolean };

export const LATE = Symbol('past the deadline');

/**
 * The work's outcome, or LATE once the deadline has passed; the client has then been released
 * (dropped). Otherwise the caller releases it. The work never rejects, so that work given up on
 * fails unheard.
 */
export async function beforeDeadline<T>(client: pg.PoolClient, work: Promise<Outcome<T>>, deadline: SessionDeadline): Promise<Outcome<T> | typeof LATE> {
  const outcome = await withinTime(work, deadline.timeoutMs, LATE);
  if (outcome === LATE) {
    deadline.cancel(client);
    // Dropped, not handed to the next user: it is still inside the work.
    client.release(true);
  }
  return outcome;
}

/**
 * A connection of the pool, and what is left of the deadline for the work on it; LATE once the
 * deadline has passed waiting (with the network to the server silent, a new connection waits for
 * the pool's whole connect limit, and every connection may be taken; a server out of sessions for
 * the receiver is waited out, see session-limit.ts). A connection that comes late is handed back
 * whenever it comes.
 */
export async function connectWithin(
  pool: pg.Pool,
  deadline: SessionDeadline,
  withNoSessionHeld: WithNoSessionHeld = 'ask again',
): Promise<{ client: pg.PoolClient; remaining: SessionDeadline } | typeof LATE> {
  const startedAt = performance.now();
  const connecting = connectUnderSessionLimit(pool, startedAt + deadline.timeoutMs, withNoSessionHeld);
  const client = await withinTime(connecting, deadline.timeoutMs, LATE);
  if (client === LATE) {
    connecting.then((comeLate) => { comeLate.release(); }, () => undefined);
    return LATE;
  }
  const remainingMs = Math.max(1, deadline.timeoutMs - (performance.now() - startedAt));
  return { client, remaining: { ...deadline, timeoutMs: remainingMs } };
}

/**
 * Work on one connection of the pool, given up on once the deadline has passed since the wait for
 * the connection began (see connectWithin); work past it is cancelled and its connection dropped.
 * Either way `late()` is thrown. A connection whose work failed is dropped too, not handed on.
 */
export async function onSessionWithin<T>(pool: pg.Pool, deadline: SessionDeadline, work: (client: pg.PoolClient) => Promise<T>, late: () => Error): Promise<T> {
  const connected = await connectWithin(pool, deadline);
  if (connected === LATE) throw late();
  const { client, remaining } = connected;
  const settled = work(client).then(
    (value): Outcome<T> => ({ ok: true, value }),
    (error: unknown): Outcome<T> => ({ ok: false, error, broken: true }),
  );
  const outcome = await beforeDeadline(client, settled, remaining);
  if (outcome === LATE) throw late();
  client.release(!outcome.ok);
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}
