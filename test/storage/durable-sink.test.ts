/**
 * The sink in front of the batcher: shutting down settles every request it took before closing,
 * leaves what it journaled meanwhile to the next start, and a journal that takes nothing does not
 * say reports wait in it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { durableSink } from '../../src/storage/durable-sink.js';
import { openJournal } from '../../src/storage/journal.js';
import { BatcherClosedError, reportBatcher } from '../../src/storage/report-batcher.js';
import { WriteTimeoutError } from '../../src/storage/write-transaction.js';
import { storeReports } from '../../src/storage/write-reports.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { reportToStore } from '../helpers/reports.js';
import { capturedLog } from '../helpers/captured-log.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.drop();
});

async function heldSink() {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const batcherOptions = { slots: 1, minReportsForExtraSlot: 1, maxBatchReports: 500, maxQueuedReports: 100 };
  const sink = durableSink({
    batcher: reportBatcher({
      ...batcherOptions,
      store: async (items) => {
        await gate;
        return storeReports(testDb.database.writeTransaction, items);
      },
    }),
    replayBatcher: reportBatcher({ ...batcherOptions, store: (items) => storeReports(testDb.database.writeTransaction, items) }),
    journal: await openJournal({ folder: join(mkdtempSync(join(tmpdir(), 'dlr-sink-')), 'journal'), maxBytes: 1 << 20 }),
    logger: pino({ level: 'silent' }),
    retryMs: 100,
    depthLogMs: 10_000,
  });
  return { sink, release };
}

describe('closing the sink', () => {
  it('waits until every request it took is stored, then refuses new ones', async () => {
    const { sink, release } = await heldSink();
    const taken = [sink.store([reportToStore('closing-0')]), sink.store([reportToStore('closing-1')])];
    let closed = false;
    const closing = sink.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false);
    release();
    await Promise.all(taken);
    await closing;
    expect(closed).toBe(true);
    const stored = await testDb.database.db.selectFrom('messages').select('message_id').where('message_id', 'like', 'closing-%').orderBy('message_id').execute();
    expect(stored.map((row) => row.message_id)).toEqual(['closing-0', 'closing-1']);
    await expect(sink.store([reportToStore('closing-2')])).rejects.toBeInstanceOf(BatcherClosedError);
  });

  it('settles every caller of close, not only the last one', async () => {
    const { sink, release } = await heldSink();
    const taken = sink.store([reportToStore('closing-twice')]);
    const closings = [sink.close(), sink.close()];
    release();
    await taken;
    const settled = await Promise.race([
      Promise.all(closings).then(() => 'both closed'),
      new Promise((resolve) => {
        setTimeout(() => {
          resolve('a caller of close still waits');
        }, 2_000);
      }),
    ]);
    expect(settled).toBe('both closed');
  });

  it('leaves a request journaled while it closes to the next start, rather than waiting to replay it', async () => {
    let fail: () => void = () => {};
    const failing = new Promise<void>((resolve) => {
      fail = resolve;
    });
    const replayed: number[] = [];
    const folder = join(mkdtempSync(join(tmpdir(), 'dlr-sink-')), 'journal');
    const batcherOptions = { slots: 1, minReportsForExtraSlot: 1, maxBatchReports: 500, maxQueuedReports: 100 };
    const sink = durableSink({
      // A server that takes writes and does not end them: each is given up on in time.
      batcher: reportBatcher({
        ...batcherOptions,
        store: async () => {
          await failing;
          throw new WriteTimeoutError(5_000);
        },
      }),
      replayBatcher: reportBatcher({
        ...batcherOptions,
        store: (items) => {
          replayed.push(items.length);
          return new Promise(() => {});
        },
      }),
      journal: await openJournal({ folder, maxBytes: 1 << 20 }),
      logger: pino({ level: 'silent' }),
      retryMs: 100,
      depthLogMs: 10_000,
    });
    const taken = sink.store([reportToStore('closing-journaled')]);
    const closing = sink.close();
    fail();
    await taken;
    const settled = await Promise.race([
      closing.then(() => 'closed'),
      new Promise((resolve) => {
        setTimeout(() => { resolve('still closing'); }, 2_000);
      }),
    ]);
    expect(settled).toBe('closed');
    expect(replayed).toEqual([]);
    const reopened = await openJournal({ folder, maxBytes: 1 << 20 });
    expect(reopened.unreplayedReports()).toBe(1);
    await reopened.close();
  });
});

describe('a journal that cannot be written while the database is away', () => {
  it('leaves the report refused, and does not go on saying that reports wait in the journal', async () => {
    // Nothing listens on port 1: a database that does not answer.
    const away = openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: '' });
    const journal = await openJournal({ folder: join(mkdtempSync(join(tmpdir(), 'dlr-sink-')), 'journal'), maxBytes: 1 << 20 });
    // Closed, its file takes no more writes, as a full disk takes none.
    await journal.close();
    const log = capturedLog();
    const batcherOptions = { slots: 1, minReportsForExtraSlot: 1, maxBatchReports: 500, maxQueuedReports: 100 };
    const sink = durableSink({
      batcher: reportBatcher({ ...batcherOptions, store: (items) => storeReports(away.writeTransaction, items) }),
      replayBatcher: reportBatcher({ ...batcherOptions, store: (items) => storeReports(away.writeTransaction, items) }),
      journal,
      logger: pino({ level: 'info' }, log.stream),
      retryMs: 100,
      depthLogMs: 50,
    });
    try {
      await expect(sink.store([reportToStore('nowhere-to-go')])).rejects.toThrow();
      expect(sink.storingTo()).toBe('database');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const messages = log.text()
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toEqual([
        'the database is not taking reports: keeping them in the local journal until it does',
        'the local journal holds no reports: storing reports directly again',
      ]);
    } finally {
      await sink.close();
      await away.close();
    }
  });
});
