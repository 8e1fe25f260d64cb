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
import { sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import type { ConnectionLimits } from '../../src/storage/connection-limits.js';
import { connectionLimitLine, readConnectionLimits } from '../../src/storage/connection-limits.js';
import { openDatabase, SERVER_CONNECTIONS_AT_MOST } from '../../src/storage/database.js';
import { connectUnderSessionLimit, POOL_SIZE_BACK_AFTER_MS, SESSION_RETRY_PAUSE_MS, shareSessions } from '../../src/storage/session-limit.js';
import { errorCode } from '../../src/lib/error-code.js';
import { adminQuery, serverUrl } from '../helpers/database.js';
import type { Launched } from '../helpers/receiver-process.js';
import { freePort, launchReceiver, postReport, startReceiver, startSending, sleep, waitFor } from '../helpers/receiver-process.js';

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
        'and other clients of that user share them: past the limit, lookups and reports take turns on the sessions the receiver holds, ' +
        'and with none free in time a lookup is answered 503 and a report waits in the local journal; ' +
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
        'past the limit, lookups and reports take turns on the sessions the receiver holds, and with none free in time a lookup is answered 503 ' +
        'and a report waits in the local journal; raise max_connections (a setting of the server, or of a hosted plan)',
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
      const limited = await limitedRole(3);
      const opened = openDatabase({ databaseUrl: limited.url, dataDir: '' });
      try {
        expect(await readConnectionLimits(opened.db)).toMatchObject({
          user: limited.role, superuser: false, roleLimit: 3, databaseLimit: -1, reservedFromUser: Number(rows[0]?.reserved),
        });
      } finally {
        await opened.close();
        await limited.drop();
      }
    } finally {
      await database.close();
      await client.end();
    }
  });

  it('warns at start naming the role\'s limit, and keeps every report it acknowledged under it', async () => {
    const limited = await limitedRole(3);
    const receiver = await startReceiver({ DATABASE_URL: limited.url, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-limited-')) });
    try {
      // Said before the receiver takes reports; its output may reach the test after /readyz's answer.
      const warning = `the database server lets user \\"${limited.role}\\" open at most 3 sessions (the role's CONNECTION LIMIT), fewer than the 14 the receiver may use at once`;
      await waitFor('the warning of the role\'s limit', () => Promise.resolve(receiver.output().includes(warning)), 5_000);
      const sender = startSending(() => receiver.base, 'limited', 32);
      await sleep(3_000);
      const tally = await sender.stop();
      expect(tally.acknowledged.length).toBeGreaterThan(0);
      expect(tally.refused).toEqual({});
      // Those that found no session wait in the journal, and reach the database once sessions free up.
      await waitFor('every acknowledged report in the database', async () => (await limited.storedMessages()) === tally.acknowledged.length);
    } finally {
      await tearDown(limited, receiver);
    }
  }, 60_000);
});

