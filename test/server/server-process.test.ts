/**
 * The receiver as users run it: the built server in its own process, over real HTTP. `npm test`
 * builds first (pretest), so dist/ is current.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { storeReports } from '../../src/storage/write-reports.js';
import type { ProcessDatabase } from '../helpers/database.js';
import { adminQuery, createProcessDatabase, serverUrl } from '../helpers/database.js';
import { mountOverlay, mountTmpfs, mountsTmpfs, unmount } from '../helpers/mounts.js';
import { reportToStore } from '../helpers/reports.js';
import { freePort, launchReceiver, postReport, sleep, startReceiver, waitFor } from '../helpers/receiver-process.js';

let database: ProcessDatabase;
// The data folder holds the journal on either database, and the embedded database itself.
const dataDir = mkdtempSync(join(tmpdir(), 'dlr-server-'));

beforeAll(async () => {
  database = await createProcessDatabase();
});
afterAll(() => database.drop());

const launch = (env: Record<string, string>) => launchReceiver({ ...database.env, DATA_DIR: dataDir, ...env });
const start = () => startReceiver({ ...database.env, DATA_DIR: dataDir, DLR_ACK_BODY: 'THANKS' });
const MIGRATE_CLI = join(import.meta.dirname, '../../dist/src/storage/migrate-cli.js');

describe('the server process', () => {
  it('stops at start with a message naming a bad variable', async () => {
    const launched = launch({ PORT: '99999' });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain('PORT: "99999" is not a port');
  });

  it('stops at start naming PORT when another process listens there, and gives the data folder up', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const address = other.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const launched = launch({ PORT: String(port), HOST: '127.0.0.1' });
      expect(await launched.exited).toBe(1);
      expect(launched.output()).toContain(`could not start the receiver: PORT ${String(port)} on HOST 127.0.0.1 is in use by another process`);
      expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);
    } finally {
      other.close();
    }
  });

  it('stops at start naming .env when it cannot read that file, without a stack trace', async () => {
    const workingFolder = mkdtempSync(join(tmpdir(), 'dlr-cwd-'));
    mkdirSync(join(workingFolder, '.env'));
    const launched = launchReceiver({ ...database.env, DATA_DIR: join(workingFolder, 'data') }, { cwd: workingFolder });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain('invalid configuration:\n  .env: cannot read it: EISDIR');
    expect(launched.output()).not.toContain('    at ');
    const migrate = spawnSync(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '' }, cwd: workingFolder, encoding: 'utf8' });
    expect(migrate.status).toBe(1);
    expect(migrate.stderr).toMatch(/^invalid configuration:\n {2}\.env: cannot read it: EISDIR[^\n]*\n$/);
    expect(readdirSync(workingFolder)).toEqual(['.env']);
    rmSync(workingFolder, { recursive: true });
  });

  it('refuses a DATA_DIR in memory, whose reports a restart would lose, before it creates anything', async () => {
    const workingFolder = mkdtempSync(join(tmpdir(), 'dlr-cwd-'));
    const launched = launchReceiver({ ...database.env, DATA_DIR: 'memory://' }, { cwd: workingFolder });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain('DATA_DIR: "memory://" would keep the database in memory');
    const migrate = spawnSync(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '', DATA_DIR: 'memory://' }, cwd: workingFolder, encoding: 'utf8' });
    expect(migrate.status).toBe(1);
    expect(migrate.stderr).toBe('invalid configuration:\n  DATA_DIR: "memory://" would keep the database in memory and lose every acknowledged report when the receiver stops; name a folder\n');
    // Not even the journal's folder (it used to appear as ./memory:/journal).
    expect(readdirSync(workingFolder)).toEqual([]);
    rmSync(workingFolder, { recursive: true });
  });

  it('says which names in .env and of its own in the environment it does not read, as a misspelt DATABASE_URL, and leaves those Docker Compose reads alone', async () => {
    const workingFolder = mkdtempSync(join(tmpdir(), 'dlr-cwd-'));
    writeFileSync(join(workingFolder, '.env'), 'DATABSE_URL=postgres://dlr@db/dlr\nPOSTGRES_PASSWORD=pw\nCOMPOSE_PROJECT_NAME=dlr\nDLR_ACK_BODY=THANKS\n');
    const receiver = await startReceiver({ ...database.env, DATA_DIR: dataDir, DLR_ACK: 'THANKS' }, { cwd: workingFolder });
    try {
      const warnings = receiver.output().split('\n').filter((line) => line.includes('which the receiver does not read'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({
        level: 40,
        names: ['DATABSE_URL', 'DLR_ACK'],
        msg: '.env sets DATABSE_URL and the environment sets DLR_ACK, which the receiver does not read: check the spelling against .env.example',
      });
    } finally {
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
    const migrate = spawnSync(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '', ...database.env, DATA_DIR: dataDir }, cwd: workingFolder, encoding: 'utf8' });
    expect(migrate.status).toBe(0);
    expect(migrate.stderr).toBe('.env sets DATABSE_URL, which the receiver does not read: check the spelling against .env.example\n');
    rmSync(workingFolder, { recursive: true });
  });

  it('stops at start naming the hosts of a DATABASE_URL written for a high-availability cluster, without its password', async () => {
    const launched = launch({ DATABASE_URL: 'postgres://dlr:secret-pw@db1.internal:5432,db2.internal:5432/dlr?target_session_attrs=read-write' });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain('DATABASE_URL: names 2 hosts (db1.internal:5432, db2.internal:5432), and the PostgreSQL driver connects to one: name the primary');
    expect(launched.output()).not.toContain('secret-pw');
  });

  it.runIf(serverUrl !== null)('says at start which of libpq\'s parameters in DATABASE_URL the driver leaves aside, and takes reports', async () => {
    const url = new URL(database.env.DATABASE_URL ?? '');
    url.searchParams.set('target_session_attrs', 'read-write');
    url.searchParams.set('connect_timeout', '10');
    url.searchParams.set('client_encoding', 'LATIN1');
    url.searchParams.set('binary', 'true');
    const receiver = await startReceiver({ ...database.env, DATABASE_URL: url.toString(), DATA_DIR: dataDir });
    try {
      const warnings = receiver.output().split('\n').filter((line) => line.includes('which the PostgreSQL driver does not act on'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({
        level: 40,
        names: ['target_session_attrs', 'connect_timeout', 'client_encoding', 'binary'],
      });
      expect(warnings[0]).toContain('connect_timeout: the receiver gives each connection 5 seconds');
      expect(await postReport(receiver.base, 'libpq-parameters')).toBe(200);
      // As the warning says, the rows are still read as text: the message reads back whole.
      const response = await fetch(`${receiver.base}/messages/libpq-parameters`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ refId: 'ref-libpq-parameters', resultCode: 1001 });
    } finally {
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
  });

  it('says that it keeps reports in its embedded database when the environment names a server as for psql, without DATABASE_URL', async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), 'dlr-libpq-'));
    const env = { DATA_DIR: ownDataDir, PGHOST: 'db.internal', PGDATABASE: 'dlr', PGPASSWORD: 'secret-pw' };
    const said = 'the environment sets PGHOST, PGDATABASE but not DATABASE_URL: the receiver keeps reports in its embedded database under DATA_DIR';
    const receiver = await startReceiver(env);
    try {
      const warnings = receiver.output().split('\n').filter((line) => line.includes('but not DATABASE_URL'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 40, names: ['PGHOST', 'PGDATABASE'] });
      expect(warnings[0]).toContain(said);
      expect(receiver.output()).not.toContain('secret-pw');
    } finally {
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
    const migrate = spawnSync(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    expect(migrate.status).toBe(0);
    expect(migrate.stderr).toContain(said);
    rmSync(ownDataDir, { recursive: true });
  });

  it.runIf(mountsTmpfs())('warns at start when DATA_DIR is on tmpfs or on a container layer\'s overlay, which the machine\'s restart or the container\'s removal loses', async () => {
    const cases = [
      { mount: mountTmpfs, fileSystem: 'tmpfs', said: 'a file system held in memory', instead: 'put DATA_DIR on a disk' },
      { mount: mountOverlay, fileSystem: 'overlay', said: "most likely a container's own writable layer", instead: 'mount a volume there' },
    ];
    for (const { mount, fileSystem, said, instead } of cases) {
      const folder = mkdtempSync(join(tmpdir(), `dlr-${fileSystem}-data-`));
      expect(mount(folder)).toBe(true);
      try {
        const receiver = await startReceiver({ ...database.env, DATA_DIR: folder });
        try {
          const warnings = receiver.output().split('\n').filter((line) => line.includes(`DATA_DIR is on ${fileSystem}`));
          expect(warnings).toHaveLength(1);
          expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 40, dataDir: folder, fileSystem });
          expect(warnings[0]).toContain(said);
          expect(warnings[0]).toContain(instead);
        } finally {
          receiver.child.kill('SIGTERM');
          expect(await receiver.exited).toBe(0);
        }
      } finally {
        unmount(folder);
      }
    }
    // On a disk, no such line.
    const onDisk = await startReceiver({ ...database.env, DATA_DIR: dataDir });
    onDisk.child.kill('SIGTERM');
    expect(await onDisk.exited).toBe(0);
    expect(onDisk.output()).not.toContain('DATA_DIR is on');
  });

  it('takes a report over HTTP, answers only after storing it, keeps it across a restart, and stops cleanly', async () => {
    const first = await start();
    const report = { refId: 'order-17', id: 'process-1$0', resultCode: 1001, segments: 1, timestamp: '2015-11-19T09:37:00Z' };
    const posted = await fetch(`${first.base}/dlr`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) });
    expect(posted.status).toBe(200);
    expect(await posted.text()).toBe('THANKS');
    const ready = await fetch(`${first.base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'up', smpp: 'disabled', storingTo: 'database', journalReports: 0 });

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).not.toContain('order-17');
    // A clean stop gives the data folder up.
    expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);

    const second = await start();
    try {
      const message = await fetch(`${second.base}/messages/process-1`);
      expect(message.status).toBe(200);
      expect(await message.json()).toMatchObject({ messageId: 'process-1', refId: 'order-17', status: 'delivered', final: true });
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('deletes at start, with RETENTION_DAYS, the messages whose newest report is older, and keeps the rest', async () => {
    const stored = openDatabase({ databaseUrl: database.env.DATABASE_URL ?? null, dataDir });
    try {
      await migrateToLatest(stored.db);
      const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 60 * 60 * 1000);
      await storeReports(stored.writeTransaction, [
        { ...reportToStore('kept-for-30-days-old'), receivedAt: daysAgo(31) },
        { ...reportToStore('kept-for-30-days-new'), receivedAt: daysAgo(29) },
      ]);
    } finally {
      await stored.close();
    }
    const receiver = await startReceiver({ ...database.env, DATA_DIR: dataDir, RETENTION_DAYS: '30' });
    try {
      await waitFor('the old message to go', async () => (await fetch(`${receiver.base}/messages/kept-for-30-days-old`)).status === 404);
      expect((await fetch(`${receiver.base}/messages/kept-for-30-days-new`)).status).toBe(200);
      expect(receiver.output()).toContain('keeping each message 30 days after its newest report (RETENTION_DAYS): older ones are deleted now and every hour');
      // The line is written once the deletion is committed, so a lookup can see the message gone before it arrives.
      await waitFor('the deletion to be logged', () => Promise.resolve(receiver.output().includes('"messages":1,"reports":1')));
      expect(receiver.output()).toContain('deleted the messages whose newest report is older than RETENTION_DAYS (30)');
    } finally {
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
  });

  it('heeds a stop signal that comes while it opens its database: exit 0, the data folder given up', async () => {
    const first = await start();
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = launch({ PORT: String(await freePort()), HOST: '127.0.0.1' });
    // It listens before it opens the database. Opening the embedded one keeps the event loop busy
    // for about a second, from a few hundred milliseconds in: a signal then is caught but waits.
    await waitFor('the receiver to listen', () => Promise.resolve(second.output().includes('Server listening')));
    await sleep(300);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(/"msg":"stopping( at start, before taking any report)?"/);
    expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);
  });

  it.runIf(serverUrl !== null)('heeds a stop signal that comes after the migrations, while it asks the server what it allows: exit 0', async () => {
    // A pg_is_in_recovery() of the test's own, found before pg_catalog's, holds the start for three
    // seconds after "database ready", where the server is asked whether it takes writes.
    const schema = `test_${randomUUID().replaceAll('-', '')}`;
    await adminQuery(`CREATE SCHEMA ${schema}`);
    await adminQuery(`CREATE FUNCTION ${schema}.pg_is_in_recovery() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN false; END $$`);
    const url = new URL(serverUrl ?? '');
    url.searchParams.set('options', `-c search_path=${schema},pg_catalog`);
    const ownDataDir = mkdtempSync(join(tmpdir(), 'dlr-late-stop-'));
    const launched = launchReceiver({ DATABASE_URL: url.toString(), DATA_DIR: ownDataDir, PORT: String(await freePort()), HOST: '127.0.0.1' });
    try {
      await waitFor('the database to be ready', () => Promise.resolve(launched.output().includes('database ready')));
      launched.child.kill('SIGTERM');
      expect(await Promise.race([launched.exited, sleep(10_000).then(() => 'still running')]), launched.output()).toBe(0);
      expect(launched.output()).toContain('"msg":"stopping at start, before taking any report"');
      expect(launched.output()).not.toContain('"msg":"taking reports"');
      expect(existsSync(join(ownDataDir, 'journal', 'owner'))).toBe(false);
    } finally {
      launched.child.kill('SIGKILL');
      await launched.exited;
      await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
      rmSync(ownDataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start in a DATA_DIR another receiver is using, before it opens the database there', async () => {
    const first = await start();
    try {
      const second = launch({ PORT: String(await freePort()), HOST: '127.0.0.1' });
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(`is in use by process ${String(first.child.pid)}; give each receiver its own DATA_DIR`);
      // The embedded database lives in DATA_DIR: the second receiver must not have opened it.
      expect(second.output()).not.toContain('database ready');
      const posted = await fetch(`${first.base}/dlr`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"after-second","resultCode":1001}' });
      expect(posted.status).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    }
  });

  it('lets one of two receivers started at once on a new DATA_DIR run, and stops the other before it opens the database', async () => {
    const newDataDir = join(mkdtempSync(join(tmpdir(), 'dlr-twins-')), 'data');
    const ports = [await freePort(), await freePort()];
    const twins = ports.map((port) => launch({ DATA_DIR: newDataDir, PORT: String(port), HOST: '127.0.0.1', DLR_ALLOWED_IPS: '127.0.0.1' }));
    const stoppedIndex = await Promise.race(twins.map(async (launched, index) => { await launched.exited; return index; }));
    const stopped = twins[stoppedIndex];
    const running = twins[1 - stoppedIndex];
    if (stopped === undefined || running === undefined) throw new Error('two receivers were launched');
    expect(await stopped.exited, stopped.output()).toBe(1);
    expect(stopped.output()).toContain(`is in use by process ${String(running.child.pid)}; give each receiver its own DATA_DIR`);
    expect(stopped.output()).not.toContain('database ready');
    const base = `http://127.0.0.1:${String(ports[1 - stoppedIndex])}`;
    try {
      await waitFor('the other receiver to be ready', () => fetch(`${base}/readyz`).then((response) => response.ok, () => false));
      expect(await postReport(base, 'twin')).toBe(200);
    } finally {
      running.child.kill('SIGTERM');
      expect(await running.exited, running.output()).toBe(0);
    }
  });

  it.runIf(serverUrl === null)('`npm run migrate` refuses the embedded database while a receiver has it open, and migrates it after', async () => {
    const migrate = () => spawnSync(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir }, encoding: 'utf8' });
    const receiver = await start();
    const refused = migrate();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`is in use by process ${String(receiver.child.pid)}; give each receiver its own DATA_DIR: stop it before migrating`);
    receiver.child.kill('SIGTERM');
    expect(await receiver.exited).toBe(0);

    const migrated = migrate();
    expect(migrated.status, migrated.stderr).toBe(0);
    expect(migrated.stdout).toBe('schema is up to date\n');
    // Its claim is given up: the folder is not left marked as in use.
    expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);
  });

  it.runIf(serverUrl === null)('stops when the disk fails the embedded database, without acknowledging, and recovers on restart', async () => {
    const ownDataDir = mkdtempSync(join(tmpdir(), 'dlr-disk-'));
    // While this file exists, every fsync the embedded database asks for fails as a failing disk's would.
    const failing = `${ownDataDir}-failing`;
    const preload = join(mkdtempSync(join(tmpdir(), 'dlr-preload-')), 'failing-fsync.mjs');
    writeFileSync(preload, [
      "import fs from 'node:fs';",
      "import { syncBuiltinESMExports } from 'node:module';",
      'const fsyncSync = fs.fsyncSync;',
      'fs.fsyncSync = (descriptor) => {',
      `  if (fs.existsSync(${JSON.stringify(failing)})) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });`,
      '  return fsyncSync(descriptor);',
      '};',
      'syncBuiltinESMExports();',
    ].join('\n'));
    const env = { ...database.env, DATA_DIR: ownDataDir };
    const failingReceiver = await startReceiver({ ...env, NODE_OPTIONS: `--import=${preload}` });
    expect(await postReport(failingReceiver.base, 'before-failure')).toBe(200);

    writeFileSync(failing, '');
    const during = postReport(failingReceiver.base, 'during-failure');
    const exited = await Promise.race([failingReceiver.exited, sleep(20_000).then(() => 'still running')]);
    expect(exited, failingReceiver.output()).toBe(1);
    expect(await during).not.toBe(200);
    expect(failingReceiver.output()).toContain('the disk failed the embedded database: stopping');
    expect(failingReceiver.output()).toContain('/pg_wal/');

    rmSync(failing);
    const restarted = await startReceiver(env);
    try {
      expect((await fetch(`${restarted.base}/messages/before-failure`)).status).toBe(200);
      // LINK sends again what was not acknowledged.
      expect(await postReport(restarted.base, 'during-failure')).toBe(200);
      expect((await fetch(`${restarted.base}/messages/during-failure`)).status).toBe(200);
    } finally {
      restarted.child.kill('SIGTERM');
      expect(await restarted.exited).toBe(0);
    }
  });

  // Ctrl-C in a terminal, and the terminal closing: a clean stop too, not a kill.
  it.each(['SIGINT', 'SIGHUP'] as const)('stops cleanly on %s and says so', async (signal) => {
    const receiver = await start();
    receiver.child.kill(signal);
    expect(await receiver.exited).toBe(0);
    expect(receiver.output()).toContain(`"signal":"${signal}"`);
  });
});
