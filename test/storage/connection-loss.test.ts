/**
 * A pooled connection the server closes (a restart, `pg_terminate_backend`, its idle-session
 * timeout) is told once: a line per connection, not one from the connection and one from its pool.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { storeReports } from '../../src/storage/write-reports.js';
import { adminQuery, serverUrl } from '../helpers/database.js';
import { waitFor } from '../helpers/receiver-process.js';
import { reportToStore } from '../helpers/reports.js';

describe.skipIf(serverUrl === null)('a connection the server closes', () => {
  it('is told once for each connection, idle in either pool', async () => {
    const schema = `test_${randomUUID().replaceAll('-', '')}`;
    const applicationName = `dlr_loss_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await adminQuery(`CREATE SCHEMA ${schema}`);
    const url = new URL(serverUrl ?? '');
    url.searchParams.set('application_name', applicationName);
    const lost: Error[] = [];
    const database = openDatabase({ databaseUrl: url.href, dataDir: '', schema, onConnectionError: (error) => lost.push(error) });
    try {
      await migrateToLatest(database.db);
      await storeReports(database.writeTransaction, [reportToStore('loss-1')]);
      await Promise.all([1, 2, 3].map(() => sql`SELECT pg_sleep(0.05)`.execute(database.db)));
      const terminated = await terminate(applicationName);
      expect(terminated).toBeGreaterThanOrEqual(2);
      await waitFor('each connection to be told lost', () => Promise.resolve(lost.length >= terminated));
      // Long enough for a second line of the same loss to come, as it did from the pool.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(lost.map((error) => (error as Error & { code?: string }).code)).toEqual(Array.from({ length: terminated }, () => '57P01'));
      // And the pools connect again for the next report and read.
      await storeReports(database.writeTransaction, [reportToStore('loss-2')]);
      expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM reports`.execute(database.db)).rows[0]?.n).toBe(2);
    } finally {
      await database.close();
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
});

async function terminate(applicationName: string): Promise<number> {
  const client = new pg.Client({ connectionString: serverUrl ?? undefined });
  await client.connect();
  try {
    // In the select list, so that it runs for the rows the filter keeps only.
    const { rows } = await client.query<{ terminated: boolean }>(
      'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    return rows.filter((row) => row.terminated).length;
  } finally {
    await client.end();
  }
}
