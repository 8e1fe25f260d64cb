/**
 * The database is gone for good and the journal fills up: past its limit the receiver answers 503
 * with a message saying so, and every report it acknowledged before that is in the journal.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from '../../src/logging.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { capturedLog } from '../helpers/captured-log.js';

describe('a full journal', () => {
  it('answers 503 naming the journal once it holds JOURNAL_MAX_BYTES, having kept every report it acknowledged, and says so in the log once a minute', async () => {
    const testDb = await createTestDatabase();
    const gone = testDb.openAnother();
    const log = capturedLog();
    const app = await createTestApp(gone, { JOURNAL_MAX_BYTES: '65536' }, pino(loggerOptions('warn', false), log.stream));
    // Used once, so that closing it really ends its connections.
    expect(await gone.ping()).toBe(true);
    await gone.close();
    let acknowledged = 0;
    let refusal: { statusCode: number; body: string } | undefined;
    try {
      for (let index = 0; index < 1_000 && refusal === undefined; index++) {
        const response = await app.inject({
          method: 'POST',
          url: '/dlr',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ id: `full-${index}`, resultCode: 1001 }),
        });
        if (response.statusCode === 200) acknowledged += 1;
        else refusal = response;
      }
      expect(acknowledged).toBeGreaterThan(10);
      expect(refusal?.statusCode).toBe(503);
      expect(refusal?.body).toContain('the local journal holds its limit of 65536 bytes');
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.json()).toMatchObject({ storingTo: 'journal', journalReports: acknowledged });
      for (let index = 0; index < 5; index++) {
        expect((await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: '{"id":"more","resultCode":1001}' })).statusCode).toBe(503);
      }
      const refusals = log.text().split('\n').filter((line) => line.includes('report refused with 503'));
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toContain('the local journal holds its limit of 65536 bytes');
    } finally {
      await app.close();
      if (gone !== testDb.database) await testDb.drop();
    }
  });
});
