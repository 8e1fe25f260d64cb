/**
 * A DATA_DIR the receiver's user may not write: a host folder root owns, bind-mounted into the
 * image, or files a receiver started as root left to a service user. The start stops either way;
 * these tests hold it to saying whose the folder is, who asks, and how to mend it.
 *
 * Running the receiver as another user takes root, and root may write anywhere but on a read-only
 * file system; the tests that need either are skipped elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FolderAccessProblem } from '../../src/storage/data-folder-access.js';
import { accessProblemLine, dataFolderAccessLine, findAccessProblem } from '../../src/storage/data-folder-access.js';
import { imageDataFolder } from '../helpers/compose.js';
import { mountTmpfs, mountsTmpfs, unmount } from '../helpers/mounts.js';
import { freePort, launchReceiver, postReport, startReceiver } from '../helpers/receiver-process.js';

const MIGRATE_CLI = join(import.meta.dirname, '../../dist/src/storage/migrate-cli.js');
const asRoot = process.getuid?.() === 0;
/** `nobody` on most systems; any uid will do, as long as it is not root's. */
const OTHER_USER = { uid: 65534, gid: 65534 };
/** As OpenShift picks one for a project: a high uid no /etc/passwd names, in group 0. */
const OPENSHIFT_USER = { uid: 1000680000, gid: 0 };

/** A folder of the test's own that another user may pass through, as /srv or /var/lib is. */
function openParent(): string {
  const parent = mkdtempSync(join(tmpdir(), 'dlr-access-'));
  chmodSync(parent, 0o755);
  return parent;
}

function chownTree(path: string, user: { uid: number; gid: number }, which: 'folders' | 'all'): void {
  const folder = statSync(path).isDirectory();
  if (folder || which === 'all') chownSync(path, user.uid, user.gid);
  if (folder) for (const name of readdirSync(path)) chownTree(join(path, name), user, which);
}

function migrateAs(user: { uid: number; gid: number }, env: Record<string, string>) {
  return spawnSync(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '', ...env }, uid: user.uid, gid: user.gid, encoding: 'utf8' });
}

describe('the line for a DATA_DIR that is not the receiver\'s to write', () => {
  const problem: FolderAccessProblem = { path: '/srv/dlr/postgres/base', ownerUid: 0, mode: 0o700, readOnly: false, dataDirMissing: false };

  it('names the path, its owner and mode, the user the receiver runs as, and the chown that mends it', () => {
    expect(accessProblemLine('/srv/dlr', problem, { uid: 1000, gid: 1000 })).toBe(
      "DATA_DIR /srv/dlr is not the receiver's to write: it runs as uid 1000, gid 1000, which may not write /srv/dlr/postgres/base (owner uid 0, mode 700); chown -R 1000:1000 /srv/dlr, or the host folder mounted there",
    );
  });

  it('gives a chmod where the receiver\'s own user owns what it may not write', () => {
    expect(accessProblemLine('/srv/dlr', { ...problem, ownerUid: 1000, mode: 0o500 }, { uid: 1000, gid: 1000 })).toContain(
      'may not write /srv/dlr/postgres/base (owner uid 1000, mode 500); chmod -R u+rwX /srv/dlr',
    );
  });

  it('says where a DATA_DIR yet to be made cannot be made', () => {
    expect(accessProblemLine('/srv/dlr/data', { ...problem, path: '/srv/dlr', mode: 0o755, dataDirMissing: true }, { uid: 1000, gid: 1000 })).toBe(
      'DATA_DIR /srv/dlr/data does not exist, and the receiver (uid 1000, gid 1000) may not make it in /srv/dlr (owner uid 0, mode 755): make it and give it to that user, or set DATA_DIR to a folder the receiver may write',
    );
  });

  it('says a read-only file system is one, which no chown mends', () => {
    expect(accessProblemLine('/srv/dlr', { ...problem, readOnly: true }, { uid: 1000, gid: 1000 })).toBe(
      'DATA_DIR /srv/dlr is on a read-only file system (/srv/dlr/postgres/base): mount a writable volume there, or set DATA_DIR to a folder on a writable disk',
    );
  });
});

