/**
 * The receiver behind PgBouncer in transaction mode, as hosted servers' "pooled" addresses often
 * are: one server session serves several of the receiver's connections in turn, so what one
 * connection prepared another meets. Lookups must still answer, every acknowledged report must be
 * stored, and the log must say once what stands in the way. Runs where PgBouncer is installed,
 * in the suite run on the PostgreSQL server.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminQuery, serverUrl } from '../helpers/database.js';
import type { RunningReceiver } from '../helpers/receiver-process.js';
import { freePort, sleep, startReceiver, startSending, waitFor } from '../helpers/receiver-process.js';

const PGBOUNCER = '/usr/sbin/pgbouncer';
const runnable = serverUrl !== null && existsSync(PGBOUNCER) && process.getuid?.() === 0;
const database = `dlr_pooler_${process.pid}`;
const folder = mkdtempSync(join(tmpdir(), 'dlr-pgbouncer-'));
let pooledUrl = '';

/** PgBouncer in transaction mode before the test server, as the postgres user (it refuses root). */
async function startPgBouncer(): Promise<void> {
  chmodSync(folder, 0o777);
  const server = new URL(serverUrl ?? '');
  const port = await freePort();
  writeFileSync(join(folder, 'users.txt'), `"${server.username}" ""\n`);
  writeFileSync(
    join(folder, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = host=${server.hostname} port=${server.port || '5432'} dbname=${database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(folder, 'users.txt')}`,
      'pool_mode = transaction',
      'default_pool_size = 20',
      `pidfile = ${join(folder, 'pgbouncer.pid')}`,
      `logfile = ${join(folder, 'pgbouncer.log')}`,
    ].join('\n'),
  );
  execFileSync('runuser', ['-u', 'postgres', '--', PGBOUNCER, '-d', join(folder, 'pgbouncer.ini')], { stdio: 'pipe' });
  pooledUrl = `postgres://${server.username}@127.0.0.1:${port}/${database}`;
  await waitFor('PgBouncer to take connections', async () => {
    const client = new pg.Client({ connectionString: pooledUrl });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      return false;
    }
  }, 10_000);
}

beforeAll(async () => {
  if (!runnable) return;
  await adminQuery(`CREATE DATABASE ${database}`);
  await startPgBouncer();
}, 60_000);
afterAll(async () => {
  const pidFile = join(folder, 'pgbouncer.pid');
  if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
  if (runnable) {
    await sleep(500);
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
  rmSync(folder, { recursive: true, force: true });
});

/** Reports in the database, counted past the pooler. */
async function storedIds(prefix: string): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: pooledUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ message_id: string }>('SELECT message_id FROM reports WHERE message_id LIKE $1', [`${prefix}-%`]);
    return new Set(rows.map((row) => row.message_id));
  } finally {
    await client.end();
  }
}

/** Looks up the acknowledged messages from `readers` loops; the statuses answered, counted. */
async function lookUpWhileSending(receiver: RunningReceiver, acknowledged: () => readonly string[], until: () => boolean, readers = 4): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  const reader = async (number: number) => {
    for (let index = number; !until(); index += readers) {
      const ids = acknowledged();
      const id = ids[index % Math.max(ids.length, 1)];
      if (id === undefined) {
        await sleep(10);
        continue;
      }
      // postReport's refId is `ref-` and the message's id.
      const path = index % 2 === 0 ? `/messages?refId=ref-${id}` : `/messages/${id}`;
      const response = await fetch(`${receiver.base}${path}`);
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: readers }, (_, number) => reader(number)));
  return statuses;
}

describe.skipIf(!runnable)('behind PgBouncer in transaction mode', () => {
  it('answers every lookup, stores every acknowledged report, and says once that the pooler shares sessions', async () => {
    const receiver = await startReceiver({ DATABASE_URL: pooledUrl, DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-pooled-')) });
    try {
      const sender = startSending(() => receiver.base, 'pooled', 20);
      let sending = true;
      const lookups = lookUpWhileSending(receiver, () => sender.tally().acknowledged, () => !sending);
      await sleep(3_000);
      sending = false;
      const tally = await sender.stop();
      const statuses = await lookups;

      expect(tally.refused).toEqual({});
      expect(Object.keys(statuses)).toEqual(['200']);
      // Writes that met another connection's statements wait in the journal, which stores them.
      await waitFor('the journal to be stored', async () => {
        const ready = (await (await fetch(`${receiver.base}/readyz`)).json()) as { journalReports: number };
        return ready.journalReports === 0;
      }, 20_000);
      const stored = await storedIds('pooled');
      expect(tally.acknowledged.filter((id) => !stored.has(id))).toEqual([]);
      const warnings = receiver.output().split('\n').filter((line) => line.includes('given one PostgreSQL session'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('use session pooling, or connect to PostgreSQL directly');
    } finally {
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
  });
});
