/**
 * Copying one database's reports into another (what `npm run copy-to-server` does): from an
 * embedded database to the test's own database, the server's when DATABASE_URL is set.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { interpretReceipt } from '../../src/meaning/interpret-receipt.js';
import { UnreadableReportError, copyHistory } from '../../src/storage/copy-history.js';
import type { Database } from '../../src/storage/database.js';
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { storeReports } from '../../src/storage/write-reports.js';
import { createTestApp, deliveredReport, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let source: Database;
let target: TestDatabase;
let sourceApp: App;
let targetApp: App;

beforeAll(async () => {
  source = openDatabase({ databaseUrl: null, dataDir: 'memory://' });
  await migrateToLatest(source.db);
  target = await createTestDatabase();
  sourceApp = await createTestApp(source);
  targetApp = await createTestApp(target.database);
});

afterAll(async () => {
  await Promise.all([sourceApp.close(), targetApp.close()]);
  await Promise.all([source.close(), target.drop()]);
});

// Each test starts from two empty databases.
beforeEach(async () => {
  for (const database of [source, target.database]) await sql`TRUNCATE reports, messages`.execute(database.db);
});

async function lookup(app: App, url: string): Promise<unknown> {
  const response = await app.inject({ method: 'GET', url });
  expect(response.statusCode, response.body).toBeLessThan(500);
  return { status: response.statusCode, body: response.json<unknown>() };
}

/** What a user sees of the messages, by id and by `refId`, and the newest of all. */
async function answers(app: App, messageIds: readonly string[], refIds: readonly string[]): Promise<unknown[]> {
  return Promise.all([
    ...messageIds.map((id) => lookup(app, `/messages/${encodeURIComponent(id)}`)),
    ...refIds.map((refId) => lookup(app, `/messages?refId=${encodeURIComponent(refId)}`)),
    lookup(app, '/messages?limit=500'),
  ]);
}

/** Every way a report reaches a receiver (JSON parts and a retry, XML through a gate, a GET, an unknown code, an SMPP receipt), and reports whose order of arrival decides: a part's tie, and messages listed by arrival. */
async function receiveVariedReports(app: App, database: Database): Promise<void> {
  const answersOf = await Promise.all([
    postJson(app, [
      deliveredReport({ id: 'long$0', refId: 'order-1', segments: 3, timestamp: '2026-12-01T10:00:00Z', customParameters: { source: 'LINK', destination: '+4799999999' } }),
      deliveredReport({ id: 'long$1', refId: 'order-1', segments: 3, resultCode: 1005, timestamp: '2026-12-01T10:00:01Z' }),
      deliveredReport({ id: 'long$2', refId: 'order-1', segments: 3, resultCode: 2106, timestamp: '2026-12-01T10:00:02Z' }),
    ]),
    postJson(app, deliveredReport({ id: 'whole', refId: 'order-2', resultCode: 4242 })),
    app.inject({
      method: 'POST',
      url: '/dlr/gate-A',
      headers: { 'content-type': 'application/xml' },
      payload: '<report><id>xml-1</id><refId>order-3</refId><resultCode>1001.0</resultCode><customParameters><entry><key>source</key><value>LINK</value></entry></customParameters></report>',
    }),
    app.inject({ method: 'GET', url: '/dlr?ID=kv-1&RESULTCODE=1006&refId=order-3&customParameters%5Bdestination%5D=%2B4711111111' }),
  ]);
  // One request's reports share their arrival time: the listing orders their messages by arrival, not by id.
  answersOf.push(await postJson(app, ['c-3', 'a-1', 'b-2'].map((id) => deliveredReport({ id, refId: 'order-5' }))));
  // Spacing the payload keeps as it arrived.
  answersOf.push(await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: '{ "id" : "spaced",  "resultCode" : 1001 }' }));
  // Two reports of one part at one time, neither final: the one received last decides.
  for (const resultCode of [1005, 1008]) answersOf.push(await postJson(app, deliveredReport({ id: 'tie$0', refId: 'order-4', resultCode, timestamp: '2026-12-01T11:00:00Z' })));
  // A retry of the same report: stored once.
  answersOf.push(await postJson(app, deliveredReport({ id: 'long$0', refId: 'order-1', segments: 3, timestamp: '2026-12-01T10:00:00Z', customParameters: { source: 'LINK', destination: '+4799999999' } })));
  for (const answer of answersOf) expect(answer.statusCode, answer.body).toBe(200);
  const receipt = interpretReceipt({
    id: 'smpp-1',
    submitted: '001',
    delivered: '001',
    submitDate: new Date('2026-11-22T10:00:00Z'),
    doneDate: new Date('2026-11-22T10:00:07Z'),
    stat: 'UNDELIV',
    err: '011',
    source: '4799999999',
    destination: 'LINK',
  });
  if (!receipt.ok) throw new Error(receipt.problem);
  await storeReports(database.writeTransaction, [
    { report: receipt.value, payloadJson: '{"text":"id:smpp-1 stat:UNDELIV err:011"}', format: 'smpp', gate: null, remoteAddress: null, receivedAt: new Date() },
  ]);
}

/** What the query API does not show of each report: the caller's address, and the payload's text as stored. */
async function storedTexts(database: Database): Promise<string[]> {
  const { rows } = await sql<{ text: string }>`SELECT concat_ws(' ', report_id, remote_address, payload::text) AS text
    FROM reports ORDER BY report_id, received_at`.execute(database.db);
  return rows.map((row) => row.text);
}

