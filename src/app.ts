/**
 * Builds the receiver as a Fastify instance, without listening: intake, the query API and health.
 * `server.ts` listens; tests use the app directly.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError } from 'fastify';
import type { Config, TrustProxy } from './config/config.js';
import { healthRoutes } from './health/routes.js';
import { errorBody } from './http/errors.js';
import { callerCheck } from './intake/caller-check.js';
import type { ReportSink } from './intake/report-sink.js';
import { errorSummary, intakeRoutes } from './intake/routes.js';
import { queryRoutes } from './query/routes.js';
import type { Database } from './storage/database.js';
import { recordRejectedRequest } from './storage/rejected-requests.js';
import { reportBatcher } from './storage/report-batcher.js';
import { storeReports } from './storage/write-reports.js';

export interface AppOptions {
  readonly config: Config;
  readonly database: Database;
  readonly logger?: FastifyBaseLogger;
  /** Where accepted reports go; by default a group-commit batcher over the database. */
  readonly sink?: ReportSink;
}

/** Transactions writing reports at once, on a server; the pool keeps connections for reads too. */
const WRITE_SLOTS = 4;
const MAX_BATCH_REPORTS = 500;
/** About a second of full-speed intake; past it, intake answers 503 instead of growing memory. */
const MAX_QUEUED_REPORTS = 20_000;

export async function buildApp({ config, database, logger, sink }: AppOptions) {
  const app = Fastify({
    ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
    bodyLimit: config.bodyLimit,
    trustProxy: trustProxyOption(config.trustProxy),
    // No line per request: the hot path stays cheap, and no request's query string reaches the log.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Intake reads every body itself, raw, so that it can keep a refused request exactly as it came.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: errorSummary(error) }, 'request failed');
      return reply.code(status).send(errorBody(status, 'internal error'));
    }
    const message = status === 413 ? `the body is larger than ${config.bodyLimit} bytes` : error.message;
    return reply.code(status).send(errorBody(status, message));
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)));

  const batcher = reportBatcher({
    store: (items) => storeReports(database.db, items),
    // The embedded database has one connection: more slots would only queue inside it.
    slots: database.kind === 'embedded' ? 1 : WRITE_SLOTS,
    maxBatchReports: MAX_BATCH_REPORTS,
    maxQueuedReports: MAX_QUEUED_REPORTS,
  });
  app.addHook('onClose', () => batcher.close());

  await app.register(intakeRoutes, {
    sink: sink ?? batcher,
    keepRejected: (rejected) => recordRejectedRequest(database.db, rejected),
    callers: callerCheck(config.allowedCallers),
    ackBody: config.ackBody,
  });
  await app.register(queryRoutes, { db: database.db, apiToken: config.apiToken });
  await app.register(healthRoutes, { pingDatabase: () => database.ping(), smppState: () => 'disabled' });
  return app;
}

/** A hop count trusts that many proxies nearest to this server (Fastify's own rule for a number). */
function trustProxyOption(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
