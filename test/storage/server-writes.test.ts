/**
 * A DATABASE_URL that leads to a server taking no writes: a standby (a replica's address, a
 * reader endpoint), on a PostgreSQL of the test's own and a standby of it, in the suite run on the
 * PostgreSQL server; or sessions made read-only.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { readOnlyServerLine } from '../../src/storage/server-writes.js';
import { serverUrl } from '../helpers/database.js';
import type { OwnPostgres } from '../helpers/own-postgres.js';
import { postgresBinaries, startOwnPostgres } from '../helpers/own-postgres.js';
import { freePort, launchReceiver, missingMessages, postReport, readiness, startReceiver, waitFor } from '../helpers/receiver-process.js';

const STANDBY_LINE =
  'DATABASE_URL leads to a standby server (in recovery), which takes no writes: reports wait in the local journal, ' +
  'acknowledged, until it is promoted; point DATABASE_URL at the primary, not a replica or a reader endpoint';

describe('the line for a server that takes no writes', () => {
  it('names a standby, and where to point DATABASE_URL instead', () => {
    expect(readOnlyServerLine({ inRecovery: true, readOnly: true })).toBe(STANDBY_LINE);
  });

  it('names sessions the server makes read-only', () => {
    expect(readOnlyServerLine({ inRecovery: false, readOnly: true })).toBe(
      "the database server makes the receiver's sessions read-only (default_transaction_read_only is on): reports wait in the " +
        "local journal, acknowledged, until it takes writes; turn it off for the receiver's user and database",
    );
  });

  it('says nothing of a server that takes writes', () => {
    expect(readOnlyServerLine({ inRecovery: false, readOnly: false })).toBeNull();
  });
});

const binaries = postgresBinaries();
let primary: OwnPostgres | undefined;
let standby: OwnPostgres | undefined;

beforeAll(async () => {
  if (binaries === null || serverUrl === null) return;
  primary = await startOwnPostgres(binaries);
  standby = await startOwnPostgres(binaries, { standbyOf: primary });
}, 120_000);
afterAll(() => {
  standby?.remove();
  primary?.remove();
});

function urlOf(server: OwnPostgres | undefined): string {
  if (server === undefined) throw new Error('the test PostgreSQL did not start');
  return server.url;
}

async function queryOn(url: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, unknown>>(text);
    return rows;
  } finally {
    await client.end();
  }
}

describe.skipIf(binaries === null || serverUrl === null)('a DATABASE_URL that leads to a standby', () => {
  it('stops the start where the schema is yet to be made, saying the server takes no writes and what to do', async () => {
    const launched = launchReceiver({
      DATABASE_URL: urlOf(standby), DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-standby-')), PORT: String(await freePort()), HOST: '127.0.0.1',
    });
    expect(await launched.exited).toBe(1);
    // It said only "cannot execute CREATE TABLE in a read-only transaction".
    expect(launched.output()).toContain(
      'the migrations could not begin: cannot execute CREATE TABLE in a read-only transaction; the server takes no writes: DATABASE_URL leads to a standby ' +
        '(a replica, a reader endpoint), or the server makes its sessions read-only (default_transaction_read_only); point it at the primary',
    );
  });

  it('starts where the primary migrated it, says it is a standby, keeps reports in the journal, and stores them once it is promoted', async () => {
    const migrating = openDatabase({ databaseUrl: urlOf(primary), dataDir: '' });
    await migrateToLatest(migrating.db);
    await migrating.close();
    await waitFor('the migrations on the standby', async () => {
      const [row] = await queryOn(urlOf(standby), "SELECT to_regclass('public.reports') IS NOT NULL AS found");
      return (row as { found: boolean } | undefined)?.found === true;
    });

    const receiver = await startReceiver({ DATABASE_URL: urlOf(standby), DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-standby-')), JOURNAL_RETRY_MS: '200' });
    try {
      await waitFor('the standby warning', () => Promise.resolve(receiver.output().includes(STANDBY_LINE)), 5_000);
      expect(await postReport(receiver.base, 'kept-while-standby')).toBe(200);
      expect(await readiness(receiver.base)).toMatchObject({ storingTo: 'journal', journalReports: 1 });

      await queryOn(urlOf(standby), 'SELECT pg_promote()');
      await waitFor('the report in the promoted server', async () => (await fetch(`${receiver.base}/messages/kept-while-standby`)).status === 200);
      expect(await readiness(receiver.base)).toMatchObject({ storingTo: 'database', journalReports: 0 });
    } finally {
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
  }, 60_000);

  it('says in the journal\'s line that the server takes no writes when it makes the open sessions read-only, and stores the reports once it takes them again', async () => {
    const migrating = openDatabase({ databaseUrl: urlOf(primary), dataDir: '' });
    await migrateToLatest(migrating.db);
    await migrating.close();
    const receiver = await startReceiver({ DATABASE_URL: urlOf(primary), DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-read-only-')), JOURNAL_RETRY_MS: '200' });
    const setReadOnly = async (readOnly: boolean) => {
      const admin = new pg.Client({ connectionString: urlOf(primary), options: '-c default_transaction_read_only=off' });
      await admin.connect();
      try {
        await admin.query(readOnly ? 'ALTER SYSTEM SET default_transaction_read_only = on' : 'ALTER SYSTEM RESET default_transaction_read_only');
        await admin.query('SELECT pg_reload_conf()');
      } finally {
        await admin.end();
      }
    };
    try {
      expect(await postReport(receiver.base, 'before-read-only')).toBe(200);
      await setReadOnly(true);
      const acknowledged: string[] = [];
      await waitFor('a report to wait in the journal', async () => {
        const id = `while-read-only-${acknowledged.length}`;
        expect(await postReport(receiver.base, id)).toBe(200);
        acknowledged.push(id);
        return (await readiness(receiver.base))?.storingTo === 'journal';
      });
      // It said only "cannot execute INSERT in a read-only transaction", beside "the database is not taking reports".
      const line = receiver.output().split('\n').find((each) => each.includes('keeping reports in the local journal'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({
        level: 40,
        err: { code: '25006' },
        msg:
          'the database server takes no writes (a read-only transaction): keeping reports in the local journal until it does; ' +
          'DATABASE_URL leads to a standby (a replica, a reader endpoint), or the server makes its sessions read-only ' +
          "(default_transaction_read_only, as a hosted service may once the database's storage is full)",
      });
      await setReadOnly(false);
      await waitFor('the journal stored', async () => (await readiness(receiver.base))?.storingTo === 'database');
      expect(await missingMessages(receiver.base, ['before-read-only', ...acknowledged])).toEqual([]);
    } finally {
      await setReadOnly(false);
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
  }, 60_000);
});
