import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportBatcher } from '../../src/storage/report-batcher.js';
import { QueueFullError, reportBatcher } from '../../src/storage/report-batcher.js';
import { storeReports } from '../../src/storage/write-reports.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase, serverUrl } from '../helpers/database.js';
import { reportToStore } from '../helpers/reports.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
  // A real failure inside the database: the trigger refuses any report whose id starts with "poison".
  await sql`
    CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.report_id LIKE 'poison%' THEN RAISE EXCEPTION 'poisoned report %', NEW.report_id; END IF;
      RETURN NEW;
    END $$`.execute(testDb.database.db);
  await sql`CREATE TRIGGER refuse_poison BEFORE INSERT ON reports FOR EACH ROW EXECUTE FUNCTION refuse_poison()`.execute(
    testDb.database.db,
  );
});
afterAll(async () => {
  await testDb.drop();
});

const item = reportToStore;

async function storedIds(prefix: string): Promise<string[]> {
  const rows = await testDb.database.db.selectFrom('reports').select('report_id').where('report_id', 'like', `${prefix}%`).execute();
  return rows.map((row) => row.report_id).sort();
}

function batcherOn(database = testDb.database, slots = 1, calls: number[] = []): ReportBatcher {
  return reportBatcher({
    store: (items) => {
      calls.push(items.length);
      return storeReports(database.writeTransaction, items);
    },
    slots,
    minReportsForExtraSlot: 1,
    maxBatchReports: 500,
    maxQueuedReports: 10_000,
  });
}

/** A batcher whose transactions all wait until `release` is called; `calls` holds each one's size. */
function heldBatcher(options: { slots: number; minReportsForExtraSlot: number; maxQueuedReports: number }) {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const calls: number[] = [];
  const batcher = reportBatcher({
    ...options,
    store: async (items) => {
      calls.push(items.length);
      await gate;
      return storeReports(testDb.database.writeTransaction, items);
    },
    maxBatchReports: 500,
  });
  return { batcher, calls, release };
}

