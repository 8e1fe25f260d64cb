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
 * The new database is made in a folder beside its place, synced whole to the disk (PGlite writes it
 * with fsync off), and only then renamed into place: a start stopped at any point leaves either no
 * database, made again at the next start, or a whole one.
 */
import { execFile } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { syncFolderNow } from '../lib/sync-folder.js';

/** Whether `folder` holds a database already (PostgreSQL writes PG_VERSION when it makes one). */
export function holdsDatabase(folder: string): boolean {
  return existsSync(join(folder, 'PG_VERSION'));
}

/**
 * Makes a database in `folder`, an empty folder, unless it holds one already; `onCreation` is told
 * when it starts to. Refuses a folder that holds files but no database: they are not the
 * receiver's to remove.
 */
export async function createEmbeddedDatabaseApart(folder: string, onCreation?: (folder: string) => void): Promise<void> {
  if (holdsDatabase(folder)) return;
  if (existsSync(folder) && readdirSync(folder).length > 0) {
    throw new Error(`${folder} holds files but no database (no PG_VERSION); move them away, and the receiver makes a new database there`);
  }
  onCreation?.(folder);
  const creating = `${folder}.creating`;
  // Left by a start that stopped while it made a database; never renamed into place, so never used.
  rmSync(creating, { recursive: true, force: true });
  await runCreation(creating);
  syncTreeNow(creating);
  if (existsSync(folder)) rmdirSync(folder);
  renameSync(creating, folder);
  syncFolderNow(dirname(folder));
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

function runCreation(folder: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', CREATE_SCRIPT, PGLITE_ENTRY, folder], { maxBuffer: 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`could not create the embedded database in ${folder}: ${stderr.trim() || error.message}`, { cause: error }));
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

function syncFileNow(path: string): void {
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}
