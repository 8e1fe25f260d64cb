import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleReceiver } from '../../src/app.js';
import { readConfig } from '../../src/config/config.js';
import { LOOPBACK_CALLERS, createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';

describe('readiness', () => {
  it('is 200 while the database answers and 503 once it is gone, while /healthz stays 200 and reports go to the journal', async () => {
    const testDb = await createTestDatabase();
    const other = testDb.openAnother();
    const app = await createTestApp(other);
    try {
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await other.close();
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'not ready', database: 'down', smpp: 'disabled', storingTo: 'database', journalReports: 0 });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

      const report = await app.inject({
        method: 'POST',
        url: '/dlr',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ id: 'while-down', resultCode: 1001 }),
      });
      expect(report.statusCode).toBe(200);
      const journaling = await app.inject({ method: 'GET', url: '/readyz' });
      expect(journaling.json()).toMatchObject({ status: 'not ready', storingTo: 'journal', journalReports: 1 });
    } finally {
      await app.close();
      if (other !== testDb.database) await testDb.drop();
    }
  });

  it('says "starting" until the receiver opens, and meanwhile answers reports and lookups 503 without storing anything', async () => {
    const testDb = await createTestDatabase();
    const config = readConfig({ DLR_ALLOWED_IPS: LOOPBACK_CALLERS, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-test-')) });
    const { app, open } = await assembleReceiver({ config, database: testDb.database });
    const report = () =>
      app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ id: 'before-open', resultCode: 1001 }) });
    try {
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      const starting = await app.inject({ method: 'GET', url: '/readyz' });
      expect(starting.statusCode).toBe(503);
      expect(starting.json()).toEqual({ status: 'starting', database: 'up', smpp: 'disabled', storingTo: 'database', journalReports: 0 });

      const refused = await report();
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toEqual({ error: 'Service Unavailable', message: 'the receiver is starting: its database is not ready yet; try again shortly' });
      for (const url of ['/dlr?id=before-open&resultCode=1001', '/messages/before-open', '/messages?refId=x', '/rejected']) {
        expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(503);
      }

      open();
      expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready' });
      // Nothing was stored before: the first report is new, and the refused one left no trace.
      expect((await app.inject({ method: 'GET', url: '/messages/before-open' })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/rejected' })).json()).toEqual({ rejected: [] });
      expect((await report()).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/messages/before-open' })).json()).toMatchObject({ status: 'delivered' });
    } finally {
      await app.close();
      await testDb.drop();
    }
  });
});
