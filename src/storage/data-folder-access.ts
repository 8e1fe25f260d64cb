/**
 * Says why the data folder failed the start when the reason is whose it is: a DATA_DIR the
 * receiver's user may not write. It happens where a host folder that root owns is bind-mounted into
 * the image (which runs as user `node`), and where a receiver once started as root left its files to
 * a service user. The embedded database then fails with PGlite's "failed to initialize properly",
 * and the journal with EACCES on one path: neither says whose the file is, nor who asks.
 *
 * Looked for only once the start has failed, so a folder that works is never refused for its looks.
 */
import { constants } from 'node:fs';
import { access, lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorCode } from '../lib/error-code.js';

export interface FolderAccessProblem {
  /** The first path met that the receiver may not use as it must. */
  readonly path: string;
  readonly ownerUid: number;
  /** Its permission bits, as `ls -l` shows them in octal. */
  readonly mode: number;
  /** The file system is mounted read-only: no owner may write there. */
  readonly readOnly: boolean;
  /** DATA_DIR does not exist, and `path` is the folder it would be made in. */
  readonly dataDirMissing: boolean;
}

export interface ProcessUser {
  readonly uid: number;
  readonly gid: number;
}

/** A volume's own folder, which root keeps to itself and the receiver never opens. */
const VOLUME_FOLDER = 'lost+found';
/** A data folder holds the journal and a PostgreSQL's files: a few thousand. The look stops past this. */
const MOST_ENTRIES = 100_000;

/** The first path in or above `dataDir` that the receiver cannot read and write, or null. */
export async function findAccessProblem(dataDir: string): Promise<FolderAccessProblem | null> {
  // DATA_DIR itself may be a link to the folder; below it the receiver makes none.
  if ((await stat(dataDir).catch(() => null)) === null) return missingDataDirProblem(dataDir);
  const queue = [dataDir];
  for (let looked = 0; looked < queue.length && looked < MOST_ENTRIES; looked++) {
    const path = queue[looked] ?? dataDir;
    const stats = await (looked === 0 ? stat(path) : lstat(path)).catch(() => null);
    if (stats === null || stats.isSymbolicLink()) continue;
    const folder = stats.isDirectory();
    const problem = await accessProblem(path, folder ? READ_WRITE_ENTER : READ_WRITE, stats);
    if (problem !== null) return { ...problem, dataDirMissing: false };
    if (!folder) continue;
    const names = await readdir(path).catch(() => []);
    for (const name of names) {
      if (path === dataDir && name === VOLUME_FOLDER) continue;
      queue.push(join(path, name));
    }
  }
  return null;
}

/** A system call's refusals that a folder the receiver may not write gives. */
const ACCESS_REFUSALS = new Set(['EACCES', 'EPERM', 'EROFS']);
const READ_WRITE = constants.R_OK | constants.W_OK;
const READ_WRITE_ENTER = READ_WRITE | constants.X_OK;

interface Stats {
  readonly uid: number;
  readonly mode: number;
}

async function accessProblem(path: string, wanted: number, stats: Stats): Promise<Omit<FolderAccessProblem, 'dataDirMissing'> | null> {
  try {
    await access(path, wanted);
    return null;
  } catch (error) {
    const code = errorCode(error);
    if (code === undefined || !ACCESS_REFUSALS.has(code)) return null;
    return { path, ownerUid: stats.uid, mode: stats.mode & 0o777, readOnly: code === 'EROFS' };
  }
}

/** A DATA_DIR yet to be made is made in the nearest folder above it that exists. */
async function missingDataDirProblem(dataDir: string): Promise<FolderAccessProblem | null> {
  let folder = dirname(dataDir);
  for (;;) {
    const stats = await lstat(folder).catch(() => null);
    if (stats !== null) {
      const problem = await accessProblem(folder, constants.W_OK | constants.X_OK, stats);
      return problem === null ? null : { ...problem, dataDirMissing: true };
    }
    const above = dirname(folder);
    if (above === folder) return null;
    folder = above;
  }
}

/** What the start says of the problem, with the commands that mend it. */
export function accessProblemLine(dataDir: string, problem: FolderAccessProblem, user: ProcessUser | null): string {
  if (problem.readOnly) {
    return `DATA_DIR ${dataDir} is on a read-only file system (${problem.path}): mount a writable volume there, or set DATA_DIR to a folder on a writable disk`;
  }
  const found = `${problem.path} (owner uid ${String(problem.ownerUid)}, mode ${problem.mode.toString(8)})`;
  const runner = user === null ? 'the receiver\'s user' : `uid ${String(user.uid)}, gid ${String(user.gid)}`;
  if (problem.dataDirMissing) {
    return `DATA_DIR ${dataDir} does not exist, and the receiver (${runner}) may not make it in ${found}: make it and give it to that user, or set DATA_DIR to a folder the receiver may write`;
  }
  const mend = user === null ? 'give the folder to the user the receiver runs as'
    : user.uid === problem.ownerUid ? `chmod -R u+rwX ${dataDir}`
    : `chown -R ${String(user.uid)}:${String(user.gid)} ${dataDir}, or the host folder mounted there`;
  return `DATA_DIR ${dataDir} is not the receiver's to write: it runs as ${runner}, which may not write ${found}; ${mend}`;
}

/** The user this process runs as, where the system has one (not on Windows). */
function processUser(): ProcessUser | null {
  return process.getuid === undefined || process.getgid === undefined ? null : { uid: process.getuid(), gid: process.getgid() };
}

/**
 * The line for the start to give when `error` may come of a DATA_DIR that is not the receiver's to
 * write, and the folder shows it is not; else null. A file operation's error says so by its code.
 * The embedded database, opening, gives none (`embeddedOpening`), while its SQL errors carry a
 * SQLSTATE; so does a folder held by another receiver: neither is looked into.
 */
export async function dataFolderAccessLine(dataDir: string, error: unknown, options: { readonly embeddedOpening: boolean }): Promise<string | null> {
  const code = errorCode(error);
  const mayBeAccess = code === undefined ? options.embeddedOpening : ACCESS_REFUSALS.has(code);
  return mayBeAccess ? folderAccessLine(dataDir) : null;
}

/** The line naming what keeps this process from reading and writing DATA_DIR, or null when nothing does. */
export async function folderAccessLine(dataDir: string): Promise<string | null> {
  const problem = await findAccessProblem(dataDir).catch(() => null);
  return problem === null ? null : accessProblemLine(dataDir, problem, processUser());
}
