/**
 * Writes a folder's entries to disk. fsync/fdatasync keep a file's bytes, but the name of a new or
 * renamed file is in its folder, which the file system writes back in its own time: a crash before
 * that loses the file, and whatever was acknowledged from it. Windows keeps names with the file,
 * and cannot open a folder to sync it.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function syncFolder(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const folder = await open(path, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** The same, blocking: for callers that cannot wait (the embedded database's file system). */
export function syncFolderNow(path: string): void {
  if (process.platform === 'win32') return;
  syncFileNow(path);
}

/** Writes a file's bytes (or, on Linux, a folder's entries) to disk, blocking. */
export function syncFileNow(path: string): void {
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

/**
 * The folders whose entries may be new once `folder` is made and a file opened in it: `folder`
 * itself, its parent, and every folder up to the one holding `firstCreated`, the first folder
 * `mkdir` made (undefined when `folder` was there already). A `DATA_DIR` the receiver made is
 * itself a new name in the folder above it.
 */
export function foldersToSync(folder: string, firstCreated: string | undefined): string[] {
  const top = dirname(resolve(firstCreated ?? folder));
  let path = resolve(folder);
  const folders = [path];
  while (path !== top && dirname(path) !== path) {
    path = dirname(path);
    folders.push(path);
  }
  return folders;
}
