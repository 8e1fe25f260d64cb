/**
 * The embedded database's commits reach the disk: a report is answered 200 only after PostgreSQL's
 * write-ahead log was fsynced, as on a PostgreSQL server, so a crash of the machine cannot lose it.
 * Which file each fsync reached is read from /proc, hence Linux only. The receiver opens the database
 * in a thread of its own, where this file's recording does not reach; here it is opened as that
 * thread opens it (`openPglite`), in the test's thread.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { databaseOnEmbedded, embeddedFolder, openDatabase } from '../../src/storage/database.js';
import { openPglite } from '../../src/storage/embedded-open.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { createTestApp, deliveredReport, getMessage, postJson } from '../helpers/app.js';
import { engineInThisThread } from '../helpers/engine-in-this-thread.js';
import { synced } from '../helpers/recorded-fsyncs.js';

vi.mock('node:fs', async (importOriginal) => (await import('../helpers/recorded-fsyncs.js')).withRecordedFsyncs(await importOriginal()));

describe.runIf(process.platform === 'linux')('the embedded database on disk', () => {
  it('fsyncs its write-ahead log before a report is answered 200, and keeps the report across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-embedded-'));
    const folder = embeddedFolder(dataDir);
    const pglite = openPglite({ dataDir, folder }, { onDiskFailure: (error) => { throw error; } });
    const database = databaseOnEmbedded(engineInThisThread(pglite), folder);
    await migrateToLatest(database.db);
    const app = await createTestApp(database);

    synced.length = 0;
    const response = await postJson(app, deliveredReport({ id: 'on-disk-1' }));
    expect(response.statusCode).toBe(200);
    expect(synced.filter((path) => path.startsWith(join(dataDir, 'postgres', 'pg_wal')))).not.toEqual([]);
    // The other part of a message stored already is written in two steps, and commits as synced.
    expect((await postJson(app, deliveredReport({ id: 'on-disk-2$1', segments: 2 }))).statusCode).toBe(200);
    synced.length = 0;
    const firstPart = await postJson(app, deliveredReport({ id: 'on-disk-2$0', segments: 2 }));
    expect(firstPart.statusCode).toBe(200);
    expect(synced.filter((path) => path.startsWith(join(dataDir, 'postgres', 'pg_wal')))).not.toEqual([]);
    // Closing ends with a checkpoint, which syncs the data files as well.
    synced.length = 0;
    await app.close();
    await database.close();
    expect(synced.some((path) => path.startsWith(join(dataDir, 'postgres', 'base')))).toBe(true);

    // The receiver's own opening, in its thread, finds the report.
    const reopened = openDatabase({ databaseUrl: null, dataDir });
    await migrateToLatest(reopened.db);
    const again = await createTestApp(reopened);
    expect((await getMessage(again, 'on-disk-1')).status).toBe('delivered');
    expect((await getMessage(again, 'on-disk-2')).segments).toMatchObject({ total: 2, delivered: 2 });
    await again.close();
    await reopened.close();
  });
});
