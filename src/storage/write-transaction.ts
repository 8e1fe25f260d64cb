/**
 * A write transaction in two round trips. Each step is a script of several statements sent at
 * once, PostgreSQL's simple query protocol: the first script opens the transaction, the second
 * commits it. Sent one statement at a time, as Kysely and prepared statements do, a batch took five
 * round trips (begin, lock, insert, write, commit), and the receiver spent more time on the round
 * trips than on the reports. The simple protocol takes no parameters: values travel inside the
 * script, as literals made by `sqlLiteral`.
 */
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

export type Row = Record<string, unknown>;

export interface SecondStep<T> {
  /** Statements to run before the commit; null commits at once. */
  readonly script: string | null;
  readonly result: T;
}

/**
 * Runs `first`, hands the rows of its last statement to `then`, runs the script `then` returns and
 * commits; rolls back on any error. Resolves with `then`'s result once the transaction is committed.
 */
export type WriteTransaction = <T>(first: string, then: (rows: Row[]) => SecondStep<T>) => Promise<T>;

/**
 * A string as an SQL literal, whatever standard_conforming_strings is set to: quotes doubled, and
 * in an E'' literal with backslashes doubled when it holds one (the rule of pg's escapeLiteral,
 * whose character-by-character loop cost more than the rest of a batch's preparation).
 */
export function sqlLiteral(text: string): string {
  const quoted = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

export function serverWriteTransaction(pool: pg.Pool): WriteTransaction {
  return async (first, then) => {
    const client = await pool.connect();
    let broken = false;
    try {
      const rows = lastRows(await client.query(`BEGIN;\n${first}`));
      const { script, result } = then(rows);
      await client.query(script === null ? 'COMMIT' : `${script};\nCOMMIT`);
      return result;
    } catch (error) {
      // A failed statement leaves the transaction aborted; a connection that cannot even roll
      // back is discarded rather than handed to the next batch.
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  };
}

/** PGlite runs its transactions one at a time and keeps Kysely's queries out until each ends. */
export function embeddedWriteTransaction(pglite: PGlite): WriteTransaction {
  return (first, then) =>
    pglite.transaction(async (tx) => {
      const { script, result } = then(lastRows(await tx.exec(first)));
      if (script !== null) await tx.exec(script);
      return result;
    });
}

/** A script of several statements answers with one result per statement; the last one counts. */
function lastRows(results: unknown): Row[] {
  const last: unknown = Array.isArray(results) ? results.at(-1) : results;
  if (typeof last === 'object' && last !== null && 'rows' in last && Array.isArray(last.rows)) return last.rows as Row[];
  return [];
}
