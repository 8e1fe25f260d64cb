/**
 * Migrations that change what is stored keep its meaning. A part's deciding report is worked out
 * from the stored reports; the `parts` table that kept a copy of it is gone, and rolling that
 * migration back, to run an older receiver again, must rebuild the table with the deciders this
 * receiver shows. Fingerprints became UUIDs: a report stored before the upgrade and sent again
 * after it is still stored once. Identifiers came to compare as bytes: what was stored before is
 * found by the same ids after the upgrade and after its rollback. The listing came to be ordered by
the time a message's newest report was received: pages read the same across the upgrade and its
rollback. The rows of messages whose untimed tie went to the first report are put right, as their
lookups show them. A search_path that names no schema
 * there is says so, instead of failing on kysely's bookkeeping table; so does a database that is
 * not encoded UTF8. A migration recorded by a clock behind an earlier one's no longer stops
 * every later start. A record of a migration this release does not have (a newer release's,
 * another program's) stops the start saying which and what to do, instead of "corrupted
 * migrations"; so does a table of another program's with the name of one of the receiver's.
 * `npm run migrate` that fails says so in its exit code, on the embedded database too.
 */
import { spawnSync } from 'node:child_process';
import { hash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interpretReport } from '../../src/meaning/interpret-report.js';
import { migrateToLatest, undoLatestMigration } from '../../src/storage/migrate.js';
import { openDatabase } from '../../src/storage/database.js';
import { findMessage, listMessages } from '../../src/storage/read-messages.js';
import type { ReportToStore } from '../../src/storage/write-reports.js';
import { storeReports } from '../../src/storage/write-reports.js';
import type { TestDatabase } from '../helpers/database.js';
import { adminQuery, createTestDatabase, serverUrl } from '../helpers/database.js';
import { waitFor } from '../helpers/receiver-process.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.drop();
});

function report(id: string, resultCode: number, timestamp: string | null, refId: string | null = null): ReportToStore {
  const read = interpretReport({
    id,
    resultCode,
    refId,
    operator: null,
    operatorResultCode: null,
    segments: 2,
    sentTimestamp: null,
    timestamp: timestamp === null ? null : new Date(timestamp),
    customParameters: {},
    gateCustomParameters: {},
  });
  if (!read.ok) throw new Error(read.problem);
  return { report: read.value, payloadJson: JSON.stringify({ id }), format: 'json', gate: null, remoteAddress: '127.0.0.1', receivedAt: new Date() };
}

const DELIVERED = 1001;
const QUEUED = 1005;
const NOT_DELIVERED = 1006;

