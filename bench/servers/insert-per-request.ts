/**
 * Baseline 2: one INSERT per request, each its own commit, on a pool of 10: what a straightforward
 * receiver does.
 */
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
pool.on('connect', (client) => client.on('error', () => {}));
await pool.query('CREATE TABLE IF NOT EXISTS baseline_reports (id text PRIMARY KEY, report json NOT NULL)');

const app = Fastify({ logger: false });
app.post('/dlr', async (request, reply) => {
  const report = request.body as { id?: unknown };
  if (typeof report.id !== 'string') return reply.code(400).send('id');
  await pool.query('INSERT INTO baseline_reports (id, report) VALUES ($1, $2) ON CONFLICT DO NOTHING', [report.id, JSON.stringify(report)]);
  return reply.type('text/plain').send('OK');
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
