/**
 * The write path and the query API read a stored message's reports by message id; the
 * listing reads messages newest first. Those lookups must stay on the index as the tables grow,
 * even when PostgreSQL last gathered statistics while every row belonged to one message: a scan of
 * the whole table per lookup makes ingest and queries slower with every report stored.
 */
import type { Kysely } from 'kysely';
import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageFilter } from '../../src/storage/read-messages.js';
import { listMessagesQuery } from '../../src/storage/read-messages.js';
import type { Tables } from '../../src/storage/tables.js';
import type { SummaryFilter } from '../../src/storage/summarize-messages.js';
import { summarizeMessagesQuery } from '../../src/storage/summarize-messages.js';
import { storedMessages } from '../../src/storage/write-reports.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
  const db = testDb.database.db;
  // Young tables, analyzed: one long message of 100 parts, and its 100 reports.
  await fill(db, 'young', 100, (index) => `young$${index}`, (index) => index);
  await sql`ANALYZE reports`.execute(db);
  await sql`ANALYZE messages`.execute(db);
  // Then they grow the usual way: many messages of one part each.
  await fill(db, null, 50_000, (index) => `m-${index}`, () => null);
});
afterAll(async () => {
  await testDb.drop();
});

/** Adds a message row and a report per index: one message (`messageId`) or one each. */
async function fill(
  db: TestDatabase['database']['db'],
  messageId: string | null,
  count: number,
  reportId: (index: number) => string,
  part: (index: number) => number | null,
): Promise<void> {
  const ids = Array.from({ length: count }, (_, index) => messageId ?? reportId(index));
  const reportIds = Array.from({ length: count }, (_, index) => reportId(index));
  const parts = Array.from({ length: count }, (_, index) => part(index));
  await sql`INSERT INTO messages (message_id, last_seq) SELECT DISTINCT id, 1 FROM unnest(${ids}::text[]) AS id`.execute(db);
  await sql`INSERT INTO reports (fingerprint, report_id, message_id, part, result_description, status, final, delivery, billing, format, received_at, payload)
            SELECT md5(report_id)::uuid, report_id, id, part, 'Billed and delivered', 'delivered', true, 'DELIVERED', 'BILLED', 'json', now(), '{}'
            FROM unnest(${ids}::text[], ${reportIds}::text[], ${parts}::smallint[]) AS t (id, report_id, part)`.execute(db);
}

