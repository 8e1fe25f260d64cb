/**
 * The query API's reads are prepared once per session: per connection on a server, once on the
 * embedded database, whose values then go inside the EXECUTE as literals. They must keep answering
 * when a session loses its statements or a migration changes the columns they read, find what was
 * asked for whatever text it holds, and their plans must read by key even when they were made
 * while the tables were small.
 */
import { sql } from 'kysely';
import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_SESSION_SETTINGS } from '../../src/storage/database.js';
import { readLiteral, statementName } from '../../src/storage/prepared-reads.js';
import { findMessage, findMessageQuery, listMessages, listMessagesQuery } from '../../src/storage/read-messages.js';
import { storeReports } from '../../src/storage/write-reports.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase, serverUrl } from '../helpers/database.js';
import { AWKWARD, reportToStore } from '../helpers/reports.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
  await storeReports(testDb.database.writeTransaction, [reportToStore('read-1$1'), reportToStore('read-1$2')]);
});
afterAll(async () => {
  await testDb.drop();
});

describe('reads prepared once per session', () => {
  it('find the message again after the session lost its prepared statements, as after DISCARD ALL', async () => {
    // One connection, so the statement dropped is the one the next lookup names. The embedded
    // write path's setup drops them the same way.
    const reader = testDb.openAnother({ poolSize: 1 });
    expect((await findMessage(reader, 'read-1'))?.reports).toHaveLength(2);
    await sql`DEALLOCATE ALL`.execute(reader.db);
    expect((await findMessage(reader, 'read-1'))?.reports).toHaveLength(2);
    expect((await findMessage(reader, 'read-1$2'))?.message.message_id).toBe('read-1');
  });

  it.skipIf(serverUrl === null)('find the message when the session holds a statement of that name it did not make, as behind a pooler in transaction mode', async () => {
    // There, another connection of the receiver made it first on the server session this one is given.
    const reader = testDb.openAnother({ poolSize: 1 });
    await sql.raw(`PREPARE ${statementName(findMessageQuery(reader.db, 'read-1').sql)} AS SELECT 1`).execute(reader.db);
    expect((await findMessage(reader, 'read-1'))?.reports).toHaveLength(2);
    expect((await findMessage(reader, 'read-1$2'))?.message.message_id).toBe('read-1');
  });

  it('keep answering when a migration changes the columns they read', async () => {
    // On a server, two connections, both holding the prepared listing (whose answer has the
    // messages' columns) when another receiver's migration changes the columns under them.
    const reader = testDb.openAnother({ poolSize: 2 });
    const listTwice = () => Promise.all([listMessages(reader, { limit: 10 }), listMessages(reader, { limit: 10 })]);
    const ids = async () => (await listTwice()).map((page) => page.messages.map(({ message }) => message.message_id).join());
    expect(await ids()).toEqual(['read-1', 'read-1']);
    for (const type of ['varchar(200)', 'text']) {
      await sql.raw(`ALTER TABLE messages ALTER COLUMN operator TYPE ${type}`).execute(testDb.database.db);
      expect(await ids()).toEqual(['read-1', 'read-1']);
      expect(await ids()).toEqual(['read-1', 'read-1']);
    }
  });

  it('find messages whose ids and refIds hold quotes, backslashes and SQL, by id, by part and by refId', async () => {
    const { database } = testDb;
    const awkward = AWKWARD.map((text, index) => {
      const item = reportToStore(`awkward-${index}-${text}$1`);
      return { ...item, report: { ...item.report, refId: text } };
    });
    await storeReports(database.writeTransaction, awkward);
    for (const [index, text] of AWKWARD.entries()) {
      const messageId = `awkward-${index}-${text}`;
      expect((await findMessage(database, messageId))?.message.message_id, messageId).toBe(messageId);
      expect((await findMessage(database, `${messageId}$1`))?.message.message_id, messageId).toBe(messageId);
      const byRefId = await listMessages(database, { refId: text, limit: 10 });
      expect(byRefId.messages.map(({ message }) => message.message_id), text).toEqual([messageId]);
    }
    expect(await findMessage(database, "awkward-0-it's' OR ''='")).toBeUndefined();
  });

  it('plan the lookups along the indexes even while the tables are nearly empty', async () => {
    const { db } = testDb.database;
    // Statistics of the tables as they are, two reports, as autovacuum gathers them on a new database.
    await sql`ANALYZE reports, messages`.execute(db);
    const queries: Array<[string, CompiledQuery]> = [
      ['by id', findMessageQuery(db, 'read-1')],
      ['by part id', findMessageQuery(db, 'read-1$1')],
      ['by refId', listMessagesQuery(db, { refId: 'order-1', limit: 50 })],
      ['by status, deep page', listMessagesQuery(db, { statuses: ['failed'], before: { receivedAtMicros: 1_767_225_600_000_000, seq: 10 }, limit: 50 })],
      ['by status and time', listMessagesQuery(db, { statuses: ['failed'], since: new Date('2026-01-01T00:00:00Z'), limit: 50 })],
    ];
    // The plan a prepared read may keep for good: generic, made now, with two reports stored.
    const genericPlan = (query: CompiledQuery, settings: string) =>
      db.transaction().execute(async (tx) => {
        for (const setting of settings.split(';')) await sql.raw(setting.trim().replace(/^SET /, 'SET LOCAL ')).execute(tx);
        await sql.raw('SET LOCAL plan_cache_mode = force_generic_plan').execute(tx);
        await sql.raw(`PREPARE planned AS ${query.sql}`).execute(tx);
        const values = query.parameters.map(readLiteral);
        const plan = await sql.raw<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE planned(${values.join(', ')})`).execute(tx);
        await sql.raw('DEALLOCATE planned').execute(tx);
        return plan.rows.map((row) => row['QUERY PLAN']).join('\n');
      });
    for (const [name, query] of queries) {
      expect(await genericPlan(query, READ_SESSION_SETTINGS), name).not.toContain('Seq Scan');
    }
    // Without the setting, the same plan would read a message's reports by scanning the table
    // whole, for as long as the connection keeps it.
    expect(await genericPlan(findMessageQuery(db, 'read-1'), 'SET enable_seqscan = on')).toMatch(/Seq Scan on reports/);
  });
});
