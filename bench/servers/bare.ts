/** Baseline 1: the bare framework. Parses the same JSON report and answers 200 without storing it. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/dlr', async (request, reply) => {
  const report = request.body as { id?: unknown };
  if (typeof report.id !== 'string') return reply.code(400).send('id');
  return reply.type('text/plain').send('OK');
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
