/**
 * `npm run copy-to-server` as a user runs it, moving from the embedded database to a server: the
 * built command, a receiver on the embedded database that took reports over HTTP, and a receiver on
 * the server that answers for them afterwards. The copy itself needs a server (DATABASE_URL); what it
 * refuses is refused before any server is asked, and is tested on the embedded database too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/database.js';
import { openJournal, journalFolder } from '../../src/storage/journal.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { deliveredReport } from '../helpers/app.js';
import type { ProcessDatabase } from '../helpers/database.js';
import { createProcessDatabase, serverUrl } from '../helpers/database.js';
import { reportToStore } from '../helpers/reports.js';
import type { RunningReceiver } from '../helpers/receiver-process.js';
import { startReceiver } from '../helpers/receiver-process.js';

const COPY_CLI = join(import.meta.dirname, '../../dist/src/storage/copy-to-server-cli.js');
/** A server no one listens at: the refusals below come before any server is asked. */
const NO_SERVER = 'postgres://postgres@127.0.0.1:1/none';

function newDataDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'dlr-copy-')), 'data');
}

function copyToServer(env: Record<string, string>) {
  // A folder of its own: the command reads `.env` where it runs.
  const cwd = mkdtempSync(join(tmpdir(), 'dlr-copy-cwd-'));
  return spawnSync(process.execPath, [COPY_CLI], { env: { PATH: process.env.PATH ?? '', ...env }, cwd, encoding: 'utf8' });
}

async function stop(receiver: RunningReceiver): Promise<void> {
  receiver.child.kill('SIGTERM');
  expect(await receiver.exited).toBe(0);
}

async function post(receiver: RunningReceiver, body: unknown, path = '/dlr'): Promise<void> {
  const response = await fetch(`${receiver.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status, await response.text()).toBe(200);
}

async function lookup(receiver: RunningReceiver, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${receiver.base}${path}`);
  return { status: response.status, body: await response.json() };
}

const LOOKUPS = ['/messages/long', '/messages/single', '/messages?refId=order-1', '/messages?limit=500'];

/** A data folder whose embedded database took a long message's parts, a retry and a report through a gate; and what it answered. */
async function embeddedHistory(): Promise<{ dataDir: string; answers: unknown[] }> {
  const dataDir = newDataDir();
  const receiver = await startReceiver({ DATA_DIR: dataDir });
  try {
    const parts = [0, 1].map((part) => deliveredReport({ id: `long$${String(part)}`, refId: 'order-1', segments: 2, resultCode: 1001 + part * 5 }));
    await post(receiver, parts);
    await post(receiver, parts[0]);
    await post(receiver, deliveredReport({ id: 'single', refId: 'order-2', resultCode: 2106 }), '/dlr/gate-B');
    return { dataDir, answers: await Promise.all(LOOKUPS.map((path) => lookup(receiver, path))) };
  } finally {
    await stop(receiver);
  }
}

/**
 * A data folder whose embedded database holds `count` one-part messages, generated inside it: enough
 * that copying them takes seconds.
 */
async function largeEmbeddedHistory(count: number): Promise<string> {
  const dataDir = newDataDir();
  const embedded = openDatabase({ databaseUrl: null, dataDir });
  try {
    await migrateToLatest(embedded.db);
    await sql`INSERT INTO reports (fingerprint, report_id, message_id, result_code, result_description, status, final,
                                   delivery, billing, format, received_at, payload)
      SELECT md5(g::text)::uuid, 'm' || g, 'm' || g, 1001, 'Billed and delivered', 'delivered', true,
             'DELIVERED', 'BILLED', 'json', now(), json_build_object('id', 'm' || g, 'resultCode', 1001)
      FROM generate_series(1, ${count}::int) AS g`.execute(embedded.db);
    await sql`INSERT INTO messages (message_id, status, final, total, delivered, result_code, result_description,
                                    first_report_at, last_report_at, last_seq)
      SELECT message_id, 'delivered', true, 1, 1, 1001, 'Billed and delivered', received_at, received_at, seq
      FROM reports`.execute(embedded.db);
  } finally {
    await embedded.close();
  }
  return dataDir;
}

