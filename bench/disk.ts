/**
 * What the machine read from its disks during a run, and how much file cache it had. Lookups on
 * tables larger than PostgreSQL's buffers read their pages through the file cache, and those the
 * cache lacks from the disk: a lookup's tail then follows the disk's, which this shows run by run.
 * Linux only (`/proc`); elsewhere the readings are null and the tables print `-`.
 */
import { procNumber } from './proc.js';

/** KiB read from block devices since boot (`pgpgin` in /proc/vmstat counts KiB). */
export function diskReadKiB(): number | null {
  return procNumber('/proc/vmstat', /^pgpgin (\d+)$/m);
}

/** The file cache's size now, in MiB (`Cached` in /proc/meminfo). */
export function fileCacheMiB(): number | null {
  const kiB = procNumber('/proc/meminfo', /^Cached:\s+(\d+) kB$/m);
  return kiB === null ? null : kiB / 1024;
}
