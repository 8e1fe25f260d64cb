/**
 * Small file systems of a test's own, to put a data folder on a volume or on a full disk. Mounting
 * takes root on Linux; tests that need it are skipped elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether this process may mount a file system. */
export function mountsTmpfs(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'dlr-mount-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', probe]).status === 0;
  if (mounted) spawnSync('umount', [probe]);
  return mounted;
}

/** Mounts a tmpfs on `folder`, of `size` (`1m`) when given; true when it is mounted. */
export function mountTmpfs(folder: string, size?: string): boolean {
  const options = size === undefined ? [] : ['-o', `size=${size}`];
  return spawnSync('mount', ['-t', 'tmpfs', ...options, 'tmpfs', folder]).status === 0;
}

/** Mounts an overlay on `folder`, as a container's writable layer is; true when it is mounted. */
export function mountOverlay(folder: string): boolean {
  const layers = mkdtempSync(join(tmpdir(), 'dlr-layers-'));
  const layer = (name: string) => {
    const path = join(layers, name);
    mkdirSync(path);
    return path;
  };
  const options = `lowerdir=${layer('lower')},upperdir=${layer('upper')},workdir=${layer('work')}`;
  return spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', options, folder]).status === 0;
}

export function unmount(folder: string): void {
  spawnSync('umount', [folder]);
}