describe('a DATA_DIR the receiver may not write', () => {
  it.runIf(asRoot)('stops the start and `npm run migrate` naming the folder\'s owner, the receiver\'s user and the chown, where EACCES alone was said', async () => {
    const dataDir = join(openParent(), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    const env = { DATA_DIR: dataDir };
    const said = `DATA_DIR ${dataDir} is not the receiver's to write: it runs as uid 65534, gid 65534, which may not write ${dataDir} (owner uid 0, mode 755); chown -R 65534:65534 ${dataDir}, or the host folder mounted there`;

    const launched = launchReceiver({ ...env, PORT: String(await freePort()) }, { user: OTHER_USER });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain(`"msg":"could not start the receiver: ${said}"`);
    const migrate = migrateAs(OTHER_USER, env);
    expect(migrate.status).toBe(1);
    // It said "…EACCES…: stop it before migrating", as of another receiver holding the folder.
    expect(migrate.stderr).toBe(`${said}\n`);

    // The chown it names mends it.
    chownTree(dataDir, OTHER_USER, 'all');
    expect(migrateAs(OTHER_USER, env).status).toBe(0);
  });

  it.runIf(asRoot)('stops the start naming the journal\'s and the embedded database\'s files a receiver run as root left, where PGlite said only that it failed, and starts with the reports once they are given over', async () => {
    const dataDir = join(openParent(), 'data');
    const env = { DATA_DIR: dataDir };
    const asRootReceiver = await startReceiver(env);
    expect(await postReport(asRootReceiver.base, 'kept-by-root')).toBe(200);
    asRootReceiver.child.kill('SIGTERM');
    expect(await asRootReceiver.exited).toBe(0);

    // The folders given to the service user, as a `chown` without `-R` and a few by hand leave them;
    // the files stay root's: the journal's readable by all, PostgreSQL's by root alone.
    chownTree(dataDir, OTHER_USER, 'folders');
    const fatalLine = async () => {
      const launched = launchReceiver({ ...env, PORT: String(await freePort()) }, { user: OTHER_USER });
      expect(await launched.exited).toBe(1);
      return launched.output().split('\n').find((line) => line.includes('"level":60')) ?? '';
    };
    const cannotWrite = `DATA_DIR ${dataDir} is not the receiver's to write: it runs as uid 65534, gid 65534, which may not write`;
    const journalFatal = await fatalLine();
    expect(journalFatal).toContain(`"msg":"could not start the receiver: ${cannotWrite} ${join(dataDir, 'journal', 'reports.jsonl')} (owner uid 0, mode `);
    expect(journalFatal).toMatch(/ \(owner uid 0, mode [0-7]+\); chown -R 65534:65534 /);

    chownTree(join(dataDir, 'journal'), OTHER_USER, 'all');
    const fatal = await fatalLine();
    // PGlite's own words were "PGlite failed to initialize properly".
    expect(fatal).toContain(`"msg":"could not prepare the database: ${cannotWrite} ${join(dataDir, 'postgres')}/`);
    expect(fatal).toMatch(/ \(owner uid 0, mode [0-7]+\); chown -R 65534:65534 /);

    chownTree(dataDir, OTHER_USER, 'all');
    const asServiceUser = await startReceiver(env, { user: OTHER_USER });
    try {
      const found = await fetch(`${asServiceUser.base}/messages/kept-by-root`);
      expect(found.status).toBe(200);
    } finally {
      asServiceUser.child.kill('SIGTERM');
      expect(await asServiceUser.exited).toBe(0);
    }
  });

  it.runIf(asRoot && mountsTmpfs())('is found on a read-only file system, even by root', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-read-only-'));
    expect(mountTmpfs(dataDir, '1m')).toBe(true);
    try {
      mkdirSync(join(dataDir, 'journal'));
      expect(spawnSync('mount', ['-o', 'remount,ro', dataDir]).status).toBe(0);
      expect(await findAccessProblem(dataDir)).toMatchObject({ path: dataDir, readOnly: true });
      // Only an error that may come of it is explained by it: not another receiver holding the
      // folder, nor the embedded database's SQL error, which carry their own words.
      const readOnlyLine = `DATA_DIR ${dataDir} is on a read-only file system (${dataDir}): mount a writable volume there, or set DATA_DIR to a folder on a writable disk`;
      const fromFile = { embeddedOpening: false };
      const fromEmbedded = { embeddedOpening: true };
      expect(await dataFolderAccessLine(dataDir, Object.assign(new Error('read-only file system'), { code: 'EROFS' }), fromFile)).toBe(readOnlyLine);
      expect(await dataFolderAccessLine(dataDir, new Error('PGlite failed to initialize properly'), fromEmbedded)).toBe(readOnlyLine);
      expect(await dataFolderAccessLine(dataDir, new Error('the journal folder is in use by process 7'), fromFile)).toBeNull();
      expect(await dataFolderAccessLine(dataDir, Object.assign(new Error('relation "reports" does not exist'), { code: '42P01' }), fromEmbedded)).toBeNull();
      const migrate = spawnSync(process.execPath, [MIGRATE_CLI], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir }, encoding: 'utf8' });
      expect(migrate.status).toBe(1);
      expect(migrate.stderr).toBe(`${readOnlyLine}\n`);
    } finally {
      unmount(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it.runIf(asRoot)('is the receiver\'s to write in a folder made as the image makes it, for a user OpenShift chooses in group 0, with no entry in /etc/passwd', async () => {
    const dataDir = join(openParent(), 'data');
    mkdirSync(dataDir);
    const folder = imageDataFolder();
    chownSync(dataDir, folder.uid, folder.gid);
    chmodSync(dataDir, folder.mode);
    const receiver = await startReceiver({ DATA_DIR: dataDir }, { user: OPENSHIFT_USER });
    try {
      expect(await postReport(receiver.base, 'kept-for-openshift')).toBe(200);
      expect((await fetch(`${receiver.base}/messages/kept-for-openshift`)).status).toBe(200);
    } finally {
      receiver.child.kill('SIGTERM');
      expect(await receiver.exited).toBe(0);
    }
  });

  it('finds nothing wrong with a DATA_DIR the receiver may write, made or yet to be made', async () => {
    const parent = openParent();
    mkdirSync(join(parent, 'data', 'journal'), { recursive: true });
    expect(await findAccessProblem(join(parent, 'data'))).toBeNull();
    expect(await findAccessProblem(join(parent, 'not-yet', 'data'))).toBeNull();
  });
});
