/**
 * The local journal: an append-only file of accepted requests that the database could not take at
 * the time. An append resolves only after the bytes are on disk (fdatasync), so a 200 given for a
 * journaled report survives a crash. Appends waiting at one moment share one write and one sync.
 *
 * Files in the folder: `reports.jsonl` (one line per request, see journal-codec), `replayed` (how
 * far the file has been stored in the database; only ever behind the truth, so at worst a restart
 * stores some reports again, which the database recognises as duplicates), `set-aside.jsonl`
 * (lines the database refused, kept for a person to look at), and `owner` (the receiver using the
 * folder, see folder-claim.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OwnTextError } from '../lib/error-summary.js';
import { foldersToSync, syncFolder } from '../lib/sync-folder.js';
import { claimFolder, releaseFolder } from './folder-claim.js';
import { decodeJournalLine, encodeJournalLine } from './journal-codec.js';
import type { ReportToStore } from './write-reports.js';

export class JournalFullError extends OwnTextError {
  constructor(maxBytes: number) {
    super(`the local journal holds its limit of ${maxBytes} bytes and the database is not taking reports`);
    this.name = 'JournalFullError';
  }
}

/** A journaled request, read back. `items` is null when the line could not be read. */
export interface JournalEntry {
  readonly line: string;
  readonly items: ReportToStore[] | null;
  readonly problem: string | null;
}

export interface JournalChunk {
  readonly entries: readonly JournalEntry[];
  /** Where the file continues after these entries. */
  readonly end: number;
}

export interface Journal {
  /** Writes the request's reports and resolves once they are on disk. */
  readonly append: (items: readonly ReportToStore[]) => Promise<void>;
  /** Whether anything written or being written is not yet marked replayed. */
  readonly holdsUnreplayed: () => boolean;
  /** Reports written and not yet marked replayed. */
  readonly unreplayedReports: () => number;
  readonly unreplayedBytes: () => number;
  /** The next whole lines after the replayed point, about `maxBytes` of them (at least one line). */
  readonly readNext: (maxBytes: number) => Promise<JournalChunk>;
  /** Records that everything before `end` is stored; `reports` of them. */
  readonly markReplayed: (end: number, reports: number) => Promise<void>;
  /** Keeps a line the database refused, with the reason, out of the way. */
  readonly setAside: (line: string, reason: string) => Promise<void>;
  /** Empties the file once everything in it is replayed and nothing is being written; says whether it did. */
  readonly clearIfReplayed: () => Promise<boolean>;
  /** Resolves when the appends asked for so far are written. */
  readonly settled: () => Promise<void>;
  readonly close: () => Promise<void>;
}

export interface JournalOptions {
  readonly folder: string;
  readonly maxBytes: number;
}

