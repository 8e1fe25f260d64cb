/**
 * Makes the embedded database's commits reach the disk. PGlite starts PostgreSQL with fsync off
 * (`-F`), and the file system under it, Emscripten's NODEFS, has no fsync of its own: a commit was
 * written to the operating system's cache and acknowledged, and a crash of the machine (power, the
 * kernel), not only of the receiver, before the cache was written back lost it. Here PostgreSQL runs
 * with fsync on and flushes its write-ahead log with fsync (Emscripten drops `fdatasync`), and
 * NODEFS's fsync calls Node's, so each commit waits for the disk as on a PostgreSQL server.
 *
 * When the disk refuses an fsync, or a write to the write-ahead log (a full disk, where a new log
 * segment is made), a PostgreSQL server stops (PANIC) and recovers from its write-ahead log on
 * restart. The embedded one cannot stop on its own: told of the failure, it spins, and holds its
 * thread for good. So the failure goes to the caller, who must stop the process instead of returning
 * to PostgreSQL (the database's thread holds still while the main thread stops the process; see
 * embedded-worker.ts). A failed write elsewhere (a table that cannot grow) is an error PostgreSQL
 * reports for the statement alone, and is left to it.
 */
import { fsyncSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';
import { OwnTextError } from '../lib/error-summary.js';
import { syncFolderNow } from '../lib/sync-folder.js';

/** PGlite's own start parameters, with fsync on and the log flushed by fsync. */
export const DURABLE_START_PARAMS: readonly string[] = [
  ...PGlite.defaultStartParams.filter((parameter) => parameter !== '-F'),
  '-c',
  'wal_sync_method=fsync',
];

/** Emscripten's I/O error number, which PostgreSQL reads as a failed fsync. */
const EIO = 29;

/** The parts of NODEFS this uses: an open file's Node descriptor, and a node's path on disk. */
interface NodeStream {
  readonly nfd?: number;
  readonly node: unknown;
}
type StreamWrite = (stream: NodeStream, ...rest: unknown[]) => number;
interface NodeFileSystem {
  readonly stream_ops: { fsync?: (stream: NodeStream) => number; write?: StreamWrite };
  readonly realPath: (node: unknown) => string;
}
type ErrnoErrorClass = new (errno: number) => Error;
/** The Emscripten module's options and the module itself, as PGlite's file systems see them. */
type ModuleOptions = Parameters<NodeFS['init']>[1];
type PostgresModule = Parameters<NonNullable<ModuleOptions['preRun']>[number]>[0];

export class EmbeddedSyncError extends OwnTextError {
  constructor(path: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`the disk did not keep the embedded database's ${path} (fsync failed: ${reason})`, { cause });
    this.name = 'EmbeddedSyncError';
  }
}

export class EmbeddedLogWriteError extends OwnTextError {
  constructor(path: string, cause: unknown) {
    super(`the disk did not take a write to the embedded database's write-ahead log, ${path} (${writeFailure(cause)})`, { cause });
    this.name = 'EmbeddedLogWriteError';
  }
}

/** The errors a write can meet, by Emscripten's numbers for them, named as Linux names them. */
const WRITE_ERRORS: ReadonlyMap<number, string> = new Map([
  [51, 'ENOSPC: no space left on the device'],
  [22, 'EFBIG: the file is over the size allowed'],
  [29, 'EIO: input/output error'],
  [69, 'EROFS: the file system is read-only'],
]);

function writeFailure(cause: unknown): string {
  const errno = typeof cause === 'object' && cause !== null && 'errno' in cause && typeof cause.errno === 'number' ? cause.errno : undefined;
  if (errno === undefined) return cause instanceof Error ? cause.message : String(cause);
  return WRITE_ERRORS.get(errno) ?? `error number ${errno}`;
}

/** Must not return: the process stops, so that nothing after the failure is acknowledged. */
export type OnDiskFailure = (error: EmbeddedSyncError | EmbeddedLogWriteError) => never;