describe('group commit', () => {
  it('stores requests that wait together in few transactions, and settles each one', async () => {
    const calls: number[] = [];
    const batcher = batcherOn(testDb.database, 1, calls);
    const ids = Array.from({ length: 100 }, (_, index) => `group-${String(index).padStart(3, '0')}`);
    await Promise.all(ids.map((id) => batcher.store([item(id)])));
    expect(await storedIds('group-')).toEqual(ids);
    // The first request goes alone, and the other 99 wait for it and go together.
    expect(calls.length).toBeLessThanOrEqual(3);
    expect(calls.reduce((sum, size) => sum + size, 0)).toBe(100);
    await batcher.close();
  });

  it('stores requests read one after another in a turn of the event loop together, as the HTTP server reads them', async () => {
    const calls: number[] = [];
    const batcher = batcherOn(testDb.database, 1, calls);
    const ids = Array.from({ length: 50 }, (_, index) => `turn-${String(index).padStart(2, '0')}`);
    // Each request in a callback of its own, as the server reads each connection's: what one sets
    // going runs before the next callback. An embedded database in the receiver's own thread
    // committed the first request's transaction right there, and then each next request's alone.
    const arriving = ids.map(
      (id) =>
        new Promise<void>((resolve, reject) => {
          setImmediate(() => {
            batcher.store([item(id)]).then(resolve, reject);
          });
        }),
    );
    await Promise.all(arriving);
    expect(await storedIds('turn-')).toEqual(ids);
    expect(calls.length).toBeLessThanOrEqual(2);
    expect(calls.reduce((sum, size) => sum + size, 0)).toBe(50);
    await batcher.close();
  });

  it('commits the good reports of a batch a bad report broke, and refuses only the bad one', async () => {
    const batcher = batcherOn();
    const ids = Array.from({ length: 40 }, (_, index) => (index === 23 ? 'poison-23' : `mixed-${String(index).padStart(2, '0')}`));
    const results = await Promise.allSettled(ids.map((id) => batcher.store([item(id)])));
    const refused = ids.filter((_, index) => results[index]?.status === 'rejected');
    expect(refused).toEqual(['poison-23']);
    const reason: unknown = results[23]?.status === 'rejected' ? results[23].reason : undefined;
    expect(reason).toMatchObject({ message: expect.stringContaining('poisoned report poison-23') as unknown });
    expect(await storedIds('mixed-')).toEqual(ids.filter((id) => id !== 'poison-23').sort());
    expect(await storedIds('poison')).toEqual([]);
    await batcher.close();
  });

  it('refuses a request at once when the queue is full, instead of growing', async () => {
    const { batcher, release } = heldBatcher({ slots: 1, minReportsForExtraSlot: 1, maxQueuedReports: 3 });
    const first = batcher.store([item('queue-0')]); // taken into the (held) transaction
    const waiting = [1, 2, 3].map((index) => batcher.store([item(`queue-${index}`)]));
    await expect(batcher.store([item('queue-4')])).rejects.toBeInstanceOf(QueueFullError);
    release();
    await Promise.all([first, ...waiting]);
    expect(await storedIds('queue-')).toEqual(['queue-0', 'queue-1', 'queue-2', 'queue-3']);
    await batcher.close();
  });

  it('starts a second transaction beside the first only once enough reports wait to fill it', async () => {
    const { batcher, calls, release } = heldBatcher({ slots: 2, minReportsForExtraSlot: 5, maxQueuedReports: 100 });
    const first = batcher.store([item('extra-0')]); // a lone request is written at once
    const few = [1, 2, 3, 4].map((index) => batcher.store([item(`extra-${index}`)]));
    expect(calls).toEqual([1]); // four waiting: not enough for a second transaction
    const fifth = batcher.store([item('extra-5')]);
    expect(calls).toEqual([1, 5]);
    release();
    await Promise.all([first, ...few, fifth]);
    expect(await storedIds('extra-')).toEqual(['extra-0', 'extra-1', 'extra-2', 'extra-3', 'extra-4', 'extra-5']);
    await batcher.close();
  });

  it('closes only once every request it took is answered', async () => {
    const batcher = batcherOn(testDb.database, 2);
    const answered: string[] = [];
    const ids = Array.from({ length: 30 }, (_, index) => `closing-${String(index).padStart(2, '0')}`);
    const pending = ids.map((id) =>
      batcher.store([item(id)]).then(() => {
        answered.push(id);
      }),
    );
    await batcher.close();
    expect(answered.sort()).toEqual(ids);
    await Promise.all(pending);
  });

  it.runIf(serverUrl !== null)('retries a batch whose connection was cut, answering nobody before the commit', async () => {
    const db = testDb.database.db;
    await sql`CREATE SEQUENCE slow_once`.execute(db);
    // The first insert of a "slow" report sleeps, so its connection can be cut while the batch is open.
    await sql`
      CREATE FUNCTION slow_first() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.report_id LIKE 'cut-slow%' AND nextval('slow_once') = 1 THEN PERFORM pg_sleep(5); END IF;
        RETURN NEW;
      END $$`.execute(db);
    await sql`CREATE TRIGGER slow_first BEFORE INSERT ON reports FOR EACH ROW EXECUTE FUNCTION slow_first()`.execute(db);

    const batcher = batcherOn(testDb.openAnother(), 1);
    const settledEarly: string[] = [];
    const ids = ['cut-slow', ...Array.from({ length: 20 }, (_, index) => `cut-${String(index).padStart(2, '0')}`)];
    const pending = ids.map((id) =>
      batcher.store([item(id)]).then(() => {
        settledEarly.push(id);
      }),
    );

    const admin = new pg.Client({ connectionString: serverUrl ?? undefined });
    await admin.connect();
    try {
      let cut = 0;
      for (let attempt = 0; attempt < 50 && cut === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const result = await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()",
        );
        cut = result.rowCount ?? 0;
        // Nobody may hear "stored" while the batch's transaction is still open.
        if (cut > 0) expect(settledEarly).toEqual([]);
      }
      expect(cut).toBe(1);
    } finally {
      await admin.end();
    }
    await Promise.all(pending);
    expect(await storedIds('cut-')).toEqual([...ids].sort());
    await batcher.close();
  });
});
