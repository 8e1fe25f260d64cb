/**
 * `npm run copy-to-server`: copies the reports of the embedded database in DATA_DIR to the
 * PostgreSQL server of DATABASE_URL, for a receiver that moves from one to the other. The server's
 * schema is brought up to date first; the embedded database's too, as a start would. The copy can be
 * stopped and run again: what is copied stays, and is not copied twice.
 */
import { sql } from 'kysely';
import { readConfigOrExit } from '../config/config.js';
import { abortedByStopSignal } from '../lib/stop-signals.js';
import type { CopyCount } from './copy-history.js';
import { copyHistory, countHistory } from './copy-history.js';
import { dataFolderAccessLine, folderAccessLine } from './data-folder-access.js';
import type { Database } from './database.js';
import { holdsEmbeddedDatabase, openDatabase } from './database.js';
import { FolderInUseError } from './folder-claim.js';
import type { Journal } from './journal.js';
import { journalFolder, openJournal } from './journal.js';
import { migrateToLatest, UnknownMigrationsError } from './migrate.js';
import type { HeldUpMigrations } from './migration-watch.js';
import { heldUpLine, whileMigrating } from './migration-watch.js';

/** How often a line tells how far the copy is. */
const PROGRESS_EVERY_MS = 5_000;

const { config, warnings } = readConfigOrExit();
for (const { line } of warnings) process.stderr.write(`${line}\n`);
if (config.databaseUrl === null) exit(2, 'DATABASE_URL is not set: name the PostgreSQL server to copy the embedded database to');
const serverUrl = config.databaseUrl;
// Looked for before anything is opened: opening the embedded database makes one where there is none.
// A folder this process may not read looks empty: that is said instead, as a start says it.
if (!holdsEmbeddedDatabase(config.dataDir)) {
  exit(1, (await folderAccessLine(config.dataDir)) ?? `there is no embedded database in DATA_DIR (${config.dataDir}): nothing to copy`);
}

const journal = await claimDataFolder();
const unreplayed = journal.unreplayedReports();
if (unreplayed > 0) {
  await journal.close();
  exit(
    1,
    `the journal in ${journalFolder(config.dataDir)} holds ${String(unreplayed)} reports not yet stored in the embedded database: ` +
      'start the receiver on DATA_DIR once without DATABASE_URL, so that it stores them, then copy',
  );
}

const stop = abortedByStopSignal();
const onHeldUp = (heldUp: HeldUpMigrations) => process.stderr.write(`${heldUpLine(heldUp)}\n`);
const embedded = openDatabase({ databaseUrl: null, dataDir: config.dataDir });
const server = openDatabase({ databaseUrl: serverUrl, dataDir: config.dataDir, writeTimeoutMs: config.writeTimeoutMs });
let copying = false;
try {
  await migrateToLatest(embedded.db);
  // The copy reads by key and along the listing's index. Without statistics (a database whose upkeep
  // has not run since it filled) the planner read a page's reports by scanning them all: a million
  // reports took 7.5 minutes instead of 70 s. The embedded database has one session, so this holds
  // for every read of the copy.
  await sql`SET enable_seqscan = off`.execute(embedded.db);
  const total = await countHistory(embedded);
  // Said before the server's schema is touched: a DATABASE_URL that names the wrong server shows
  // before the receiver's tables are made there, and a server that refuses them is named.
  process.stdout.write(
    `copying ${String(total.reports)} reports of ${String(total.messages)} messages from the embedded database to ${await serverPlace(server)}\n`,
  );
  await whileMigrating(server, { stop, onHeldUp }, () => migrateToLatest(server.db));
  copying = true;
  await copy(embedded, server, total);
} catch (error) {
  const access = copying ? null : await dataFolderAccessLine(config.dataDir, error, { embeddedOpening: true });
  // A refusal of the migrations is told without its "nothing was changed": the copy says it in its own words.
  const reason = error instanceof UnknownMigrationsError ? error.reason : error instanceof Error ? error.message : String(error);
  const message = access ?? reason;
  const rest = copying ? '; what was copied stays, and running the copy again goes on from there' : ': nothing was copied';
  process.stderr.write(`the copy stopped: ${message}${rest}\n`);
  process.exitCode = 1;
} finally {
  await Promise.all([embedded.close(), server.close()]);
  await journal.close();
}

async function copy(from: Database, to: Database, total: Pick<CopyCount, 'messages' | 'reports'>): Promise<void> {
  let lastLine = Date.now();
  const outcome = await copyHistory({
    from,
    to,
    stop,
    onPage: (count) => {
      if (Date.now() - lastLine < PROGRESS_EVERY_MS) return;
      lastLine = Date.now();
      process.stdout.write(`${String(count.reports)} of ${String(total.reports)} reports read, ${String(count.stored)} stored, ${String(count.duplicates)} on the server already\n`);
    },
  });
  if (outcome.stopped) {
    process.stderr.write(`stopped by a signal after ${countLine(outcome)}: run the copy again to copy the rest\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`done: ${countLine(outcome)}\n`);
}

/**
 * Where the copy goes, as the server itself says: so that a DATABASE_URL left over from elsewhere
 * (a `.env` file's) shows before anything is written there. Behind a pooler, the address is the server's.
 */
async function serverPlace(database: Database): Promise<string> {
  const { rows } = await sql<{ address: string | null; port: number | null; database: string; schema: string | null }>`
    SELECT host(inet_server_addr()) AS address, inet_server_port() AS port, current_database() AS database, current_schema() AS schema`.execute(database.db);
  const place = rows[0];
  if (place === undefined) return 'the server';
  const at = place.address === null ? 'over a local socket' : `at ${place.address.includes(':') ? `[${place.address}]` : place.address}:${String(place.port)}`;
  return `the server ${at}, database ${place.database}, schema ${place.schema ?? '(none)'}`;
}

function countLine(count: CopyCount): string {
  return `${String(count.reports)} reports of ${String(count.messages)} messages read, ${String(count.stored)} stored, ${String(count.duplicates)} on the server already`;
}

/**
 * Claims the data folder as a receiver does, so that no receiver runs on the embedded database while
 * it is copied: two PostgreSQLs on one data folder can damage it.
 */
async function claimDataFolder(): Promise<Journal> {
  try {
    return await openJournal({ folder: journalFolder(config.dataDir), maxBytes: config.journalMaxBytes });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof FolderInUseError) {
      exit(1, `a receiver is running on DATA_DIR (${message}): stop it, or start it on the server with a DATA_DIR of its own, before copying`);
    }
    exit(1, (await dataFolderAccessLine(config.dataDir, error, { embeddedOpening: false })) ?? `the data folder could not be claimed: ${message}`);
  }
}

function exit(code: number, line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(code);
}
