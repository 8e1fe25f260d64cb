/**
 * Baseline for lookups: one prepared SELECT per request on a pool of 10, PostgreSQL's rows sent
 * back as they came: what a straightforward lookup server does. It runs the statements the
 * receiver runs (built by the receiver's own query builders, so both read the same pages), but
 * works nothing out and shapes nothing: the JSON PostgreSQL aggregated travels as text.
 */
import Fastify from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { findMessageQuery, listMessagesQuery } from '../../src/storage/read-messages.js';
import type { Tables } from '../../src/storage/tables.js';

// Every column as PostgreSQL's text: no JSON parsed, no dates built.
const asText = { getTypeParser: () => (value: string) => value };
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10, types: asText });
pool.on('connect', (client) => client.on('error', () => {}));
// Builds the statements only; the pool runs them.
const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });

const names = new Map<string, string>();
async function rowsOf(query: { sql: string; parameters: readonly unknown[] }): Promise<Array<Record<string, string | null>>> {
  const name = names.get(query.sql) ?? `baseline_${names.size}`;
  names.set(query.sql, name);
  return (await pool.query<Record<string, string | null>>({ name, text: query.sql, values: [...query.parameters] })).rows;
}

const app = Fastify({ logger: false });
app.get<{ Params: { id: string } }>('/messages/:id', async (request, reply) => {
  const [row] = await rowsOf(findMessageQuery(db, request.params.id));
  return reply.type('application/json').send(row?.report_rows ?? '[]');
});
app.get<{ Querystring: { refId?: string; destination?: string } }>('/messages', async (request, reply) => {
  const { refId, destination } = request.query;
  const filter = { ...(refId === undefined ? {} : { refId }), ...(destination === undefined ? {} : { destination }), limit: 50 };
  const rows = await rowsOf(listMessagesQuery(db, filter));
  return reply.type('application/json').send(JSON.stringify(rows));
});
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
