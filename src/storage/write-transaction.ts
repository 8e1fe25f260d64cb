/**
 * A write transaction in one or two round trips. A transaction of one statement is sent as that
 * statement alone, with its values as parameters, under a name the connection parses once:
 * PostgreSQL runs it as its own transaction (it commits when the statement ends, or rolls back if it
 * fails). A transaction of several statements sends each step as a script, PostgreSQL's simple
 * query protocol: the first script opens the transaction and the second commits it. Sent one
 * statement at a time, as Kysely does, a batch took five round trips (begin, lock, insert, write,
 * commit), and the receiver spent more time on the round trips than on the reports. The simple
 * protocol takes no parameters: values travel inside the script, as literals made by `sqlLiteral`.
 *
 * A connection first runs the transaction's setup once (settings, and the statements it
 * PREPAREs), so that each batch EXECUTEs plans PostgreSQL keeps instead of parsing, analysing and
 * planning its statements again: that was most of PostgreSQL's work for a small batch.
 */
import type pg from 'pg';
import { errorCode } from '../lib/error-code.js';
import { forget, runOnce } from '../lib/run-once.js';
import type { Outcome, SessionDeadline } from './session-deadline.js';
import { beforeDeadline, connectWithin, LATE } from './session-deadline.js';
import type { EmbeddedSession, SecondScript } from './embedded-thread.js';

export type Row = Record<string, unknown>;

/** What a two-step transaction runs before its commit (null: nothing), and what it resolves with. */
export type SecondStep<T> = SecondScript<T>;

interface Setup {
  /**
   * Statements each connection runs once, outside any transaction, before its first transaction
   * with this setup: session settings, and PREPAREs, whose names must not be taken by anything else.
   */
  readonly setup: string;
}

export interface TwoSteps<T> extends Setup {
  readonly first: string;
  readonly then: (rows: Row[]) => SecondStep<T>;
}

export interface OneStatement<T> extends Setup {
  /** Runs and commits in the same round trip. `name` must be unique to `text`. */
  readonly statement: { readonly name: string; readonly text: string; readonly values: readonly string[] };
  readonly read: (rows: Row[]) => T;
}

export type TransactionSteps<T> = TwoSteps<T> | OneStatement<T>;

/**
 * Two steps: runs `first`, hands the rows of its last statement to `then`, runs the script `then`
 * returns and commits. One statement: runs it, committed, and hands its rows to `read`. Rolls back
 * on any error; resolves once the transaction is committed. When a connection has lost its
 * prepared statements (a pooler's reset, `DISCARD ALL`), the error (SQLSTATE 26000) is passed on
 * and the connection is closed: the next transaction gets a fresh one, which prepares them again.
 */
export type WriteTransaction = <T>(steps: TransactionSteps<T>) => Promise<T>;

/** SQLSTATE of EXECUTE naming a statement this connection does not have. */
export const MISSING_PREPARED_STATEMENT = '26000';
/** SQLSTATE of a statement prepared under a name the connection's session already has. */
export const DUPLICATE_PREPARED_STATEMENT = '42P05';

/**
 * A string as an SQL literal, whatever standard_conforming_strings is set to: quotes doubled, and
 * in an E'' literal with backslashes doubled when it holds one (the rule of pg's escapeLiteral,
 * whose character-by-character loop cost more than the rest of a batch's preparation).
 */
