/**
 * A lookup the PostgreSQL server does not answer: here, behind a lock another session holds on
 * `messages`, as a `VACUUM FULL` or an `ALTER TABLE` holds it. The lookup is answered 503 once its
 * time is up, its session is cancelled rather than left waiting, and the query API keeps its
 * connections: its health check and the next lookups are answered.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, deliveredReport, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase, serverUrl } from '../helpers/database.js';
import { waitFor } from '../helpers/receiver-process.js';

let testDb: TestDatabase;

beforeAll(async () => {
  if (serverUrl !== null) testDb = await createTestDatabase();
});
afterAll(async () => {
  if (serverUrl !== null) await testDb.drop();
});

describe.runIf(serverUrl !== null)('a lookup the database does not answer in time', () => {
  it('is answered 503, its session is cancelled, and the query API keeps its connections', async () => {
    const app = await createTestApp(testDb.openAnother({ readTimeoutMs: 300, poolSize: 3 }));
    expect((await postJson(app, deliveredReport({ id: 'held-lookup' }))).statusCode).toBe(200);
    const holder = new pg.Client({ connectionString: serverUrl ?? undefined });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${testDb.schema ?? ''}.messages, ${testDb.schema ?? ''}.reports IN ACCESS EXCLUSIVE MODE`);
      // More lookups than the pool has connections: left waiting, they would hold them all.
      for (let index = 0; index < 5; index++) {
        const lookup = await app.inject({ method: 'GET', url: '/messages/held-lookup' });
        expect(lookup.statusCode).toBe(503);
        expect(lookup.json()).toEqual({ error: 'Service Unavailable', message: 'the database is unavailable; try again shortly' });
      }
      // Without the cancel each lookup's session waits for the lock as long as it is held.
      await waitFor('the waiting sessions to be cancelled', async () => {
        const waiting = await holder.query<{ waiting: string }>(
          `SELECT count(*) AS waiting FROM pg_locks WHERE relation IN ('${testDb.schema ?? ''}.messages'::regclass, '${testDb.schema ?? ''}.reports'::regclass) AND NOT granted`,
        );
        return Number(waiting.rows[0]?.waiting) === 0;
      }, 3_000);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await app.inject({ method: 'GET', url: '/messages/held-lookup' })).statusCode).toBe(200);
    await app.close();
  });

  it('answers a summary or a listing by result code not read in time 503 saying it may be narrowed, and a lookup by key as the database being away', async () => {
    const app = await createTestApp(testDb.openAnother({ readTimeoutMs: 300, poolSize: 3 }));
    const holder = new pg.Client({ connectionString: serverUrl ?? undefined });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${testDb.schema ?? ''}.messages, ${testDb.schema ?? ''}.reports IN ACCESS EXCLUSIVE MODE`);
      const summary = await app.inject({ method: 'GET', url: '/summary?since=2026-01-01' });
      expect(summary.statusCode).toBe(503);
      expect(summary.json()).toEqual({
        error: 'Service Unavailable',
        message: 'the count was not finished within 0.3 s, the longest a read may take: the filter holds too many messages to count at once, ' +
          'or the database is busy or held by a lock; narrow since and until, or give a refId, or try again shortly',
      });
      const byResult = await app.inject({ method: 'GET', url: '/messages?resultCode=2106' });
      expect(byResult.statusCode).toBe(503);
      expect(byResult.json()).toEqual({
        error: 'Service Unavailable',
        message: 'the page was not finished within 0.3 s, the longest a read may take: few of the messages the filter holds show this resultCode, ' +
          'or the database is busy or held by a lock; narrow since and until, or give a refId, or try again shortly',
      });
      for (const url of ['/messages/held-lookup', '/messages?status=failed']) {
        const lookup = await app.inject({ method: 'GET', url });
        expect(lookup.statusCode, url).toBe(503);
        expect(lookup.json()).toEqual({ error: 'Service Unavailable', message: 'the database is unavailable; try again shortly' });
      }
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await app.inject({ method: 'GET', url: '/summary?since=2026-01-01' })).statusCode).toBe(200);
    await app.close();
  });

  it('answers GET /rejected 503 and a refused report 400 behind a lock on the refused requests, and the query API keeps its connections', async () => {
    const app = await createTestApp(testDb.openAnother({ readTimeoutMs: 300, poolSize: 3 }));
    expect((await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: '{"id":' })).statusCode).toBe(400);
    const holder = new pg.Client({ connectionString: serverUrl ?? undefined });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${testDb.schema ?? ''}.rejected_requests IN ACCESS EXCLUSIVE MODE`);
      for (let index = 0; index < 5; index++) {
        const listing = await app.inject({ method: 'GET', url: '/rejected' });
        expect(listing.statusCode).toBe(503);
        expect(listing.json()).toEqual({ error: 'Service Unavailable', message: 'the database is unavailable; try again shortly' });
        // A refused report is answered, given up on keeping within the same time.
        const refused = await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: '{"id":' });
        expect(refused.statusCode).toBe(400);
      }
      await waitFor('the waiting sessions to be cancelled', async () => {
        const waiting = await holder.query<{ waiting: string }>(
          `SELECT count(*) AS waiting FROM pg_locks WHERE relation = '${testDb.schema ?? ''}.rejected_requests'::regclass AND NOT granted`,
        );
        return Number(waiting.rows[0]?.waiting) === 0;
      }, 3_000);
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/messages/never-sent' })).statusCode).toBe(404);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const listing = await app.inject({ method: 'GET', url: '/rejected' });
    expect(listing.statusCode).toBe(200);
    expect(listing.json<{ rejected: Array<{ reason: string }> }>().rejected).toHaveLength(1);
    await app.close();
  });
});
