/**
 * One receiver per journal folder. Two receivers appending to one journal, each replaying and
 * emptying it, would lose reports the other had acknowledged; on the embedded database they would
 * also run two PostgreSQLs on one data folder. So a receiver claims the folder with a file, `owner`,
 * naming its process and its host, and refuses a folder another live receiver holds.
 *
 * A pid alone does not tell two receivers apart: in containers each is often pid 1, and two
 * containers may share a volume. A claim from this host is live while its process runs. A claim from
 * another host cannot be checked that way, so its holder touches the file every few seconds, and the
 * claim is live while it is touched: a receiver that finds one waits to see whether it is touched
 * again before it takes it over (after a crash, a replacement container has a new host name).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode } from '../lib/error-code.js';
import { OwnTextError } from '../lib/error-summary.js';

export class FolderInUseError extends OwnTextError {
  constructor(folder: string, owner: Owner) {
    const where = owner.host === hostname() ? '' : ` on host ${owner.host}`;
    super(`the journal folder ${folder} is in use by process ${owner.pid}${where}; give each receiver its own DATA_DIR`);
    this.name = 'FolderInUseError';
  }
}

export interface ClaimTiming {
  /** How often a holder touches its claim. */
  readonly touchMs: number;
  /** How long a claim from another host stays live untouched: a few touches' time. */
  readonly staleMs: number;
}

const DEFAULT_TIMING: ClaimTiming = { touchMs: 5_000, staleMs: 20_000 };
/** Taking a stale claim over takes a few file operations; a takeover file older than this was abandoned. */
const ABANDONED_TAKEOVER_MS = 10_000;
const TAKEOVER_WAIT_MS = 20;

interface Owner {
  readonly pid: number;
  readonly host: string;
}

/**
 * Claims this process holds, by folder: the timer that touches each, and how many holders it has
 * (the server holds its data folder until its database is closed, the journal while it is open).
 */
const held = new Map<string, { readonly touch: NodeJS.Timeout; holders: number }>();

/**
 * Takes the folder for this process, or throws FolderInUseError. A folder this process holds gets
 * one more holder; each gives it up with releaseFolder.
 */
export async function claimFolder(folder: string, timing: ClaimTiming = DEFAULT_TIMING): Promise<void> {
  const claim = held.get(folder);
  if (claim !== undefined) {
    claim.holders += 1;
    return;
  }
  const path = ownerPath(folder);
  const mine: Owner = { pid: process.pid, host: hostname() };
  for (;;) {
    if (await createClaim(path, mine)) break;
    const found = await readClaim(path);
    if (found === null) continue;
    if (found.owner !== null && (await isLive(found.owner, path, timing))) throw new FolderInUseError(folder, found.owner);
    await removeStaleClaim(path, found);
  }
  const touch = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, timing.touchMs);
  touch.unref();
  held.set(folder, { touch, holders: 1 });
}

/** Gives up one holder's claim on the folder; the last one's release frees the folder. */
export async function releaseFolder(folder: string): Promise<void> {
  const claim = held.get(folder);
  if (claim === undefined) return;
  claim.holders -= 1;
  if (claim.holders > 0) return;
  clearInterval(claim.touch);
  held.delete(folder);
  const found = await readClaim(ownerPath(folder));
  if (found?.owner?.pid === process.pid && found.owner.host === hostname()) await rm(ownerPath(folder), { force: true });
}

function ownerPath(folder: string): string {
  return join(folder, 'owner');
}

/** Creates the claim file with its content in one step; false when there is one already. */
async function createClaim(path: string, owner: Owner): Promise<boolean> {
  const draft = await writeDraft(path, owner);
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(draft, { force: true });
  }
}

/**
 * Removes a claim judged stale, unless it changed meanwhile. Receivers starting at once may all
 * judge the same claim stale: one at a time removes it, under a second file made only if absent, so
 * none removes the claim another has just made in its place.
 */
async function removeStaleClaim(path: string, stale: Claim): Promise<void> {
  const takeover = `${path}.takeover`;
  try {
    await writeFile(takeover, '', { flag: 'wx' });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    // Another receiver is taking the claim over; one that stopped while it did left this file behind.
    const since = await touchedTime(takeover);
    if (since !== null && Date.now() - since > ABANDONED_TAKEOVER_MS) await rm(takeover, { force: true });
    await sleep(TAKEOVER_WAIT_MS);
    return;
  }
  try {
    const now = await readClaim(path);
    if (now !== null && now.file === stale.file && now.text === stale.text) await rm(path);
  } finally {
    await rm(takeover, { force: true });
  }
}

async function writeDraft(path: string, owner: Owner): Promise<string> {
  // Not named by pid: receivers in containers sharing the folder may all be pid 1.
  const draft = `${path}.${randomUUID()}.draft`;
  await writeFile(draft, JSON.stringify(owner));
  return draft;
}

interface Claim {
  /** Null when the file does not name a holder (not written by a receiver). */
  readonly owner: Owner | null;
  /** The file's inode and text: which claim file this is. */
  readonly file: number;
  readonly text: string;
}

/** The claim file's holder; null when there is no claim file. */
async function readClaim(path: string): Promise<Claim | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  try {
    const [text, stats] = await Promise.all([handle.readFile('utf8'), handle.stat()]);
    return { owner: ownerFrom(text), file: stats.ino, text };
  } finally {
    await handle.close();
  }
}

/** A file from receivers that wrote only their pid is read as this host's. */
function ownerFrom(text: string): Owner | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isOwner(parsed)) return parsed;
  } catch {
    // Not JSON: the older form, below.
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) ? { pid, host: hostname() } : null;
}

function isOwner(value: unknown): value is Owner {
  if (typeof value !== 'object' || value === null) return false;
  const { pid, host } = value as Record<string, unknown>;
  return Number.isInteger(pid) && typeof host === 'string';
}

async function isLive(owner: Owner, path: string, timing: ClaimTiming): Promise<boolean> {
  // In a container every restart may get the same pid: this process's own pid here is a stale claim.
  if (owner.host === hostname()) return owner.pid !== process.pid && isRunning(owner.pid);
  const touchedAt = await touchedTime(path);
  if (touchedAt === null) return false;
  // Live if touched again before the claim goes stale; a holder touches it every touchMs.
  for (let left = touchedAt + timing.staleMs - Date.now(); left > 0; left = touchedAt + timing.staleMs - Date.now()) {
    await sleep(Math.min(left, timing.touchMs));
    if ((await touchedTime(path)) !== touchedAt) return true;
  }
  return false;
}

async function touchedTime(path: string): Promise<number | null> {
  return stat(path).then((stats) => stats.mtimeMs, () => null);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}
