/**
 * A lookup by id works the message's row out from its reports instead of reading it: it must show
 * exactly the row the writes stored, report by report, batch by batch, on either write path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryReport } from '../../src/meaning/delivery-report.js';
import { interpretReport } from '../../src/meaning/interpret-report.js';
import { findMessage } from '../../src/storage/read-messages.js';
import { RecentMessages } from '../../src/storage/recent-messages.js';
import type { ReportToStore } from '../../src/storage/write-reports.js';
import { storeReports } from '../../src/storage/write-reports.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.drop();
});

const at = (minute: number) => new Date(Date.UTC(2026, 11, 2, 9, minute));

function report(id: string, minute: number, fields: Partial<DeliveryReport> = {}): ReportToStore {
  const read = interpretReport({
    id,
    resultCode: 1001,
    refId: null,
    operator: null,
    operatorResultCode: null,
    segments: null,
    sentTimestamp: null,
    timestamp: at(minute),
    customParameters: {},
    gateCustomParameters: {},
    ...fields,
  });
  if (!read.ok) throw new Error(read.problem);
  return { report: read.value, payloadJson: JSON.stringify({ id }), format: 'json', gate: null, remoteAddress: '127.0.0.1', receivedAt: at(minute) };
}

/** Stores each batch in turn, as the receiver would, with its memory of recent messages. */
async function storeBatches(batches: ReadonlyArray<readonly ReportToStore[]>, recent?: RecentMessages): Promise<void> {
  for (const batch of batches) await storeReports(testDb.database.writeTransaction, batch, recent);
}

async function storedRow(messageId: string) {
  return testDb.database.db.selectFrom('messages').selectAll().where('message_id', '=', messageId).executeTakeFirstOrThrow();
}

describe('a lookup by id', () => {
  it('shows the row the writes stored, for messages built over several batches on both write paths', async () => {
    const batchesOf = (prefix: string): ReportToStore[][] => [
      [
        report(`${prefix}long$0`, 1, { refId: 'order-1', segments: 2, customParameters: { source: 'LINK', destination: '+4799999999' } }),
        report(`${prefix}long$1`, 1, { resultCode: 1005 }),
        report(`${prefix}whole`, 1, { resultCode: 1000, refId: 'order-2' }),
        report(`${prefix}late`, 3, { resultCode: 1006, operator: 'no.telenor' }),
      ],
      [
        // A later report that is not final does not undo part 0's delivery; part 1 fails.
        report(`${prefix}long$0`, 2, { resultCode: 1005 }),
        report(`${prefix}long$1`, 2, { resultCode: 1006, refId: 'order-1b', segments: 3 }),
        report(`${prefix}whole$1`, 2, { resultCode: 1001 }),
        // Received later but reported as older: it does not decide the message.
        report(`${prefix}late`, 4, { resultCode: 1001, timestamp: at(0), customParameters: { destination: '+4711111111' } }),
      ],
      [report(`${prefix}whole`, 5, { resultCode: 1006, operator: 'se.telia' })],
    ];
    // Without a memory of recent messages each later batch is first tried as new messages; with
    // one it goes straight to the two-step write.
    await storeBatches(batchesOf(''));
    await storeBatches(batchesOf('again-'), new RecentMessages(100));

    for (const messageId of ['long', 'whole', 'late', 'again-long', 'again-whole', 'again-late']) {
      const found = await findMessage(testDb.database, messageId);
      expect(found?.message, messageId).toEqual(await storedRow(messageId));
    }
    const long = await findMessage(testDb.database, 'long');
    expect(long?.message).toMatchObject({ status: 'pending', final: false, total: 3, delivered: 1, failed: 1, pending: 1 });
    expect(long?.message).toMatchObject({ ref_id: 'order-1b', source: 'LINK', destination: '+4799999999', first_report_at: at(1), last_report_at: at(2) });
    expect((await findMessage(testDb.database, 'late'))?.message).toMatchObject({ status: 'failed', operator: 'no.telenor', destination: '+4711111111' });
  });

  it('finds a message by the id of one of its parts, and a message whose own id looks like a part id before it', async () => {
    // `twin$1$0` is part 0 of the message `twin$1`; `twin$0` and `twin$1` are parts of `twin`.
    await storeBatches([[report('twin$1$0', 1, { resultCode: 1006 }), report('twin$0', 1, { segments: 2 }), report('twin$1', 2)]]);
    const exact = await findMessage(testDb.database, 'twin$1');
    expect(exact?.message).toEqual(await storedRow('twin$1'));
    expect(exact?.message.status).toBe('failed');
    expect(exact?.reports).toHaveLength(1);
    const byPart = await findMessage(testDb.database, 'twin$0');
    expect(byPart?.message).toEqual(await storedRow('twin'));
    expect(byPart?.reports.map((each) => each.report_id)).toEqual(['twin$0', 'twin$1']);
    expect(await findMessage(testDb.database, 'twin$7')).toMatchObject({ message: { message_id: 'twin' } });
    expect(await findMessage(testDb.database, 'nothing')).toBeUndefined();
    expect(await findMessage(testDb.database, 'nothing$1')).toBeUndefined();
  });
});
