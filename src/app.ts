/**
 * Builds the receiver as a Fastify instance, without listening: intake, the query API and health.
 * `server.ts` listens before the database is ready and opens the receiver once it is; tests use the
 * app directly, open from the start.
 */
import fastifySwagger from '@fastify/swagger';
import type { FastifyBaseLogger, FastifyError } from 'fastify';
import type { Config } from './config/config.js';
import { healthRoutes } from './health/routes.js';
import { errorBody, schemaRefusalMessage } from './http/errors.js';
import { receiverFastify } from './http/fastify-instance.js';
import { callerCheck } from './intake/caller-check.js';
import { intakeRoutes, oversizedReason, strayRequestHandler } from './intake/routes.js';
import { errorSummary } from './lib/error-summary.js';
import { logSparingly } from './lib/log-sparingly.js';
import { countingSink, receiverMetrics } from './metrics/metrics.js';
import { metricsRoutes } from './metrics/routes.js';
import { OPENAPI_OPTIONS } from './query/openapi.js';
import { queryRoutes } from './query/routes.js';
import { receiptIntake } from './smpp/receipt-intake.js';
import { smppReceiver } from './smpp/smpp-receiver.js';
import type { Database } from './storage/database.js';
import type { RejectedRequest } from './storage/rejected-requests.js';
import { recordRejectedRequest } from './storage/rejected-requests.js';
import { isDatabaseUnavailable } from './storage/database-unavailable.js';
import { embeddedUpkeep } from './storage/embedded-upkeep.js';
import { retention } from './storage/retention.js';
import { durableSink } from './storage/durable-sink.js';
import { watchDiskRoom } from './storage/disk-room.js';
import { journalFolder, openJournal } from './storage/journal.js';
import { RecentMessages } from './storage/recent-messages.js';
import { reportBatcher } from './storage/report-batcher.js';
import { storeReports } from './storage/write-reports.js';

export interface AppOptions {
  readonly config: Config;
  readonly database: Database;
  readonly logger?: FastifyBaseLogger;
}

/**
 * Transactions writing reports at once. On a server the pool keeps connections for reads too. The
 * embedded database runs one at a time: the second waits in its thread, and starts the moment the
 * first has committed, where one slot left the database idle while the commit's answer came back
 * and the next batch was sent (13-17 % more reports a second at 100 and 500 connections, the same
 * at 20; see BENCHMARKS.md).
 */
const WRITE_SLOTS = 2;
/**
 * Reports waiting before the second transaction starts beside the first. Below it the waiting
 * reports join the next batch: a batch has a fixed cost, and two small batches at once cost the
 * database more than one twice their size. 64 ingested more than 0 or 32 at 20, 100 and 500
 * connections, and more than 8 at 20 (see BENCHMARKS.md).
 */
const MIN_REPORTS_FOR_EXTRA_SLOT = 64;
const MAX_BATCH_REPORTS = 500;
/** About a second of full-speed intake; past it, intake answers 503 instead of growing memory. */
const MAX_QUEUED_REPORTS = 20_000;
const JOURNAL_DEPTH_LOG_MS = 10_000;
/** Message ids remembered to pick their reports' write path: about 8 MB of UUID-like ids. */
const RECENT_MESSAGES = 100_000;
/** At most one warning this often about lookups answered 503 while the database is away. */
const UNAVAILABLE_LOG_MS = 10_000;
/** How often the room on the disks written to is looked at, and a warning of low room repeated. */
const DISK_ROOM_CHECK_MS = 60_000;
const DISK_ROOM_WARNING_MS = 10 * 60_000;

/** The receiver, built: it answers `/healthz` and `/readyz` at once, and everything else once opened. */
export interface Receiver {
  readonly app: App;
  /** Starts taking reports and lookups, replaying the journal and binding over SMPP: the schema is up to date. */
  readonly open: () => void;
}

/** The receiver, open from the start: its database is migrated already. */
export async function buildApp(options: AppOptions): Promise<App> {
  const receiver = await assembleReceiver(options);
  receiver.open();
  return receiver.app;
}

/** Routes that answer before the receiver opens: whether the process runs, and why it is not ready. */
const ANSWERED_WHILE_STARTING = new Set(['/healthz', '/readyz', '/metrics']);

