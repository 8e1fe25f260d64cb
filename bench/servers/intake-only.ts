/**
 * Baseline 3: the receiver's intake alone. The receiver's own HTTP instance and `/dlr` routes read
 * each report, check it and give it its meaning, then answer 200 without storing it. Between the
 * bare route and the receiver it says how much of a report's cost is reading it and how much is
 * storing it, and how fast the receiver could go if storing cost its process nothing.
 */
import { readConfig } from '../../src/config/config.js';
import { receiverFastify } from '../../src/http/fastify-instance.js';
import { callerCheck } from '../../src/intake/caller-check.js';
import { intakeRoutes } from '../../src/intake/routes.js';
import { countingSink, receiverMetrics } from '../../src/metrics/metrics.js';

const config = readConfig(process.env);
const app = receiverFastify(config);
// Counted as the receiver counts: that is part of taking a report.
const metrics = receiverMetrics();
await app.register(intakeRoutes, {
  sink: countingSink({ store: () => Promise.resolve() }, metrics),
  keepRejected: () => Promise.resolve(),
  callers: callerCheck(config.allowedCallers),
  ackBody: config.ackBody,
  bodyLimit: config.bodyLimit,
  answered: metrics.intakeAnswered,
});
app.get('/healthz', () => Promise.resolve({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
