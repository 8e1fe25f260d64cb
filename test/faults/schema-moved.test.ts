/**
 * A receiver whose schema no longer fits its statements: another receiver sharing the database ran a
 * newer release's migration, or an operator undid one. The database answers, but refuses every
 * write with "column does not exist". That is not the reports' fault: they are kept in the journal,
 * acknowledged from there, and stored once the schema fits again, over HTTP and over SMPP alike.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { COMMAND_STATUS } from '../../src/smpp/smpp-library.js';
import { createTestApp, deliveredReport, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/receiver-process.js';
import { receiptPdu, receiptText, startFakeGateway } from '../helpers/smpp-gateway.js';
import { startSmppReceiver } from '../helpers/smpp-receiver.js';

const CREDENTIALS = { systemId: 'dlr-user', password: 'pa55-word' };
/** Replays tried every 50 ms, so that a wrongly set-aside report would be gone well within a test. */
const FAST_REPLAY = { JOURNAL_RETRY_MS: '50' };

let testDb: TestDatabase;

beforeEach(async () => {
  testDb = await createTestDatabase();
});
afterEach(async () => {
  await testDb.drop();
});

const moveColumnAway = () => sql`ALTER TABLE reports RENAME COLUMN gate TO gate_label`.execute(testDb.database.db);
const moveColumnBack = () => sql`ALTER TABLE reports RENAME COLUMN gate_label TO gate`.execute(testDb.database.db);

async function readiness(app: App) {
  return (await app.inject({ method: 'GET', url: '/readyz' })).json<{ storingTo: string; journalReports: number }>();
}

async function rejected(app: App) {
  return (await app.inject({ method: 'GET', url: '/rejected' })).json<{ rejected: unknown[] }>().rejected;
}

/** Waits out several replay attempts against the schema that does not fit. */
const severalReplays = () => new Promise((resolve) => setTimeout(resolve, 500));

describe('a schema that no longer fits the receiver', () => {
  it('keeps a posted report in the journal, acknowledged, and stores it once the schema fits again', async () => {
    const app = await createTestApp(testDb.database, FAST_REPLAY);
    try {
      await moveColumnAway();
      const answer = await postJson(app, deliveredReport({ id: 'moved-http', refId: 'order-moved' }));
      expect(answer.statusCode).toBe(200);
      await severalReplays();
      expect(await readiness(app)).toMatchObject({ storingTo: 'journal', journalReports: 1 });
      expect(await rejected(app)).toEqual([]);

      await moveColumnBack();
      await waitFor('the journal to be stored', async () => (await readiness(app)).storingTo === 'database', 10_000);
      const lookup = await app.inject({ method: 'GET', url: '/messages/moved-http' });
      expect(lookup.statusCode).toBe(200);
      expect(lookup.json()).toMatchObject({ messageId: 'moved-http', refId: 'order-moved', status: 'delivered', final: true });
    } finally {
      await app.close();
    }
  });

  it('keeps a receipt in the journal, acknowledged, and stores it once the schema fits again', async () => {
    const gateway = await startFakeGateway(CREDENTIALS);
    const receiver = await startSmppReceiver(testDb.database, { SMPP_URL: gateway.url(CREDENTIALS.systemId, CREDENTIALS.password), ...FAST_REPLAY });
    try {
      await receiver.waitForState('bound');
      await moveColumnAway();
      const answer = await gateway.deliver(receiptPdu(receiptText({ id: 'moved-smpp', stat: 'DELIVRD' })));
      expect(answer.command_status).toBe(COMMAND_STATUS.ok);
      await severalReplays();
      expect(await readiness(receiver.app)).toMatchObject({ storingTo: 'journal', journalReports: 1 });
      expect(await rejected(receiver.app)).toEqual([]);
      // The operator is told why the reports wait.
      expect(receiver.logs()).toContain('column \\"gate\\" of relation \\"reports\\" does not exist');

      await moveColumnBack();
      await waitFor('the journal to be stored', async () => (await readiness(receiver.app)).storingTo === 'database', 10_000);
      const lookup = await receiver.app.inject({ method: 'GET', url: '/messages/moved-smpp' });
      expect(lookup.statusCode).toBe(200);
      expect(lookup.json()).toMatchObject({ messageId: 'moved-smpp', status: 'delivered', reports: [{ format: 'smpp' }] });
    } finally {
      await receiver.app.close();
      await gateway.close();
    }
  });
});
