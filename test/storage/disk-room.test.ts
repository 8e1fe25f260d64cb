/**
 * A disk the receiver writes to, running low on room: a warning before it is full, repeated while
 * it stays low, and a line when there is room again.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loggerOptions } from '../../src/logging.js';
import type { Room } from '../../src/storage/disk-room.js';
import { isLowOnRoom, passingFileSystemAt, watchDiskRoom } from '../../src/storage/disk-room.js';
import { createTestApp } from '../helpers/app.js';
import { capturedLog } from '../helpers/captured-log.js';
import { createTestDatabase } from '../helpers/database.js';
import { mountOverlay, mountTmpfs, mountsTmpfs, unmount } from '../helpers/mounts.js';
import { waitFor } from '../helpers/receiver-process.js';

const GIB = 1024 ** 3;

interface Line { level: number; msg: string; folder?: string; availableMiB?: number; percentFree?: number }
const lines = (text: string) => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line);

describe('low on room', () => {
  it.each([
    [0.9 * GIB, 10 * GIB, true],
    [2 * GIB, 10 * GIB, false],
    [40 * GIB, 1024 * GIB, true],
    [60 * GIB, 1024 * GIB, false],
  ])('%d bytes free of %d is low: %s', (availableBytes, totalBytes, low) => {
    expect(isLowOnRoom({ availableBytes, totalBytes })).toBe(low);
  });
});

describe('watching the room on the disk', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('warns at once when low, again every repeat while low, and says when there is room again', async () => {
    const log = capturedLog();
    const folder = mkdtempSync(join(tmpdir(), 'dlr-room-'));
    let room: Room = { availableBytes: 512 * 1024 ** 2, totalBytes: 10 * GIB };
    const watch = watchDiskRoom({ folders: [folder], logger: pino(log.stream), everyMs: 60_000, repeatMs: 600_000, room: () => Promise.resolve(room) });
    watch.start();
    // The first look reads the folder's device from the disk, which fake time does not hurry.
    await vi.waitFor(() => { expect(lines(log.text())).toEqual([expect.objectContaining({ level: 40, folder, availableMiB: 512, percentFree: 5 })]); });
    expect(lines(log.text())[0]?.msg).toContain('the disk is low on room');
    await vi.advanceTimersByTimeAsync(540_000);
    expect(lines(log.text())).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines(log.text())).toHaveLength(2);
    room = { availableBytes: 5 * GIB, totalBytes: 10 * GIB };
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines(log.text())[2]).toMatchObject({ level: 30, msg: 'the disk has room again', availableMiB: 5120 });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(lines(log.text())).toHaveLength(3);
    // Low again: warned at once, not after the repeat.
    room = { availableBytes: 100, totalBytes: 10 * GIB };
    await vi.advanceTimersByTimeAsync(60_000);
    expect(lines(log.text())).toHaveLength(4);
    watch.stop();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(lines(log.text())).toHaveLength(4);
  });

  it('does not look again while a look has not ended', async () => {
    const log = capturedLog();
    const folder = mkdtempSync(join(tmpdir(), 'dlr-room-'));
    let looks = 0;
    // A file system that stops answering: the look never ends.
    const room = () => {
      looks++;
      return new Promise<Room>(() => undefined);
    };
    const watch = watchDiskRoom({ folders: [folder], logger: pino(log.stream), everyMs: 60_000, repeatMs: 600_000, room });
    watch.start();
    await vi.waitFor(() => { expect(looks).toBe(1); });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(looks).toBe(1);
    watch.stop();
  });

  it('looks at folders on one file system once, and goes on past a folder it cannot read', async () => {
    const log = capturedLog();
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-room-'));
    const journal = join(dataDir, 'journal');
    const database = join(dataDir, 'postgres');
    mkdirSync(journal);
    mkdirSync(database);
    const gone = join(dataDir, 'gone');
    const looked: string[] = [];
    const room = (folder: string) => {
      looked.push(folder);
      return folder === gone ? Promise.reject(new Error('ENOENT')) : Promise.resolve({ availableBytes: 1, totalBytes: GIB });
    };
    const watch = watchDiskRoom({ folders: [gone, journal, database], logger: pino(log.stream), everyMs: 60_000, repeatMs: 600_000, room });
    watch.start();
    await vi.waitFor(() => { expect(looked).toEqual([gone, journal]); });
    watch.stop();
    expect(lines(log.text())).toEqual([expect.objectContaining({ level: 40, folder: journal })]);
  });
});

describe('a receiver on a small disk', () => {
  it.runIf(mountsTmpfs())('warns at start that its data folder\'s disk is low on room, with the room left', async () => {
    const testDb = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-small-disk-'));
    expect(mountTmpfs(dataDir, '16m')).toBe(true);
    const log = capturedLog();
    const app = await createTestApp(testDb.database, { DATA_DIR: dataDir }, pino(loggerOptions('warn', false), log.stream));
    try {
      await waitFor('the warning', () => Promise.resolve(log.text().includes('the disk is low on room')));
      const warning = lines(log.text()).find((line) => line.msg.includes('the disk is low on room'));
      expect(warning).toMatchObject({ level: 40, folder: join(dataDir, 'journal') });
      // 16 MiB, less what the journal holds.
      expect(warning?.availableMiB).toBeGreaterThan(12);
      expect(warning?.availableMiB).toBeLessThanOrEqual(16);
    } finally {
      await app.close();
      unmount(dataDir);
      await testDb.drop();
    }
  });
});

describe('a data folder on a file system that does not outlive the machine or the container', () => {
  it.runIf(mountsTmpfs())('is told from one on a disk: tmpfs, and a container layer\'s overlay', async () => {
    const inMemory = mkdtempSync(join(tmpdir(), 'dlr-in-memory-'));
    const layered = mkdtempSync(join(tmpdir(), 'dlr-layered-'));
    expect(mountTmpfs(inMemory)).toBe(true);
    expect(mountOverlay(layered)).toBe(true);
    try {
      expect(await passingFileSystemAt(inMemory)).toMatchObject({ name: 'tmpfs', lostWhen: 'the machine restarts' });
      expect(await passingFileSystemAt(layered)).toMatchObject({ name: 'overlay', lostWhen: 'the container is removed' });
      // The checkout's own folder, on a disk.
      expect(await passingFileSystemAt(import.meta.dirname)).toBeNull();
    } finally {
      unmount(inMemory);
      unmount(layered);
    }
  });
});
