/**
 * `npm run migrate`: brings the configured database's schema up to date, then exits.
 * `npm run migrate -- down`: undoes the newest migration instead, to go back one release.
 */
import { readConfigOrExit } from '../config/config.js';
import { abortedByStopSignal } from '../lib/stop-signals.js';
import { dataFolderAccessLine } from './data-folder-access.js';
import { openDatabase } from './database.js';
import { FolderInUseError } from './folder-claim.js';
import { claimJournalFolder, journalFolder, releaseJournalFolder } from './journal.js';
import { migrateToLatest, undoLatestMigration } from './migrate.js';
import type { HeldUpMigrations } from './migration-watch.js';
import { heldUpLine, whileMigrating } from './migration-watch.js';

const [command = 'up'] = process.argv.slice(2);
if (command !== 'up' && command !== 'down') {
  process.stderr.write(`unknown command "${command}": use "up" (the default) or "down"\n`);
  process.exit(2);
}

const { config, warnings } = readConfigOrExit();
for (const { line } of warnings) process.stderr.write(`${line}\n`);
// The embedded database may be open in a receiver: two PostgreSQLs on one data folder can damage it.
const claimed = config.databaseUrl === null ? journalFolder(config.dataDir) : null;
if (claimed !== null) {
  try {
    await claimJournalFolder(claimed);
  } catch (error) {
    const access = await dataFolderAccessLine(config.dataDir, error, { embeddedOpening: false });
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${access ?? (error instanceof FolderInUseError ? `${message}: stop it before migrating` : message)}\n`);
    process.exit(1);
  }
}
// A stop signal abandons the making of a new embedded database, which runs in a process of its
// own that a signal sent to this one alone would leave writing in the data folder. On a server it
// cancels the migrations' session: ended without it, this process would leave that session waiting
// at the server for whatever holds it up, in the queue of a lock the receivers' writes also take.
const stop = abortedByStopSignal();
const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, stopCreation: stop });
const onHeldUp = (heldUp: HeldUpMigrations) => process.stderr.write(`${heldUpLine(heldUp)}\n`);
try {
  if (command === 'down') {
    const undone = await whileMigrating(database, { stop, onHeldUp }, () => undoLatestMigration(database.db));
    process.stdout.write(undone === null ? 'no migration to undo\n' : `undone: ${undone}\n`);
  } else {
    const applied = await whileMigrating(database, { stop, onHeldUp }, () => migrateToLatest(database.db));
    process.stdout.write(applied.length === 0 ? 'schema is up to date\n' : `applied: ${applied.join(', ')}\n`);
  }
} catch (error) {
  const access = database.kind === 'embedded' ? await dataFolderAccessLine(config.dataDir, error, { embeddedOpening: true }) : null;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${stop.aborted ? 'stopped by a signal: nothing migrated' : access ?? message}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
  if (claimed !== null) await releaseJournalFolder(claimed);
}