describe('rolling back the migration that drops the parts table', () => {
  it('rebuilds each part with the deciding report the receiver shows', async () => {
    const store = (items: ReportToStore[]) => storeReports(testDb.database.writeTransaction, items);
    // Part 0: a final report, then an older final one and a later non-final one, which do not decide.
    await store([report('roll$0', DELIVERED, '2026-01-01T10:05:00Z')]);
    await store([report('roll$0', NOT_DELIVERED, '2026-01-01T10:00:00Z'), report('roll$0', QUEUED, '2026-01-01T11:00:00Z')]);
    // Part 1: two non-final reports, the later one without a timestamp, which counts as oldest.
    await store([report('roll$1', QUEUED, '2026-01-01T10:01:00Z')]);
    await store([report('roll$1', QUEUED, null)]);
    // The whole message: two final reports with the same timestamp; the one received last decides.
    await store([report('roll', NOT_DELIVERED, '2026-01-01T12:00:00Z')]);
    await store([report('roll', DELIVERED, '2026-01-01T12:00:00Z')]);

    const shown = await findMessage(testDb.database, 'roll');
    const deciders = (shown?.deciders ?? []).map(({ part, report: decider }) => ({ part, seq: decider.seq })).sort(byPart);
    expect(deciders).toHaveLength(3);

    expect(await undoLatestMigration(testDb.database.db)).toBe('20261207T2300_listing-by-destination');
    expect(await undoLatestMigration(testDb.database.db)).toBe('20261207T1500_rejected-repeats');
    expect(await undoLatestMigration(testDb.database.db)).toBe('20261206T2300_rejected-body-size');
    expect(await undoLatestMigration(testDb.database.db)).toBe('20261205T0600_untimed-ties-by-arrival');
    expect(await undoLatestMigration(testDb.database.db)).toBe('20261204T0900_listing-by-receipt-time');
    expect(await undoLatestMigration(testDb.database.db)).toBe('20261203T0800_keys-in-byte-order');
    expect(await undoLatestMigration(testDb.database.db)).toBe('20261202T1100_fingerprint-uuid');
    expect(await undoLatestMigration(testDb.database.db)).toBe('20261202T0600_deciders-from-reports');
    const { rows } = await sql<{ part: number | null; seq: string }>`SELECT part, report_seq AS seq FROM parts WHERE message_id = 'roll'`.execute(
      testDb.database.db,
    );
    expect(rows.map((row) => ({ part: row.part, seq: Number(row.seq) })).sort(byPart)).toEqual(deciders);

    expect(await migrateToLatest(testDb.database.db)).toEqual([
      '20261202T0600_deciders-from-reports',
      '20261202T1100_fingerprint-uuid',
      '20261203T0800_keys-in-byte-order',
      '20261204T0900_listing-by-receipt-time',
      '20261205T0600_untimed-ties-by-arrival',
      '20261206T2300_rejected-body-size',
      '20261207T1500_rejected-repeats',
      '20261207T2300_listing-by-destination',
    ]);
    const tables = await sql<{ count: number }>`SELECT count(*)::int AS count FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_name = 'parts'`.execute(testDb.database.db);
    expect(tables.rows[0]?.count).toBe(0);
  });
});

describe('the record of applied migrations, when a clock ran behind', () => {
  const LATEST = '20261207T2300_listing-by-destination';
  const recorded = async () =>
    (await sql<{ name: string; timestamp: string }>`SELECT name, timestamp FROM kysely_migration ORDER BY name COLLATE "C"`.execute(testDb.database.db)).rows;
  const inTimeOrder = (rows: ReadonlyArray<{ timestamp: string }>) => rows.every((row, index) => index === 0 || Date.parse(row.timestamp) >= Date.parse(rows[index - 1]?.timestamp ?? ''));
  const setTimes = async (names: string, timestamp: string) => {
    await sql`UPDATE kysely_migration SET timestamp = ${timestamp} WHERE name LIKE ${names}`.execute(testDb.database.db);
  };

  it('records a migration after the ones before it, though the clock that ran them was a day ahead', async () => {
    expect(await undoLatestMigration(testDb.database.db)).toBe(LATEST);
    await setTimes('%', new Date(Date.now() + 86_400_000).toISOString());
    expect(await migrateToLatest(testDb.database.db)).toEqual([LATEST]);
    // Recorded at this clock's time, the migration came before its predecessors by time, and
    // every later start stopped with "corrupted migrations".
    expect(inTimeOrder(await recorded())).toBe(true);
    expect(await migrateToLatest(testDb.database.db)).toEqual([]);
  });

  it('puts a record already out of time order back in the order of the names, where every start stopped', async () => {
    // As a receiver before this one recorded it on a machine whose clock was behind.
    await setTimes('%', '2026-12-01T12:00:00.000Z');
    await setTimes(LATEST, '2026-11-30T12:00:00.000Z');
    expect(await migrateToLatest(testDb.database.db)).toEqual([]);
    expect(inTimeOrder(await recorded())).toBe(true);
    // The newest by name is the one undone, not the one the clock made look newest.
    await setTimes('20261122T1200_initial', '2026-12-02T12:00:00.000Z');
    expect(await undoLatestMigration(testDb.database.db)).toBe(LATEST);
    expect(await migrateToLatest(testDb.database.db)).toEqual([LATEST]);
  });
});

