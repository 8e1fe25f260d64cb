/** The query API: a message by id, messages by refId/status/time and their counts, and the rejected intake requests. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { errorBody } from '../http/errors.js';
import { otherMethodsRoute } from '../http/other-methods.js';
import { MAX_ID_LENGTH } from '../meaning/report-id.js';
import type { MessageReader } from '../storage/read-messages.js';
import { findMessage, listMessages } from '../storage/read-messages.js';
import { ReadTimeoutError } from '../storage/prepared-reads.js';
import { rejectedRequestsPage } from '../storage/rejected-requests.js';
import { summarizeMessages } from '../storage/summarize-messages.js';
import { queryAuthorization } from './auth.js';
import { encodeCursor, nextMessagesLink, nextRejectedLink, parseListQuery, parseLookupText, parseRejectedQuery, parseSummaryQuery } from './list-parameters.js';
import { presentMessage } from './present-message.js';
import { ErrorSchema, MessageListQuery, MessageListSchema, MessageSchema, RejectedListSchema, RejectedQuerySchema, SummaryQuerySchema, SummarySchema } from './schemas.js';
import { rfc3339 } from './time.js';

/**
 * The ids a path may mean. The router reads a trailing slash as none (a URL copied with one), but a
 * base64 id may itself end in `/`: with a trailing slash, the id without it is tried first, then with.
 */
function idsMeant(routed: string, url: string): string[] {
  const [path = ''] = url.split('?', 1);
  if (!path.endsWith('/')) return [routed];
  const bare = routed.endsWith('/') ? routed.slice(0, -1) : routed;
  return [bare, `${bare}/`];
}

/**
 * A read that keeps few of the messages an index finds (counting them all, listing those of one
 * result code) may run out of time by its size, as a read held by a lock does; unlike a lookup by
 * key, it is one that can be asked smaller. Answered 503 saying so, and logged with its filter.
 */
function tooLongToRead(request: FastifyRequest, reply: FastifyReply, error: ReadTimeoutError, what: string, why: string, filter: object) {
  request.log.warn({ filter, timeoutMs: error.timeoutMs }, `${what} was not read in time: answered 503`);
  const message = `${what} was not finished within ${error.timeoutMs / 1000} s, the longest a read may take: ` +
    `${why}, or the database is busy or held by a lock; narrow since and until, or give a refId, or try again shortly`;
  return reply.code(503).send(errorBody(503, message));
}

export interface QueryOptions {
  readonly database: MessageReader;
  readonly apiToken: string | null;
}

