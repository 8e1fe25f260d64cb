/**
 * `POST`/`GET /dlr` and `/dlr/{gate}`: takes a report, answers 200 with the acknowledgement body only
 * once it is stored, keeps what it refuses for `GET /rejected`.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../http/errors.js';
import { otherMethodsRoute } from '../http/other-methods.js';
import { relayedFrom, withoutPort } from '../http/relayed-from.js';
import type { RejectedRequest } from '../storage/rejected-requests.js';
import { JournalFullError } from '../storage/journal.js';
import { BatcherClosedError, QueueFullError } from '../storage/report-batcher.js';
import type { ReportToStore } from '../storage/write-reports.js';
import type { CallerCheck } from './caller-check.js';
import { readIntakeRequest } from './read-request.js';
import { errorCode } from '../lib/error-code.js';
import { errorSummary } from '../lib/error-summary.js';
import { logSparingly, logSparinglyBy } from '../lib/log-sparingly.js';
import type { ReportSink } from './report-sink.js';

export interface IntakeOptions {
  readonly sink: ReportSink;
  readonly keepRejected: (request: RejectedRequest) => Promise<void>;
  readonly callers: CallerCheck;
  readonly ackBody: string;
  /** DLR_BODY_LIMIT, named when a body over it is refused. */
  readonly bodyLimit: number;
  /** Told the status code of every answer given on these routes, once it is sent. */
  readonly answered: (statusCode: number) => void;
}

const GATE = /^[A-Za-z0-9_-]{1,64}$/;
/** At most one warning this often for each kind of refusal that can meet every report in turn. */
const REPEATED_REFUSAL_LOG_MS = 60_000;
/** Storage failures are logged once a minute per error code; this many codes are remembered. */
const REMEMBERED_FAILURE_CODES = 100;
const EMPTY = Buffer.alloc(0);

/**
 * A refused caller that relays for someone else (it sent X-Forwarded-For or the like, and
 * TRUST_PROXY did not name it) is most likely the operator's own proxy: the line says what to set.
 * One that names the client in X-Real-IP or Forwarded alone is not believed even when TRUST_PROXY
 * names it: only X-Forwarded-For is read.
 */
function unbelievedProxy(request: FastifyRequest): { hint?: string } {
  if (request.ip !== request.socket.remoteAddress || relayedFrom(request.headers).length === 0) return {};
  if (request.headers['x-forwarded-for'] === undefined) {
    return {
      hint:
        `${request.ip} relays for another address in X-Real-IP or Forwarded, which are not read: if it is your proxy, have it send X-Forwarded-For ` +
        '(nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for) and name it in TRUST_PROXY',
    };
  }
  return { hint: `${request.ip} relays for another address, which is not believed: if it is your proxy, name it in TRUST_PROXY` };
}

