/**
 * A batch is written in one round trip when its messages are new, and in two when one of them is
 * stored already. The receiver's memory of recent messages only picks the path: whichever it
 * picks, and however wrong the memory is, the stored state must be the same.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMessage } from '../../src/storage/read-messages.js';
import { timeOf } from '../../src/storage/json-rows.js';
import { RecentMessages } from '../../src/storage/recent-messages.js';
import type { ReportToStore } from '../../src/storage/write-reports.js';
import { LOCK_SEED, storeReports } from '../../src/storage/write-reports.js';
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

const store = (items: readonly ReportToStore[], recent?: RecentMessages) => storeReports(testDb.database.writeTransaction, items, recent);

const at = (minute: number) => new Date(Date.UTC(2026, 10, 23, 12, minute));

/** A delivered report of one part of a two-part message. */
function partReport(id: string, minute: number): ReportToStore {
  const item = reportToStore(id, at(minute));
  return { ...item, report: { ...item.report, segments: 2 } };
}

async function messageState(messageId: string) {
  const message = await testDb.database.db.selectFrom('messages').selectAll().where('message_id', '=', messageId).executeTakeFirst();
  // Each part's deciding report, as the query API reads it.
  const deciders = (await findMessage(testDb.database, messageId))?.deciders ?? [];
  const parts = deciders
    .map(({ part, report }) => ({ part, report_seq: report.seq, final: report.final, report_timestamp: timeOf(report.report_timestamp) }))
    .sort((a, b) => (a.part ?? -1) - (b.part ?? -1));
  const reports = await testDb.database.db.selectFrom('reports').select(['seq', 'part']).where('message_id', '=', messageId).orderBy('seq').execute();
  return { message, parts, reports };
}

