/**
 * The reads the query API makes on every request, each parsed and planned once rather than on every
 * request: on a server once per connection, on the embedded database once for its one session.
 * A read whose statement has gone stale goes once more unprepared, and is prepared again next time.
 */
import { hash } from 'node:crypto';
import type { CompiledQuery } from 'kysely';
import type pg from 'pg';
import { errorCode } from '../lib/error-code.js';
import { forget, runOnce } from '../lib/run-once.js';
import type { SessionDeadline } from './session-deadline.js';
import { onSessionWithin } from './session-deadline.js';
import { DUPLICATE_PREPARED_STATEMENT, MISSING_PREPARED_STATEMENT, sqlLiteral } from './write-transaction.js';
import type { EmbeddedSession } from './embedded-thread.js';

export type ReadRows = <R>(query: CompiledQuery<R>) => Promise<R[]>;

/**
 * A prepared read its session can no longer run: the statement is gone (a pooler's reset, DISCARD
 * ALL, the embedded write path's DEALLOCATE ALL), or a migration run by another receiver changed the
 * columns it answers with, which PostgreSQL refuses as "cached plan must not change result type" for
 * as long as the session keeps the statement. Or the session has one of that name already, made by
 * another connection of the receiver: a pooler in transaction mode hands one server session to
 * several connections, and every such read was answered 500.
 */
const STALE_STATEMENT_CODES: ReadonlySet<string> = new Set([MISSING_PREPARED_STATEMENT, '0A000', DUPLICATE_PREPARED_STATEMENT]);

function isStale(error: unknown): boolean {
  return STALE_STATEMENT_CODES.has(errorCode(error) ?? '');
}

/** A read's statement name, from its SQL: the same read has the same name on every connection. */
export function statementName(text: string): string {
  return `dlr_read_${hash('sha256', text).slice(0, 24)}`;
}

/**
 * A read the server did not answer within its time: a lock it waits for (a `VACUUM FULL`, an
 * `ALTER TABLE`), a server that stopped answering without closing the connection. Left waiting,
 * ten such reads held every connection of the query API, and its health check with them.
 */
export class ReadTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the database did not answer a read within ${timeoutMs} ms`);
    this.name = 'ReadTimeoutError';
  }
}

/**
 * Reads as named statements of the driver: each connection parses and plans a read once, not on
 * every request. For a lookup by id that was most of PostgreSQL's work.
 */
export function serverPreparedReads(pool: pg.Pool, deadline: SessionDeadline): ReadRows {
  const names = new Map<string, string>();
  return async <R>(query: CompiledQuery<R>) => {
    let name = names.get(query.sql);
    if (name === undefined) {
      name = statementName(query.sql);
      names.set(query.sql, name);
    }
    const values = [...query.parameters];
    try {
      return await readWithin<R>(pool, { name, text: query.sql, values }, deadline);
    } catch (error) {
      if (!isStale(error)) throw error;
      // The failed query closed its connection; the others may hold the same stale statement, and
      // each is closed the same way when it next fails. This read goes once more unprepared, which
      // any connection can plan afresh.
      return readWithin<R>(pool, { text: query.sql, values }, deadline);
    }
  };
}

/** One read on a connection of its own, within the deadline (see onSessionWithin). */
function readWithin<R>(pool: pg.Pool, config: pg.QueryConfig, deadline: SessionDeadline): Promise<R[]> {
  return onSessionWithin(pool, deadline, async (client) => (await client.query(config)).rows as R[], () => new ReadTimeoutError(deadline.timeoutMs));
}

/**
 * Reads PREPAREd once and EXECUTEd with their values as literals, as the embedded write path does:
 * PGlite parses and plans a statement sent with parameters on every call, which was nearly half a
 * lookup by id (430 µs against 230 prepared, with 10 million reports; see BENCHMARKS.md).
 *
 * The write path's setup deallocates every statement when it runs (at the first write, and after a
 * write found its own statements gone); a read that finds its statement gone then goes unprepared
 * and is prepared again, under a new name, the next time. A new name each time, because a statement
 * refused for its changed columns is still there.
 */
export function embeddedPreparedReads(pglite: EmbeddedSession): ReadRows {
  const prepared = new Map<string, Promise<string>>();
  let preparedCount = 0;
  const statementFor = (text: string): Promise<string> =>
    runOnce(prepared, text, () => {
      const name = `${statementName(text)}_${preparedCount++}`;
      return pglite.exec(`PREPARE ${name} AS ${text}`).then(() => name);
    });
  return async <R>(query: CompiledQuery<R>) => {
    const literals = query.parameters.map(readLiteral);
    const statement = statementFor(query.sql);
    try {
      const name = await statement;
      const results = await pglite.exec(`EXECUTE ${name}${literals.length === 0 ? '' : `(${literals.join(', ')})`}`);
      return (results.at(-1)?.rows ?? []) as R[];
    } catch (error) {
      if (!isStale(error)) throw error;
      forget(prepared, query.sql, statement);
      return (await pglite.query<R>(query.sql, [...query.parameters])).rows;
    }
  };
}

/**
 * A read's value as an SQL literal for EXECUTE, where PostgreSQL casts it to the type the statement
 * gave its place (a `limit` to bigint, a time to timestamptz). A time goes as its instant in UTC.
 */
export function readLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return sqlLiteral(value.toISOString());
  if (typeof value === 'number' && Number.isFinite(value)) return sqlLiteral(String(value));
  if (typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new TypeError(`a read's value of type ${typeof value} has no SQL literal`);
  // A statement's text ends at a NUL; PostgreSQL's text cannot hold one anyway.
  if (value.includes('\0')) throw new RangeError("a read's value contains a NUL character, which no stored text has");
  return sqlLiteral(value);
}
