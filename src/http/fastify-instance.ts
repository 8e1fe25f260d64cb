/**
 * The receiver's Fastify instance before any route: its limits and timeouts, no line per request,
 * and every body read raw. `buildApp` adds the routes and the error handling; the benchmark's
 * intake-only server starts from the same instance, so that it measures the receiver's own HTTP.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config, TrustProxy } from '../config/config.js';
import { MAX_ID_LENGTH } from '../meaning/report-id.js';
import { errorBody } from './errors.js';

export type HttpSettings = Pick<Config, 'bodyLimit' | 'trustProxy' | 'requestTimeoutMs'>;

export function receiverFastify(settings: HttpSettings, logger?: FastifyBaseLogger) {
  const app = Fastify({
    ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
    bodyLimit: settings.bodyLimit,
    trustProxy: trustProxyOption(settings.trustProxy),
    // No line per request: the hot path stays cheap, and no request's query string reaches the log.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // A client sending its request a byte at a time is cut off, not waited for: headers and
    // body must both arrive within the timeout, checked a few times a second.
    requestTimeout: settings.requestTimeoutMs,
    http: { headersTimeout: settings.requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, settings.requestTimeoutMs) },
    // A path segment as long as the longest id intake takes, so that every stored message can be
    // looked up by its id (Fastify's default stops at 100 characters, decoded). A URL given to LINK
    // with a trailing slash (`/dlr/gate-1/`) is the URL without it: a 404 there is never kept.
    routerOptions: { maxParamLength: MAX_ID_LENGTH, ignoreTrailingSlash: true },
    // A path Fastify cannot route (a malformed % escape, a segment over the length above, a target
    // that is not a path) gets the receiver's error shape, without the path echoed back.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode ?? 400;
      void reply.code(status).send(errorBody(status, routingProblem(error, request.url)));
    },
    // A request Node's HTTP parser refuses never reaches a route: it too gets the receiver's error
    // shape, naming what is wrong, instead of Fastify's "Client Error".
    clientErrorHandler: answerUnreadableRequest,
  }).withTypeProvider<TypeBoxTypeProvider>();

  closeConnectionsOnceIdleWhenStopping(app);

  // Intake reads every body itself, raw, so that it can keep a refused request exactly as it came.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  return app;
}

/** How often, while the server stops, the connections that have become idle are closed. */
const STOPPING_IDLE_CHECK_MS = 100;

/**
 * A stop closes the connections idle when it begins, but one whose request is under way stays
 * open after its answer (keep-alive), and the server's close waits for it until the client closes
 * it or the keep-alive timeout (72 s) ends it: long past the stop's grace, which then ends the
 * process with code 1. While the server stops, each connection is closed as soon as it is idle.
 */
function closeConnectionsOnceIdleWhenStopping(app: { server: Server; addHook: FastifyInstance['addHook'] }): void {
  let timer: NodeJS.Timeout | null = null;
  app.addHook('preClose', (done) => {
    timer = setInterval(() => { app.server.closeIdleConnections(); }, STOPPING_IDLE_CHECK_MS);
    timer.unref();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    if (timer !== null) clearInterval(timer);
    done();
  });
}

/**
 * Answers a request that is not HTTP the parser reads (a raw byte over 127 in the URL, a header
 * without its colon), one over the header limit, or one that took too long, then closes it. The
 * parser's reason names the rule, never the request's text.
 */
function answerUnreadableRequest(error: Error & { code?: string; reason?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = unreadableRequestAnswer(error);
  const body = JSON.stringify(errorBody(status, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${String(status)} ${STATUS_CODES[status] ?? ''}\r\nContent-Length: ${String(Buffer.byteLength(body))}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

function unreadableRequestAnswer(error: Error & { code?: string; reason?: string }): [number, string] {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'the request did not arrive in full within the request timeout'];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'the request\'s headers are larger than the receiver takes'];
    default:
      return [400, `the request is not HTTP the receiver can read: ${error.reason ?? error.message}`];
  }
}

/** What is wrong with a path the router could not take, in words that do not repeat the path. */
function routingProblem(error: FastifyError, target: string): string {
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return `a path segment is longer than ${MAX_ID_LENGTH} characters, the longest id taken`;
    case 'FST_ERR_BAD_URL':
      // The router takes an absolute http(s) URL by its path and refuses any other target that
      // does not start with `/` (`*dlr`), which Node's parser lets through.
      return isPathOrAbsoluteUrl(target)
        ? 'the path has a % escape that is not a UTF-8 character'
        : 'the request target is neither a path starting with / nor an absolute http(s) URL';
    default:
      return error.message;
  }
}

function isPathOrAbsoluteUrl(target: string): boolean {
  return target.startsWith('/') || /^https?:\/\//i.test(target);
}

/** A hop count trusts that many proxies nearest to this server (Fastify's own rule for a number). */
function trustProxyOption(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}
