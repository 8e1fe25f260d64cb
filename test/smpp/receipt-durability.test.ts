/**
 * A `deliver_sm_resp` is a promise, as a 200 is: it goes back only once the receipt is committed or
 * safe in the local journal, and when neither can take it the gateway is told to deliver it again.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_STATUS } from '../../src/smpp/smpp-library.js';
import type { SmppPdu } from '../../src/smpp/smpp-library.js';
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { createTestDatabase, serverUrl } from '../helpers/database.js';
import type { OwnPostgres } from '../helpers/own-postgres.js';
import { postgresBinaries, startOwnPostgres } from '../helpers/own-postgres.js';
import { sleep, waitFor } from '../helpers/receiver-process.js';
import { receiptPdu, receiptText, startFakeGateway } from '../helpers/smpp-gateway.js';
import { startSmppReceiver } from '../helpers/smpp-receiver.js';

const CREDENTIALS = { systemId: 'dlr-user', password: 'pa55-word' };

describe('while the database is gone', () => {
  it('keeps receipts in the journal and answers ESME_ROK; once the journal is full it answers a temporary error', async () => {
    const testDb = await createTestDatabase();
    const gone = testDb.openAnother();
    const gateway = await startFakeGateway(CREDENTIALS);
    const receiver = await startSmppReceiver(gone, { SMPP_URL: gateway.url(CREDENTIALS.systemId, CREDENTIALS.password), JOURNAL_MAX_BYTES: '65536' });
    try {
      await receiver.waitForState('bound');
      // Used once, so that closing it really ends its connections.
      expect(await gone.ping()).toBe(true);
      await gone.close();
      let acknowledged = 0;
      let refusal: SmppPdu | undefined;
      for (let index = 0; index < 1_000 && refusal === undefined; index++) {
        const answer = await gateway.deliver(receiptPdu(receiptText({ id: `smpp-gone-${index}`, stat: 'DELIVRD' })));
        if (answer.command_status === COMMAND_STATUS.ok) acknowledged += 1;
        else refusal = answer;
      }
      expect(acknowledged).toBeGreaterThan(10);
      expect(refusal?.command_status).toBe(COMMAND_STATUS.temporaryAppError);
      const ready = await receiver.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.json()).toMatchObject({ smpp: 'bound', storingTo: 'journal', journalReports: acknowledged });
      expect(receiver.logs()).toContain('answering a temporary error so the gateway delivers it again');
    } finally {
      await receiver.app.close();
      await gateway.close();
      if (gone !== testDb.database) await testDb.drop();
    }
  });
});

// The rest needs a PostgreSQL server: a second connection to hold a lock, or a server to stop.
const onServer = serverUrl !== null;
/** The write path's advisory-lock seed (storage/write-reports.ts): the test holds a message's lock. */
const LOCK_SEED = 0x646c72;

describe.runIf(onServer)('the answer waits for the commit', () => {
  it('sends no deliver_sm_resp while the receipt cannot be committed, and sends it once it is', async () => {
    const testDb = await createTestDatabase();
    const gateway = await startFakeGateway(CREDENTIALS);
    const receiver = await startSmppReceiver(testDb.database, { SMPP_URL: gateway.url(CREDENTIALS.systemId, CREDENTIALS.password) });
    const holder = new pg.Client({ connectionString: serverUrl ?? undefined });
    await holder.connect();
    try {
      await receiver.waitForState('bound');
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, $2))', ['smpp-held', LOCK_SEED]);
      let answered: SmppPdu | undefined;
      const answer = gateway.deliver(receiptPdu(receiptText({ id: 'smpp-held', stat: 'DELIVRD' }))).then((pdu) => (answered = pdu));
      await sleep(500);
      expect(answered).toBeUndefined();
      expect((await receiver.app.inject({ method: 'GET', url: '/messages/smpp-held' })).statusCode).toBe(404);

      await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, $2))', ['smpp-held', LOCK_SEED]);
      expect((await answer).command_status).toBe(COMMAND_STATUS.ok);
      expect((await receiver.app.inject({ method: 'GET', url: '/messages/smpp-held' })).statusCode).toBe(200);
    } finally {
      await holder.end();
      await receiver.app.close();
      await gateway.close();
      await testDb.drop();
    }
  });
});

const binaries = postgresBinaries();
describe.runIf(onServer && binaries !== null)('a database outage', () => {
  let own: OwnPostgres;
  beforeAll(async () => {
    own = await startOwnPostgres(binaries ?? '');
  }, 120_000);
  afterAll(() => {
    own.remove();
  });

  it('acknowledges a receipt that arrives while PostgreSQL is down from the journal, and stores it once PostgreSQL is back', async () => {
    const database = openDatabase({ databaseUrl: own.url, dataDir: '' });
    await migrateToLatest(database.db);
    const gateway = await startFakeGateway(CREDENTIALS);
    const receiver = await startSmppReceiver(database, { SMPP_URL: gateway.url(CREDENTIALS.systemId, CREDENTIALS.password), JOURNAL_RETRY_MS: '100' });
    try {
      await receiver.waitForState('bound');
      own.stop('immediate');
      const answer = await gateway.deliver(receiptPdu(receiptText({ id: 'smpp-outage-1', stat: 'UNDELIV', err: '107' })));
      expect(answer.command_status).toBe(COMMAND_STATUS.ok);
      expect((await receiver.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ storingTo: 'journal', journalReports: 1 });

      own.start();
      await waitFor('the receipt to be stored', async () => (await receiver.app.inject({ method: 'GET', url: '/messages/smpp-outage-1' })).statusCode === 200);
      const message = (await receiver.app.inject({ method: 'GET', url: '/messages/smpp-outage-1' })).json<{ parts: Array<Record<string, unknown>> }>();
      expect(message.parts[0]).toMatchObject({ status: 'failed', stat: 'UNDELIV', err: '107', errDescription: 'Absent subscriber' });
    } finally {
      await receiver.app.close();
      await gateway.close();
      await database.close();
    }
  });
});