/** Resolves once the copy has stored reports on the server: it is past the server's migrations, copying pages. */
async function untilReportsOnServer(database: ProcessDatabase): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    // Before the migrations have made the table, the count fails.
    if ((await reportsOnServer(database).catch(() => 0)) > 0) return;
    await sleep(10);
  }
  throw new Error('the copy stored no report on the server within 10 s');
}

/** Reports stored in the process database's schema on the server. */
async function reportsOnServer(database: ProcessDatabase): Promise<number> {
  const client = new pg.Client({ connectionString: database.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM reports');
    return rows[0]?.count ?? Number.NaN;
  } finally {
    await client.end();
  }
}

describe('copy-to-server refuses, saying why, before it asks a server', () => {
  it('without DATABASE_URL', () => {
    const copy = copyToServer({ DATA_DIR: newDataDir() });
    expect(copy.status).toBe(2);
    expect(copy.stderr).toBe('DATABASE_URL is not set: name the PostgreSQL server to copy the embedded database to\n');
  });

  it('without an embedded database in DATA_DIR, and makes none there', () => {
    const dataDir = newDataDir();
    const copy = copyToServer({ DATA_DIR: dataDir, DATABASE_URL: NO_SERVER });
    expect(copy.status).toBe(1);
    expect(copy.stderr).toBe(`there is no embedded database in DATA_DIR (${dataDir}): nothing to copy\n`);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('while a receiver runs on the embedded database, which goes on taking reports', async () => {
    const dataDir = newDataDir();
    const receiver = await startReceiver({ DATA_DIR: dataDir });
    try {
      const copy = copyToServer({ DATA_DIR: dataDir, DATABASE_URL: NO_SERVER });
      expect(copy.status).toBe(1);
      expect(copy.stderr).toMatch(/^a receiver is running on DATA_DIR \(the journal folder .* is in use by process \d+; give each receiver its own DATA_DIR\): stop it, or start it on the server with a DATA_DIR of its own, before copying\n$/);
      await post(receiver, deliveredReport({ id: 'during' }));
      expect(await lookup(receiver, '/messages/during')).toMatchObject({ status: 200 });
    } finally {
      await stop(receiver);
    }
  });

  it('while the journal holds reports the embedded database has not stored', async () => {
    const { dataDir } = await embeddedHistory();
    const journal = await openJournal({ folder: journalFolder(dataDir), maxBytes: 1 << 20 });
    await journal.append([reportToStore('journaled$0'), reportToStore('journaled$1')]);
    await journal.close();

    const copy = copyToServer({ DATA_DIR: dataDir, DATABASE_URL: NO_SERVER });

    expect(copy.status).toBe(1);
    expect(copy.stderr).toBe(
      `the journal in ${journalFolder(dataDir)} holds 2 reports not yet stored in the embedded database: ` +
        'start the receiver on DATA_DIR once without DATABASE_URL, so that it stores them, then copy\n',
    );
  });

  it('when the server cannot be reached, having copied nothing', async () => {
    const { dataDir } = await embeddedHistory();
    const copy = copyToServer({ DATA_DIR: dataDir, DATABASE_URL: NO_SERVER });
    expect(copy.status).toBe(1);
    expect(copy.stderr).toMatch(/^the copy stopped: .*ECONNREFUSED.*: nothing was copied\n$/);
  });
});

describe.runIf(serverUrl !== null)('copy-to-server, moving a receiver from its embedded database to a server', () => {
  let server: ProcessDatabase | null = null;
  afterEach(async () => {
    await server?.drop();
    server = null;
  });

  it('copies every report, so the receiver on the server answers as the embedded one did; run again, it copies nothing twice', async () => {
    const { dataDir, answers } = await embeddedHistory();
    server = await createProcessDatabase();

    const copy = copyToServer({ DATA_DIR: dataDir, ...server.env });

    expect(copy.stderr).toBe('');
    expect(copy.status).toBe(0);
    // The first line names where the copy goes, as the server says: its address, database and schema.
    const [first, ...rest] = copy.stdout.split('\n');
    const database = new URL(serverUrl ?? '').pathname.slice(1);
    expect(first).toMatch(/^copying 3 reports of 2 messages from the embedded database to the server (at \S+:\d+|over a local socket), /);
    expect(first).toMatch(new RegExp(`, database ${database}, schema ${String(server.schema)}$`));
    expect(rest).toEqual(['done: 3 reports of 2 messages read, 3 stored, 0 on the server already', '']);
    const again = copyToServer({ DATA_DIR: dataDir, ...server.env });
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('done: 3 reports of 2 messages read, 0 stored, 3 on the server already\n');
    const onServer = await startReceiver({ DATA_DIR: newDataDir(), ...server.env });
    try {
      expect(await Promise.all(LOOKUPS.map((path) => lookup(onServer, path)))).toEqual(answers);
    } finally {
      await stop(onServer);
    }
  });

  it('names the server before it touches it, so a server that refuses the receiver\'s schema is named too', async () => {
    const { dataDir } = await embeddedHistory();
    server = await createProcessDatabase();
    // A server a newer release of the receiver migrated, which this release's migrations refuse.
    const newer = openDatabase({ databaseUrl: serverUrl, dataDir: '', schema: String(server.schema) });
    try {
      await migrateToLatest(newer.db);
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('20991231T2359_from-a-newer-release', ${new Date().toISOString()})`.execute(newer.db);
    } finally {
      await newer.close();
    }

    const copy = copyToServer({ DATA_DIR: dataDir, ...server.env });

    expect(copy.status).toBe(1);
    expect(copy.stdout).toMatch(new RegExp(`^copying 3 reports of 2 messages from the embedded database to the server .*, schema ${String(server.schema)}\n$`));
    expect(copy.stderr).toMatch(/^the copy stopped: the database was migrated by a newer release of the receiver .*: nothing was copied\n$/);
    // Said once, in the copy's words: not "nothing was changed: nothing was copied".
    expect(copy.stderr).not.toMatch(/nothing was changed/);
    expect(await reportsOnServer(server)).toBe(0);
  });

  it('copies what the journal held once a start on the embedded database has stored it', async () => {
    const { dataDir } = await embeddedHistory();
    const journal = await openJournal({ folder: journalFolder(dataDir), maxBytes: 1 << 20 });
    await journal.append([reportToStore('journaled$0')]);
    await journal.close();
    await stop(await startReceiver({ DATA_DIR: dataDir }));
    server = await createProcessDatabase();

    const copy = copyToServer({ DATA_DIR: dataDir, ...server.env });

    expect(copy.status).toBe(0);
    expect(copy.stdout).toContain('done: 4 reports of 3 messages read, 4 stored, 0 on the server already\n');
  });

  it('stopped by a signal, ends after the page under way saying how far it got, and run again copies the rest', async () => {
    const count = 20_000;
    const dataDir = await largeEmbeddedHistory(count);
    server = await createProcessDatabase();
    const cwd = mkdtempSync(join(tmpdir(), 'dlr-copy-cwd-'));
    const child = spawn(process.execPath, [COPY_CLI], { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ...server.env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => { resolve(code); }));
    await untilReportsOnServer(server);
    child.kill('SIGTERM');

    expect(await exited).toBe(1);
    expect(stdout).toMatch(/^copying 20000 reports of 20000 messages /);

    const copied = Number(/^stopped by a signal after (\d+) reports of \1 messages read, \1 stored, 0 on the server already: run the copy again to copy the rest\n$/.exec(stderr)?.[1]);
    expect(copied).toBeLessThan(count);
    expect(await reportsOnServer(server)).toBe(copied);
    const rest = copyToServer({ DATA_DIR: dataDir, ...server.env });
    expect(rest.status).toBe(0);
    expect(rest.stdout).toContain(`done: ${String(count)} reports of ${String(count)} messages read, ${String(count - copied)} stored, ${String(copied)} on the server already\n`);
  });
});
