/**
 * A new embedded database is made in a process of its own, synced whole to the disk and renamed
 * into place, so that the receiver does not keep PGlite's creation in its memory and a start
 * stopped halfway leaves nothing half made. Memory and fsyncs are read from /proc, hence Linux only.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { embeddedFolder, openDatabase } from '../../src/storage/database.js';
import { EMBEDDED_POSTGRES_MAJOR } from '../../src/storage/embedded-creation.js';
import { openPglite } from '../../src/storage/embedded-open.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { createTestApp, deliveredReport, getMessage, postJson } from '../helpers/app.js';
import { mountTmpfs, mountsTmpfs, unmount } from '../helpers/mounts.js';
import type { RunningReceiver } from '../helpers/receiver-process.js';
import { freePort, launchReceiver, sleep, startReceiver } from '../helpers/receiver-process.js';
import { synced } from '../helpers/recorded-fsyncs.js';

vi.mock('node:fs', async (importOriginal) => (await import('../helpers/recorded-fsyncs.js')).withRecordedFsyncs(await importOriginal()));

const MIGRATE_CLI = join(import.meta.dirname, '../../dist/src/storage/migrate-cli.js');

function newDataDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'dlr-creation-')), 'data');
}

/** Resident memory of a process, in MiB. */
function residentMiB(pid: number | undefined): number {
  const line = readFileSync(`/proc/${String(pid)}/status`, 'utf8').split('\n').find((each) => each.startsWith('VmRSS:'));
  return Number(line?.match(/\d+/)?.[0] ?? Number.NaN) / 1024;
}

/**
 * The process that `pid` started to make a database, once there is one. It is started from the
 * database's thread, so it is looked for among the children of each of the process's threads.
 */
