/**
 * The embedded database gets the upkeep a PostgreSQL server's background processes would give it:
 * its write-ahead log is recycled after a checkpoint instead of kept for as long as the receiver
 * runs, and the rows later reports replaced are reclaimed instead of piling up.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Database } from '../../src/storage/database.js';
import { openDatabase } from '../../src/storage/database.js';
import { embeddedUpkeep } from '../../src/storage/embedded-upkeep.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { reportBatcher } from '../../src/storage/report-batcher.js';
import { storeReports } from '../../src/storage/write-reports.js';
import { createTestApp, deliveredReport, postJson } from '../helpers/app.js';
import { reportToStore } from '../helpers/reports.js';

const MIB = 1024 * 1024;
const silent = pino({ level: 'silent' });

let dataDir: string;
let database: Database;
let app: App;

async function openOnDisk(): Promise<void> {
  dataDir = mkdtempSync(join(tmpdir(), 'dlr-upkeep-'));
  database = openDatabase({ databaseUrl: null, dataDir });
  await migrateToLatest(database.db);
  app = await createTestApp(database);
}

afterEach(async () => {
  await app.close();
  await database.close();
});

/** Reports of about 40 KB each (a long custom parameter that does not compress), so that the log grows quickly. */
async function writeReports(count: number, prefix: string): Promise<void> {
  const filler = randomBytes(20_000).toString('hex');
  for (let sent = 0; sent < count; sent += 1) {
    const response = await postJson(app, deliveredReport({ id: `${prefix}-${sent}`, customParameters: { filler } }));
    expect(response.statusCode).toBe(200);
  }
}

/** The log's segment files on disk, by name (a name orders as the segment's place in the log). */
function walSegments(): string[] {
  return readdirSync(join(dataDir, 'postgres', 'pg_wal'))
    .filter((name) => /^[0-9A-F]{24}$/.test(name))
    .sort();
}

async function redoSegment(): Promise<string> {
  const { rows } = await sql<{ segment: string }>`SELECT pg_walfile_name(redo_lsn) AS segment FROM pg_control_checkpoint()`.execute(database.db);
  return rows[0]?.segment ?? '';
}

async function messagesBytes(): Promise<number> {
  const { rows } = await sql<{ bytes: number }>`SELECT pg_total_relation_size('messages')::float8 AS bytes`.execute(database.db);
  return rows[0]?.bytes ?? 0;
}

describe('upkeep of the embedded database', () => {
  it('checkpoints once enough log was written, so the log before it is recycled rather than kept', async () => {
    await openOnDisk();
    const upkeep = embeddedUpkeep({ db: database.db, logger: silent, checkpointAfterWalBytes: 32 * MIB });
    await writeReports(100, 'small');
    expect((await upkeep.runOnce()).checkpointed).toBe(false);

    await writeReports(1_000, 'large');
    const before = await redoSegment();
    // The log runs through several segments since the last checkpoint.
    expect(walSegments().filter((name) => name >= before).length).toBeGreaterThan(1);
    expect((await upkeep.runOnce()).checkpointed).toBe(true);
    const redo = await redoSegment();
    expect(redo > before).toBe(true);
    // Every segment left is the checkpoint's or after it: the older ones were removed or reused.
    expect(walSegments().filter((name) => name < redo)).toEqual([]);
    expect((await upkeep.runOnce()).checkpointed).toBe(false);
  });

  it('vacuums the messages table as reports replace its rows, so it stops growing', async () => {
    await openOnDisk();
    const upkeep = embeddedUpkeep({ db: database.db, logger: silent });
    const sizes: number[] = [];
    for (let round = 0; round < 12; round += 1) {
      // Each message's newer non-final report replaces its row's state.
      const reports = Array.from({ length: 150 }, (_, n) =>
        deliveredReport({ id: `m-${n}`, resultCode: 1000, timestamp: `2026-12-01T10:00:${String(round).padStart(2, '0')}Z` }),
      );
      expect((await postJson(app, reports)).statusCode).toBe(200);
      const done = await upkeep.runOnce();
      if (round > 0) expect(done.vacuumed).toContain('messages');
      sizes.push(await messagesBytes());
    }
    const [, , , afterFour] = sizes;
    expect(sizes.at(-1)).toBeLessThanOrEqual(afterFour ?? 0);
  });

  it('commits reports that come during a round between its pieces of work, not after the whole round', async () => {
    await openOnDisk();
    const upkeep = embeddedUpkeep({ db: database.db, logger: silent });
    expect((await postJson(app, Array.from({ length: 150 }, (_, n) => deliveredReport({ id: `due-${n}` })))).statusCode).toBe(200);
    // The write path as the receiver builds it on the embedded database.
    const batcher = reportBatcher({
      store: (items) => storeReports(database.writeTransaction, items),
      slots: 1,
      minReportsForExtraSlot: 64,
      maxBatchReports: 500,
      maxQueuedReports: 1_000,
    });
    const finished: string[] = [];
    const round = upkeep.runOnce().then((done) => {
      finished.push('round');
      return done;
    });
    const stored = batcher.store([reportToStore('during-the-round')]).then(() => {
      finished.push('report');
    });
    const [done] = await Promise.all([round, stored]);
    // Both tables had work due, and PGlite runs one statement at a time.
    expect([...done.vacuumed, ...done.analyzed].sort()).toEqual(['messages', 'reports']);
    expect(finished).toEqual(['report', 'round']);
    await batcher.close();
  });

  it("analyzes a table from a sample of 3,000 rows, not a server's 30,000, so that reports wait a tenth as long", async () => {
    await openOnDisk();
    const upkeep = embeddedUpkeep({ db: database.db, logger: silent });
    for (let hundred = 0; hundred < 4; hundred += 1) {
      const reports = Array.from({ length: 100 }, (_, n) => deliveredReport({ id: `sampled-${hundred}-${n}` }));
      expect((await postJson(app, reports)).statusCode).toBe(200);
    }
    expect((await upkeep.runOnce()).analyzed).toContain('reports');
    // The histogram of 400 different ids has as many buckets as the sample allows: 10 at 3,000 rows, 100 at 30,000.
    const { rows } = await sql<{ bounds: number }>`
      SELECT cardinality(histogram_bounds::text::text[]) AS bounds FROM pg_stats
      WHERE tablename = 'reports' AND attname = 'message_id' AND schemaname = current_schema()`.execute(database.db);
    expect(rows[0]?.bounds).toBe(11);
  });
});