export const queryRoutes: FastifyPluginAsyncTypebox<QueryOptions> = async (app, { database, apiToken }) => {
  app.addHook('onRequest', queryAuthorization(apiToken));

  // What any lookup may be answered besides its own answers: no token, not this machine, the database away.
  const refusals = { 401: ErrorSchema, 403: ErrorSchema, 503: ErrorSchema };
  const messageSchema = { response: { 200: MessageSchema, 400: ErrorSchema, 404: ErrorSchema, 414: ErrorSchema, ...refusals } };
  const lookup = {
    tags: ['query'],
    summary: 'A message, by its id or a part\'s id (abc$1)',
    description: 'Its state, each part\'s deciding report, and every stored report with its payload as it arrived. 404 when no report has been received for it.',
  };
  app.get('/messages/:messageId', { schema: { params: Type.Object({ messageId: Type.String() }), ...lookup, ...messageSchema } }, async (request, reply) => {
    if (request.params.messageId === '') {
      return reply.code(404).send(errorBody(404, 'the path names no message: GET /messages/{messageId}, or GET /messages for the list'));
    }
    return lookUpMessage(request.params.messageId, request.url, reply);
  });
  // LINK's message ids are base64 (`Dcshuhod0PMAAAFQ+/PbnR3x`): one written into the path as it is
  // spans two segments, and is still the id asked for.
  app.get('/messages/*', { schema: { params: Type.Object({ '*': Type.String() }), ...messageSchema, hide: true } }, async (request, reply) =>
    lookUpMessage(request.params['*'], request.url, reply),
  );

  async function lookUpMessage(routed: string, url: string, reply: FastifyReply) {
    if (routed.length > MAX_ID_LENGTH) {
      return reply.code(414).send(errorBody(414, `the path names an id longer than ${MAX_ID_LENGTH} characters, the longest id taken`));
    }
    const messageId = parseLookupText('messageId', routed);
    if (!messageId.ok) return reply.code(400).send(errorBody(400, messageId.problem));
    for (const candidate of idsMeant(messageId.value, url)) {
      const stored = await findMessage(database, candidate);
      if (stored !== undefined) return presentMessage(stored);
    }
    return reply.code(404).send(errorBody(404, 'no report has been received for this message'));
  }

  app.get(
    '/messages',
    {
      schema: {
        tags: ['query'],
        summary: 'Messages by refId, the number sent to, status, result code and the time of their newest report',
        description: 'Newest report first. The next page: pass nextCursor as cursor, or follow the Link header (rel="next"), absent on the last page.',
        querystring: MessageListQuery,
        response: { 200: MessageListSchema, 400: ErrorSchema, ...refusals },
      },
    },
    async (request, reply) => {
      const filter = parseListQuery(request.query);
      if (!filter.ok) return reply.code(400).send(errorBody(400, filter.problem));
      let page;
      try {
        page = await listMessages(database, filter.value);
      } catch (error) {
        if (!(error instanceof ReadTimeoutError) || filter.value.resultCode === undefined) throw error;
        return tooLongToRead(request, reply, error, 'the page', 'few of the messages the filter holds show this resultCode', filter.value);
      }
      const nextCursor = page.nextBefore === null ? null : encodeCursor(page.nextBefore);
      // The body's nextCursor, and the same page as a link (RFC 8288) for clients that follow links.
      if (nextCursor !== null) void reply.header('link', nextMessagesLink(filter.value, nextCursor));
      return { messages: page.messages.map(presentMessage), nextCursor };
    },
  );

  app.get(
    '/summary',
    {
      schema: {
        tags: ['query'],
        summary: 'Messages counted by status, for a refId, a number sent to, a window of time, or several',
        description:
          'The messages GET /messages would list for the same refId, destination, since and until, counted: by status, how many are final, their parts by state, and by status and result code. ' +
          'refId, destination or since is required.',
        querystring: SummaryQuerySchema,
        response: { 200: SummarySchema, 400: ErrorSchema, ...refusals },
      },
    },
    async (request, reply) => {
      const filter = parseSummaryQuery(request.query);
      if (!filter.ok) return reply.code(400).send(errorBody(400, filter.problem));
      const { refId, destination, since, until } = filter.value;
      try {
        const summary = await summarizeMessages(database, filter.value);
        return { refId: refId ?? null, destination: destination ?? null, since: rfc3339(since ?? null), until: rfc3339(until ?? null), ...summary };
      } catch (error) {
        if (!(error instanceof ReadTimeoutError)) throw error;
        return tooLongToRead(request, reply, error, 'the count', 'the filter holds too many messages to count at once', filter.value);
      }
    },
  );

  app.get(
    '/rejected',
    {
      schema: {
        tags: ['query'],
        summary: 'The requests intake refused, newest first',
        description:
          'The newest 10,000 are kept, each try its own entry; the same request arriving again (LINK retries a refused report) counts its tries (times) and keeps its first time. ' +
          'The next page is named by the Link header (rel="next"), absent on the last page.',
        querystring: RejectedQuerySchema,
        response: { 200: RejectedListSchema, 400: ErrorSchema, ...refusals },
      },
    },
    async (request, reply) => {
      const filter = parseRejectedQuery(request.query);
      if (!filter.ok) return reply.code(400).send(errorBody(400, filter.problem));
      const page = await rejectedRequestsPage(database, filter.value.limit, filter.value.before);
      // The body stays the list alone; the next page is a link (RFC 8288), a query on this same path.
      if (page.nextBefore !== null) void reply.header('link', nextRejectedLink(filter.value.limit, page.nextBefore));
      return {
        rejected: page.requests.map((row) => ({
          receivedAt: rfc3339(row.received_at),
          times: row.times,
          firstReceivedAt: rfc3339(row.first_received_at ?? row.received_at),
          remoteAddress: row.remote_address,
          method: row.method,
          path: row.path,
          contentType: row.content_type,
          reason: row.reason,
          body: row.body,
          bodyBytes: row.body_bytes,
        })),
      };
    },
  );

  // Described by the routes' own schemas; made once, at the first request.
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  for (const url of ['/messages/:messageId', '/messages/*', '/messages', '/summary', '/rejected', '/openapi.json']) app.route(otherMethodsRoute(url, ['GET', 'HEAD']));
};