export async function assembleReceiver({ config, database, logger }: AppOptions): Promise<Receiver> {
  const app = receiverFastify(config, logger);
  let opened = false;
  // Until the schema is up to date, nothing may touch the database: a report is answered 503, which
  // LINK retries, and a lookup likewise.
  app.addHook('onRequest', (request, reply, done) => {
    if (opened || ANSWERED_WHILE_STARTING.has(request.routeOptions.url ?? '')) {
      done();
      return;
    }
    void reply.code(503).send(errorBody(503, 'the receiver is starting: its database is not ready yet; try again shortly'));
  });

  const logUnavailable = logSparingly(UNAVAILABLE_LOG_MS);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A lookup while the database is away: worth retrying, unlike a fault of the receiver's own.
    if (isDatabaseUnavailable(error)) {
      logUnavailable((suppressed) => {
        request.log.warn({ err: errorSummary(error), alsoUnavailableSinceLastLine: suppressed }, 'the database is unavailable: lookups are answered 503');
      });
      return reply.code(503).send(errorBody(503, 'the database is unavailable; try again shortly'));
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: errorSummary(error) }, 'request failed');
      return reply.code(status).send(errorBody(status, 'internal error'));
    }
    const message = status === 413 ? oversizedReason(config.bodyLimit) : schemaRefusalMessage(error, request.query);
    return reply.code(status).send(errorBody(status, message));
  });

  const recent = new RecentMessages(RECENT_MESSAGES);
  const batcherFor = (slots: number) =>
    reportBatcher({
      store: (items) => storeReports(database.writeTransaction, items, recent),
      slots,
      minReportsForExtraSlot: MIN_REPORTS_FOR_EXTRA_SLOT,
      maxBatchReports: MAX_BATCH_REPORTS,
      maxQueuedReports: MAX_QUEUED_REPORTS,
    });
  const sink = durableSink({
    batcher: batcherFor(WRITE_SLOTS),
    replayBatcher: batcherFor(1),
    journal: await openJournal({ folder: journalFolder(config.dataDir), maxBytes: config.journalMaxBytes }),
    logger: app.log.child({ name: 'journal' }),
    retryMs: config.journalRetryMs,
    depthLogMs: JOURNAL_DEPTH_LOG_MS,
  });
  const metrics = receiverMetrics();
  const countedSink = countingSink(sink, metrics);
  const keepRejected = (rejected: RejectedRequest) =>
    recordRejectedRequest(database, rejected).then(() => {
      metrics.rejectedKept(rejected);
    });
  const callers = callerCheck(config.allowedCallers);
  app.setNotFoundHandler(strayRequestHandler({ keepRejected, callers, keepsStrays: config.allowedCallers !== null }));
  const smppLog = app.log.child({ name: 'smpp' });
  const smpp =
    config.smpp === null
      ? null
      : smppReceiver({
          config: config.smpp,
          logger: smppLog,
          handleDeliverSm: receiptIntake({ sink: countedSink, keepRejected, logger: smppLog }),
          answered: metrics.deliverSmAnswered,
        });
  const diskRoom = watchDiskRoom({
    folders: [journalFolder(config.dataDir), ...(database.folder === null ? [] : [database.folder])],
    logger: app.log.child({ name: 'disk' }),
    everyMs: DISK_ROOM_CHECK_MS,
    repeatMs: DISK_ROOM_WARNING_MS,
  });
  const upkeep = database.kind === 'embedded' ? embeddedUpkeep({ db: database.db, logger: app.log.child({ name: 'db' }) }) : null;
  const oldMessages = config.retentionDays === null ? null : retention({ database, days: config.retentionDays, logger: app.log.child({ name: 'retention' }) });
  // Before the requests under way are waited for: one the database holds up goes to the journal,
  // and a replay starting then would hold the stop up in turn.
  app.addHook('preClose', (done) => {
    sink.stopReplaying();
    done();
  });
  // The bind goes first, so that a receipt in hand is answered before the storage path closes.
  app.addHook('onClose', async () => {
    await smpp?.stop();
    diskRoom.stop();
    await oldMessages?.stop();
    await upkeep?.stop();
    await sink.close();
  });

  // Before the routes: it collects each as it is declared.
  await app.register(fastifySwagger, OPENAPI_OPTIONS);
  await app.register(intakeRoutes, {
    sink: countedSink,
    keepRejected,
    callers,
    ackBody: config.ackBody,
    bodyLimit: config.bodyLimit,
    answered: metrics.intakeAnswered,
  });
  await app.register(queryRoutes, { database, apiToken: config.apiToken });
  const state = {
    pingDatabase: () => database.ping(),
    smppState: () => smpp?.state() ?? 'disabled',
    opened: () => opened,
    storingTo: sink.storingTo,
    journalReports: sink.journalReports,
  };
  await app.register(healthRoutes, state);
  await app.register(metricsRoutes, { metrics, state, apiToken: config.apiToken });
  return {
    app,
    open: () => {
      if (opened) return;
      opened = true;
      sink.start();
      upkeep?.start();
      oldMessages?.start();
      diskRoom.start();
      smpp?.start();
    },
  };
}

export type App = ReturnType<typeof receiverFastify>;
