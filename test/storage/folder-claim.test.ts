/**
 * One receiver per journal folder, also where a pid does not tell receivers apart: containers that
 * share a volume are often all pid 1. Real files, and real processes racing for one folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderInUseError, claimFolder, releaseFolder } from '../../src/storage/folder-claim.js';

const FOLDER_CLAIM = join(import.meta.dirname, '../../dist/src/storage/folder-claim.js');
/** Short times, so that a stale claim from another host is seen as such within the test. */
const QUICK = { touchMs: 50, staleMs: 400 };

function freshFolder(): string {
  return mkdtempSync(join(tmpdir(), 'dlr-claim-'));
}

function ownerOf(folder: string): unknown {
  return JSON.parse(readFileSync(join(folder, 'owner'), 'utf8'));
}

describe('the claim on a journal folder', () => {
  it("refuses a claim from another host while its holder keeps it up, even one with this process's pid", async () => {
    const folder = freshFolder();
    const owner = join(folder, 'owner');
    writeFileSync(owner, JSON.stringify({ pid: process.pid, host: 'another-container' }));
    const keptUp = setInterval(() => { utimesSync(owner, new Date(), new Date()); }, QUICK.touchMs);
    try {
      const refused = claimFolder(folder, QUICK);
      await expect(refused).rejects.toBeInstanceOf(FolderInUseError);
      await expect(refused).rejects.toThrow(`is in use by process ${String(process.pid)} on host another-container; give each receiver its own DATA_DIR`);
    } finally {
      clearInterval(keptUp);
    }
    expect(ownerOf(folder)).toEqual({ pid: process.pid, host: 'another-container' });
  });

  it('takes over a claim from another host once nobody keeps it up, and gives it up on release', async () => {
    const folder = freshFolder();
    writeFileSync(join(folder, 'owner'), JSON.stringify({ pid: 1, host: 'crashed-container' }));
    await claimFolder(folder, QUICK);
    expect(ownerOf(folder)).toEqual({ pid: process.pid, host: hostname() });
    await releaseFolder(folder);
    expect(existsSync(join(folder, 'owner'))).toBe(false);
  });

  it('stays claimed until every holder in the process has given it up', async () => {
    const folder = freshFolder();
    await claimFolder(folder, QUICK);
    await claimFolder(folder, QUICK);
    await releaseFolder(folder);
    expect(ownerOf(folder)).toEqual({ pid: process.pid, host: hostname() });
    await releaseFolder(folder);
    expect(existsSync(join(folder, 'owner'))).toBe(false);
  });

  it('keeps its own claim up while it holds it', async () => {
    const folder = freshFolder();
    await claimFolder(folder, QUICK);
    try {
      const owner = join(folder, 'owner');
      const long = new Date(Date.now() - 60_000);
      utimesSync(owner, long, long);
      await new Promise((resolve) => setTimeout(resolve, QUICK.touchMs * 4));
      expect(Date.now() - statSync(owner).mtimeMs).toBeLessThan(QUICK.staleMs);
    } finally {
      await releaseFolder(folder);
    }
  });

  it('lets exactly one of several receivers starting at once take a stale claim', async () => {
    for (let round = 0; round < 5; round++) {
      const folder = freshFolder();
      // Left by a receiver of this host that is gone: Linux pids stay below 2^22.
      writeFileSync(join(folder, 'owner'), '2000000000');
      const startAt = Date.now() + 1_500;
      const outcomes = await Promise.all(Array.from({ length: 4 }, () => claimInChild(folder, startAt)));
      expect(outcomes.filter((outcome) => outcome === 'claimed')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'in use')).toHaveLength(3);
    }
  });
});

/**
 * Claims the folder in a process of its own at `startAt` (after its start-up, so that the claims
 * meet), and holds the claim for a while, as a receiver would.
 */
async function claimInChild(folder: string, startAt: number): Promise<string> {
  const script = [
    `import { claimFolder } from ${JSON.stringify(FOLDER_CLAIM)};`,
    `await new Promise((resolve) => setTimeout(resolve, ${String(startAt)} - Date.now()));`,
    'try {',
    `  await claimFolder(${JSON.stringify(folder)});`,
    "  process.stdout.write('claimed');",
    '  await new Promise((resolve) => setTimeout(resolve, 1000));',
    '} catch (error) {',
    "  process.stdout.write(error.name === 'FolderInUseError' ? 'in use' : String(error));",
    '}',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return output;
}
