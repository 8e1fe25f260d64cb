/**
 * The receiver's Fastify instance before any route: its limits and timeouts, no line per request,
 * and every body read raw. `buildApp` adds the routes and the error handling; the benchmark's
 * intake-only server starts from the same instance, so that it measures the receiver's own HTTP.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import type { Config, TrustProxy } from '../config/config.js';

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
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Intake reads every body itself, raw, so that it can keep a refused request exactly as it came.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
  return app;
}

/** A hop count trusts that many proxies nearest to this server (Fastify's own rule for a number). */
function trustProxyOption(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}
