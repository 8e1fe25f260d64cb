/**
 * Baseline 4: group commit and nothing else. The bare route's reports, collected while a write is
 * under way and written with one multi-row statement as soon as one of two connections is free,
 * each request answered once its batch committed. No meaning, parts, messages or raw payload
 * apart: what group commit alone makes of the bare route, beside which the receiver's own work
 * shows.
 */
import Fastify from 'fastify';
import pg from 'pg';

const SLOTS = 2;
const MAX_BATCH = 1000;

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: SLOTS });
pool.on('connect', (client) => client.on('error', () => {}));
await pool.query('CREATE TABLE IF NOT EXISTS baseline_reports (id text PRIMARY KEY, report json NOT NULL)');

interface Waiting {
  readonly id: string;
  readonly report: string;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const queue: Waiting[] = [];
let running = 0;

function pump(): void {
  while (running < SLOTS && queue.length > 0) {
    const batch = queue.splice(0, MAX_BATCH);
    running += 1;
    pool
      .query('INSERT INTO baseline_reports (id, report) SELECT * FROM unnest($1::text[], $2::json[]) ON CONFLICT DO NOTHING', [
        batch.map((waiting) => waiting.id),
        batch.map((waiting) => waiting.report),
      ])
      .then(
        () => {
          for (const waiting of batch) waiting.resolve();
        },
        (error: unknown) => {
          for (const waiting of batch) waiting.reject(error instanceof Error ? error : new Error(String(error)));
        },
      )
      .finally(() => {
        running -= 1;
        pump();
      });
  }
}

function store(id: string, report: string): Promise<void> {
  return new Promise((resolve, reject) => {
    queue.push({ id, report, resolve, reject });
    pump();
  });
}

const app = Fastify({ logger: false });
app.post('/dlr', async (request, reply) => {
  const report = request.body as { id?: unknown };
  if (typeof report.id !== 'string') return reply.code(400).send('id');
  await store(report.id, JSON.stringify(report));
  return reply.type('text/plain').send('OK');
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