describe('writing a batch', () => {
  it('stores new messages whole: reports, each part decided by its report, and message state', async () => {
    // Stored before, so that a report's seq differs from its place in the next batch.
    await store([reportToStore('earlier-1'), reportToStore('earlier-2')]);
    const outcome = await store([partReport('fresh-a$0', 1), partReport('fresh-a$1', 2), reportToStore('fresh-b', at(3))]);
    expect(outcome).toEqual({ stored: 3, duplicates: 0 });
    const a = await messageState('fresh-a');
    expect(a.reports).toHaveLength(2);
    expect(a.parts.map((part) => [part.part, part.report_seq])).toEqual(a.reports.map((report) => [report.part, report.seq]));
    expect(a.message).toMatchObject({ status: 'delivered', final: true, delivered: 2, last_seq: a.reports[1]?.seq });
    const b = await messageState('fresh-b');
    expect(b.message?.last_seq).toBe(b.reports[0]?.seq);
  });

  it('adds to a message stored before, even when nothing tells the receiver it was', async () => {
    await store([partReport('known$0', 1)]);
    // No memory of recent messages: the batch is first tried as new messages, and `known` turns out stored.
    const outcome = await store([partReport('known$1', 2), reportToStore('unknown', at(2))]);
    expect(outcome).toEqual({ stored: 2, duplicates: 0 });
    const known = await messageState('known');
    expect(known.parts.map((part) => part.part)).toEqual([0, 1]);
    expect(known.message).toMatchObject({ status: 'delivered', final: true });
    expect(known.message).toMatchObject({ delivered: 2, last_seq: known.reports[1]?.seq });
    const unknown = await messageState('unknown');
    expect(unknown.message).toMatchObject({ delivered: 1, last_seq: unknown.reports[0]?.seq });
  });

  it('stores every field as given, times to the millisecond, on both paths', async () => {
    const full = (id: string, minute: number): ReportToStore => {
      const item = partReport(id, minute);
      const timestamp = new Date(Date.UTC(2026, 10, 23, 12, minute, 7, 123));
      return {
        ...item,
        report: {
          ...item.report,
          refId: 'order-"7"',
          operator: 'no.telenor',
          operatorResultCode: 'a\\b',
          // Late enough that a time read through a double of microseconds loses its milliseconds.
          sentTimestamp: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 123)),
          timestamp,
          source: 'LINK',
          destination: '+4799999999',
          stat: 'DELIVRD',
          err: '000',
          errDescription: 'No error',
        },
        format: 'xml',
        gate: 'gate-1',
        remoteAddress: '10.0.0.1',
        receivedAt: new Date(Date.UTC(2026, 10, 23, 12, 30, 0, 456)),
      };
    };
    const given = [full('fields$0', 1), full('fields$1', 2)] as const;
    await store([given[0]]); // a new message: one statement
    await store([given[1]]); // a message stored already: two steps
    const stored = await testDb.database.db.selectFrom('reports').selectAll().where('message_id', '=', 'fields').orderBy('seq').execute();
    expect(stored).toHaveLength(2);
    stored.forEach((row, index) => {
      const { report, format, gate, remoteAddress, receivedAt } = given[index === 0 ? 0 : 1];
      expect(row).toMatchObject({
        report_id: report.reportId,
        part: report.part,
        ref_id: 'order-"7"',
        result_code: 1001,
        status: 'delivered',
        final: true,
        operator: 'no.telenor',
        operator_result_code: 'a\\b',
        segments: 2,
        sent_timestamp: report.sentTimestamp,
        report_timestamp: report.timestamp,
        source: 'LINK',
        destination: '+4799999999',
        stat: 'DELIVRD',
        err: '000',
        err_description: 'No error',
        format,
        gate,
        remote_address: remoteAddress,
        received_at: receivedAt,
      });
    });
    const state = await messageState('fields');
    expect(state.parts.map((part) => part.report_timestamp)).toEqual(given.map((item) => item.report.timestamp));
    expect(state.message).toMatchObject({
      first_report_at: given[0].receivedAt,
      last_report_at: given[1].receivedAt,
      delivered: 2,
      total: 2,
    });
  });

  it('keeps a report once when it comes again, in the same batch or a later one', async () => {
    const first = reportToStore('again$1', at(1));
    expect(await store([first, first, reportToStore('again-other', at(1))])).toEqual({ stored: 2, duplicates: 1 });
    expect(await store([first, reportToStore('again-new', at(1))])).toEqual({ stored: 1, duplicates: 1 });
    expect((await messageState('again')).reports).toHaveLength(1);
  });

  it('writes the same state whichever path the memory of recent messages picks', async () => {
    const recent = new RecentMessages(10);
    await store([partReport('path-x$0', 5)], recent);
    expect(recent.includesAny(['path-x'])).toBe(true);
    // An earlier, non-final report of part 0 and a new part 1: written in two steps.
    const queued = partReport('path-x$0', 4);
    const queuedReport = { ...queued, report: { ...queued.report, status: 'pending' as const, final: false, resultCode: 1005 } };
    expect(await store([queuedReport, partReport('path-x$1', 6)], recent)).toEqual({ stored: 2, duplicates: 0 });
    const x = await messageState('path-x');
    // Part 0 keeps its final report, which arrived first.
    expect(x.parts.map((part) => [part.part, part.final, part.report_seq])).toEqual([
      [0, true, x.reports[0]?.seq],
      [1, true, x.reports[2]?.seq],
    ]);
    expect(x.message).toMatchObject({ status: 'delivered', delivered: 2, last_seq: x.reports[2]?.seq });
  });

  it('stores a new message whole when the memory of recent messages wrongly names it', async () => {
    // The memory keeps hashes of ids, and two ids can share one: a new message then looks written
    // lately, and its batch takes the two-step write.
    const recent = new RecentMessages(10);
    recent.add(['mistaken']);
    expect(await store([partReport('mistaken$0', 5), partReport('mistaken$1', 6)], recent)).toEqual({ stored: 2, duplicates: 0 });
    const state = await messageState('mistaken');
    expect(state.reports).toHaveLength(2);
    expect(state.parts.map((part) => [part.part, part.report_seq])).toEqual(state.reports.map((report) => [report.part, report.seq]));
    expect(state.message).toMatchObject({ status: 'delivered', final: true, delivered: 2, total: 2, last_seq: state.reports[1]?.seq });
  });
});

describe('two receivers writing the same new message', () => {
  it.runIf(serverUrl !== null)('adds to the message the other receiver stored while this one waited for its lock', async () => {
    const other = testDb.openAnother();
    let writing: Promise<unknown> | undefined;
    // The other receiver holds the message's lock and stores part 0, while this one starts to store
    // part 1 as the first report of a new message.
    await other.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended('race', ${sql.lit(LOCK_SEED)}))`.execute(tx);
      writing = store([partReport('race$1', 2)]);
      await untilWaitingForAdvisoryLock(testDb.database, 'the write');
      const [report] = (
        await sql<{ seq: number }>`INSERT INTO reports (fingerprint, report_id, message_id, part, result_description, status, final,
            delivery, billing, format, received_at, payload)
          VALUES (gen_random_uuid(), 'race$0', 'race', 0, 'Billed and delivered', 'delivered', true, 'delivered', 'billed', 'json', now(), '{}')
          RETURNING seq`.execute(tx)
      ).rows;
      await sql`INSERT INTO messages (message_id, status, segments_reported, total, delivered, pending, last_seq)
        VALUES ('race', 'pending', 2, 2, 1, 1, ${report?.seq})`.execute(tx);
    });
    expect(await writing).toEqual({ stored: 1, duplicates: 0 });
    const race = await messageState('race');
    expect(race.parts.map((part) => part.part)).toEqual([0, 1]);
    expect(race.message).toMatchObject({ status: 'delivered', final: true, delivered: 2, pending: 0, last_seq: race.reports[1]?.seq });
  });
});
