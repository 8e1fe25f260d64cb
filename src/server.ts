/** Starts the receiver: reads the configuration, listens, migrates, opens, and shuts down cleanly on a signal. */
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Receiver } from './app.js';
import { assembleReceiver } from './app.js';
import { readConfigOrExit } from './config/config.js';
import { listenProblem } from './http/listen-problem.js';
import { errorSummary } from './lib/error-summary.js';
import { logSparingly } from './lib/log-sparingly.js';
import { abortedByStopSignal } from './lib/stop-signals.js';
import { loggerOptions } from './logging.js';
import { connectionLimitLine, readConnectionLimits } from './storage/connection-limits.js';
import type { Database } from './storage/database.js';
import { openDatabase, SERVER_CONNECTIONS_AT_MOST } from './storage/database.js';
import { dataFolderAccessLine } from './storage/data-folder-access.js';
import { passingFileSystemAt } from './storage/disk-room.js';
import { claimJournalFolder, journalFolder, releaseJournalFolder } from './storage/journal.js';
import { migrateOnceReachable, migrateToLatest } from './storage/migrate.js';
import type { HeldUpMigrations } from './storage/migration-watch.js';
import { whileMigrating } from './storage/migration-watch.js';
import { readOnlyServerLine, readServerWrites } from './storage/server-writes.js';
import { refusedForTooManySessions } from './storage/session-limit.js';

async function main(): Promise<void> {
  const { config, warnings } = readConfigOrExit();

  const logger = pino(loggerOptions(config.logLevel));
  for (const { names, line } of warnings) logger.warn({ names }, line);
  // Before the database: the embedded one lives in the same DATA_DIR, and a second receiver started
  // on it must stop before it opens the first one's database.
  const dataFolderClaim = journalFolder(config.dataDir);
  try {
    await claimJournalFolder(dataFolderClaim);
  } catch (error) {
    logger.fatal({ err: errorSummary(error) }, await withDataFolderAccess(config.dataDir, 'could not start the receiver', error));
    process.exit(1);
  }
  const passing = await passingFileSystemAt(config.dataDir).catch(() => null);
  if (passing !== null) {
    logger.warn(
      { dataDir: config.dataDir, fileSystem: passing.name },
      `DATA_DIR is on ${passing.name}, ${passing.what}: what the receiver keeps there (the journal of acknowledged reports, and the embedded database without DATABASE_URL) is lost when ${passing.lostWhen}; ${passing.instead}`,
    );
  }
  const dbLog = logger.child({ name: 'db' });
  // From here, a stop signal stops the start cleanly where it is (see migrateWhenReachable).
  const stopStarting = abortedByStopSignal();
  const database = openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    writeTimeoutMs: config.writeTimeoutMs,
    stopCreation: stopStarting,
    onConnectionError: (error) => { dbLog.warn({ err: errorSummary(error) }, 'database connection lost'); },
    onSharedSession: () => { dbLog.warn(SHARED_SESSION_LINE); },
    onEmbeddedCreation: (folder) => { dbLog.info({ folder }, 'no embedded database yet: making one, which takes a few seconds'); },
    onEmbeddedDiskFailure: (error) => {
      dbLog.fatal({ err: errorSummary(error) }, 'the disk failed the embedded database: stopping, so that nothing is acknowledged that may not be on disk; restart the receiver once the disk is sound and has room');
    },
    onEmbeddedStopped: (error) => {
      dbLog.fatal({ err: errorSummary(error) }, 'the embedded database stopped: stopping, so that a restart opens it again; what was acknowledged is in the database or the local journal');
    },
  });
  if (config.allowedCallers === null) {
    logger.warn('DLR_ALLOWED_IPS=* : reports are taken from any address');
  }
  let receiver: Receiver | null = null;
  // Gives the data folder up as a clean stop does, so that a receiver on another host need not wait
  // for the claim to go stale.
  const stopAtStart = async (exitCode: 0 | 1): Promise<never> => {
    await receiver?.app.close();
    await database.close();
    await releaseJournalFolder(dataFolderClaim);
    process.exit(exitCode);
  };
  try {
    receiver = await assembleReceiver({ config, database, logger });
  } catch (error) {
    logger.fatal({ err: errorSummary(error) }, await withDataFolderAccess(config.dataDir, 'could not start the receiver', error));
    return stopAtStart(1);
  }
  // Listening before the database is ready: /healthz answers while the process runs, /readyz says
  // it is starting, and a report meanwhile gets 503, which LINK retries.
  try {
    await receiver.app.listen({ host: config.host, port: config.port });
  } catch (error) {
    logger.fatal({ err: errorSummary(error) }, `could not start the receiver: ${listenProblem(config.host, config.port, error)}`);
    return stopAtStart(1);
  }
  let applied;
  try {
    applied = await migrateWhenReachable(database, dbLog, stopStarting);
  } catch (error) {
    const line = 'could not prepare the database';
    dbLog.fatal({ err: errorSummary(error) }, database.kind === 'embedded' ? await withDataFolderAccess(config.dataDir, line, error, { embeddedOpening: true }) : line);
    return stopAtStart(1);
  }
  if (applied !== null) {
    dbLog.info({ database: database.kind, applied }, 'database ready');
    if (database.kind === 'server') await warnOfWhatTheServerAllows(database, dbLog);
  }
  // A stop signal that came during the migrations, or while the server was asked what it allows,
  // is heeded here: close-with-grace, set up next in the same turn, would never see it.
  if (applied === null || stopStarting.aborted) {
    logger.info('stopping at start, before taking any report');
    return stopAtStart(0);
  }

  const { app, open } = receiver;
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err: errorSummary(err) }, 'stopping after an error');
    else logger.info({ signal }, 'stopping');
    await app.close();
    await database.close();
    // Only now may another receiver open this DATA_DIR: closing the embedded database writes to it.
    await releaseJournalFolder(dataFolderClaim);
  });
  open();
  logger.info('taking reports');
}

