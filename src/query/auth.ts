/**
 * Who may read: with API_TOKEN set, callers with `Authorization: Bearer <token>` (compared in
 * constant time); without it, only this machine. A proxy on this machine connects from loopback
 * whoever its client is, so a request whose forwarding headers name any address off this machine is
 * not from it, whatever TRUST_PROXY says.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestAsyncHookHandler } from 'fastify';
import { isLoopback } from '../config/address-list.js';
import { errorBody } from '../http/errors.js';
import { relayedFrom } from '../http/relayed-from.js';

export function queryAuthorization(apiToken: string | null): onRequestAsyncHookHandler {
  const expected = apiToken === null ? null : digest(apiToken);
  return async (request, reply) => {
    if (expected === null) {
      if (!isLoopback(request.ip)) {
        return reply.code(403).send(errorBody(403, 'without API_TOKEN the query API answers callers on this machine only'));
      }
      if (relayedFrom(request.headers).every(isLoopback)) return;
      return reply
        .code(403)
        .send(errorBody(403, 'without API_TOKEN the query API answers callers on this machine only, and this request came through a proxy from elsewhere; set API_TOKEN to read through a proxy'));
    }
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (match?.[1] !== undefined && timingSafeEqual(digest(match[1].trim()), expected)) return;
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send(errorBody(401, 'the query API needs Authorization: Bearer <API_TOKEN>'));
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
