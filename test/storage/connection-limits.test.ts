/**
 * A server that lets the receiver's user open fewer sessions than the receiver may use (a role's
 * or a database's CONNECTION LIMIT, a small plan's max_connections): said at start, and no
 * acknowledged report lost under it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { ConnectionLimits } from '../../src/storage/connection-limits.js';
import { connectionLimitLine, readConnectionLimits } from '../../src/storage/connection-limits.js';
import { openDatabase, SERVER_CONNECTIONS_AT_MOST } from '../../src/storage/database.js';
import { adminQuery, serverUrl } from '../helpers/database.js';
import { startReceiver, startSending, sleep, waitFor } from '../helpers/receiver-process.js';

const UNLIMITED: ConnectionLimits = {
  user: 'dlr', database: 'sms', superuser: false, roleLimit: -1, databaseLimit: -1, maxConnections: 100, reservedFromUser: 3,
};

describe('the line that warns of a connection limit', () => {
  it('says nothing where the receiver may open all the sessions it uses', () => {
    expect(SERVER_CONNECTIONS_AT_MOST).toBe(14);
    expect(connectionLimitLine(UNLIMITED, 14)).toBeNull();
    expect(connectionLimitLine({ ...UNLIMITED, roleLimit: 14, databaseLimit: 20, maxConnections: 17 }, 14)).toBeNull();
  });

  it("names the role's limit, and the statement that raises it", () => {
    expect(connectionLimitLine({ ...UNLIMITED, roleLimit: 5, databaseLimit: 8 }, 14)).toBe(
      'the database server lets user "dlr" open at most 5 sessions (the role\'s CONNECTION LIMIT), fewer than the 14 the receiver may use at once, ' +
        'and other clients of that user share them: past the limit, lookups are answered 503 and reports wait in the local journal; ' +
        'raise it (ALTER ROLE "dlr" CONNECTION LIMIT …)',
    );
  });

  it("names the database's limit where it is the lowest", () => {
    expect(connectionLimitLine({ ...UNLIMITED, roleLimit: 10, databaseLimit: 8 }, 14)).toContain(
      'at most 8 sessions (database "sms"\'s CONNECTION LIMIT), fewer than the 14',
    );
    expect(connectionLimitLine({ ...UNLIMITED, databaseLimit: 0 }, 14)).toContain('raise it (ALTER DATABASE "sms" CONNECTION LIMIT …)');
  });

  it('names max_connections, less the sessions reserved for others', () => {
    expect(connectionLimitLine({ ...UNLIMITED, maxConnections: 15, reservedFromUser: 3 }, 14)).toContain(
      'at most 12 sessions (max_connections 15, less 3 reserved for others), fewer than the 14 the receiver may use at once',
    );
    expect(connectionLimitLine({ ...UNLIMITED, maxConnections: 10, reservedFromUser: 0 }, 14)).toContain(
      '(max_connections 10), fewer than the 14 the receiver may use at once, and other clients of that user share them: ' +
        'past the limit, lookups are answered 503 and reports wait in the local journal; raise max_connections (a setting of the server, or of a hosted plan)',
    );
  });

  it('holds a superuser to max_connections alone, as the server does', () => {
    const superuser = { ...UNLIMITED, superuser: true, roleLimit: 2, databaseLimit: 2, maxConnections: 14, reservedFromUser: 3 };
    expect(connectionLimitLine(superuser, 14)).toBeNull();
    expect(connectionLimitLine({ ...superuser, maxConnections: 13 }, 14)).toContain('at most 13 sessions (max_connections 13)');
  });

  it('quotes a name as SQL does, so the statement it gives runs as written', () => {
    expect(connectionLimitLine({ ...UNLIMITED, user: 'sms "team"', roleLimit: 1 }, 14)).toContain('ALTER ROLE "sms ""team""" CONNECTION LIMIT …');
  });
});

describe.skipIf(serverUrl === null)('a server that limits the receiver\'s user', () => {
  it('tells the receiver its limits as they are set', async () => {
    const client = new pg.Client({ connectionString: serverUrl ?? undefined });
    await client.connect();
    const database = openDatabase({ databaseUrl: serverUrl, dataDir: '' });
    try {
      const { rows } = await client.query<{ user: string; max: string; reserved: string }>(
        "SELECT current_user AS user, current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved",
      );
      const limits = await readConnectionLimits(database.db);
      expect(limits).toMatchObject({ user: rows[0]?.user, maxConnections: Number(rows[0]?.max) });
      // A user with no limits of its own, kept from the reserved sessions.
      const suffix = randomUUID().replaceAll('-', '');
      const [role, password] = [`dlr_limited_${suffix}`, randomUUID()];
      await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' CONNECTION LIMIT 3`);
      const url = new URL(serverUrl ?? '');
      url.username = role;
      url.password = password;
      const limited = openDatabase({ databaseUrl: url.href, dataDir: '' });
      try {
        expect(await readConnectionLimits(limited.db)).toMatchObject({
          user: role, superuser: false, roleLimit: 3, databaseLimit: -1, reservedFromUser: Number(rows[0]?.reserved),
        });
      } finally {
        await limited.close();
        await adminQuery(`DROP ROLE ${role}`);
      }
    } finally {
      await database.close();
      await client.end();
    }
  });

  it('warns at start naming the role\'s limit, and keeps every report it acknowledged under it', async () => {
    const suffix = randomUUID().replaceAll('-', '');
    const [role, schema, password] = [`dlr_limited_${suffix}`, `dlr_limited_${suffix}`, randomUUID()];
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' CONNECTION LIMIT 3`);
    await adminQuery(`CREATE SCHEMA ${schema} AUTHORIZATION ${role}`);
    const url = new URL(serverUrl ?? '');
    url.username = role;
    url.password = password;
    url.searchParams.set('options', `-c search_path=${schema}`);
    const receiver = await startReceiver({ DATABASE_URL: url.href, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-limited-')) });
    try {
      // Said before the receiver takes reports; its output may reach the test after /readyz's answer.
      const warning = `the database server lets user \\"${role}\\" open at most 3 sessions (the role's CONNECTION LIMIT), fewer than the 14 the receiver may use at once`;
      await waitFor('the warning of the role\'s limit', () => Promise.resolve(receiver.output().includes(warning)), 5_000);
      const sender = startSending(() => receiver.base, 'limited', 32);
      await sleep(3_000);
      const tally = await sender.stop();
      expect(tally.acknowledged.length).toBeGreaterThan(0);
      expect(tally.refused).toEqual({});
      // Those that found no session wait in the journal, and reach the database once sessions free up.
      await waitFor('every acknowledged report in the database', async () => {
        const client = new pg.Client({ connectionString: serverUrl ?? undefined });
        await client.connect();
        try {
          const { rows } = await client.query<{ stored: number }>(`SELECT count(DISTINCT message_id)::int AS stored FROM ${schema}.reports`);
          return rows[0]?.stored === tally.acknowledged.length;
        } finally {
          await client.end();
        }
      });
    } finally {
      receiver.child.kill('SIGTERM');
      await receiver.exited;
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
      await adminQuery(`DROP ROLE ${role}`);
    }
  }, 60_000);
});
