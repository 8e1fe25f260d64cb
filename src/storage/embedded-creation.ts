/**
 * Creates a new embedded database in a process of its own, then hands the receiver the finished
 * folder.
 *
 * PGlite creates a database by running initdb in a second, temporary PostgreSQL inside the process
 * that asked, and V8 gives those instances' memory back only at a full collection, which a receiver
 * taking reports seldom needs. Started on an empty data folder, a receiver held 740-820 MiB at rest
 * and up to 885 under load until its next restart; restarted on the database it had made, 320-410.
 * Created apart, that memory leaves with the creating process.
 *
 * The new database is made in a folder of its own, synced whole to the disk (PGlite writes it with
 * fsync off), and only then moved into place: a start stopped at any point leaves either no
 * database, made again at the next start, or a whole one.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { syncFileNow, syncFolderNow } from '../lib/sync-folder.js';

/** Whether `folder` holds a database already (PostgreSQL writes PG_VERSION when it makes one). */
export function holdsDatabase(folder: string): boolean {
  return existsSync(join(folder, 'PG_VERSION'));
}

/** The major version of the PostgreSQL inside PGlite 0.4, as it writes it into PG_VERSION. */
export const EMBEDDED_POSTGRES_MAJOR = '17';

/**
 * Refuses a database of another PostgreSQL major version, which PGlite fails to open without saying
 * why: a DATA_DIR pointed at a PostgreSQL server's data folder, or one a newer PGlite made.
 */
function refuseOtherVersion(folder: string): void {
  const version = readFileSync(join(folder, 'PG_VERSION'), 'utf8').trim();
  if (version === EMBEDDED_POSTGRES_MAJOR) return;
  throw new Error(
    `${folder} holds a database of PostgreSQL ${JSON.stringify(version.slice(0, 20))} (its PG_VERSION), and the embedded PostgreSQL is ${EMBEDDED_POSTGRES_MAJOR}: ` +
      'give DATA_DIR a folder of its own, or set DATABASE_URL to use a PostgreSQL server',
  );
}

/** Where, inside the database's folder, a new database is made before its files move up. */
const CREATING = '.creating';

export interface CreationOptions {
  /** Told when a database is being made, in the folder given. */
  readonly onCreation?: ((folder: string) => void) | undefined;
  /**
   * Ends a creation under way (the receiver is told to stop while it starts): the creating process
   * is killed, and gone, before the creation fails. Left running, it went on writing into
   * `.creating`, where the next start, finding no live receiver, makes its own database.
   */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Makes a database in `folder`, an empty folder, unless it holds one already. Refuses a folder that
 * holds files but no database: they are not the receiver's to remove.
 *
 * The database is made in `folder/.creating` and its files then move up into `folder`, PG_VERSION
 * last, so a folder holding PG_VERSION holds the whole database. Made beside `folder` instead, it
 * could not be renamed into place where `folder` is a mount point (a volume of its own).
 */
export async function createEmbeddedDatabaseApart(folder: string, options: CreationOptions = {}): Promise<void> {
  const creating = join(folder, CREATING);
  if (holdsDatabase(folder)) {
    refuseOtherVersion(folder);
    // Left by a start that stopped between the last move and removing it.
    rmSync(creating, { recursive: true, force: true });
    return;
  }
  clearStoppedCreation(folder);
  options.onCreation?.(folder);
  await runCreation(creating, options.signal);
  syncTreeNow(creating);
  const files = readdirSync(creating).filter((name) => name !== 'PG_VERSION');
  for (const name of files) renameSync(join(creating, name), join(folder, name));
  syncFolderNow(folder);
  renameSync(join(creating, 'PG_VERSION'), join(folder, 'PG_VERSION'));
  syncFolderNow(folder);
  rmdirSync(creating);
}

/**
 * What a new ext4 volume holds: a folder that holds only this counts as empty, and keeps it. A
 * PostgreSQL server's data folder is seldom a volume's top for this reason; here it may be.
 */
const VOLUME_FOLDER = 'lost+found';

/**
 * Empties `folder` when what it holds was left by a start that stopped while it made a database
 * there: a creation starts only in an empty folder, so while `.creating` is there, everything
 * beside it came from that creation.
 */
function clearStoppedCreation(folder: string): void {
  if (!existsSync(folder)) return;
  const names = readdirSync(folder).filter((name) => name !== VOLUME_FOLDER);
  if (names.length === 0) return;
  if (!names.includes(CREATING)) {
    throw new Error(`${folder} holds files but no database (no PG_VERSION); move them away, and the receiver makes a new database there`);
  }
  for (const name of names) rmSync(join(folder, name), { recursive: true, force: true });
}

/** PGlite's entry point, for the creating process to load as this one does. */
const PGLITE_ENTRY = createRequire(import.meta.url).resolve('@electric-sql/pglite');

/** Run by the creating process: argv[1] is PGlite's entry point, argv[2] the folder. */
const CREATE_SCRIPT = `
const { PGlite } = require(process.argv[1]);
const database = new PGlite(process.argv[2]);
database.waitReady.then(() => database.close()).catch((error) => {
  process.stderr.write(String(error instanceof Error ? error.message : error));
  process.exitCode = 1;
});
`;

function runCreation(folder: string, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const options = { maxBuffer: 1024 * 1024, signal, killSignal: 'SIGKILL' as const };
    const child = execFile(process.execPath, ['-e', CREATE_SCRIPT, PGLITE_ENTRY, folder], options, (error, _stdout, stderr) => {
      if (error === null) {
        resolve();
        return;
      }
      const failure = new Error(`could not create the embedded database in ${folder}: ${stderr.trim() || error.message}`, { cause: error });
      // Aborted, the process is killed but may not be gone yet: it is waited for.
      if (child.exitCode === null && child.signalCode === null) child.once('exit', () => { reject(failure); });
      else reject(failure);
    });
  });
}

/** Syncs every file and folder under `path`, and `path` itself, to the disk. */
function syncTreeNow(path: string): void {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const inside = join(path, entry.name);
    if (entry.isDirectory()) syncTreeNow(inside);
    else if (entry.isFile()) syncFileNow(inside);
  }
  syncFolderNow(path);
}
