/**
 * `GET /healthz`: the process runs. `GET /readyz`: the receiver has started and the database answers,
 * so reports can be taken; it also says whether reports are going to the local journal, and how
 * many wait there.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { otherMethodsRoute } from '../http/other-methods.js';
import type { SmppState } from '../smpp/smpp-receiver.js';

/** What `/readyz` and `/metrics` read of the receiver each time they are asked. */
export interface ReceiverState {
  readonly pingDatabase: () => Promise<boolean>;
  /** Whether the receiver takes reports yet: false while it waits for its database and migrates. */
  readonly opened: () => boolean;
  /** The SMPP bind's state, for receivers that take receipts over SMPP. */
  readonly smppState: () => SmppState;
  /** Where accepted reports go now: the database, or the local journal while it holds reports. */
  readonly storingTo: () => 'database' | 'journal';
  readonly journalReports: () => number;
}

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready'), Type.Literal('starting')]),
  database: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  smpp: Type.Union([Type.Literal('bound'), Type.Literal('connecting'), Type.Literal('disabled')]),
  storingTo: Type.Union([Type.Literal('database'), Type.Literal('journal')]),
  journalReports: Type.Integer(),
});

export const healthRoutes: FastifyPluginAsyncTypebox<ReceiverState> = async (app, options) => {
  const health = { tags: ['health'], security: [] };
  app.get('/healthz', { schema: { ...health, summary: 'The process runs', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  const readiness = { ...health, summary: 'The receiver takes reports: 200 when started and the database answers, else 503' };
  app.get('/readyz', { schema: { ...readiness, response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const databaseUp = await options.pingDatabase();
    const opened = options.opened();
    const body = {
      status: readinessStatus(opened, databaseUp),
      database: databaseUp ? ('up' as const) : ('down' as const),
      smpp: options.smppState(),
      storingTo: options.storingTo(),
      journalReports: options.journalReports(),
    };
    return reply.code(opened && databaseUp ? 200 : 503).send(body);
  });

  for (const url of ['/healthz', '/readyz']) app.route(otherMethodsRoute(url, ['GET', 'HEAD']));
};

function readinessStatus(opened: boolean, databaseUp: boolean): 'starting' | 'ready' | 'not ready' {
  if (!opened) return 'starting';
  return databaseUp ? 'ready' : 'not ready';
}
