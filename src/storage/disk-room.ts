/**
 * Warns while a disk the receiver writes to runs low on room: the journal's (`DATA_DIR`), and the
 * embedded database's. Full, it refuses what it should keep (the embedded database stops the
 * receiver, the journal answers `503`), and without a word before, the first sign was the refusals.
 * Also tells a file system whose contents pass sooner than a disk's (see passingFileSystemAt).
 */
import { stat, statfs } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import { errorSummary } from '../lib/error-summary.js';

export interface Room {
  readonly availableBytes: number;
  readonly totalBytes: number;
}

const MIB = 1024 * 1024;
/** Low below this much room, or below LOW_SHARE of the file system. */
const LOW_BYTES = 1024 * MIB;
const LOW_SHARE = 0.05;

/** Below 1 GiB, or below 5 % of the file system: on a large disk, a few hours of a flood of reports. */
export function isLowOnRoom(room: Room): boolean {
  return room.availableBytes < LOW_BYTES || room.availableBytes < room.totalBytes * LOW_SHARE;
}

/** The room left to an unprivileged writer on the file system holding `folder`. */
export async function roomAt(folder: string): Promise<Room> {
  const stats = await statfs(folder);
  return { availableBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

/** A file system whose contents do not outlive something the receiver's data must outlive. */
export interface PassingFileSystem {
  readonly name: string;
  /** What it is, as the warning says it. */
  readonly what: string;
  /** When what it holds is gone. */
  readonly lostWhen: string;
  /** Where to put DATA_DIR instead. */
  readonly instead: string;
}

/** By the type statfs gives. */
const PASSING_FILE_SYSTEMS = new Map<number, PassingFileSystem>([
  [0x01021994, { name: 'tmpfs', what: 'a file system held in memory', lostWhen: 'the machine restarts', instead: 'put DATA_DIR on a disk' }],
  [0x858458f6, { name: 'ramfs', what: 'a file system held in memory', lostWhen: 'the machine restarts', instead: 'put DATA_DIR on a disk' }],
  [
    0x794c7630,
    {
      name: 'overlay',
      what: "most likely a container's own writable layer (Kubernetes makes no volume of the image's VOLUME)",
      lostWhen: 'the container is removed',
      instead: 'mount a volume there',
    },
  ],
]);

/**
 * The file system `folder` is on when what it holds is lost sooner than a disk's: `/tmp` is a tmpfs
 * on many systems, and so is a container's `--tmpfs` mount; a container without a volume writes to
 * its own overlay layer. Reports acknowledged into a journal there would not outlive it.
 */
export async function passingFileSystemAt(folder: string): Promise<PassingFileSystem | null> {
  const { type } = await statfs(folder);
  return PASSING_FILE_SYSTEMS.get(type) ?? null;
}

export interface DiskRoomWatchOptions {
  /** The folders written to; one on the same file system as an earlier one is left out. */
  readonly folders: readonly string[];
  readonly logger: FastifyBaseLogger;
  /** How often the room is looked at. */
  readonly everyMs: number;
  /** How often the warning is repeated while the room stays low (a whole number of looks). */
  readonly repeatMs: number;
  readonly room?: (folder: string) => Promise<Room>;
}

export interface DiskRoomWatch {
  /** Looks at once, then every `everyMs`. */
  readonly start: () => void;
  readonly stop: () => void;
}

export function watchDiskRoom(options: DiskRoomWatchOptions): DiskRoomWatch {
  const room = options.room ?? roomAt;
  // The warning is repeated every this many looks while the room stays low.
  const looksPerWarning = Math.max(1, Math.round(options.repeatMs / options.everyMs));
  // Looks since each low folder's last warning; absent while it has room.
  const looksSinceWarning = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const look = async (folder: string) => {
    const found = await room(folder);
    const looks = looksSinceWarning.get(folder);
    if (!isLowOnRoom(found)) {
      if (looks !== undefined) options.logger.info({ folder, availableMiB: mib(found.availableBytes) }, 'the disk has room again');
      looksSinceWarning.delete(folder);
      return;
    }
    if (looks !== undefined && looks + 1 < looksPerWarning) {
      looksSinceWarning.set(folder, looks + 1);
      return;
    }
    looksSinceWarning.set(folder, 0);
    options.logger.warn(
      { folder, availableMiB: mib(found.availableBytes), percentFree: Math.round((found.availableBytes / found.totalBytes) * 1000) / 10 },
      'the disk is low on room: free some, or give it more, before it is full and reports are refused',
    );
  };
  let folders: Promise<string[]> | undefined;
  // A look that has not ended (a network file system that stopped answering) is not joined by
  // another: each would hold one of the few threads Node does its file work on, the journal's too.
  let looking = false;
  const lookAll = async () => {
    if (looking) return;
    looking = true;
    try {
      folders ??= onSeparateFileSystems(options.folders);
      for (const folder of await folders) {
        await look(folder).catch((error: unknown) => {
          options.logger.debug({ err: errorSummary(error), folder }, 'could not read the room left on the disk');
        });
      }
    } finally {
      looking = false;
    }
  };
  return {
    start: () => {
      if (timer !== undefined) return;
      void lookAll();
      timer = setInterval(() => void lookAll(), options.everyMs);
      timer.unref();
    },
    stop: () => {
      clearInterval(timer);
    },
  };
}

function mib(bytes: number): number {
  return Math.floor(bytes / MIB);
}

/** The folders, each on a file system none before it is on (their device numbers differ); folders that cannot be read are left in. */
async function onSeparateFileSystems(folders: readonly string[]): Promise<string[]> {
  const seen = new Set<number>();
  const kept: string[] = [];
  for (const folder of folders) {
    const device = await stat(folder).then((stats) => stats.dev, () => null);
    if (device !== null && seen.has(device)) continue;
    if (device !== null) seen.add(device);
    kept.push(folder);
  }
  return kept;
}