/**
 * PGlite's Node file system, with an fsync that reaches the disk, and a stop where the disk fails
 * the database (see above). `beforeOpening` runs when PGlite sets its file system up, before it
 * looks into the folder for a database.
 */
export class DurableNodeFS extends NodeFS {
  readonly #onDiskFailure: OnDiskFailure;
  readonly #beforeOpening: () => Promise<void>;

  constructor(dataDir: string, onDiskFailure: OnDiskFailure, beforeOpening: () => Promise<void> = () => Promise.resolve()) {
    super(dataDir);
    this.#onDiskFailure = onDiskFailure;
    this.#beforeOpening = beforeOpening;
  }

  override async init(pg: PGlite, options: ModuleOptions): Promise<{ emscriptenOpts: ModuleOptions }> {
    await this.#beforeOpening();
    const { emscriptenOpts } = await super.init(pg, options);
    const makeDurable = (mod: PostgresModule) => { makeFileSystemDurable(mod, this.#onDiskFailure); };
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), makeDurable] } };
  }
}

/**
 * Runs before PostgreSQL starts, so every fsync it asks for, from its first, reaches the disk, and
 * every write to its write-ahead log that fails stops the process.
 */
function makeFileSystemDurable(mod: PostgresModule, onDiskFailure: OnDiskFailure): void {
  const { nodefs, ErrnoError } = nodeFileSystemOf(mod);
  const write = nodefs.stream_ops.write;
  if (write === undefined) throw new Error(UNFIT_FILE_SYSTEM);
  nodefs.stream_ops.write = (stream, ...rest) => {
    try {
      return write(stream, ...rest);
    } catch (error) {
      const path = nodefs.realPath(stream.node);
      if (WRITE_AHEAD_LOG.test(path)) onDiskFailure(new EmbeddedLogWriteError(path, error));
      throw error;
    }
  };
  nodefs.stream_ops.fsync = (stream) => {
    try {
      // A file has a Node descriptor; NODEFS opens a folder (PostgreSQL syncs one after it makes or
      // renames a file in it) without one, so a folder is synced by its path.
      if (stream.nfd !== undefined) fsyncSync(stream.nfd);
      else syncFolderNow(nodefs.realPath(stream.node));
      return 0;
    } catch (error) {
      onDiskFailure(new EmbeddedSyncError(nodefs.realPath(stream.node), error));
      // Only if the caller broke its promise and returned: PostgreSQL gets the failure it expects.
      throw new ErrnoError(EIO);
    }
  };
}

/** A file of the write-ahead log: a segment, or one being made (`pg_wal/xlogtemp.N`). */
const WRITE_AHEAD_LOG = /[/\\]pg_wal[/\\][^/\\]+$/;

const UNFIT_FILE_SYSTEM = 'the embedded database (PGlite) has a file system this receiver cannot make durable: install the PGlite version in package-lock.json';

/**
 * NODEFS and the error class of the module's file system. They are Emscripten's, below PGlite's
 * typed surface: a PGlite whose file system looks different is refused at start rather than run
 * without durable commits.
 */
function nodeFileSystemOf(mod: PostgresModule): { nodefs: NodeFileSystem; ErrnoError: ErrnoErrorClass } {
  const fs: unknown = mod.FS;
  const filesystems = property(fs, 'filesystems');
  const nodefs = property(filesystems, 'NODEFS');
  const ErrnoError = property(fs, 'ErrnoError');
  const streamOps = property(nodefs, 'stream_ops');
  if (!isObject(streamOps) || typeof property(nodefs, 'realPath') !== 'function' || typeof ErrnoError !== 'function') {
    throw new Error(UNFIT_FILE_SYSTEM);
  }
  return { nodefs: nodefs as NodeFileSystem, ErrnoError: ErrnoError as ErrnoErrorClass };
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function property(value: unknown, name: string): unknown {
  return isObject(value) && name in value ? (value as Record<string, unknown>)[name] : undefined;
}