/**
 * A failed start's line, naming the data folder's owner and the receiver's user when the folder is
 * not the receiver's to write: the error alone says EACCES on one path, or, from the embedded
 * database, only that it failed to initialise.
 */
async function withDataFolderAccess(dataDir: string, line: string, error: unknown, from = { embeddedOpening: false }): Promise<string> {
  const access = await dataFolderAccessLine(dataDir, error, from);
  return access === null ? line : `${line}: ${access}`;
}

/**
 * Says so when the server lets the receiver open fewer sessions than it may use, or takes no
 * writes. Advice only: a server that will not say (a catalogue the user may not read) does not
 * stop the start, nor does a standby, which a failover may promote while the journal holds the reports.
 */
async function warnOfWhatTheServerAllows(database: Database, dbLog: Logger): Promise<void> {
  const [limits, writes] = await Promise.all([
    readConnectionLimits(database.db).catch(() => null),
    readServerWrites(database.db).catch(() => null),
  ]);
  const lines = [
    limits === null ? null : connectionLimitLine(limits, SERVER_CONNECTIONS_AT_MOST),
    writes === null ? null : readOnlyServerLine(writes),
  ];
  for (const line of lines) if (line !== null) dbLog.warn(line);
}

/** The receiver's connections keep settings and prepared statements per session. */
const SHARED_SESSION_LINE =
  'two of the receiver\'s connections were given one PostgreSQL session: DATABASE_URL leads through a pooler that shares sessions ' +
  '(PgBouncer\'s pool_mode = transaction or statement), under which what each connection sets and prepares does not hold: ' +
  'a lookup or write that meets another\'s statements is run again, and a write that still fails waits in the journal; ' +
  'use session pooling, or connect to PostgreSQL directly';

/** Between attempts to reach a database server that is not answering at start. */
const START_RETRY_MS = 1_000;
const AWAY_LOG_MS = 30_000;

/**
 * Migrates, first waiting for a database server that does not answer yet (a receiver started at
 * boot before PostgreSQL), taking no report meanwhile: LINK's reports wait at LINK. A stop signal
 * ends the wait, or the start once the migrations end (null). The embedded database is part of the
 * process: it is not waited for, but a new one being made is abandoned, and made again next start.
 */
async function migrateWhenReachable(database: Database, dbLog: Logger, stop: AbortSignal): Promise<string[] | null> {
  if (database.kind === 'embedded') {
    try {
      const applied = await migrateToLatest(database.db);
      return stop.aborted ? null : applied;
    } catch (error) {
      // The abandoned creation fails the database's opening, and so the migrations: the stop asked for.
      if (stop.aborted) return null;
      throw error;
    }
  }
  const logAway = logSparingly(AWAY_LOG_MS);
  const onHeldUp = (heldUp: HeldUpMigrations) => { dbLog.warn(heldUp, 'the migrations have not finished: taking no reports until they do'); };
  const applied = await whileMigrating(database, { stop, onHeldUp }, () =>
    migrateOnceReachable(database.db, {
      retryMs: START_RETRY_MS,
      signal: stop,
      onAway: (error, attempt) => {
        // Cancelled by the stop, not away.
        if (stop.aborted) return;
        logAway(() => {
          dbLog.warn({ err: errorSummary(error), attempts: attempt }, awayLine(error));
        });
      },
    }),
  );
  // A signal that came while the migrations ran is heeded too: it is not to be lost.
  return stop.aborted ? null : applied;
}

/** Why the start waits for a database server: it refuses the receiver a session, or does not answer. */
function awayLine(error: unknown): string {
  return refusedForTooManySessions(error)
    ? 'the database server has no session left for the receiver\'s user (too many connections): waiting for one before taking reports'
    : 'the database is not answering: waiting for it before taking reports';
}

await main();
