/** `GET /metrics`: the receiver's metrics in Prometheus' text format, authorised as the query API is. */
import type { FastifyPluginAsync } from 'fastify';
import type { ReceiverState } from '../health/routes.js';
import { otherMethodsRoute } from '../http/other-methods.js';
import { queryAuthorization } from '../query/auth.js';
import type { ReceiverMetrics } from './metrics.js';

export interface MetricsOptions {
  readonly metrics: ReceiverMetrics;
  readonly state: ReceiverState;
  readonly apiToken: string | null;
}

export const metricsRoutes: FastifyPluginAsync<MetricsOptions> = async (app, { metrics, state, apiToken }) => {
  app.addHook('onRequest', queryAuthorization(apiToken));
  const described = { tags: ['health'], summary: 'Metrics in Prometheus\' text format, authorised as the query API is' };
  app.get('/metrics', { schema: described }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.exposition(state)));
  app.route(otherMethodsRoute('/metrics', ['GET', 'HEAD']));
};