describe('a record of migrations this release does not have', () => {
  const names = async () => (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name COLLATE "C"`.execute(testDb.database.db)).rows.map((row) => row.name);
  const record = async (name: string) => {
    await sql`INSERT INTO kysely_migration (name, timestamp) VALUES (${name}, ${new Date().toISOString()})`.execute(testDb.database.db);
  };
  const forget = async (name: string) => {
    await sql`DELETE FROM kysely_migration WHERE name = ${name}`.execute(testDb.database.db);
  };

  it('stops the start and the undo naming the newer release and how to go back, changing nothing', async () => {
    const NEWER = '20991231T2359_from-a-newer-release';
    await migrateToLatest(testDb.database.db);
    await record(NEWER);
    const before = await names();
    try {
      // Before, kysely's "corrupted migrations: previously executed migration … is missing".
      const refusal = `the database was migrated by a newer release of the receiver (migration ${NEWER}, which this release does not have): ` +
        'run that release, or go back with it: stop the receivers on this database and run `npm run migrate -- down` with the newer release, ' +
        'once for each migration it added; nothing was changed';
      await expect(migrateToLatest(testDb.database.db)).rejects.toThrow(refusal);
      await expect(undoLatestMigration(testDb.database.db)).rejects.toThrow(refusal);
      expect(await names()).toEqual(before);
    } finally {
      await forget(NEWER);
    }
    expect(await migrateToLatest(testDb.database.db)).toEqual([]);
  });

  it('stops the start naming the schema when another program keeps its kysely migrations there', async () => {
    const OTHER = '001_create_users';
    await record(OTHER);
    try {
      await expect(migrateToLatest(testDb.database.db)).rejects.toThrow(
        `schema "${testDb.schema ?? 'public'}" records migration ${OTHER}, which the receiver does not have: another program keeps its kysely migrations there; ` +
          'give the receiver a schema of its own (search_path in the options of DATABASE_URL); nothing was changed',
      );
    } finally {
      await forget(OTHER);
    }
    expect(await migrateToLatest(testDb.database.db)).toEqual([]);
  });
});

describe('fingerprints as UUIDs', () => {
  /** The fingerprint receivers wrote before the migration: the whole SHA-256 of the same facts, in base64url. */
  function fingerprintBefore(id: string, resultCode: number, timestamp: string): string {
    const facts = [id, resultCode, new Date(timestamp).toISOString(), null, null, null, 2, null];
    return hash('sha256', JSON.stringify(facts), 'base64url');
  }

  it('knows a report stored before the upgrade when LINK sends it again after', async () => {
    const db = testDb.database.db;
    const store = (items: ReportToStore[]) => storeReports(testDb.database.writeTransaction, items);
    expect(await undoLatestMigration(db)).toBe('20261207T2300_listing-by-destination');
    expect(await undoLatestMigration(db)).toBe('20261207T1500_rejected-repeats');
    expect(await undoLatestMigration(db)).toBe('20261206T2300_rejected-body-size');
    expect(await undoLatestMigration(db)).toBe('20261205T0600_untimed-ties-by-arrival');
    expect(await undoLatestMigration(db)).toBe('20261204T0900_listing-by-receipt-time');
    expect(await undoLatestMigration(db)).toBe('20261203T0800_keys-in-byte-order');
    expect(await undoLatestMigration(db)).toBe('20261202T1100_fingerprint-uuid');
    // As a receiver before the migration stored it: the same report, its fingerprint the whole hash.
    await store([report('upgrade$0', DELIVERED, '2026-01-01T10:05:00Z')]);
    await sql`UPDATE reports SET fingerprint = ${fingerprintBefore('upgrade$0', DELIVERED, '2026-01-01T10:05:00Z')} WHERE message_id = 'upgrade'`.execute(db);
    await sql`INSERT INTO reports (fingerprint, report_id, message_id, part, result_description, status, final, delivery, billing, format, received_at, payload)
      VALUES ('not a hash', 'odd$0', 'odd', 0, 'Billed and delivered', 'delivered', true, 'DELIVERED', 'BILLED', 'json', now(), '{}')`.execute(db);

    expect(await migrateToLatest(db)).toEqual(['20261202T1100_fingerprint-uuid', '20261203T0800_keys-in-byte-order', '20261204T0900_listing-by-receipt-time', '20261205T0600_untimed-ties-by-arrival', '20261206T2300_rejected-body-size', '20261207T1500_rejected-repeats', '20261207T2300_listing-by-destination']);
    const retry = await store([report('upgrade$0', DELIVERED, '2026-01-01T10:05:00Z')]);
    expect(retry).toEqual({ stored: 0, duplicates: 1 });
    const other = await store([report('upgrade$0', NOT_DELIVERED, '2026-01-01T10:06:00Z')]);
    expect(other).toEqual({ stored: 1, duplicates: 0 });
    expect((await findMessage(testDb.database, 'upgrade'))?.reports).toHaveLength(2);
    expect((await findMessage(testDb.database, 'odd'))?.reports).toHaveLength(1);
  });
});

describe('identifiers compared as bytes', () => {
  it('finds messages stored before the upgrade by id, refId and status, after it and after rolling it back', async () => {
    const db = testDb.database.db;
    expect(await undoLatestMigration(db)).toBe('20261207T2300_listing-by-destination');
    expect(await undoLatestMigration(db)).toBe('20261207T1500_rejected-repeats');
    expect(await undoLatestMigration(db)).toBe('20261206T2300_rejected-body-size');
    expect(await undoLatestMigration(db)).toBe('20261205T0600_untimed-ties-by-arrival');
    expect(await undoLatestMigration(db)).toBe('20261204T0900_listing-by-receipt-time');
    expect(await undoLatestMigration(db)).toBe('20261203T0800_keys-in-byte-order');
    // Ids that byte order and a language's order sort apart: case, accents, punctuation.
    const ids = ['Order-Å', 'order-a', 'ORDER_b', 'ørder-c'];
    await storeReports(
      testDb.database.writeTransaction,
      ids.map((id) => report(id, DELIVERED, '2026-01-01T10:05:00Z', `ref-${id.toLowerCase()}`)),
    );
    const found = async () => {
      const byId = await Promise.all(ids.map((id) => findMessage(testDb.database, id)));
      const listed = async (filter: { refId?: string; statuses?: string[] }) =>
        (await listMessages(testDb.database, { ...filter, limit: 100 })).messages
          .map(({ message }) => message.message_id)
          .filter((id) => ids.includes(id))
          .sort();
      return {
        byId: byId.map((stored) => stored?.message.message_id),
        byRefId: await listed({ refId: 'ref-order-å' }),
        byStatus: await listed({ statuses: [byId[0]?.message.status ?? 'none'] }),
      };
    };
    const expected = {
      byId: ['Order-Å', 'order-a', 'ORDER_b', 'ørder-c'],
      byRefId: ['Order-Å'],
      byStatus: ['ORDER_b', 'Order-Å', 'order-a', 'ørder-c'],
    };
    expect(await found()).toEqual(expected);

    expect(await migrateToLatest(db)).toEqual(['20261203T0800_keys-in-byte-order', '20261204T0900_listing-by-receipt-time', '20261205T0600_untimed-ties-by-arrival', '20261206T2300_rejected-body-size', '20261207T1500_rejected-repeats', '20261207T2300_listing-by-destination']);
    expect(await found()).toEqual(expected);
    const collations = await sql<{ column: string; collation: string }>`SELECT table_name || '.' || column_name AS column, collation_name AS collation
      FROM information_schema.columns WHERE table_schema = current_schema() AND collation_name IS NOT NULL ORDER BY 1`.execute(db);
    expect(collations.rows).toEqual([
      { column: 'messages.destination', collation: 'C' },
      { column: 'messages.message_id', collation: 'C' },
      { column: 'messages.ref_id', collation: 'C' },
      { column: 'messages.status', collation: 'C' },
      { column: 'reports.message_id', collation: 'C' },
    ]);

    expect(await undoLatestMigration(db)).toBe('20261207T2300_listing-by-destination');
    expect(await undoLatestMigration(db)).toBe('20261207T1500_rejected-repeats');
    expect(await undoLatestMigration(db)).toBe('20261206T2300_rejected-body-size');
    expect(await undoLatestMigration(db)).toBe('20261205T0600_untimed-ties-by-arrival');
    expect(await undoLatestMigration(db)).toBe('20261204T0900_listing-by-receipt-time');
    expect(await undoLatestMigration(db)).toBe('20261203T0800_keys-in-byte-order');
    expect(await found()).toEqual(expected);
    expect(await migrateToLatest(db)).toEqual(['20261203T0800_keys-in-byte-order', '20261204T0900_listing-by-receipt-time', '20261205T0600_untimed-ties-by-arrival', '20261206T2300_rejected-body-size', '20261207T1500_rejected-repeats', '20261207T2300_listing-by-destination']);
  });
});

describe('listing by the time the newest report was received', () => {
  it('pages through the messages stored before the upgrade, after it and after rolling it back', async () => {
    const db = testDb.database.db;
    expect(await undoLatestMigration(db)).toBe('20261207T2300_listing-by-destination');
    expect(await undoLatestMigration(db)).toBe('20261207T1500_rejected-repeats');
    expect(await undoLatestMigration(db)).toBe('20261206T2300_rejected-body-size');
    expect(await undoLatestMigration(db)).toBe('20261205T0600_untimed-ties-by-arrival');
    expect(await undoLatestMigration(db)).toBe('20261204T0900_listing-by-receipt-time');
    const ids = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'];
    for (const id of ids) await storeReports(testDb.database.writeTransaction, [report(id, DELIVERED, '2026-01-01T10:05:00Z', 'ref-paging')]);
    const pages = async () => {
      const seen: string[][] = [];
      let before;
      do {
        const page = await listMessages(testDb.database, { refId: 'ref-paging', limit: 2, ...(before === undefined ? {} : { before }) });
        seen.push(page.messages.map(({ message }) => message.message_id));
        before = page.nextBefore ?? undefined;
      } while (before !== undefined);
      return seen;
    };
    const expected = [['page-e', 'page-d'], ['page-c', 'page-b'], ['page-a']];
    expect(await pages()).toEqual(expected);

    expect(await migrateToLatest(db)).toEqual(['20261204T0900_listing-by-receipt-time', '20261205T0600_untimed-ties-by-arrival', '20261206T2300_rejected-body-size', '20261207T1500_rejected-repeats', '20261207T2300_listing-by-destination']);
    expect(await pages()).toEqual(expected);
    const indexes = await sql<{ definition: string }>`SELECT indexdef AS definition FROM pg_indexes
      WHERE schemaname = current_schema() AND indexname IN ('messages_listing_idx', 'messages_status_idx', 'messages_ref_id_idx') ORDER BY indexname`.execute(db);
    expect(indexes.rows.map((row) => row.definition.replace(/^.* USING btree /, ''))).toEqual([
      '(last_report_at, last_seq)',
      '(ref_id, last_report_at, last_seq)',
      '(status, last_report_at, last_seq)',
    ]);

    expect(await undoLatestMigration(db)).toBe('20261207T2300_listing-by-destination');
    expect(await undoLatestMigration(db)).toBe('20261207T1500_rejected-repeats');
    expect(await undoLatestMigration(db)).toBe('20261206T2300_rejected-body-size');
    expect(await undoLatestMigration(db)).toBe('20261205T0600_untimed-ties-by-arrival');
    expect(await undoLatestMigration(db)).toBe('20261204T0900_listing-by-receipt-time');
    expect(await pages()).toEqual(expected);
    expect(await migrateToLatest(db)).toEqual(['20261204T0900_listing-by-receipt-time', '20261205T0600_untimed-ties-by-arrival', '20261206T2300_rejected-body-size', '20261207T1500_rejected-repeats', '20261207T2300_listing-by-destination']);
  });
});

describe('the number sent to, indexed', () => {
  it('finds messages stored before the upgrade by the number they were sent to, after it and after rolling it back', async () => {
    const db = testDb.database.db;
    expect(await undoLatestMigration(db)).toBe('20261207T2300_listing-by-destination');
    const sentTo = (id: string, destination: string): ReportToStore => {
      const item = report(id, DELIVERED, '2026-01-01T10:05:00Z');
      return { ...item, report: { ...item.report, destination } };
    };
    await storeReports(testDb.database.writeTransaction, [sentTo('number-a', '+4790000001'), sentTo('number-b', '4790000001'), sentTo('number-c', '+4790000002')]);
    const listed = async () => (await listMessages(testDb.database, { destination: '+4790000001', limit: 10 })).messages.map(({ message }) => message.message_id);
    expect(await listed()).toEqual(['number-b', 'number-a']);

    expect(await migrateToLatest(db)).toEqual(['20261207T2300_listing-by-destination']);
    expect(await listed()).toEqual(['number-b', 'number-a']);
    const indexes = await sql<{ definition: string }>`SELECT indexdef AS definition FROM pg_indexes
      WHERE schemaname = current_schema() AND indexname = 'messages_destination_idx'`.execute(db);
    expect(indexes.rows.map((row) => row.definition.replace(/^.* USING btree /, ''))).toEqual([
      "(ltrim(destination, '+'::text), last_report_at, last_seq)",
    ]);

    expect(await undoLatestMigration(db)).toBe('20261207T2300_listing-by-destination');
    expect(await listed()).toEqual(['number-b', 'number-a']);
    expect(await migrateToLatest(db)).toEqual(['20261207T2300_listing-by-destination']);
  });
});

describe('ties between reports without a timestamp', () => {
  /** What the listing shows of a message's state, from its stored row. */
  const STATE_COLUMNS = ['status', 'final', 'total', 'delivered', 'failed', 'unknown', 'pending', 'result_code', 'result_description', 'operator'] as const;
  const stateOf = (row: Record<(typeof STATE_COLUMNS)[number], unknown>) => Object.fromEntries(STATE_COLUMNS.map((column) => [column, row[column]]));

  it('are put right in the rows of messages stored before the upgrade, as their lookups show them', async () => {
    const db = testDb.database.db;
    expect(await undoLatestMigration(db)).toBe('20261207T2300_listing-by-destination');
    expect(await undoLatestMigration(db)).toBe('20261207T1500_rejected-repeats');
    expect(await undoLatestMigration(db)).toBe('20261206T2300_rejected-body-size');
    expect(await undoLatestMigration(db)).toBe('20261205T0600_untimed-ties-by-arrival');
    const store = (item: ReportToStore) => storeReports(testDb.database.writeTransaction, [item]);
    // Part 0 not delivered, then delivered, neither with a timestamp; part 1 delivered.
    await store(report('tie$0', NOT_DELIVERED, null, 'ref-ties'));
    await store(report('tie$0', DELIVERED, null, 'ref-ties'));
    await store(report('tie$1', DELIVERED, '2026-01-01T10:00:00Z', 'ref-ties'));
    // The whole message sent, then queued; and a message whose parts 0 and 2 have no report.
    await store(report('tie-whole', 1000, null, 'ref-ties'));
    await store(report('tie-whole', QUEUED, null, 'ref-ties'));
    await store({ ...report('tie-gap$1', NOT_DELIVERED, null, 'ref-ties') });
    await store({ ...report('tie-gap$1', DELIVERED, null, 'ref-ties') });
    await store({ ...report('tie-gap$2', QUEUED, '2026-01-01T10:00:00Z', 'ref-ties') });
    // The rows as receivers before the upgrade wrote them: the first report of each tie decided.
    await sql`UPDATE messages SET status = 'partially_delivered', final = true, delivered = 1, failed = 1, pending = 0 WHERE message_id = 'tie'`.execute(db);
    await sql`UPDATE messages SET result_code = 1000, result_description = 'Sent (to operator)' WHERE message_id = 'tie-whole'`.execute(db);
    await sql`UPDATE messages SET delivered = 0, failed = 1, result_code = ${NOT_DELIVERED}, result_description = 'Not delivered' WHERE message_id = 'tie-gap'`.execute(db);

    expect(await migrateToLatest(db)).toEqual(['20261205T0600_untimed-ties-by-arrival', '20261206T2300_rejected-body-size', '20261207T1500_rejected-repeats', '20261207T2300_listing-by-destination']);
    const listed = (await listMessages(testDb.database, { refId: 'ref-ties', limit: 10 })).messages.map(({ message }) => message);
    const looked = await Promise.all(listed.map(async ({ message_id }) => (await findMessage(testDb.database, message_id))?.message));
    expect(listed.map((row) => row.message_id).sort()).toEqual(['tie', 'tie-gap', 'tie-whole']);
    expect(listed.map(stateOf)).toEqual(looked.map((row) => (row === undefined ? undefined : stateOf(row))));
    expect(Object.fromEntries(listed.map((row) => [row.message_id, [row.status, row.result_code, row.delivered, row.failed, row.pending]]))).toEqual({
      tie: ['delivered', DELIVERED, 2, 0, 0],
      'tie-whole': ['pending', QUEUED, 0, 0, 2],
      'tie-gap': ['pending', QUEUED, 1, 0, 2],
    });
  });
});

function byPart(a: { part: number | null }, b: { part: number | null }): number {
  return (a.part ?? -1) - (b.part ?? -1);
}

describe.skipIf(serverUrl === null)('a search_path that names no schema there is', () => {
  it('stops the migrations naming the search_path and what to do', async () => {
    const database = openDatabase({ databaseUrl: serverUrl ?? '', dataDir: '', schema: 'dlr_no_such_schema' });
    try {
      await expect(migrateToLatest(database.db)).rejects.toThrow(
        'no schema of the search_path (dlr_no_such_schema) exists, or this user may not use it: create it (CREATE SCHEMA), or fix search_path in the options of DATABASE_URL',
      );
    } finally {
      await database.close();
    }
  });
});

describe.skipIf(serverUrl === null)('a user that may not create tables in its schema', () => {
  it('stops the migrations saying what the user needs, as on PostgreSQL 15 for a user that does not own the database', async () => {
    const suffix = randomUUID().replaceAll('-', '');
    const [role, schema, password] = [`dlr_user_${suffix}`, `dlr_shared_${suffix}`, randomUUID()];
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await adminQuery(`CREATE SCHEMA ${schema}`);
    await adminQuery(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    const url = new URL(serverUrl ?? '');
    url.username = role;
    url.password = password;
    const database = openDatabase({ databaseUrl: url.href, dataDir: '', schema });
    try {
      await expect(migrateToLatest(database.db)).rejects.toThrow(
        `the migrations could not begin: permission denied for schema ${schema}; the user of DATABASE_URL needs to own schema "${schema}" or be granted CREATE on it ` +
          `(GRANT CREATE ON SCHEMA "${schema}" TO …), or name a schema of its own in search_path (the options of DATABASE_URL)`,
      );
      // Once granted, the same user migrates.
      await adminQuery(`GRANT CREATE ON SCHEMA ${schema} TO ${role}`);
      expect(await migrateToLatest(database.db)).toContain('20261122T1200_initial');
    } finally {
      await database.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
      await adminQuery(`DROP ROLE ${role}`);
    }
  });
});

describe.skipIf(serverUrl === null)('a schema where another program has a table of the same name', () => {
  it('stops the migrations naming the table and what to do, leaving the schema as it was', async () => {
    const schema = `dlr_app_${randomUUID().replaceAll('-', '')}`;
    await adminQuery(`CREATE SCHEMA ${schema}`);
    // An application's own table, as in a DATABASE_URL pointed at that application's database.
    await adminQuery(`CREATE TABLE ${schema}.messages (id serial PRIMARY KEY, body text)`);
    const database = openDatabase({ databaseUrl: serverUrl ?? '', dataDir: '', schema });
    try {
      // Before, the message ended at "already exists".
      await expect(migrateToLatest(database.db)).rejects.toThrow(
        `migration 20261122T1200_initial failed: relation "messages" already exists; schema "${schema}" holds a table or index of that name that the ` +
          'receiver did not make (another program\'s): give the receiver a schema of its own (CREATE SCHEMA dlr, and ?options=-c%20search_path%3Ddlr in DATABASE_URL)',
      );
      const { rows } = await sql<{ name: string }>`SELECT tablename AS name FROM pg_tables WHERE schemaname = ${schema} ORDER BY tablename`.execute(database.db);
      expect(rows.map((row) => row.name)).toEqual(['kysely_migration', 'kysely_migration_lock', 'messages']);
    } finally {
      await database.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
});

describe.skipIf(serverUrl === null)('a database in an encoding other than UTF8', () => {
  it('stops the migrations naming the encoding and what to do, before creating a table', async () => {
    const name = `dlr_latin1_${randomUUID().replaceAll('-', '')}`;
    await adminQuery(`CREATE DATABASE ${name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
    const url = new URL(serverUrl ?? '');
    url.pathname = `/${name}`;
    const database = openDatabase({ databaseUrl: url.href, dataDir: '', schema: 'public' });
    try {
      // There, a report with an emoji or a € was answered 503 at every retry, and never stored.
      await expect(migrateToLatest(database.db)).rejects.toThrow(
        "the database is encoded LATIN1, which cannot hold every character a report may carry; the receiver needs a UTF8 database (CREATE DATABASE … ENCODING 'UTF8' TEMPLATE template0)",
      );
      const { rows } = await sql<{ tables: number }>`SELECT count(*)::int AS tables FROM pg_tables WHERE schemaname = 'public'`.execute(database.db);
      expect(rows[0]?.tables).toBe(0);
    } finally {
      await database.close();
      await adminQuery(`DROP DATABASE ${name}`);
    }
  });
});

