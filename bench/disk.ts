/**
 * What the machine read from its disks during a run, and how much file cache it had. Lookups on
 * tables larger than PostgreSQL's buffers read their pages through the file cache, and those the
 * cache lacks from the disk: a lookup's tail then follows the disk's, which this shows run by run.
 * Linux only (`/proc`); elsewhere the readings are null and the tables print `-`.
 */
import { readFileSync } from 'node:fs';

/** KiB read from block devices since boot (`pgpgin` in /proc/vmstat counts KiB). */
export function diskReadKiB(): number | null {
  return procNumber('/proc/vmstat', /^pgpgin (\d+)$/m);
}

/** The file cache's size now, in MiB (`Cached` in /proc/meminfo). */
export function fileCacheMiB(): number | null {
  const kiB = procNumber('/proc/meminfo', /^Cached:\s+(\d+) kB$/m);
  return kiB === null ? null : kiB / 1024;
}

function procNumber(path: string, pattern: RegExp): number | null {
  try {
    const match = pattern.exec(readFileSync(path, 'utf8'));
    return match?.[1] === undefined ? null : Number(match[1]);
  } catch {
    return null;
  }
}
