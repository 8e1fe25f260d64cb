import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
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
});
