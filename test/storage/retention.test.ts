/**
 * RETENTION_DAYS: a message whose newest report is older goes, whole, with every report of its;
 * every other message stays whole, even one a receiver is storing a report for meanwhile.
 */
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMessage } from '../../src/storage/read-messages.js';
import { deleteMessagesBefore, retention } from '../../src/storage/retention.js';
import type { ReportToStore } from '../../src/storage/write-reports.js';
import { LOCK_SEED, storeReports } from '../../src/storage/write-reports.js';
import { capturedLog } from '../helpers/captured-log.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase, serverUrl, untilWaitingForAdvisoryLock } from '../helpers/database.js';
import { reportToStore } from '../helpers/reports.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.drop();
});

const NOW = new Date('2026-12-06T12:00:00Z');
const daysBefore = (days: number) => new Date(NOW.getTime() - days * 24 * 60 * 60 * 1000);

/** A report of `id` received `days` before NOW. */
function receivedDaysAgo(id: string, days: number): ReportToStore {
  return { ...reportToStore(id), receivedAt: daysBefore(days) };
}

const store = (items: readonly ReportToStore[]) => storeReports(testDb.database.writeTransaction, items);

async function reportsOf(messageId: string): Promise<string[]> {
  const rows = await testDb.database.db.selectFrom('reports').select('report_id').where('message_id', '=', messageId).orderBy('seq').execute();
  return rows.map((row) => row.report_id);
}

describe('deleting old messages', () => {
  it('deletes a message whose newest report is older than the cutoff, with its reports, and keeps one with a newer report whole', async () => {
    await store([receivedDaysAgo('old$0', 120), receivedDaysAgo('old$1', 100)]);
    await store([receivedDaysAgo('mixed$0', 120)]);
    await store([receivedDaysAgo('mixed$1', 10)]);
    await store([receivedDaysAgo('recent', 1)]);

    expect(await deleteMessagesBefore(testDb.database, daysBefore(90))).toEqual({ messages: 1, reports: 2 });

    expect(await findMessage(testDb.database, 'old')).toBeUndefined();
    expect(await reportsOf('old')).toEqual([]);
    expect(await reportsOf('mixed')).toEqual(['mixed$0', 'mixed$1']);
    expect(await findMessage(testDb.database, 'mixed')).toBeDefined();
    expect(await findMessage(testDb.database, 'recent')).toBeDefined();
    expect(await deleteMessagesBefore(testDb.database, daysBefore(90))).toEqual({ messages: 0, reports: 0 });
  });

  it('goes through every old message batch by batch in a round, and says how many went', async () => {
    await store(Array.from({ length: 7 }, (_, index) => receivedDaysAgo(`batched-${index}`, 40 + index)));
    await store([receivedDaysAgo('batched-recent', 29)]);
    const log = capturedLog();
    const rounds = retention({ database: testDb.database, days: 30, logger: pino(log.stream), batchMessages: 3, now: () => NOW });

    expect(await rounds.runOnce()).toEqual({ messages: 7, reports: 7 });

    const left = await testDb.database.db.selectFrom('messages').select('message_id').where('message_id', 'like', 'batched-%').execute();
    expect(left.map((row) => row.message_id)).toEqual(['batched-recent']);
    expect(JSON.parse(log.text())).toMatchObject({
      level: 30,
      messages: 7,
      reports: 7,
      receivedBefore: daysBefore(30).toISOString(),
      msg: 'deleted the messages whose newest report is older than RETENTION_DAYS (30)',
    });
    await rounds.stop();
  });

  it('says how many messages went when a later batch of the round fails, and deletes the rest at the next round', async () => {
    await store(Array.from({ length: 7 }, (_, index) => receivedDaysAgo(`cut-${index}`, 40 + index)));
    // The server refuses to delete cut-2, in the second batch of three (oldest first: 6, 5, 4, then 3, 2, 1).
    await sql`CREATE FUNCTION refuse_cut_2() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the disk holding the write-ahead log is full'; END $$`.execute(testDb.database.db);
    await sql`CREATE TRIGGER refuse_cut_2 BEFORE DELETE ON messages FOR EACH ROW
        WHEN (OLD.message_id = 'cut-2') EXECUTE FUNCTION refuse_cut_2()`.execute(testDb.database.db);
    const log = capturedLog();
    const rounds = retention({ database: testDb.database, days: 30, logger: pino(log.stream), batchMessages: 3, now: () => NOW });

    await expect(rounds.runOnce()).rejects.toThrow('the disk holding the write-ahead log is full');
    expect(JSON.parse(log.text())).toMatchObject({
      level: 30,
      messages: 3,
      reports: 3,
      msg: 'deleted the messages whose newest report is older than RETENTION_DAYS (30)',
    });

    await sql`DROP TRIGGER refuse_cut_2 ON messages`.execute(testDb.database.db);
    await sql`DROP FUNCTION refuse_cut_2()`.execute(testDb.database.db);
    expect(await rounds.runOnce()).toEqual({ messages: 4, reports: 4 });
    await rounds.stop();
  });

  it.runIf(serverUrl !== null)('keeps an old message a receiver is storing a report for meanwhile, with every report', async () => {
    await store([receivedDaysAgo('late', 200)]);
    const other = testDb.openAnother();
    let deleting: Promise<unknown> | undefined;
    // The other receiver holds the message's lock and has stored a new report, but not yet the
    // message's state, as its write path's two steps do, when the old messages are deleted.
    await other.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended('late', ${sql.lit(LOCK_SEED)}))`.execute(tx);
      await sql`INSERT INTO reports (fingerprint, report_id, message_id, part, result_description, status, final,
          delivery, billing, format, received_at, payload)
        VALUES (gen_random_uuid(), 'late$1', 'late', 1, 'Billed and delivered', 'delivered', true, 'delivered', 'billed', 'json', now(), '{}')`.execute(tx);
      deleting = deleteMessagesBefore(testDb.database, daysBefore(90));
      await untilWaitingForAdvisoryLock(testDb.database, 'the deletion');
      await sql`UPDATE messages SET last_report_at = now() WHERE message_id = 'late'`.execute(tx);
    });
    expect(await deleting).toEqual({ messages: 0, reports: 0 });
    expect(await reportsOf('late')).toEqual(['late', 'late$1']);
    expect(await findMessage(testDb.database, 'late')).toBeDefined();
  });
});