const MESSAGE_IDS = ['long', 'whole', 'xml-1', 'kv-1', 'c-3', 'a-1', 'b-2', 'smpp-1', 'spaced', 'tie'];
const REF_IDS = ['order-1', 'order-2', 'order-3', 'order-4', 'order-5'];
const REPORTS = 13;

describe('copying the history of one database into another', () => {
  it('gives the target every report as it was stored, so lookups there answer as they did on the source', async () => {
    await receiveVariedReports(sourceApp, source);
    const before = await answers(sourceApp, MESSAGE_IDS, REF_IDS);

    const outcome = await copyHistory({ from: source, to: target.database });

    expect(outcome).toEqual({ messages: MESSAGE_IDS.length, reports: REPORTS, stored: REPORTS, duplicates: 0, stopped: false });
    expect(await answers(targetApp, MESSAGE_IDS, REF_IDS)).toEqual(before);
    // Each payload's text as it was stored, spacing and all, not as JSON would write it again.
    expect(await storedTexts(target.database)).toEqual(await storedTexts(source));
  });

  it('run again, stores nothing twice and changes no answer', async () => {
    await receiveVariedReports(sourceApp, source);
    await copyHistory({ from: source, to: target.database });
    const once = await answers(targetApp, MESSAGE_IDS, REF_IDS);

    const again = await copyHistory({ from: source, to: target.database });

    expect(again).toEqual({ messages: MESSAGE_IDS.length, reports: REPORTS, stored: 0, duplicates: REPORTS, stopped: false });
    expect(await answers(targetApp, MESSAGE_IDS, REF_IDS)).toEqual(once);
  });

  it('stopped after a page, stops there, and run again copies the rest', async () => {
    await receiveVariedReports(sourceApp, source);
    const before = await answers(sourceApp, MESSAGE_IDS, REF_IDS);
    const stop = new AbortController();

    const stopped = await copyHistory({ from: source, to: target.database, messagesPerPage: 1, reportsPerBatch: 2, stop: stop.signal, onPage: () => { stop.abort(); } });

    expect(stopped).toMatchObject({ messages: 1, duplicates: 0, stopped: true });
    expect(stopped.stored).toBe(stopped.reports);
    expect(await lookup(targetApp, '/messages?limit=500')).toMatchObject({ body: { messages: [expect.anything()] } });
    const rest = await copyHistory({ from: source, to: target.database, messagesPerPage: 1, reportsPerBatch: 2 });
    expect(rest).toEqual({ messages: MESSAGE_IDS.length, reports: REPORTS, stored: REPORTS - stopped.reports, duplicates: stopped.reports, stopped: false });
    expect(await answers(targetApp, MESSAGE_IDS, REF_IDS)).toEqual(before);
  });

  it('copies a message that has no place in the listing', async () => {
    await receiveVariedReports(sourceApp, source);
    await sql`UPDATE messages SET last_report_at = NULL WHERE message_id = 'whole'`.execute(source.db);
    await sql`UPDATE messages SET last_seq = NULL WHERE message_id = 'tie'`.execute(source.db);

    const outcome = await copyHistory({ from: source, to: target.database, messagesPerPage: 1 });

    expect(outcome).toEqual({ messages: MESSAGE_IDS.length, reports: REPORTS, stored: REPORTS, duplicates: 0, stopped: false });
    expect(await lookup(targetApp, '/messages/whole')).toMatchObject({ status: 200, body: { resultCode: 4242, reports: [{ id: 'whole' }] } });
    expect(await lookup(targetApp, '/messages/tie')).toMatchObject({ status: 200, body: { resultCode: 1008 } });
  });

  it('adds to what the target holds: a part decided there stays decided, and a report both hold is stored once', async () => {
    const first = deliveredReport({ id: 'both$0', refId: 'order-9', segments: 2, timestamp: '2026-12-01T10:00:00Z' });
    expect((await postJson(sourceApp, [first, deliveredReport({ id: 'both$1', refId: 'order-9', segments: 2, resultCode: 1005, timestamp: '2026-12-01T10:00:01Z' })])).statusCode).toBe(200);
    expect((await postJson(targetApp, [first, deliveredReport({ id: 'both$1', refId: 'order-9', segments: 2, resultCode: 1001, timestamp: '2026-12-01T10:05:00Z' })])).statusCode).toBe(200);

    const outcome = await copyHistory({ from: source, to: target.database });

    expect(outcome).toMatchObject({ reports: 2, stored: 1, duplicates: 1 });
    const { body } = (await lookup(targetApp, '/messages/both')) as { body: { status: string; final: boolean; parts: { resultCode: number }[]; reports: { id: string; resultCode: number }[] } };
    expect(body).toMatchObject({ status: 'delivered', final: true, parts: [{ resultCode: 1001 }, { resultCode: 1001 }] });
    expect(body.reports.map((report) => `${report.id} ${String(report.resultCode)}`).sort()).toEqual(['both$0 1001', 'both$1 1001', 'both$1 1005']);
  });

  it('refuses a report row no receiver writes, naming it, and keeps the pages copied before it', async () => {
    await receiveVariedReports(sourceApp, source);
    await sql`UPDATE reports SET status = 'lost' WHERE report_id = 'smpp-1'`.execute(source.db);

    const copying = copyHistory({ from: source, to: target.database, messagesPerPage: 1 });

    await expect(copying).rejects.toThrow(UnreadableReportError);
    await expect(copying).rejects.toThrow('report "smpp-1" has status "lost", which no receiver writes: it was not copied');
    // The receipt was received after the HTTP reports before it, which are copied first.
    expect(await lookup(targetApp, '/messages/whole')).toMatchObject({ status: 200 });
    expect(await lookup(targetApp, '/messages/smpp-1')).toMatchObject({ status: 404 });
  });
});