export function sqlLiteral(text: string): string {
  const quoted = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

/**
 * A server's write that did not end within its time: a lock it waits for, a commit waiting for a
 * synchronous standby that is gone, a server that stopped answering without closing the
 * connection. Its reports go to the journal; the write itself may still commit, and the journal's
 * copy is then stored once, as any report delivered twice.
 */
export class WriteTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the database did not finish a write within ${timeoutMs} ms`);
    this.name = 'WriteTimeoutError';
  }
}

export function serverWriteTransaction(pool: pg.Pool, deadline: SessionDeadline): WriteTransaction {
  const setUp = new WeakMap<pg.PoolClient, Set<string>>();
  return async (steps) => {
    // The deadline counts the wait for a connection: with the network silent, a new one would wait
    // the driver's connect limit, and the batch, failed so, would be tried once more, as long again.
    // A server out of sessions for the receiver, with none held to wait for, sends the batch to the
    // journal at once.
    const connected = await connectWithin(pool, deadline, 'give up');
    if (connected === LATE) throw new WriteTimeoutError(deadline.timeoutMs);
    const { client, remaining } = connected;
    const outcome = await beforeDeadline(client, transact(client, steps, setUp), remaining);
    if (outcome === LATE) throw new WriteTimeoutError(deadline.timeoutMs);
    client.release(!outcome.ok && outcome.broken);
    if (outcome.ok) return outcome.value;
    throw outcome.error;
  };
}

/** Runs the steps on the connection; settles with what happened and never rejects, so a write given up on fails unheard. */
async function transact<T>(client: pg.PoolClient, steps: TransactionSteps<T>, setUp: WeakMap<pg.PoolClient, Set<string>>): Promise<Outcome<T>> {
  try {
    const done = setUp.get(client) ?? new Set<string>();
    if (!done.has(steps.setup)) {
      await run(client, steps.setup);
      done.add(steps.setup);
      setUp.set(client, done);
    }
    if ('statement' in steps) {
      const { name, text, values } = steps.statement;
      return { ok: true, value: steps.read(lastRows(await run(client, { name, text, values: [...values] }))) };
    }
    const { script, result } = steps.then(lastRows(await run(client, `BEGIN;\n${steps.first}`)));
    await run(client, script === null ? 'COMMIT' : `${script};\nCOMMIT`);
    return { ok: true, value: result };
  } catch (error) {
    // The driver still counts a statement the server forgot as parsed, and its session may hold
    // one of the name it meant to make: only a fresh connection prepares everything again.
    let broken = isMissingStatement(error) || errorCode(error) === DUPLICATE_PREPARED_STATEMENT;
    // A failed statement leaves the transaction aborted, and ROLLBACK ends it (after a lone
    // statement it only warns that none is open); a connection that cannot even do that is
    // discarded rather than handed to the next batch.
    await run(client, 'ROLLBACK').catch(() => {
      broken = true;
    });
    return { ok: false, error, broken };
  }
}

/**
 * Runs a query through pg's callback form. Under load, with pg's promise form (`await
 * client.query`), each transaction's objects, the batch's values among them, outlived V8's young
 * collections in stretches of seconds and moved to its old generation, some 0.45 MB per young
 * collection, so resident memory climbed until the next full collection. With the callback form
 * none moves (see BENCHMARKS.md).
 */
function run(client: pg.PoolClient, query: string | pg.QueryConfig): Promise<unknown> {
  return new Promise((resolve, reject) => {
    client.query(query, (error: Error | null | undefined, result: unknown) => {
      // pg answers null for no error; anything else is a failure, whatever its type.
      if (error === null || error === undefined) resolve(result);
      else reject(error);
    });
  });
}

/**
 * PGlite runs its transactions one at a time and keeps Kysely's queries out until each ends. Two
 * steps are one transaction of two calls to the database's thread (`scriptedTransaction`). A lone
 * statement is PREPAREd once and EXECUTEd with its values as literals: PGlite would parse and plan a
 * statement sent with parameters on every batch, which more than halved its ingest rate. It runs
 * outside a transaction block, so it commits, or fails whole, by itself.
 */
export function embeddedWriteTransaction(pglite: EmbeddedSession): WriteTransaction {
  // PGlite is one session: each setup runs once for all its transactions, again if it failed.
  const setUp = new Map<string, Promise<unknown>>();
  // The lone statements PREPAREd after each run of a setup, which starts with DEALLOCATE ALL: a
  // setup that runs again starts a new set.
  const preparedAfter = new WeakMap<Promise<unknown>, Map<string, Promise<unknown>>>();
  const prepare = (ready: Promise<unknown>, name: string, text: string): Promise<unknown> => {
    const statements = preparedAfter.get(ready) ?? new Map<string, Promise<unknown>>();
    preparedAfter.set(ready, statements);
    return runOnce(statements, name, () => pglite.exec(`PREPARE ${name} AS ${text}`));
  };
  return async (steps) => {
    const { setup } = steps;
    const ready = runOnce(setUp, setup, () => pglite.exec(setup));
    await ready;
    try {
      if ('statement' in steps) {
        const { name, text, values } = steps.statement;
        await prepare(ready, name, text);
        // A lone statement commits by itself, as on a server: one call into PGlite where its
        // transaction() makes three (BEGIN, the statement, COMMIT).
        return steps.read(lastRows(await pglite.exec(`EXECUTE ${name}(${values.map(sqlLiteral).join(', ')})`)));
      }
      return await pglite.scriptedTransaction(steps.first, (results) => steps.then(lastRows(results)));
    } catch (error) {
      if (isMissingStatement(error)) forget(setUp, setup, ready);
      throw error;
    }
  };
}

function isMissingStatement(error: unknown): boolean {
  return errorCode(error) === MISSING_PREPARED_STATEMENT;
}

/** A script of several statements answers with one result per statement; the last one counts. */
function lastRows(results: unknown): Row[] {
  return rowsOf(Array.isArray(results) ? results.at(-1) : results);
}

function rowsOf(last: unknown): Row[] {
  if (typeof last === 'object' && last !== null && 'rows' in last && Array.isArray(last.rows)) return last.rows as Row[];
  return [];
}
