/**
 * The write path sends its values inside SQL scripts, as literals: a value must reach PostgreSQL
 * exactly as it was, whatever it holds and whatever the server's string settings, or a report
 * would be stored altered, or its text would run as SQL.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREPARE_STATEMENTS, WRITE_SESSION_SETTINGS, storeReports } from '../../src/storage/write-reports.js';
import { sqlLiteral } from '../../src/storage/write-transaction.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase, serverUrl } from '../helpers/database.js';
import { AWKWARD, reportToStore } from '../helpers/reports.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.drop();
});

async function roundTrip(text: string, standardConformingStrings: 'on' | 'off'): Promise<unknown> {
  return testDb.database.writeTransaction({
    setup: 'SELECT 1',
    first: `SET LOCAL standard_conforming_strings = ${standardConformingStrings};\nSELECT ${sqlLiteral(text)} AS value`,
    then: (rows) => ({ script: null, result: rows[0]?.value }),
  });
}

describe('values sent inside the write scripts', () => {
  it.each(['on', 'off'] as const)('arrive unchanged with standard_conforming_strings %s', async (setting) => {
    for (const text of AWKWARD) expect(await roundTrip(text, setting)).toBe(text);
  });

  it('store a report whose fields hold quotes, backslashes and SQL exactly as sent', async () => {
    const items = AWKWARD.map((text, index) => {
      const item = reportToStore(`literal-${index}`);
      return { ...item, report: { ...item.report, refId: text, operator: text }, payloadJson: JSON.stringify({ id: `literal-${index}`, refId: text }) };
    });
    await storeReports(testDb.database.writeTransaction, items);
    const rows = await testDb.database.db
      .selectFrom('reports')
      .select(['report_id', 'ref_id', 'operator', 'payload'])
      .where('report_id', 'like', 'literal-%')
      .orderBy('report_id')
      .execute();
    expect(rows).toHaveLength(AWKWARD.length);
    for (const row of rows) {
      const text = AWKWARD[Number(row.report_id.slice('literal-'.length))];
      expect(row.ref_id).toBe(text);
      expect(row.operator).toBe(text);
      expect(row.payload).toEqual({ id: row.report_id, refId: text });
    }
    const messages = await testDb.database.db.selectFrom('messages').select('ref_id').where('message_id', 'like', 'literal-%').execute();
    expect(messages.map((message) => message.ref_id).sort()).toEqual([...AWKWARD].sort());
  });

  it('rolls back a script that fails, and leaves the connection usable', async () => {
    await expect(
      testDb.database.writeTransaction({
        setup: 'SELECT 1',
        first: `INSERT INTO rejected_requests (received_at, method, path, reason, body) VALUES (now(), 'POST', '/dlr', 'kept?', '');
          SELECT 1 / 0`,
        then: () => ({ script: null, result: null }),
      }),
    ).rejects.toMatchObject({ code: '22012' });
    const kept = await testDb.database.db.selectFrom('rejected_requests').select('id').where('reason', '=', 'kept?').execute();
    expect(kept).toEqual([]);
    expect(await roundTrip('after', 'on')).toBe('after');
  });
});

describe('the write statements, prepared once per connection', () => {
  it('stores again after the connection lost its prepared statements, as after a pooler reset', async () => {
    await storeReports(testDb.database.writeTransaction, [reportToStore('reset-before')]);
    // Every connection the pool holds forgets its statements, as DISCARD ALL would make it.
    const forget = () =>
      testDb.database.writeTransaction({ setup: 'SELECT 1', first: 'DEALLOCATE ALL', then: () => ({ script: null, result: null }) });
    await Promise.all(Array.from({ length: 10 }, forget));
    // As many batches at once as the pool has connections, so the ones that had prepared are used.
    const after = Array.from({ length: 10 }, (_, index) => `reset-after-${index}`);
    await Promise.all(after.map((id) => storeReports(testDb.database.writeTransaction, [reportToStore(id)])));
    const stored = await testDb.database.db.selectFrom('reports').select('report_id').where('report_id', 'like', 'reset-%').orderBy('report_id').execute();
    expect(stored.map((row) => row.report_id)).toEqual([...after, 'reset-before'].sort());
  });

  it.skipIf(serverUrl === null)('stores when a session holds a write statement of that name it did not make, as behind a pooler in transaction mode', async () => {
    // A connection set up, whose driver has not made the statement of new messages yet, on a
    // session that has one of its name.
    const writer = testDb.openAnother();
    await writer.writeTransaction({ setup: PREPARE_STATEMENTS, first: 'PREPARE dlr_store_new_messages AS SELECT 1', then: () => ({ script: null, result: null }) });
    const ids = Array.from({ length: 10 }, (_, index) => `made-before-${index}`);
    await Promise.all(ids.map((id) => storeReports(writer.writeTransaction, [reportToStore(id)])));
    const stored = await testDb.database.db.selectFrom('reports').select('report_id').where('report_id', 'like', 'made-before-%').orderBy('report_id').execute();
    expect(stored.map((row) => row.report_id)).toEqual([...ids].sort());
  });

  it('reads messages and their reports by key after the tables grew, with plans made while they were small', async () => {
    // Batches while the tables are nearly empty, enough for each statement to settle on one
    // generic plan: new messages, then more reports of the same messages.
    for (let index = 0; index < 8; index++) await storeReports(testDb.database.writeTransaction, [reportToStore(`small-${index}$1`)]);
    for (let index = 0; index < 8; index++) await storeReports(testDb.database.writeTransaction, [reportToStore(`small-${index}$2`)]);
    // ...then the tables grow, with no statistics gathered.
    await testDb.database.db.transaction().execute(async (tx) => {
      await sql`INSERT INTO messages (message_id, last_seq) SELECT 'grown-' || n, n FROM generate_series(1, 20000) AS n`.execute(tx);
      await sql`INSERT INTO reports (fingerprint, report_id, message_id, part, result_description, status, final, delivery, billing, format, received_at, payload)
                SELECT md5('grown-' || n)::uuid, 'grown-' || n || '$1', 'grown-' || n, 1, 'Billed and delivered', 'delivered', true, 'DELIVERED', 'BILLED', 'json', now(), '{}'
                FROM generate_series(1, 20000) AS n`.execute(tx);
    });
    const plans = await testDb.database.writeTransaction({
      setup: PREPARE_STATEMENTS,
      first: 'SELECT name, generic_plans FROM pg_prepared_statements',
      then: (rows) => ({ script: null, result: new Map(rows.map((row) => [String(row.name), Number(row.generic_plans)])) }),
    });
    // The batches above settled on generic plans, made while the tables were small...
    expect(plans.get('dlr_store_new_messages')).toBeGreaterThan(0);
    expect(plans.get('dlr_insert_reports')).toBeGreaterThan(0);
    // ...and those plans still read by key.
    const explain = (statement: string) =>
      testDb.database.writeTransaction({
        setup: PREPARE_STATEMENTS,
        first: `SET LOCAL plan_cache_mode = force_generic_plan;\nEXPLAIN EXECUTE ${statement}`,
        then: (rows) => ({ script: null, result: rows.map((row) => String(row['QUERY PLAN'])).join('\n') }),
      });
    const newMessages = await explain(`dlr_store_new_messages('[]', '[]', '["grown-5"]', '[]')`);
    expect(newMessages).not.toContain('Seq Scan on messages');
    expect(newMessages).toContain('messages_pkey');
    const storedMessages = await explain(`dlr_insert_reports('[]'::json, '[]'::json, '["grown-5"]'::json)`);
    expect(storedMessages).not.toMatch(/Seq Scan on (reports|messages)/);
    expect(storedMessages).toContain('reports_pkey');
  });
});

describe('the write connections', () => {
  async function commitSettingAfter(serverSetting: string): Promise<unknown> {
    return testDb.database.writeTransaction({
      // As a server or role configured with this setting would open the connection.
      setup: `SET synchronous_commit = ${serverSetting};\n${WRITE_SESSION_SETTINGS}`,
      first: `SELECT current_setting('synchronous_commit') AS value`,
      then: (rows) => ({ script: null, result: rows[0]?.value }),
    });
  }

  it('wait for the disk on commit even where the server is set not to', async () => {
    expect(await commitSettingAfter('off')).toBe('on');
  });

  it('keep a setting that flushes the local log', async () => {
    expect(await commitSettingAfter('local')).toBe('local');
  });
});