async function planOf(query: ReturnType<typeof sql>, executor: Kysely<Tables> = testDb.database.db): Promise<string> {
  const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${query}`.execute(executor);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

const BATCH_IDS = Array.from({ length: 50 }, (_, index) => `m-${index * 997 + 1}`);

describe('looking up stored messages by id', () => {
  it("reads stored messages and their reports through the indexes, as the write path does", async () => {
    const plan = await planOf(sql`SELECT ${sql.raw(storedMessages(`'${JSON.stringify(BATCH_IDS)}'::json`))}`);
    expect(plan).not.toContain('Seq Scan');
    expect(plan).toContain('messages_pkey');
    expect(plan).toContain('reports_pkey');
  });

  it('reads stored messages through their key in a table that was never analyzed', async () => {
    // A new database's first minutes: thousands of messages, no statistics yet. Read as one
    // `= ANY(ids)` filter or a join, the batch's messages came from a scan of the whole table.
    const lookup = storedMessages(`'${JSON.stringify(BATCH_IDS)}'::json`).replaceAll('FROM messages', 'FROM pg_temp.messages');
    const plan = await testDb.database.db.transaction().execute(async (tx) => {
      await sql`CREATE TEMPORARY TABLE messages (LIKE messages INCLUDING ALL) ON COMMIT DROP`.execute(tx);
      await sql`INSERT INTO pg_temp.messages (message_id, last_seq) SELECT 'm-' || n, n FROM generate_series(1, 20000) AS n`.execute(tx);
      return planOf(sql`SELECT ${sql.raw(lookup)}`, tx);
    });
    expect(plan).not.toMatch(/Seq Scan on messages/);
    expect(plan).toMatch(/Index Scan using messages_pkey on messages/);
  });

  it("reads a message's reports through the index, as the query API does", async () => {
    const plan = await planOf(sql`
      SELECT (SELECT json_agg(r ORDER BY r.seq) FROM reports AS r WHERE r.message_id = messages.message_id)
      FROM messages WHERE message_id = ${'m-4242'}`);
    expect(plan).not.toContain('Seq Scan');
    expect(plan).toContain('reports_pkey');
  });
});

describe('listing messages newest first', () => {
  async function listingPlan(filter: MessageFilter): Promise<string> {
    const query = listMessagesQuery(testDb.database.db, filter);
    const { rows } = await testDb.database.db.executeQuery<{ 'QUERY PLAN': string }>(
      CompiledQuery.raw(`EXPLAIN ${query.sql}`, [...query.parameters]),
    );
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }

  const at = (time: string) => new Date(time);
  const place = { receivedAtMicros: Date.parse('2026-01-01T00:00:00Z') * 1000, seq: 40_000 };
  it.each<[string, MessageFilter, string]>([
    ['every message', { limit: 50 }, 'messages_listing_idx'],
    ['the messages of one status', { statuses: ['failed'], limit: 50 }, 'messages_status_idx'],
    ['a page further on', { statuses: ['failed'], before: place, limit: 50 }, 'messages_status_idx'],
    ['the messages of one refId', { refId: 'order-17', limit: 50 }, 'messages_ref_id_idx'],
    ['a window of time', { since: at('2026-01-01T00:00:00Z'), until: at('2026-01-02T00:00:00Z'), limit: 50 }, 'messages_listing_idx'],
    ['a status since a time', { statuses: ['failed'], since: at('2026-01-01T00:00:00Z'), limit: 50 }, 'messages_status_idx'],
    ['a status until a time, a page further on', { statuses: ['failed'], until: at('2026-01-02T00:00:00Z'), before: place, limit: 50 }, 'messages_status_idx'],
    ['the messages of one refId showing one result code', { refId: 'order-17', resultCode: 2106, limit: 50 }, 'messages_ref_id_idx'],
    ['a status showing one result code', { statuses: ['failed'], resultCode: 2106, limit: 50 }, 'messages_status_idx'],
    ['the messages sent to one number', { destination: '+4799999999', limit: 50 }, 'messages_destination_idx'],
    ['the messages sent to one number since a time, a page further on', { destination: '4799999999', since: at('2026-01-01T00:00:00Z'), before: place, limit: 50 }, 'messages_destination_idx'],
  ])('reads %s from its index in order, without sorting the table', async (_name, filter, index) => {
    const plan = await listingPlan(filter);
    expect(plan).toContain(`Index Scan Backward using ${index} on messages`);
    expect(plan).not.toMatch(/Sort Key: (messages\.)?last_|Seq Scan on messages/);
  });

  it.each<[string, MessageFilter]>([
    ['several statuses', { statuses: ['failed', 'unknown', 'pending'], limit: 50 }],
    ['several statuses since a time, a page further on', { statuses: ['failed', 'unknown'], since: at('2026-01-01T00:00:00Z'), before: place, limit: 50 }],
    ['several statuses of one refId', { statuses: ['failed', 'unknown'], refId: 'order-17', limit: 50 }],
    ['several statuses showing one result code', { statuses: ['failed', 'unknown'], resultCode: 1010, limit: 50 }],
  ])('reads %s as ranges of an index merged in order, without sorting the messages of those statuses', async (_name, filter) => {
    const plan = await listingPlan(filter);
    // Merge Append's own "Sort Key" is the order it merges in; a Sort node would read every row
    // first. The SubPlan, which may sort a message's own reports, is left out.
    const listing = plan.split('SubPlan')[0] ?? '';
    expect(listing).toContain('Merge Append');
    expect(listing).toMatch(/Index Scan Backward using messages_(status|ref_id)_idx on messages/);
    expect(listing).not.toMatch(/-> +Sort |Seq Scan on messages/);
  });

  it.each<[string, MessageFilter]>([
    ['since', { statuses: ['failed'], since: at('2026-01-01T00:00:00Z'), limit: 50 }],
    ['until', { until: at('2026-01-02T00:00:00Z'), limit: 50 }],
    ['a cursor', { before: place, limit: 50 }],
  ])('bounds the index scan by %s, rather than filtering every row it passes', async (_name, filter) => {
    const plan = await listingPlan(filter);
    expect(plan).toMatch(/Index Cond: .*last_report_at/);
    expect(plan).not.toMatch(/Filter: .*last_report_at/);
  });
});

describe('counting messages for GET /summary', () => {
  const at = (time: string) => new Date(time);
  it.each<[string, SummaryFilter, string]>([
    ['of one refId', { refId: 'order-17' }, 'messages_ref_id_idx'],
    ['of one refId in a window', { refId: 'order-17', since: at('2026-01-01T00:00:00Z'), until: at('2026-01-02T00:00:00Z') }, 'messages_ref_id_idx'],
    ['since a time', { since: at('2026-01-01T00:00:00Z') }, 'messages_listing_idx'],
    ['in a window', { since: at('2026-01-01T00:00:00Z'), until: at('2026-01-02T00:00:00Z') }, 'messages_listing_idx'],
    ['sent to one number', { destination: '+4799999999' }, 'messages_destination_idx'],
  ])('reads the messages %s as a range of an index, not the table', async (_name, filter, index) => {
    const query = summarizeMessagesQuery(testDb.database.db, filter);
    const { rows } = await testDb.database.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${query.sql}`, [...query.parameters]));
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toContain(index);
    expect(plan).toMatch(/Index Cond: .*(ref_id|last_report_at >=|ltrim\(destination)/);
    expect(plan).not.toMatch(/Seq Scan on messages/);
  });
});
