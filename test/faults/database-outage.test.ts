/**
 * PostgreSQL goes away while reports arrive: the receiver keeps acknowledging valid reports from
 * its local journal and stores every one of them, once, when the database is back, even if the
 * receiver itself is killed in the middle of that replay. Meanwhile the query API answers `503`. A
 * receiver started while PostgreSQL is down waits for it. Runs against a PostgreSQL server this test
 * starts itself (so stopping it disturbs nobody), in the suite run on the PostgreSQL server.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverUrl } from '../helpers/database.js';
import type { OwnPostgres } from '../helpers/own-postgres.js';
import { postgresBinaries, startOwnPostgres } from '../helpers/own-postgres.js';
import type { RunningReceiver } from '../helpers/receiver-process.js';
import { freePort, launchReceiver, missingMessages, postReport, readiness, sleep, startReceiver, startSending, waitFor } from '../helpers/receiver-process.js';

const MIGRATE_CLI = join(import.meta.dirname, '../../dist/src/storage/migrate-cli.js');

const binaries = postgresBinaries();
let own: OwnPostgres | undefined;

beforeAll(async () => {
  if (binaries !== null && serverUrl !== null) own = await startOwnPostgres(binaries);
}, 120_000);
afterAll(() => {
  own?.remove();
});

const postgres = {
  get url() { return started().url; },
  stop: (mode: 'fast' | 'immediate') => { started().stop(mode); },
  start: () => { started().start(); },
};

function started(): OwnPostgres {
  if (own === undefined) throw new Error('the test PostgreSQL did not start');
  return own;
}

async function storedReports(): Promise<{ reports: number; distinct: number }> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ reports: string; distinct: string }>(
      'SELECT count(*) AS reports, count(DISTINCT report_id) AS "distinct" FROM reports',
    );
    return { reports: Number(rows[0]?.reports), distinct: Number(rows[0]?.distinct) };
  } finally {
    await client.end();
  }
}

function receiverEnv(dataDir: string): Record<string, string> {
  return { DATABASE_URL: postgres.url, DATA_DIR: dataDir, JOURNAL_RETRY_MS: '100' };
}

async function stopReceiver(receiver: RunningReceiver): Promise<void> {
  receiver.child.kill('SIGTERM');
  expect(await receiver.exited).toBe(0);
}

const journalEmpty = (receiver: RunningReceiver) => async () => {
  const ready = await readiness(receiver.base);
  return ready?.status === 'ready' && ready.storingTo === 'database' && ready.journalReports === 0;
};

describe.skipIf(serverUrl === null || binaries === null)('a PostgreSQL outage', () => {
  it('is bridged by the journal: every report acknowledged during it is stored once the database is back', async () => {
    const receiver = await startReceiver(receiverEnv(mkdtempSync(join(tmpdir(), 'dlr-outage-'))));
    const sender = startSending(() => receiver.base, 'outage');
    try {
      await waitFor('reports before the outage', async () => sender.tally().acknowledged.length >= 200);
      postgres.stop('immediate');
      const beforeOutage = sender.tally().acknowledged.length;
      await waitFor('reports during the outage', async () => sender.tally().acknowledged.length >= beforeOutage + 500);
      const during = await fetch(`${receiver.base}/readyz`);
      expect(during.status).toBe(503);
      expect(await during.json()).toMatchObject({ database: 'down', storingTo: 'journal' });
      // The query API cannot answer meanwhile, and says why, as a condition to retry.
      for (const path of ['/messages/outage-1', '/messages?refId=outage', '/messages/outage-2', '/messages?status=failed']) {
        const lookup = await fetch(`${receiver.base}${path}`);
        expect(lookup.status, path).toBe(503);
        expect(await lookup.json(), path).toEqual({ error: 'Service Unavailable', message: 'the database is unavailable; try again shortly' });
      }
      // One warning for the lookups of the outage's first seconds, not one per lookup.
      expect(receiver.output().split('lookups are answered 503')).toHaveLength(2);

      postgres.start();
      await waitFor('the journal to be stored', journalEmpty(receiver));
      const afterOutage = sender.tally().acknowledged.length;
      await waitFor('reports after the outage', async () => sender.tally().acknowledged.length >= afterOutage + 200);
    } finally {
      await sender.stop();
    }
    const tally = sender.tally();
    const missing = await missingMessages(receiver.base, tally.acknowledged);
    const stored = await storedReports();
    console.info(`outage: sent ${tally.sent}, acknowledged ${tally.acknowledged.length}, refused ${JSON.stringify(tally.refused)}, stored ${stored.reports}, lost ${missing.length}`);
    expect(tally.refused).toEqual({});
    expect(missing).toEqual([]);
    expect(stored).toEqual({ reports: tally.acknowledged.length, distinct: tally.acknowledged.length });
    expect(receiver.output()).toContain('keeping them in the local journal');
    expect(receiver.output()).toContain('storing reports directly again');
    await stopReceiver(receiver);
  }, 120_000);

  it('is bridged by the journal when the database takes writes and never ends them: a synchronous standby that is gone', async () => {
    const receiver = await startReceiver({ ...receiverEnv(mkdtempSync(join(tmpdir(), 'dlr-standby-gone-'))), WRITE_TIMEOUT_MS: '500' });
    const before = await storedReports();
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    const requireStandby = async (name: string | null) => {
      await admin.query(name === null ? 'ALTER SYSTEM RESET synchronous_standby_names' : `ALTER SYSTEM SET synchronous_standby_names = '${name}'`);
      await admin.query('SELECT pg_reload_conf()');
    };
    const sender = startSending(() => receiver.base, 'standby-gone');
    let standbyRequired = false;
    try {
      await waitFor('reports before', async () => sender.tally().acknowledged.length >= 100);
      // From here every commit waits for a standby that never answers, as when a synchronous
      // replica is lost: nothing fails, nothing ends.
      await requireStandby('gone');
      standbyRequired = true;
      const beforeStandbyGone = sender.tally().acknowledged.length;
      await waitFor('reports while no commit ends', async () => sender.tally().acknowledged.length >= beforeStandbyGone + 300);
      await sleep(4_000);
      // Each write given up on is cancelled at the server; left alone, each would wait there for good,
      // one more every half second.
      // (Waiting for the standby, or for the row locks of a commit that waits for it.)
      const { rows } = await admin.query<{ waiting: string }>(
        "SELECT count(*) AS waiting FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()",
      );
      expect(Number(rows[0]?.waiting)).toBeLessThanOrEqual(5);
      expect(receiver.output()).toContain('the database did not finish a write within 500 ms');
      // A refused request is kept without waiting for the standby: each is answered at once, and the
      // query API keeps its connections (ten refusals waiting for good took them all).
      for (let index = 0; index < 12; index++) {
        const refused = await fetch(`${receiver.base}/dlr`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: `{"resultCode":1001,"refId":"refused-${index}"}`,
          signal: AbortSignal.timeout(3_000),
        });
        expect(refused.status).toBe(400);
      }
      expect((await fetch(`${receiver.base}/readyz`)).status).toBe(200);
      const kept = (await (await fetch(`${receiver.base}/rejected?limit=12`)).json()) as { rejected: Array<{ body: string }> };
      expect(kept.rejected.map((each) => each.body)).toContain('{"resultCode":1001,"refId":"refused-0"}');

      await requireStandby(null);
      standbyRequired = false;
      await waitFor('the journal to be stored', journalEmpty(receiver));
    } finally {
      await sender.stop();
      if (standbyRequired) await requireStandby(null);
      await admin.end();
    }
    const tally = sender.tally();
    const missing = await missingMessages(receiver.base, tally.acknowledged);
    const stored = await storedReports();
    console.info(`standby gone: sent ${tally.sent}, acknowledged ${tally.acknowledged.length}, refused ${JSON.stringify(tally.refused)}, stored ${stored.reports - before.reports}, lost ${missing.length}`);
    expect(tally.refused).toEqual({});
    expect(missing).toEqual([]);
    expect(stored.reports - before.reports).toBe(tally.acknowledged.length);
    expect(stored.distinct).toBe(stored.reports);
    await stopReceiver(receiver);
  }, 120_000);

  it('stops cleanly on SIGTERM while the database takes writes and never ends them, answering what it took', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-standby-stop-'));
    const env = { ...receiverEnv(dataDir), WRITE_TIMEOUT_MS: '3000' };
    const receiver = await startReceiver(env);
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'gone'");
      await admin.query('SELECT pg_reload_conf()');
      const ids = ['standby-stop-1', 'standby-stop-2', 'standby-stop-3'];
      const answers = Promise.all(ids.map((id) => postReport(receiver.base, id)));
      await sleep(500);
      const signalled = Date.now();
      receiver.child.kill('SIGTERM');
      // Each report is answered from the journal once its write is given up on, and the stop does
      // not then wait for a replay that the database would hold up as long again.
      expect(await answers).toEqual([200, 200, 200]);
      expect(await receiver.exited, receiver.output()).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(receiver.output()).not.toContain('killed by timeout');
    } finally {
      await admin.query('ALTER SYSTEM RESET synchronous_standby_names');
      await admin.query('SELECT pg_reload_conf()');
      await admin.end();
    }
    // The next start stores what the journal kept.
    const next = await startReceiver(env);
    await waitFor('the journal to be stored', journalEmpty(next));
    expect(await missingMessages(next.base, ['standby-stop-1$1', 'standby-stop-2$1', 'standby-stop-3$1'])).toEqual([]);
    await stopReceiver(next);
  }, 60_000);

  it('survives the receiver being killed in the middle of replaying its journal', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-replay-crash-'));
    const before = await storedReports();
    const first = await startReceiver(receiverEnv(dataDir));
    postgres.stop('fast');
    const sender = startSending(() => first.base, 'replay-crash', 16);
    await waitFor('a deep journal', async () => sender.tally().acknowledged.length >= 3000);
    const tally = await sender.stop();
    first.child.kill('SIGKILL');
    await first.exited;

    postgres.start();
    const second = await startReceiver(receiverEnv(dataDir));
    // Kill it as soon as the replay has visibly begun and not ended.
    let seenMidway = false;
    await waitFor('the replay to begin', async () => {
      const ready = await readiness(second.base);
      seenMidway = ready !== null && ready.journalReports > 0 && ready.journalReports < tally.acknowledged.length;
      return ready === null || ready.journalReports < tally.acknowledged.length;
    }, 30_000);
    second.child.kill('SIGKILL');
    await second.exited;

    const third = await startReceiver(receiverEnv(dataDir));
    await waitFor('the journal to be stored', journalEmpty(third));
    const missing = await missingMessages(third.base, tally.acknowledged);
    const stored = await storedReports();
    console.info(`replay crash: acknowledged ${tally.acknowledged.length} into the journal, killed midway: ${seenMidway}, stored ${stored.reports - before.reports}, lost ${missing.length}`);
    expect(missing).toEqual([]);
    expect(stored.reports - before.reports).toBe(tally.acknowledged.length);
    expect(stored.distinct).toBe(stored.reports);
    await stopReceiver(third);
  }, 180_000);

  it('is waited out at start: a receiver started before its database answers its health checks meanwhile, and takes reports once the database answers', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-start-wait-'));
    postgres.stop('fast');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const receiver = launchReceiver({ ...receiverEnv(dataDir), PORT: String(port), HOST: '127.0.0.1', DLR_ALLOWED_IPS: '127.0.0.1' });
    let databaseDown = true;
    try {
      await waitFor('the receiver to say it waits', async () => receiver.output().includes('the database is not answering: waiting for it'));
      await sleep(1_500);
      // It has not given up; it says it runs, and is not ready. A report gets 503: LINK keeps it and
      // sends it again.
      expect(receiver.child.exitCode).toBeNull();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const waiting = await fetch(`${base}/readyz`);
      expect(waiting.status).toBe(503);
      expect(await waiting.json()).toMatchObject({ status: 'starting', database: 'down' });
      expect(await postReport(base, 'start-wait-early')).toBe(503);
      postgres.start();
      databaseDown = false;
      await waitFor('the receiver to be ready', async () => (await readiness(base))?.status === 'ready');
      expect(await postReport(base, 'start-wait')).toBe(200);
      expect(await missingMessages(base, ['start-wait$1'])).toEqual([]);
      expect(await missingMessages(base, ['start-wait-early$1'])).toEqual(['start-wait-early$1']);
      // One warning, not one per attempt.
      expect(receiver.output().split('waiting for it before taking reports')).toHaveLength(2);
    } finally {
      if (databaseDown) postgres.start();
      receiver.child.kill('SIGTERM');
    }
    expect(await receiver.exited).toBe(0);
  }, 60_000);

  it('lets a stop signal end the wait for the database at start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-start-stop-'));
    postgres.stop('fast');
    try {
      const receiver = launchReceiver({ ...receiverEnv(dataDir), PORT: String(await freePort()), HOST: '127.0.0.1' });
      await waitFor('the receiver to say it waits', async () => receiver.output().includes('the database is not answering: waiting for it'));
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
      expect(receiver.output()).toContain('stopping at start, before taking any report');
      // Its claim on the data folder is given up.
      expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);
    } finally {
      postgres.start();
    }
  }, 60_000);

  it('takes no report while the migrations run, says what holds them up, and heeds a stop signal that comes meanwhile', async () => {
    // Kysely's migration lock, held here, keeps the receiver's migrations waiting.
    const MIGRATION_LOCK = '3853314791062309107';
    const holder = new pg.Client({ connectionString: postgres.url });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const receiver = launchReceiver({ ...receiverEnv(mkdtempSync(join(tmpdir(), 'dlr-stop-migrating-'))), PORT: String(port), HOST: '127.0.0.1', DLR_ALLOWED_IPS: '127.0.0.1' });
      await waitFor('the migrations to wait for the lock', async () => {
        const { rows } = await holder.query<{ waiting: string }>("SELECT count(*) AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
        return Number(rows[0]?.waiting) > 0;
      });
      // The database answers, but its schema is not ready: nothing is taken yet.
      await waitFor('the receiver to listen', async () => (await readiness(base)) !== null);
      expect(await readiness(base)).toMatchObject({ status: 'starting', database: 'up' });
      expect(await postReport(base, 'while-migrating')).toBe(503);
      const lookup = await fetch(`${base}/messages/while-migrating`);
      expect(lookup.status).toBe(503);
      expect(((await lookup.json()) as { message: string }).message).toContain('the receiver is starting');
      // Ten seconds in, a line names the session holding the lock.
      await waitFor('a line saying what holds the migrations up', () => Promise.resolve(receiver.output().includes('the migrations have not finished')), 20_000);
      const { rows: [holderSession] } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(receiver.output()).toContain(`waits for a lock held by session ${String(holderSession?.pid)}`);
      // The lock stays held: the migration's session is cancelled, not waited for.
      receiver.child.kill('SIGTERM');
      const exited = await Promise.race([receiver.exited, sleep(5_000).then(() => 'still running')]);
      receiver.child.kill('SIGKILL');
      expect(exited, receiver.output()).toBe(0);
      expect(receiver.output()).toContain('stopping at start, before taking any report');
      expect(receiver.output()).not.toContain('database ready');
      // The cancel is not mistaken for a database that is away.
      expect(receiver.output()).not.toContain('the database is not answering');
      const { rows } = await holder.query<{ waiting: string }>("SELECT count(*) AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      expect(Number(rows[0]?.waiting)).toBe(0);
    } finally {
      await holder.end();
    }
  }, 60_000);

  it('holds `npm run migrate` up with a line naming the lock, and a stop signal meanwhile leaves no session waiting at the server', async () => {
    const MIGRATION_LOCK = '3853314791062309107';
    const holder = new pg.Client({ connectionString: postgres.url });
    await holder.connect();
    const waitingForTheLock = async () => {
      const { rows } = await holder.query<{ waiting: string }>("SELECT count(*) AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
      return Number(rows[0]?.waiting);
    };
    try {
      await holder.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
      const migrate = spawn(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: postgres.url }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      migrate.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      migrate.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => migrate.once('close', (code) => { resolve(code); }));
      await waitFor('the migrations to wait for the lock', async () => (await waitingForTheLock()) > 0);
      await waitFor('a line saying what holds the migrations up', () => Promise.resolve(output.includes('the migrations have not finished')), 20_000);
      const { rows: [holderSession] } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(output).toMatch(new RegExp(`^the migrations have not finished after \\d+ s: session \\d+ waits for a lock held by session ${String(holderSession?.pid)} `));
      migrate.kill('SIGINT');
      const code = await Promise.race([exited, sleep(5_000).then(() => 'still running')]);
      migrate.kill('SIGKILL');
      expect(code, output).toBe(1);
      expect(output).toMatch(/stopped by a signal: nothing migrated\n$/);
      // Its session would otherwise wait for the lock after the command has gone.
      expect(await waitingForTheLock()).toBe(0);
    } finally {
      await holder.end();
    }
  }, 60_000);
});
