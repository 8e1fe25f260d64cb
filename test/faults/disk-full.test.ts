/**
 * The disk under the journal is full while the database is away: every report is answered 503 and
 * none acknowledged, the failure is logged once a minute rather than once a request, and reports
 * are taken again as soon as there is room. Mounting a small file system takes root; elsewhere
 * this is skipped.
 */
import { mkdtempSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../src/lib/error-code.js';
import { loggerOptions } from '../../src/logging.js';
import { createTestApp, postJson } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { mountTmpfs, mountsTmpfs, unmount } from '../helpers/mounts.js';

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
    let lines = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines += chunk.toString();
        done();
      },
    });
    const app = await createTestApp(gone, { DATA_DIR: dataDir }, pino(loggerOptions('warn', false), sink));
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
      const failures = lines.split('\n').filter((line) => line.includes('report not stored'));
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