interface WaitingAppend {
  readonly text: string;
  readonly reports: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const SCAN_CHUNK = 1 << 20;

/** The journal's folder in a receiver's data folder. */
export function journalFolder(dataDir: string): string {
  return join(dataDir, 'journal');
}

/**
 * Makes the journal folder if it is not there, with its name on disk, and claims it for this process
 * (see folder-claim.ts). The server does this before it opens the embedded database, which lives in
 * the same data folder, so that a second receiver started there stops before it touches the first
 * one's database, and gives the claim up after the database is closed. The journal holds the claim
 * too while it is open.
 */
export async function claimJournalFolder(folder: string): Promise<void> {
  const firstCreated = await mkdir(folder, { recursive: true });
  for (const path of foldersToSync(folder, firstCreated)) await syncFolder(path);
  await claimFolder(folder);
}

/** Gives up a claim on a journal folder taken with claimJournalFolder. */
export async function releaseJournalFolder(folder: string): Promise<void> {
  await releaseFolder(folder);
}

export async function openJournal(options: JournalOptions): Promise<Journal> {
  const { folder, maxBytes } = options;
  await claimJournalFolder(folder);
  const replayedPath = join(folder, 'replayed');
  const setAsidePath = join(folder, 'set-aside.jsonl');
  const handle = await open(join(folder, 'reports.jsonl'), 'a+');
  // The file may be new: its name must be on disk before a report is acknowledged.
  await syncFolder(folder);

  const scan = await scanFile(handle, await readReplayedOffset(replayedPath));
  // A line without its newline was being written when the process stopped: it was never
  // acknowledged, so it is dropped.
  if (scan.end < scan.size) await handle.truncate(scan.end);
  let size = scan.end;
  let replayed = scan.start;
  let unreplayedReports = scan.reports;
  let waiting: WaitingAppend[] = [];
  let waitingBytes = 0;
  let groupScheduled = false;
  let writing = false;

  // File work runs one task at a time, in order: appends, and emptying the file.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };

  const writeGroup = async (): Promise<void> => {
    groupScheduled = false;
    const group = waiting;
    waiting = [];
    waitingBytes = 0;
    const bytes = Buffer.from(group.map((each) => each.text).join(''));
    writing = true;
    try {
      await writeAll(handle, bytes);
      await handle.datasync();
      size += bytes.length;
      unreplayedReports += group.reduce((sum, each) => sum + each.reports, 0);
      for (const each of group) each.resolve();
    } catch (error) {
      // Leave no partial line behind for the next group to follow.
      await handle.truncate(size).catch(() => undefined);
      for (const each of group) each.reject(error);
    } finally {
      writing = false;
    }
  };

  return {
    append: (items) => {
      const text = encodeJournalLine(items);
      const length = Buffer.byteLength(text);
      if (size + waitingBytes + length > maxBytes) return Promise.reject(new JournalFullError(maxBytes));
      const written = new Promise<void>((resolve, reject) => {
        waiting.push({ text, reports: items.length, resolve, reject });
      });
      waitingBytes += length;
      if (!groupScheduled) {
        groupScheduled = true;
        void exclusive(writeGroup);
      }
      return written;
    },
    holdsUnreplayed: () => size > replayed || waiting.length > 0 || writing,
    unreplayedReports: () => unreplayedReports,
    unreplayedBytes: () => size - replayed,
    readNext: async (maxBytes) => readLines(handle, replayed, size, maxBytes),
    markReplayed: async (end, reports) => {
      replayed = end;
      unreplayedReports -= reports;
      // Not synced: a lost or stale mark only means some reports are stored again, as duplicates.
      await writeFile(replayedPath, String(end));
    },
    setAside: async (line, reason) => {
      // Synced, and its name too, before the replayed mark moves past the line: the line was acknowledged.
      const setAside = await open(setAsidePath, 'a');
      try {
        await writeAll(setAside, Buffer.from(`${JSON.stringify({ at: new Date().toISOString(), reason, line })}\n`));
        await setAside.datasync();
      } finally {
        await setAside.close();
      }
      await syncFolder(folder);
    },
    clearIfReplayed: () =>
      exclusive(async () => {
        if (size > replayed || waiting.length > 0) return false;
        if (size === 0) return true;
        // The mark goes first: if the process stops between the two, the file is replayed again.
        await writeFile(replayedPath, '0');
        await handle.truncate(0);
        size = 0;
        replayed = 0;
        unreplayedReports = 0;
        return true;
      }),
    settled: () => exclusive(async () => undefined),
    close: async () => {
      await exclusive(async () => undefined);
      await handle.close();
      await releaseFolder(folder);
    },
  };
}

async function readReplayedOffset(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '0');
  const offset = Number.parseInt(text, 10);
  return Number.isSafeInteger(offset) && offset > 0 ? offset : 0;
}

interface Scan {
  /** Where replay starts: the recorded mark, or 0 when the mark does not fit the file. */
  readonly start: number;
  /** Just after the last whole line. */
  readonly end: number;
  readonly size: number;
  readonly reports: number;
}

/** Counts the unreplayed reports and finds the last whole line. */
async function scanFile(handle: FileHandle, mark: number): Promise<Scan> {
  const { size } = await handle.stat();
  const start = mark <= size ? mark : 0;
  let offset = start;
  let reports = 0;
  while (offset < size) {
    const chunk = await readLines(handle, offset, size, SCAN_CHUNK);
    if (chunk.entries.length === 0) break;
    for (const entry of chunk.entries) reports += entry.items?.length ?? 0;
    offset = chunk.end;
  }
  return { start, end: offset, size, reports };
}

/** Whole lines from `from`, up to about `maxBytes` of them but at least one, never past `limit`. */
async function readLines(handle: FileHandle, from: number, limit: number, maxBytes: number): Promise<JournalChunk> {
  let want = maxBytes;
  for (;;) {
    const length = Math.min(want, limit - from);
    if (length <= 0) return { entries: [], end: from };
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, from);
    const lastNewline = buffer.lastIndexOf(0x0a, bytesRead - 1);
    if (lastNewline === -1) {
      if (from + length >= limit) return { entries: [], end: from };
      want *= 2;
      continue;
    }
    const text = buffer.toString('utf8', 0, lastNewline);
    const entries = text.split('\n').map((line): JournalEntry => {
      const decoded = decodeJournalLine(line);
      return decoded.ok ? { line, items: decoded.value, problem: null } : { line, items: null, problem: decoded.problem };
    });
    return { entries, end: from + lastNewline + 1 };
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, null);
    offset += bytesWritten;
  }
}