async function creatingProcess(pid: number | undefined): Promise<number> {
  const tasks = `/proc/${String(pid)}/task`;
  for (let attempt = 0; attempt < 200; attempt++) {
    const children = readdirSync(tasks).map((task) => readFileSync(join(tasks, task, 'children'), 'utf8').trim()).filter((each) => each !== '');
    const first = children[0];
    if (first !== undefined) return Number(first.split(' ')[0]);
    await sleep(50);
  }
  throw new Error('the receiver started no process to make its database');
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stop(receiver: RunningReceiver): Promise<void> {
  receiver.child.kill('SIGTERM');
  expect(await receiver.exited).toBe(0);
}

describe.runIf(process.platform === 'linux')('a new embedded database', () => {
  it('is announced in the log, and leaves the receiver that made it holding about the memory of one restarted on it', async () => {
    const env = { DATA_DIR: newDataDir() };
    const first = await startReceiver(env);
    expect(first.output()).toContain(`"folder":"${join(env.DATA_DIR, 'postgres')}","msg":"no embedded database yet: making one, which takes a few seconds"`);
    const madeIt = residentMiB(first.child.pid);
    await stop(first);
    const again = await startReceiver(env);
    const restarted = residentMiB(again.child.pid);
    await stop(again);
    expect(again.output()).not.toContain('no embedded database yet');
    // PGlite's creation, kept in the process, was 380-450 MiB more; made apart, 20-120.
    expect(madeIt - restarted).toBeLessThan(200);
  });

  it('is synced whole to the disk before it is moved into place and opened', async () => {
    const dataDir = newDataDir();
    synced.length = 0;
    // Opened as the receiver's database thread opens it, in this thread, where fsyncs are recorded.
    const pglite = openPglite({ dataDir, folder: embeddedFolder(dataDir) }, { onDiskFailure: (error) => { throw error; } });
    try {
      await pglite.waitReady;
    } finally {
      await pglite.close();
    }
    const folder = join(dataDir, 'postgres');
    const creating = join(folder, '.creating');
    for (const path of ['PG_VERSION', 'global/pg_control', 'base', '']) expect(synced).toContain(join(creating, path));
    // The moved names, in the database's folder, after the database's own files.
    expect(synced.lastIndexOf(folder)).toBeGreaterThan(synced.indexOf(join(creating, 'PG_VERSION')));
    expect(existsSync(creating)).toBe(false);
    expect(readFileSync(join(folder, 'PG_VERSION'), 'utf8').trim()).toBe(EMBEDDED_POSTGRES_MAJOR);
  });

  it('is made again after a start that stopped while making one, whose leftovers are removed', async () => {
    const dataDir = newDataDir();
    const folder = join(dataDir, 'postgres');
    mkdirSync(join(folder, '.creating', 'global'), { recursive: true });
    writeFileSync(join(folder, '.creating', 'global', 'half-written'), 'x');
    mkdirSync(join(folder, 'base'));
    writeFileSync(join(folder, 'base', 'moved-before-the-stop'), 'x');
    const database = openDatabase({ databaseUrl: null, dataDir });
    try {
      await migrateToLatest(database.db);
      const app = await createTestApp(database);
      expect((await postJson(app, deliveredReport({ id: 'after-a-stopped-start' }))).statusCode).toBe(200);
      expect((await getMessage(app, 'after-a-stopped-start')).status).toBe('delivered');
      await app.close();
    } finally {
      await database.close();
    }
    expect(existsSync(join(folder, '.creating'))).toBe(false);
    expect(existsSync(join(folder, 'base', 'moved-before-the-stop'))).toBe(false);
  });

  // A volume of its own under DATA_DIR; mounting one takes root, so elsewhere this is skipped.
  it.runIf(mountsTmpfs())('is made in a DATA_DIR/postgres that is a mount point, beside the lost+found of a new ext4 volume', async () => {
    const dataDir = newDataDir();
    const folder = join(dataDir, 'postgres');
    mkdirSync(folder, { recursive: true });
    expect(mountTmpfs(folder)).toBe(true);
    try {
      mkdirSync(join(folder, 'lost+found'));
      const database = openDatabase({ databaseUrl: null, dataDir });
      try {
        await migrateToLatest(database.db);
        const app = await createTestApp(database);
        expect((await postJson(app, deliveredReport({ id: 'on-a-volume' }))).statusCode).toBe(200);
        await app.close();
      } finally {
        await database.close();
      }
      expect(existsSync(join(folder, 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(folder, 'lost+found'))).toBe(true);
    } finally {
      unmount(folder);
    }
  });

  it('is abandoned by a stop signal: the making process is gone when the receiver exits 0, and the next start makes it again', async () => {
    const dataDir = newDataDir();
    const launched = launchReceiver({ DATA_DIR: dataDir, PORT: String(await freePort()), HOST: '127.0.0.1' });
    const making = await creatingProcess(launched.child.pid);
    launched.child.kill('SIGTERM');
    expect(await launched.exited).toBe(0);
    // Left running, it went on writing into the folder that the next start makes its database in.
    expect(isRunning(making)).toBe(false);
    expect(launched.output()).toContain('"msg":"stopping at start, before taking any report"');
    expect(launched.output()).not.toMatch(/"level":50|\n\s+at /);
    expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);

    const receiver = await startReceiver({ DATA_DIR: dataDir });
    try {
      const posted = await fetch(`${receiver.base}/dlr`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(deliveredReport({ id: 'after-an-abandoned-creation' })) });
      expect(posted.status).toBe(200);
    } finally {
      await stop(receiver);
    }
  });

  it('is abandoned by npm run migrate on a stop signal too: the making process is gone when it exits', async () => {
    const dataDir = newDataDir();
    const migrate = spawn(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    migrate.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => migrate.once('close', (code) => { resolve(code); }));
    const making = await creatingProcess(migrate.pid);
    migrate.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(isRunning(making)).toBe(false);
    expect(output).toBe('stopped by a signal: nothing migrated\n');
    expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);
  });

  it('is refused where files but no database are: the receiver stops naming the folder, gives it up and keeps the files', async () => {
    const dataDir = newDataDir();
    mkdirSync(join(dataDir, 'postgres'), { recursive: true });
    writeFileSync(join(dataDir, 'postgres', 'notes.txt'), 'not a database');
    const launched = launchReceiver({ DATA_DIR: dataDir, PORT: String(await freePort()), HOST: '127.0.0.1' });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain(`"msg":"could not prepare the database"`);
    expect(launched.output()).toContain(`${join(dataDir, 'postgres')} holds files but no database (no PG_VERSION); move them away`);
    expect(launched.output()).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);
    expect(readFileSync(join(dataDir, 'postgres', 'notes.txt'), 'utf8')).toBe('not a database');
  });
});
