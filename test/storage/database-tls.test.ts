/**
 * A PostgreSQL server reached over TLS, as managed databases are: the receiver takes the TLS
 * settings of `DATABASE_URL`, stores over encrypted connections only, and a server certificate that
 * fails the check stops the start, naming why. Runs against a server this test starts itself with a
 * self-signed certificate, in the suite run on the PostgreSQL server.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../helpers/certificate.js';
import { serverUrl } from '../helpers/database.js';
import type { OwnPostgres } from '../helpers/own-postgres.js';
import { postgresBinaries, startOwnPostgres } from '../helpers/own-postgres.js';
import { freePort, launchReceiver, postReport, startReceiver } from '../helpers/receiver-process.js';

const binaries = postgresBinaries();
const certificate = selfSignedCertificate();
let own: OwnPostgres | undefined;

beforeAll(async () => {
  if (binaries !== null && serverUrl !== null) own = await startOwnPostgres(binaries, { tls: certificate });
}, 120_000);
afterAll(() => {
  own?.remove();
});

function urlWith(query: string): string {
  if (own === undefined) throw new Error('the test PostgreSQL did not start');
  return `${own.url}?${query}`;
}

/** Whether each connection to the server but this one is encrypted, and how many there are. */
async function receiverConnections(url: string): Promise<{ connections: number; unencrypted: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ connections: number; unencrypted: number }>(
      `SELECT count(*)::int AS connections, count(*) FILTER (WHERE NOT s.ssl)::int AS unencrypted
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
        WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()`,
    );
    return rows[0] ?? { connections: 0, unencrypted: 0 };
  } finally {
    await client.end();
  }
}

describe.skipIf(binaries === null || serverUrl === null)('a PostgreSQL server over TLS', () => {
  it.each([
    ['checking the certificate against sslrootcert', `sslmode=verify-full&sslrootcert=${certificate.certFile}`],
    ['encrypting without a check, as psql does with sslmode=require', 'uselibpqcompat=true&sslmode=require'],
  ])('%s: stores reports over encrypted connections only', async (_name, query) => {
    const url = urlWith(query);
    const receiver = await startReceiver({ DATABASE_URL: url, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-tls-db-')) });
    try {
      const id = `tls-${String(Date.now())}`;
      expect(await postReport(receiver.base, id)).toBe(200);
      const found = await fetch(`${receiver.base}/messages/${id}`);
      expect(found.status).toBe(200);
      const connections = await receiverConnections(url);
      expect(connections.connections).toBeGreaterThan(0);
      expect(connections.unencrypted).toBe(0);
    } finally {
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
  });

  it('stops at start naming the certificate when sslmode=require cannot check it, and gives the data folder up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-tls-db-'));
    const launched = launchReceiver({ DATABASE_URL: urlWith('sslmode=require'), DATA_DIR: dataDir, PORT: String(await freePort()), HOST: '127.0.0.1' });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain('could not prepare the database');
    expect(launched.output()).toContain('self-signed certificate');
    expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);
  });
});
