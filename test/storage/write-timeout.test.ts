/**
 * A PostgreSQL server that takes a write and does not finish it: here, a lock the write waits for,
 * held by another session. The write is given up once its time is up, its session on the server is
 * cancelled rather than left waiting, and the receiver keeps the report in its journal and answers
 * 200, storing it once the database finishes writes again.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportBatcher } from '../../src/storage/report-batcher.js';
import { LOCK_SEED, storeReports } from '../../src/storage/write-reports.js';
import { WriteTimeoutError } from '../../src/storage/write-transaction.js';
import { createTestApp, deliveredReport, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase, serverUrl } from '../helpers/database.js';
import { waitFor } from '../helpers/receiver-process.js';
import { reportToStore } from '../helpers/reports.js';

let testDb: TestDatabase;
let holder: pg.Client;

beforeAll(async () => {
  if (serverUrl === null) return;
  testDb = await createTestDatabase();
  holder = new pg.Client({ connectionString: serverUrl });
  await holder.connect();
});
afterAll(async () => {
  if (serverUrl === null) return;
  await holder.end();
  await testDb.drop();
});

/** Holds the write path's lock on a message, as a session of someone else's would hold a lock the write needs. */
async function holdMessage(messageId: string): Promise<() => Promise<void>> {
  await holder.query('SELECT pg_advisory_lock(hashtextextended($1, $2))', [messageId, LOCK_SEED]);
  return async () => {
    await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, $2))', [messageId, LOCK_SEED]);
  };
}

/** Sessions on the server waiting for an advisory lock: writes left queued behind the held one. */
async function writesWaiting(): Promise<number> {
  const { rows } = await holder.query<{ waiting: string }>("SELECT count(*) AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
  return Number(rows[0]?.waiting);
}

async function storedReports(messageId: string): Promise<number> {
  const { rows } = await sql<{ count: string }>`SELECT count(*) AS count FROM reports WHERE message_id = ${messageId}`.execute(testDb.database.db);
  return Number(rows[0]?.count);
}

/** The answer, or a failure naming the wait, so that a request left hanging fails the test rather than its time limit. */
async function within<T>(ms: number, what: string, answer: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { reject(new Error(`no answer to ${what} within ${ms} ms`)); }, ms);
  });
  try {
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe.runIf(serverUrl !== null)('a write the database does not finish in time', () => {
  it('fails once its time is up, and its session is cancelled instead of waiting on at the server', async () => {
    const database = testDb.openAnother({ writeTimeoutMs: 300 });
    const release = await holdMessage('late-store');
    try {
      const started = Date.now();
      const failure = await within(5_000, 'the write', storeReports(database.writeTransaction, [reportToStore('late-store$0')]).then(() => null, (error: unknown) => error));
      expect(failure).toBeInstanceOf(WriteTimeoutError);
      expect(failure).toMatchObject({ message: 'the database did not finish a write within 300 ms' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      // Without the cancel the session waits for the lock as long as it is held.
      await waitFor('the waiting session to be cancelled', async () => (await writesWaiting()) === 0, 3_000);
    } finally {
      await release();
    }
    // Nothing was half done: the same report is stored once when written again.
    expect(await storedReports('late-store')).toBe(0);
    await storeReports(database.writeTransaction, [reportToStore('late-store$0')]);
    expect(await storedReports('late-store')).toBe(1);
  });

  it('fails the requests waiting behind it with it, instead of sending each to the database in turn', async () => {
    const database = testDb.openAnother({ writeTimeoutMs: 300 });
    const batches: number[] = [];
    const batcher = reportBatcher({
      store: (items) => {
        batches.push(items.length);
        return storeReports(database.writeTransaction, items);
      },
      slots: 1,
      minReportsForExtraSlot: 1,
      // One request per batch: each waiting request would be a batch of its own.
      maxBatchReports: 1,
      maxQueuedReports: 100,
    });
    const release = await holdMessage('late-queue-0');
    try {
      const ids = Array.from({ length: 10 }, (_, index) => `late-queue-${index}$0`);
      const results = await within(5_000, 'the requests', Promise.allSettled(ids.map((id) => batcher.store([reportToStore(id)]))));
      expect(results.map((result) => (result.status === 'rejected' ? (result.reason as Error).name : result.status))).toEqual(ids.map(() => 'WriteTimeoutError'));
      expect(batches).toEqual([1]);
    } finally {
      await release();
    }
    await batcher.close();
  });

  it('answers 200 from the journal, and stores the report once the database finishes writes again', async () => {
    const app = await createTestApp(testDb.openAnother({ writeTimeoutMs: 300 }), { JOURNAL_RETRY_MS: '50' });
    const release = await holdMessage('late-report');
    try {
      const answer = await within(5_000, 'the report', postJson(app, deliveredReport({ id: 'late-report', refId: 'late-order' })));
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toBe('OK');
      expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready', storingTo: 'journal', journalReports: 1 });
      expect((await app.inject({ method: 'GET', url: '/messages/late-report' })).statusCode).toBe(404);
      // The journal's attempts to store it wait and are cancelled in turn: none stays behind at the server.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await writesWaiting()).toBeLessThanOrEqual(1);
    } finally {
      await release();
    }
    await waitFor('the journal to be stored', async () => (await app.inject({ method: 'GET', url: '/readyz' })).json<{ storingTo: string }>().storingTo === 'database', 5_000);
    const message = await app.inject({ method: 'GET', url: '/messages/late-report' });
    expect(message.statusCode).toBe(200);
    expect(message.json()).toMatchObject({ messageId: 'late-report', refId: 'late-order', status: 'delivered', reports: [{ id: 'late-report' }] });
    await app.close();
  });
});
