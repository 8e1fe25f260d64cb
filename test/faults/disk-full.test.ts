/**
 * A full disk. Under the journal while the database is away: every report is answered 503 and none
 * acknowledged, the failure is logged once a minute rather than once a request, and reports are
 * taken again as soon as there is room (mounting a small file system takes root; elsewhere this is
 * skipped). Under the embedded database's write-ahead log: the receiver stops, as PostgreSQL does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../src/lib/error-code.js';
import { loggerOptions } from '../../src/logging.js';
import { createTestApp, postJson } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { mountTmpfs, mountsTmpfs, unmount } from '../helpers/mounts.js';
import { missingMessages, startReceiver } from '../helpers/receiver-process.js';
import { capturedLog } from '../helpers/captured-log.js';

/** Writes a file until the disk has no room left. */
function fillDisk(file: string): void {
  try {
    writeFileSync(file, Buffer.alloc(64 << 20));
  } catch (error) {
    if (errorCode(error) === 'ENOSPC') return;
    throw error;
  }
  throw new Error('the disk took 64 MiB: it was meant to be smaller');
}

describe('a full disk', () => {
  it.runIf(mountsTmpfs())('answers 503 to each report while the journal cannot grow, logs it once a minute, and takes reports once there is room', async () => {
    const testDb = await createTestDatabase();
    const gone = testDb.openAnother();
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-disk-full-'));
    expect(mountTmpfs(dataDir, '1m')).toBe(true);
    const log = capturedLog();
    const app = await createTestApp(gone, { DATA_DIR: dataDir }, pino(loggerOptions('warn', false), log.stream));
    try {
      // Used once, so that closing it really ends its connections: reports go to the journal.
      expect(await gone.ping()).toBe(true);
      await gone.close();
      const filler = join(dataDir, 'filler');
      fillDisk(filler);

      for (let index = 0; index < 20; index++) {
        const response = await postJson(app, { id: `no-room-${index}`, resultCode: 1001 });
        expect(response.statusCode).toBe(503);
        expect(response.json()).toEqual({ error: 'Service Unavailable', message: 'the report could not be stored; retry later' });
      }
      const failures = log.text().split('\n').filter((line) => line.includes('report not stored'));
      expect(failures).toHaveLength(1);
      expect(failures[0]).toContain('ENOSPC');

      unlinkSync(filler);
      expect((await postJson(app, { id: 'room-again', resultCode: 1001 })).statusCode).toBe(200);
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.json()).toMatchObject({ storingTo: 'journal', journalReports: 1 });
    } finally {
      await app.close();
      unmount(dataDir);
      if (gone !== testDb.database) await testDb.drop();
    }
  });
});

/** Posts a report with 20 kB of random custom parameter, which the database cannot compress. */
async function postLargeReport(base: string, messageId: string): Promise<number | 'refused' | 'no answer'> {
  try {
    const response = await fetch(`${base}/dlr`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: messageId, resultCode: 1001, customParameters: { note: randomBytes(15_000).toString('base64') } }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    return error instanceof Error && error.name === 'TimeoutError' ? 'no answer' : 'refused';
  }
}

describe('a disk that refuses the embedded database a write to its write-ahead log', () => {
  // As a full disk refuses a new 16 MiB log segment. Here the file size limit refuses writes past
  // 10 MiB of the segment in use: no root needed, and the same failure at a known place.
  it('stops the receiver naming the log, where it stopped answering before, and a restart has every report it acknowledged', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-log-refused-'));
    const making = await startReceiver({ DATA_DIR: dataDir });
    making.child.kill('SIGTERM');
    expect(await making.exited).toBe(0);

    const limited = await startReceiver({ DATA_DIR: dataDir }, { fileSizeLimit: 10 << 20 });
    const acknowledged: string[] = [];
    const answers: Record<string, number> = {};
    let sending = true;
    const worker = async (number: number) => {
      for (let index = 0; sending; index++) {
        const messageId = `log-refused-${number}-${index}`;
        const answer = await postLargeReport(limited.base, messageId);
        answers[answer] = (answers[answer] ?? 0) + 1;
        if (answer === 200) acknowledged.push(messageId);
        else sending = false;
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));

    expect(answers['no answer']).toBeUndefined();
    expect(await limited.exited).toBe(1);
    expect(limited.output()).toContain("the disk did not take a write to the embedded database's write-ahead log");
    expect(limited.output()).toContain('EFBIG');
    expect(acknowledged.length).toBeGreaterThan(10);

    const restarted = await startReceiver({ DATA_DIR: dataDir });
    try {
      expect(await missingMessages(restarted.base, acknowledged)).toEqual([]);
      expect((await postLargeReport(restarted.base, 'after-the-restart'))).toBe(200);
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
  });
});
