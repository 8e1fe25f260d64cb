/**
 * Statements that run for every write batch are prepared once per connection, so that PostgreSQL
 * parses and analyses them once rather than per batch (and, after a few runs, plans them once too):
 * for the write path's large statements that work cost more than their execution. A statement asks
 * for it with the first line `-- prepared: NAME`; its text must then never change.
 *
 * Kysely's PostgreSQL dialect takes any pool of this shape; this one sits in front of pg's pool and
 * names the marked statements, which is how pg prepares a statement.
 */
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

const MARKER = /^-- prepared: ([a-z][a-z0-9-]*)\n/;

/** The line that asks for a statement to be prepared under `name`. */
export function preparedAs(name: string): string {
  return `-- prepared: ${name}\n`;
}

export function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    connect: async () => new PreparingClient(await pool.connect()),
    end: () => pool.end(),
  };
}

class PreparingClient implements PostgresPoolClient {
  constructor(private readonly client: pg.PoolClient) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(sqlOrCursor: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // The dialect is configured without a cursor class, so Kysely never streams.
    if (typeof sqlOrCursor !== 'string') throw new Error('streaming queries are not supported');
    const name = MARKER.exec(sqlOrCursor)?.[1];
    const values = [...parameters];
    const query = name === undefined ? { text: sqlOrCursor, values } : { name, text: sqlOrCursor, values };
    // pg types `command` as any string; Kysely reads it only to count affected rows.
    return this.client.query(query) as unknown as Promise<PostgresQueryResult<R>>;
  }

  release(): void {
    this.client.release();
  }
}
