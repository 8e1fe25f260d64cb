/**
 * The embedded database runs in a thread of its own: while PostgreSQL works, the receiver goes on
 * answering; a thread that ends on its own is told of (the receiver then stops, to be restarted),
 * and meanwhile reads as an unavailable database, so that reports go to the journal.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

  describe('a transaction of two scripts', () => {
    let thread: EmbeddedThread;
    beforeAll(async () => {
      thread = new EmbeddedThread({ dataDir: 'memory://', folder: null }, { onDiskFailure: () => { throw new Error('no disk here'); } });
      await thread.waitReady;
      await thread.exec('CREATE TABLE parts (id text PRIMARY KEY, state text NOT NULL)');
    });
    afterAll(() => thread.close());
    beforeEach(() => thread.exec('TRUNCATE parts'));

    const storedParts = async () =>
      (await thread.query<{ id: string; state: string }>('SELECT id, state FROM parts ORDER BY id')).rows;

    it('hands the first script\'s rows to the second step and commits what both wrote', async () => {
      const written = await thread.scriptedTransaction(
        "INSERT INTO parts VALUES ('a$0', 'queued'); SELECT id FROM parts",
        (results) => {
          const ids = (results.at(-1)?.rows ?? []).map((row) => String(row.id));
          return { script: `UPDATE parts SET state = 'delivered' WHERE id IN (${ids.map((id) => `'${id}'`).join(', ')})`, result: ids };
        },
      );
      expect(written).toEqual(['a$0']);
      expect(await storedParts()).toEqual([{ id: 'a$0', state: 'delivered' }]);
    });

    it('keeps nothing of the first script when the second fails, passes on its SQLSTATE, and goes on taking calls', async () => {
      const failed = await thread
        .scriptedTransaction("INSERT INTO parts VALUES ('b$0', 'queued')", () => ({ script: "INSERT INTO parts VALUES ('b$0', 'again')", result: null }))
        .catch((error: unknown) => error);
      expect(failed).toMatchObject({ code: '23505' });
      expect(await storedParts()).toEqual([]);
      await thread.scriptedTransaction("INSERT INTO parts VALUES ('b$1', 'queued')", () => ({ script: null, result: null }));
      expect(await storedParts()).toEqual([{ id: 'b$1', state: 'queued' }]);
    });

    it('keeps nothing when the second step cannot be made, and passes its error on', async () => {
      const unplanned = new Error('no plan for these rows');
      const failed = await thread
        .scriptedTransaction("INSERT INTO parts VALUES ('c$0', 'queued')", () => { throw unplanned; })
        .catch((error: unknown) => error);
      expect(failed).toBe(unplanned);
      expect(await storedParts()).toEqual([]);
    });

    it('keeps a call made while it is open out until it has ended, so the call never sees what it rolled back', async () => {
      const transaction = thread
        .scriptedTransaction("INSERT INTO parts VALUES ('d$0', 'queued')", () => ({ script: 'SELECT 1/0', result: null }))
        .catch((error: unknown) => error);
      // Sent while the transaction holds the database, between its two scripts.
      const seenMeanwhile = storedParts();
      expect(await transaction).toMatchObject({ code: '22012' });
      expect(await seenMeanwhile).toEqual([]);
    });
  });
});
