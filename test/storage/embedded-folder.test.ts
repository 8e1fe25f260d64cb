/**
 * Where the embedded database lives in DATA_DIR: `postgres/`, beside the journal, for a new data
 * folder; in the data folder itself for a database made by receivers before that layout.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { EMBEDDED_POSTGRES_MAJOR } from '../../src/storage/embedded-creation.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { freePort, launchReceiver } from '../helpers/receiver-process.js';

describe('the embedded database in DATA_DIR', () => {
  it('is made in DATA_DIR/postgres, leaving DATA_DIR free for the journal', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'dlr-layout-')), 'data');
    const database = openDatabase({ databaseUrl: null, dataDir });
    try {
      await migrateToLatest(database.db);
    } finally {
      await database.close();
    }
    expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(false);
  });

  it('is used where it is in a DATA_DIR that an earlier receiver made it in', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-layout-'));
    const earlier = new PGlite({ fs: new NodeFS(dataDir) });
    await earlier.exec('CREATE TABLE made_by_an_earlier_receiver (id int)');
    await earlier.close();

    const database = openDatabase({ databaseUrl: null, dataDir });
    try {
      await migrateToLatest(database.db);
      const found = await sql<{ name: string | null }>`SELECT to_regclass('made_by_an_earlier_receiver')::text AS name`.execute(database.db);
      expect(found.rows[0]?.name).toBe('made_by_an_earlier_receiver');
    } finally {
      await database.close();
    }
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
  });

  it('of another PostgreSQL version stops the receiver at start with one line naming both versions, and the data folder is given up', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-layout-'));
    mkdirSync(join(dataDir, 'postgres'));
    writeFileSync(join(dataDir, 'postgres', 'PG_VERSION'), '15\n');
    const launched = launchReceiver({ DATA_DIR: dataDir, PORT: String(await freePort()), HOST: '127.0.0.1' });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain('"msg":"could not prepare the database"');
    expect(launched.output()).toContain(
      `${join(dataDir, 'postgres')} holds a database of PostgreSQL \\"15\\" (its PG_VERSION), and the embedded PostgreSQL is ${EMBEDDED_POSTGRES_MAJOR}`,
    );
    expect(launched.output()).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dataDir, 'journal', 'owner'))).toBe(false);
  });
});