export const intakeRoutes: FastifyPluginAsync<IntakeOptions> = async (app, options) => {
  // A plain callback hook: no promise per request on the hot path.
  app.addHook('onRequest', (request, reply, done) => {
    const caller = callerOf(request);
    if (options.callers.allows(caller)) {
      done();
      return;
    }
    options.callers.logRefusal(caller, (suppressed) => {
      request.log.warn(
        { remoteAddress: caller, refusedSinceLastLine: suppressed, ...unbelievedProxy(request) },
        'report refused: caller not in DLR_ALLOWED_IPS (logged once a minute per address)',
      );
    });
    void reply.code(403).send(errorBody(403, `${caller} may not deliver reports`));
  });
  app.addHook('onResponse', (_request, reply, done) => {
    options.answered(reply.statusCode);
    done();
  });

  const keepRefused = refusedRequestKeeper(options.keepRejected);

  // A body over the limit is refused before it is read, and LINK sends it again and again: the
  // refusal is kept (without the body) and logged once a minute, so that the operator sees it.
  const logOversized = logSparingly(REPEATED_REFUSAL_LOG_MS);
  app.addHook('onError', async (request, _reply, error) => {
    if (error.statusCode !== 413) return;
    const reason = oversizedReason(options.bodyLimit);
    logOversized((suppressed) => {
      // The limit as a number of its own: in a refusal's reason, which can quote a sender, a run of
      // seven digits or more is masked, and a limit of a million bytes would read `[digits]`.
      request.log.warn(
        { bodyLimitBytes: options.bodyLimit, remoteAddress: callerOf(request), oversizedSinceLastLine: suppressed },
        'report refused: its body is over DLR_BODY_LIMIT; raise it if LINK sends larger batches (kept in /rejected)',
      );
    });
    await keepRefused(request, { status: 413, reason, body: EMPTY, receivedAt: new Date() });
  });

  const logRefusedForLoad = logSparingly(REPEATED_REFUSAL_LOG_MS);
  // A full disk or a broken volume fails every report in turn: a line per request would flood the log.
  const logNotStored = logSparinglyBy(REPEATED_REFUSAL_LOG_MS, REMEMBERED_FAILURE_CODES);
  const handler = async (request: FastifyRequest<{ Params: { gate?: string } }>, reply: FastifyReply) => {
    const receivedAt = new Date();
    // `/dlr/`, a URL given with a trailing slash, is `/dlr`: no gate.
    const gate = request.params.gate === undefined || request.params.gate === '' ? null : request.params.gate;
    const body = Buffer.isBuffer(request.body) ? request.body : EMPTY;
    const refuse = async (status: 400 | 415, reason: string) => {
      request.log.info({ status, reason, gate }, 'report refused');
      await keepRefused(request, { status, reason, body, receivedAt });
      return reply.code(status).send(errorBody(status, reason));
    };

    if (gate !== null && !GATE.test(gate)) return refuse(400, 'the gate in the path may hold only a-z, A-Z, 0-9, "-" and "_" (at most 64)');
    const read = readIntakeRequest({
      method: request.method,
      contentType: request.headers['content-type'],
      contentEncoding: request.headers['content-encoding'],
      body,
      query: queryOf(request.url),
    });
    if (!read.ok) return refuse(read.refusal.status, read.refusal.problem);

    const remoteAddress = callerOf(request);
    const items: ReportToStore[] = read.value.reports.map(({ report, payloadJson }) => ({
      report,
      payloadJson,
      format: read.value.format,
      gate,
      remoteAddress,
      receivedAt,
    }));
    try {
      await options.sink.store(items);
    } catch (error) {
      if (error instanceof BatcherClosedError) return reply.code(503).send(errorBody(503, `${error.message}; retry later`));
      if (error instanceof QueueFullError || error instanceof JournalFullError) {
        // Every report meets it while it lasts: a line a minute tells the operator, with the count.
        logRefusedForLoad((suppressed) => {
          request.log.warn({ err: errorSummary(error), alsoRefusedSinceLastLine: suppressed }, 'report refused with 503 (logged once a minute): the sender retries');
        });
        return reply.code(503).send(errorBody(503, `${error.message}; retry later`));
      }
      logNotStored(errorCode(error) ?? 'none', (suppressed) => {
        request.log.error(
          { err: errorSummary(error), alsoFailedSinceLastLine: suppressed },
          'report not stored: answering 503 so the sender retries (logged once a minute per error code)',
        );
      });
      return reply.code(503).send(errorBody(503, 'the report could not be stored; retry later'));
    }
    return reply.code(200).type('text/plain; charset=utf-8').send(options.ackBody);
  };

  for (const url of ['/dlr', '/dlr/:gate']) {
    // No HEAD twin: a HEAD must not store a report.
    app.route({ method: ['GET', 'POST'], url, exposeHeadRoute: false, handler });
    app.route(otherMethodsRoute(url, ['GET', 'POST']));
  }
};

