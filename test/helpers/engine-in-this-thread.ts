/**
 * PGlite opened in the test's own thread, as the receiver's embedded engine: for tests that watch
 * what PostgreSQL does there (its fsyncs), which the receiver's own database thread hides from them.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { EmbeddedEngine } from '../../src/storage/embedded-thread.js';

export function engineInThisThread(pglite: PGlite): EmbeddedEngine {
  return {
    waitReady: pglite.waitReady,
    exec: (script) => pglite.exec(script),
    query: <R>(text: string, parameters: readonly unknown[] = []) => pglite.query<R>(text, [...parameters]),
    transaction: (work) => pglite.transaction(work),
    scriptedTransaction: (first, then) =>
      pglite.transaction(async (statements) => {
        const { script, result } = then(await statements.exec(first));
        if (script !== null) await statements.exec(script);
        return result;
      }),
    close: () => pglite.close(),
  };
}
