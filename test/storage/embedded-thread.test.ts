/**
 * The embedded database runs in a thread of its own: while PostgreSQL works, the receiver goes on
 * answering; a thread that ends on its own is told of (the receiver then stops, to be restarted),
 * and meanwhile reads as an unavailable database, so that reports go to the journal.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { isDatabaseUnavailable } from '../../src/storage/database-unavailable.js';
import { EmbeddedDatabaseStoppedError, EmbeddedThread } from '../../src/storage/embedded-thread.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { createTestApp } from '../helpers/app.js';
import { sleep } from '../helpers/receiver-process.js';

describe('the embedded database in its own thread', () => {
  it('leaves the receiver answering while a statement holds the database', async () => {
    const database = openDatabase({ databaseUrl: null, dataDir: 'memory://' });
    await migrateToLatest(database.db);
    const app = await createTestApp(database);
    try {
      const settled: string[] = [];
      const statement = sql`SELECT pg_sleep(2)`.execute(database.db).then(() => { settled.push('statement'); });
      // In the receiver's own thread, PostgreSQL held the event loop: no timer, no request, no
      // connection accepted, until the statement was done.
      await sleep(200);
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      settled.push(`healthz ${String(health.statusCode)}`);
      await statement;
      expect(settled).toEqual(['healthz 200', 'statement']);
    } finally {
      await app.close();
      await database.close();
    }
  });

  it('is told of, once, when its thread ends on its own, and every call waiting or made after fails as an unavailable database', async () => {
    // A thread that opens, then ends as PostgreSQL's WebAssembly would if it could not go on.
    const ending = new URL(`data:text/javascript,${encodeURIComponent(
      "import { parentPort } from 'node:worker_threads'; parentPort.postMessage({ event: 'ready' }); parentPort.once('message', () => { process.exit(7); });",
    )}`);
    const stopped: Error[] = [];
    const thread = new EmbeddedThread({ dataDir: 'memory://', folder: null }, {
      onDiskFailure: () => { throw new Error('no disk here'); },
      onStopped: (error) => { stopped.push(error); },
    }, ending);
    await thread.waitReady;

    const waiting = await thread.query('SELECT 1').catch((error: unknown) => error);
    expect(waiting).toBeInstanceOf(EmbeddedDatabaseStoppedError);
    expect(isDatabaseUnavailable(waiting)).toBe(true);
    expect((waiting as Error).message).toBe('the embedded database stopped (its thread ended with exit code 7)');
    const after = await thread.exec('SELECT 1').catch((error: unknown) => error);
    expect(after).toBe(waiting);
    expect(stopped).toEqual([waiting]);
    // Closing a thread that ended has nothing left to do.
    await thread.close();
    expect(stopped).toHaveLength(1);
  });
});