/** The refusal of a body over DLR_BODY_LIMIT, as answered and as kept. */
export function oversizedReason(bodyLimit: number): string {
  return `the body is larger than ${bodyLimit} bytes (DLR_BODY_LIMIT)`;
}

export interface StrayRequestOptions {
  readonly keepRejected: (request: RejectedRequest) => Promise<void>;
  readonly callers: CallerCheck;
  /** False when every caller may deliver (`DLR_ALLOWED_IPS=*`): a scanner's 404s would push the real refusals out. */
  readonly keepsStrays: boolean;
}

/**
 * Answers a path the receiver does not serve with 404. When the caller may deliver reports
 * (`POST /DLR`, `/api/dlr` from a LINK host), it is most likely a report sent to a wrong URL: it is
 * also kept among the rejected requests and logged once a minute, so that the operator sees why no
 * report arrives.
 */
export function strayRequestHandler(options: StrayRequestOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  const logStray = logSparingly(REPEATED_REFUSAL_LOG_MS);
  const keepRefused = refusedRequestKeeper(options.keepRejected);
  return async (request, reply) => {
    const path = pathOf(request.url);
    const caller = callerOf(request);
    const fromSender = options.keepsStrays && (request.method === 'POST' || request.method === 'GET') && options.callers.allows(caller);
    if (!fromSender) return reply.code(404).send(errorBody(404, `no route ${request.method} ${path}`));
    const reason = `no route ${request.method} ${path}: reports are taken at /dlr and /dlr/{gate}`;
    logStray((suppressed) => {
      request.log.warn(
        { reason, remoteAddress: caller, strayRequestsSinceLastLine: suppressed },
        'a caller allowed to deliver reports asked for a path the receiver does not serve: is the URL given to LINK right? (kept in /rejected)',
      );
    });
    const body = Buffer.isBuffer(request.body) ? request.body : EMPTY;
    await keepRefused(request, { status: 404, reason, body, receivedAt: new Date() });
    return reply.code(404).send(errorBody(404, reason));
  };
}

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly body: Buffer;
  readonly receivedAt: Date;
}

type KeepRefused = (request: FastifyRequest, refusal: Refusal) => Promise<void>;

/**
 * Keeps a refused request for `GET /rejected`. A failure to keep it (the database away, its disk
 * full) meets every refusal in turn, so it is logged once a minute per error code.
 */
function refusedRequestKeeper(keep: IntakeOptions['keepRejected']): KeepRefused {
  const logFailure = logSparinglyBy(REPEATED_REFUSAL_LOG_MS, REMEMBERED_FAILURE_CODES);
  return async (request, refusal) => {
    // A report without a body (a GET, or a POST sent that way) has its data in the query string:
    // that is what is kept. A body over the limit is not read: it is kept as none, with its size.
    const notRead = refusal.status === 413;
    const body = refusal.body.length === 0 && !notRead ? Buffer.from(queryOf(request.url)) : refusal.body;
    try {
      await keep({
        receivedAt: refusal.receivedAt,
        remoteAddress: callerOf(request),
        method: request.method,
        path: pathOf(request.url),
        contentType: request.headers['content-type'] ?? null,
        reason: refusal.reason,
        body,
        bodyBytes: notRead ? declaredLength(request) : body.length,
      });
    } catch (error) {
      logFailure(errorCode(error) ?? 'none', (suppressed) => {
        request.log.error(
          { err: errorSummary(error), alsoFailedSinceLastLine: suppressed },
          'could not keep a rejected request (logged once a minute per error code)',
        );
      });
    }
  };
}

/** The caller: the socket's address, or with TRUST_PROXY the client a proxy names, without the port some proxies add. */
function callerOf(request: FastifyRequest): string {
  return withoutPort(request.ip);
}

/** The body's size its Content-Length gives; null without one (a chunked body). */
function declaredLength(request: FastifyRequest): number | null {
  const header = request.headers['content-length'];
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : null;
}

function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? '' : url.slice(at + 1);
}

function pathOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}
