/** `GET /healthz`: the process runs. `GET /readyz`: the database answers, so reports can be taken. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';

export interface HealthOptions {
  readonly pingDatabase: () => Promise<boolean>;
  /** The SMPP bind's state, for receivers that take receipts over SMPP. */
  readonly smppState: () => 'bound' | 'connecting' | 'disabled';
}

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  database: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  smpp: Type.Union([Type.Literal('bound'), Type.Literal('connecting'), Type.Literal('disabled')]),
});

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, options) => {
  app.get('/healthz', { schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get('/readyz', { schema: { response: { 200: Readiness, 503: Readiness } } }, async (_request, reply) => {
    const databaseUp = await options.pingDatabase();
    const body = {
      status: databaseUp ? ('ready' as const) : ('not ready' as const),
      database: databaseUp ? ('up' as const) : ('down' as const),
      smpp: options.smppState(),
    };
    return reply.code(databaseUp ? 200 : 503).send(body);
  });
};