describe.skipIf(serverUrl === null)('a user whose statements the server times out', () => {
  it.each(['statement_timeout', 'lock_timeout'])('waits with %s set for the user while another session holds the migrations, instead of failing', async (setting) => {
    const suffix = randomUUID().replaceAll('-', '');
    const [role, schema, password] = [`dlr_user_${suffix}`, `dlr_own_${suffix}`, randomUUID()];
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await adminQuery(`CREATE SCHEMA ${schema} AUTHORIZATION ${role}`);
    const url = new URL(serverUrl ?? '');
    url.username = role;
    url.password = password;
    const open = () => openDatabase({ databaseUrl: url.href, dataDir: '', schema });
    const first = open();
    await migrateToLatest(first.db);
    await first.close();
    // As a hosted server may set it for its users; each new connection of the user takes it.
    await adminQuery(`ALTER ROLE ${role} SET ${setting} = '100ms'`);
    const [holder, watcher] = [new pg.Client({ connectionString: serverUrl ?? undefined }), new pg.Client({ connectionString: serverUrl ?? undefined })];
    await Promise.all([holder.connect(), watcher.connect()]);
    const database = open();
    try {
      // A session holding the migrations' own table, as a long migration does, for longer than the timeout.
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${schema}.kysely_migration IN ACCESS EXCLUSIVE MODE`);
      const migrating = migrateToLatest(database.db);
      migrating.catch(() => {});
      // Asked outside the holder's transaction, which sees the sessions as they were at its start.
      await waitFor('the migrations to wait for the lock', async () => {
        const { rows } = await watcher.query("SELECT 1 FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'", [role]);
        return rows.length > 0;
      });
      // Past the timeout the user's sessions have.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await holder.query('COMMIT');
      expect(await migrating).toEqual([]);
    } finally {
      await Promise.all([holder.end(), watcher.end()]);
      await database.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
      await adminQuery(`DROP ROLE ${role}`);
    }
  });
});

describe('npm run migrate, refused on the embedded database', () => {
  it('exits 1 with the reason, as on a server', async () => {
    const NEWER = '20991231T2359_from-a-newer-release';
    const dataDir = join(mkdtempSync(join(tmpdir(), 'dlr-migrate-')), 'data');
    const embedded = openDatabase({ databaseUrl: null, dataDir });
    await migrateToLatest(embedded.db);
    await sql`INSERT INTO kysely_migration (name, timestamp) VALUES (${NEWER}, ${new Date().toISOString()})`.execute(embedded.db);
    await embedded.close();

    const migrate = spawnSync(process.execPath, [join(import.meta.dirname, '../../dist/src/storage/migrate-cli.js')], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
      cwd: mkdtempSync(join(tmpdir(), 'dlr-migrate-cwd-')),
      encoding: 'utf8',
    });

    // Before, the embedded database's closing set the exit code back to 0.
    expect(migrate.stderr).toContain(`the database was migrated by a newer release of the receiver (migration ${NEWER}`);
    expect(migrate.status).toBe(1);
  });
});