describe.skipIf(serverUrl === null)('a server out of sessions for the receiver\'s user', () => {
  it('answers lookups and readiness checks made at once from the sessions it holds, and acknowledges a report from the journal at once', async () => {
    const limited = await limitedRole(4);
    // A write waiting for a session would wait this long before the journal took its report.
    const receiver = await startReceiver({ DATABASE_URL: limited.url, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-limited-')), WRITE_TIMEOUT_MS: '30000' });
    const others = await takeEverySessionLeft(limited.url);
    try {
      expect(others.length).toBeGreaterThan(0);
      const lookups = Array.from({ length: 40 }, (_, index) => fetch(`${receiver.base}/messages/limited-${index}`).then((response) => response.status));
      const checks = Array.from({ length: 10 }, () => fetch(`${receiver.base}/readyz`).then((response) => response.status));
      expect(new Set(await Promise.all(lookups))).toEqual(new Set([404]));
      expect(new Set(await Promise.all(checks))).toEqual(new Set([200]));

      const startedAt = performance.now();
      expect(await postReport(receiver.base, 'limited-report')).toBe(200);
      expect(performance.now() - startedAt).toBeLessThan(5_000);

      await Promise.all(others.map((other) => other.end()));
      await waitFor('the journal\'s report in the database', async () => (await limited.storedMessages()) === 1);
      expect((await fetch(`${receiver.base}/messages/limited-report`)).status).toBe(200);
    } finally {
      await tearDown(limited, receiver, others);
    }
  }, 60_000);

  it('shares a single session between lookups and writes, each pool giving it back idle when the other is refused', async () => {
    const limited = await limitedRole(1);
    const receiver = await startReceiver({ DATABASE_URL: limited.url, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-limited-')) });
    try {
      // The lookups' pool holds the one session after the start, and keeps it while lookups come.
      expect(await postReport(receiver.base, 'single-session')).toBe(200);
      const answers = new Set<number>();
      await waitFor('the report stored and found', async () => {
        const [lookup, check] = await Promise.all([
          fetch(`${receiver.base}/messages/single-session`).then((response) => response.status),
          fetch(`${receiver.base}/readyz`).then((response) => response.status),
        ]);
        answers.add(lookup).add(check);
        return lookup === 200;
      }, 20_000);
      expect(answers.has(503)).toBe(false);
      expect(await limited.storedMessages()).toBe(1);
    } finally {
      await tearDown(limited, receiver);
    }
  }, 60_000);

  it('waits at start while the server has no session left for its user, saying so, and starts once one comes free', async () => {
    const limited = await limitedRole(2);
    const others = await takeEverySessionLeft(limited.url);
    const receiver = launchReceiver({ DATABASE_URL: limited.url, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-limited-')), HOST: '127.0.0.1', PORT: String(await freePort()) });
    try {
      expect(others).toHaveLength(2);
      await waitFor('the line saying why the start waits', () => Promise.resolve(
        receiver.output().includes("the database server has no session left for the receiver's user (too many connections): waiting for one before taking reports"),
      ), 10_000);
      expect(receiver.output()).not.toContain('the database is not answering');
      await Promise.all(others.map((other) => other.end()));
      await waitFor('the receiver taking reports', () => Promise.resolve(receiver.output().includes('"msg":"taking reports"')), 15_000);
    } finally {
      await tearDown(limited, receiver, others);
    }
  }, 60_000);

  it('asks the server again when it holds no session, and reads once another client gives one up', async () => {
    const limited = await limitedRole(2);
    const database = openDatabase({ databaseUrl: limited.url, dataDir: '' });
    const others = await takeEverySessionLeft(limited.url);
    try {
      expect(others).toHaveLength(2);
      const query = sql<{ one: number }>`SELECT 1 AS one`.compile(database.db);
      const reads = Array.from({ length: 5 }, () => database.readRows(query));
      const pings = Array.from({ length: 3 }, () => database.ping());
      await sleep(500);
      await others[0]?.end();
      expect(await Promise.all(reads)).toEqual(Array.from({ length: 5 }, () => [{ one: 1 }]));
      expect(await Promise.all(pings)).toEqual([true, true, true]);
    } finally {
      await Promise.all(others.map((other) => other.end().catch(() => undefined)));
      await database.close();
      await limited.drop();
    }
  });

  it('takes its pool\'s own size again a while after a refusal, for a limit raised since', async () => {
    const limited = await limitedRole(2);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // A wait for a connection past the pool's size fails in 2 s, rather than never.
    const pool = new pg.Pool({ connectionString: limited.url, max: 10, connectionTimeoutMillis: 2_000 });
    shareSessions(pool);
    const others = await takeEverySessionLeft(limited.url, 1);
    try {
      // Three at once, with one session left for them: they take turns on it.
      const turns = Array.from({ length: 3 }, async () => {
        const client = await connectUnderSessionLimit(pool, performance.now() + 5_000, 'ask again');
        await client.query('SELECT 1');
        client.release();
      });
      await Promise.all(turns);
      expect(pool.totalCount).toBe(1);
      await adminQuery(`ALTER ROLE ${limited.role} CONNECTION LIMIT -1`);
      vi.advanceTimersByTime(POOL_SIZE_BACK_AFTER_MS);
      vi.useRealTimers();
      const held = await Promise.allSettled(Array.from({ length: 3 }, () => connectUnderSessionLimit(pool, performance.now() + 5_000, 'ask again')));
      const opened = pool.totalCount;
      for (const outcome of held) if (outcome.status === 'fulfilled') outcome.value.release();
      expect(held.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      expect(opened).toBe(3);
    } finally {
      vi.useRealTimers();
      await Promise.all(others.map((other) => other.end()));
      await pool.end();
      await limited.drop();
    }
  });

  it('gives a write up at once where it holds no session, for the journal to take its reports', async () => {
    const limited = await limitedRole(1);
    const pool = new pg.Pool({ connectionString: limited.url, max: 4 });
    shareSessions(pool);
    const others = await takeEverySessionLeft(limited.url);
    try {
      const startedAt = performance.now();
      await expect(connectUnderSessionLimit(pool, startedAt + 5_000, 'give up')).rejects.toMatchObject({ code: '53300' });
      expect(performance.now() - startedAt).toBeLessThan(SESSION_RETRY_PAUSE_MS * 10);
    } finally {
      await Promise.all(others.map((other) => other.end()));
      await pool.end();
      await limited.drop();
    }
  });
});

interface LimitedRole {
  readonly role: string;
  /** The server's URL as the role, working in a schema of its own. */
  readonly url: string;
  /** How many messages the role's schema holds reports for. */
  readonly storedMessages: () => Promise<number>;
  readonly drop: () => Promise<void>;
}

/** A role the server lets open at most `sessions` sessions, with a schema of its own. */
async function limitedRole(sessions: number): Promise<LimitedRole> {
  const suffix = randomUUID().replaceAll('-', '');
  const [role, schema, password] = [`dlr_limited_${suffix}`, `dlr_limited_${suffix}`, randomUUID()];
  await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' CONNECTION LIMIT ${sessions}`);
  await adminQuery(`CREATE SCHEMA ${schema} AUTHORIZATION ${role}`);
  const url = new URL(serverUrl ?? '');
  url.username = role;
  url.password = password;
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    role,
    url: url.href,
    storedMessages: async () => {
      const client = new pg.Client({ connectionString: serverUrl ?? undefined });
      await client.connect();
      try {
        const { rows } = await client.query<{ stored: number }>(`SELECT count(DISTINCT message_id)::int AS stored FROM ${schema}.reports`);
        return rows[0]?.stored ?? 0;
      } finally {
        await client.end();
      }
    },
    drop: async () => {
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
      await adminQuery(`DROP ROLE ${role}`);
    },
  };
}

/** Ends the other client's sessions, stops the receiver, and drops the role with its schema. */
async function tearDown(limited: LimitedRole, receiver: Launched, others: readonly pg.Client[] = []): Promise<void> {
  await Promise.all(others.map((other) => other.end().catch(() => undefined)));
  receiver.child.kill('SIGTERM');
  await receiver.exited;
  await limited.drop();
}

/** Connections as another client of the same user, opened until the server refuses one (or `most` are open). */
async function takeEverySessionLeft(url: string, most = 20): Promise<pg.Client[]> {
  const taken: pg.Client[] = [];
  while (taken.length < most) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
    } catch (error) {
      if (errorCode(error) === '53300') break;
      throw error;
    }
    taken.push(client);
  }
  return taken;
}
