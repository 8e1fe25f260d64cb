/**
 * Which failures the query API answers with `503` (the database cannot serve now: retry) rather
 * than `500` (a fault of the receiver's own), told from real errors.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/storage/database-unavailable.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.drop();
});

async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('the work did not fail');
}

/** A port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('a database that cannot serve', () => {
  it('is told by a refused connection', async () => {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/test` });
    expect(isDatabaseUnavailable(await failureOf(() => client.connect()))).toBe(true);
  });

  it('is not a statement the database refuses, nor a fault in the receiver itself', async () => {
    expect(isDatabaseUnavailable(await failureOf(() => sql`SELECT * FROM no_such_table`.execute(testDb.database.db)))).toBe(false);
    // Node's own errors carry codes too (ERR_…), which are not the connection's.
    expect(isDatabaseUnavailable(await failureOf(async () => readFileSync(42.5)))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('Cannot read properties of undefined'))).toBe(false);
  });
});
