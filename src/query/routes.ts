/** The query API: a message by id, messages by refId/status/time, and the rejected intake requests. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { errorBody } from '../http/errors.js';
import { otherMethodsRoute } from '../http/other-methods.js';
import type { MessageReader } from '../storage/read-messages.js';
import { findMessage, listMessages } from '../storage/read-messages.js';
import { latestRejectedRequests } from '../storage/rejected-requests.js';
import { queryAuthorization } from './auth.js';
import { encodeCursor, misspelledParameter, parseLimit, parseListQuery, parseLookupText } from './list-parameters.js';
import { presentMessage } from './present-message.js';
import { ErrorSchema, LimitQuery, MessageListQuery, MessageListSchema, MessageSchema, RejectedListSchema } from './schemas.js';
import { rfc3339 } from './time.js';

export interface QueryOptions {
  readonly database: MessageReader;
  readonly apiToken: string | null;
}

export const queryRoutes: FastifyPluginAsyncTypebox<QueryOptions> = async (app, { database, apiToken }) => {
  app.addHook('onRequest', queryAuthorization(apiToken));

  app.get(
    '/messages/:messageId',
    {
      schema: {
        params: Type.Object({ messageId: Type.String() }),
        response: { 200: MessageSchema, 400: ErrorSchema, 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      if (request.params.messageId === '') {
        return reply.code(404).send(errorBody(404, 'the path names no message: GET /messages/{messageId}, or GET /messages for the list'));
      }
      const messageId = parseLookupText('messageId', request.params.messageId);
      if (!messageId.ok) return reply.code(400).send(errorBody(400, messageId.problem));
      const stored = await findMessage(database, messageId.value);
      if (stored === undefined) return reply.code(404).send(errorBody(404, 'no report has been received for this message'));
      return presentMessage(stored);
    },
  );

  app.get(
    '/messages',
    { schema: { querystring: MessageListQuery, response: { 200: MessageListSchema, 400: ErrorSchema } } },
    async (request, reply) => {
      const filter = parseListQuery(request.query);
      if (!filter.ok) return reply.code(400).send(errorBody(400, filter.problem));
      const page = await listMessages(database, filter.value);
      return {
        messages: page.messages.map(presentMessage),
        nextCursor: page.nextBeforeSeq === null ? null : encodeCursor(page.nextBeforeSeq),
      };
    },
  );

  app.get(
    '/rejected',
    { schema: { querystring: LimitQuery, response: { 200: RejectedListSchema, 400: ErrorSchema } } },
    async (request, reply) => {
      const misspelled = misspelledParameter(request.query, ['limit']);
      if (!misspelled.ok) return reply.code(400).send(errorBody(400, misspelled.problem));
      const limit = parseLimit(request.query.limit);
      if (!limit.ok) return reply.code(400).send(errorBody(400, limit.problem));
      const rows = await latestRejectedRequests(database.db, limit.value);
      return {
        rejected: rows.map((row) => ({
          receivedAt: rfc3339(row.received_at),
          remoteAddress: row.remote_address,
          method: row.method,
          path: row.path,
          contentType: row.content_type,
          reason: row.reason,
          body: row.body,
        })),
      };
    },
  );

  for (const url of ['/messages/:messageId', '/messages', '/rejected']) app.route(otherMethodsRoute(url, ['GET', 'HEAD']));
};
