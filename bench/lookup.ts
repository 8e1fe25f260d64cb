/**
 * Lookups on a large table: reports generated inside PostgreSQL (two parts per message, one message
 * in seven failed), kept between runs in a schema named by its size. Measured while ingest runs:
 * flat out at 20 connections; paced well below the top rate (at most 1,000 reports/s), as a
 * receiver mostly runs; and not at all.
 *
 * Lookups by id, by refId and by the number sent to are measured beside two baselines under the
 * same ingest, in the same run: one prepared SELECT per request answering PostgreSQL's rows as
 * they came (`servers/query-per-request`), and the bare framework answering a GET with no database
 * at all (`servers/bare`), the floor this machine puts under any request's latency.
 */
import { join } from 'node:path';
import pg from 'pg';
import { migrations } from '../migrations/index.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import { openDatabase } from '../src/storage/database.js';
import { startServer } from './processes.js';
import { diskReadKiB, fileCacheMiB } from './disk.js';
import type { LoadResult } from './wrk.js';
import { INGEST_SCRIPT, lookupScript, pacedIngestScript, runWrk } from './wrk.js';

interface LookupOptions {
  readonly databaseUrl: string;
  readonly reports: number;
  readonly folder: string;
  readonly receiverScript: string;
  /** The baselines' servers: the bare framework, and one SELECT per request. */
  readonly bareScript: string;
  readonly queryScript: string;
  readonly admin: <T extends pg.QueryResultRow>(text: string) => Promise<T[]>;
  readonly inSchema: (schema: string) => string;
  /** Lookups and ingest before the first measurement, not counted. */
  readonly warmupSeconds: number;
}

const SECONDS = 10;

export interface Ingest {
  readonly name: string;
  readonly connections: number;
  readonly script: string;
}
export const FLAT_OUT: Ingest = { name: 'flat out, 20 connections', connections: 20, script: INGEST_SCRIPT };
/** 10 connections, each waiting 10 ms before each report: at most 1,000 reports/s. */
export const PACED: Ingest = { name: 'paced, ≤ 1,000/s', connections: 10, script: pacedIngestScript(10) };
export const NONE: Ingest = { name: 'none', connections: 0, script: '' };

export async function runLookupBenchmark(options: LookupOptions): Promise<string> {
  // Named after the schema's version too: a table filled under older migrations is not reused.
  const schema = `bench_lookup_${options.reports}_v${Object.keys(migrations).length}`;
  const messages = Math.floor(options.reports / 2);
  await fill(options, schema);
  await readIntoFileCache(options, schema);

  const server = await startServer(options.receiverScript, {
    DATABASE_URL: options.inSchema(schema),
    DLR_ALLOWED_IPS: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // A journal folder of its own: the checkout's default one may be held by a receiver running there.
    DATA_DIR: join(options.folder, 'data-lookup'),
  }, { readyPath: '/readyz' });
  const queryServer = await startServer(options.queryScript, { DATABASE_URL: options.inSchema(schema) });
  const bareServer = await startServer(options.bareScript, {});
  try {
    // The cursor a page ending at the 100th oldest failed message gives out (see src/query/list-parameters.ts).
    const oldest = await options.admin<{ micros: string; seq: string }>(
      `SELECT (extract(epoch FROM last_report_at) * 1000000)::int8 AS micros, last_seq AS seq FROM ${schema}.messages
       WHERE status = 'failed' ORDER BY last_report_at, last_seq LIMIT 1 OFFSET 100`,
    );
    const deepCursor = Buffer.from(`v2:${oldest[0]?.micros ?? '0'}:${oldest[0]?.seq ?? '1'}`).toString('base64url');
    const { byId, byRefId, byDestination } = lookupPaths(options.reports);
    // The last field: whether the baselines are measured beside it (they answer no listing).
    const scenarios: Array<[string, number, string, Ingest, boolean]> = [
      ['GET /messages/{id}', 2, byId, FLAT_OUT, true],
      ['GET /messages/{id}', 10, byId, FLAT_OUT, false],
      ['GET /messages?refId=', 2, byRefId, FLAT_OUT, true],
      ['GET /messages?refId=', 10, byRefId, FLAT_OUT, false],
      ['GET /messages?status=failed, first page of 50', 2, '"/messages?status=failed&limit=50"', FLAT_OUT, false],
      ['GET /messages?status=failed, page of 50 at the oldest end', 2, `"/messages?status=failed&limit=50&cursor=${deepCursor}"`, FLAT_OUT, false],
      ['GET /messages?status=failed&since=, first page of 50', 2, '"/messages?status=failed&since=2026-01-01T00:00:00Z&limit=50"', FLAT_OUT, false],
      // Windows few messages fall in: a since later than any failed report, an until at the oldest end.
      ['GET /messages?status=failed&since=, none that recent', 2, '"/messages?status=failed&since=2026-06-01T00:00:00Z&limit=50"', FLAT_OUT, false],
      ['GET /messages?until=, the oldest ten minutes', 2, '"/messages?until=2026-01-01T00:10:00Z&limit=50"', FLAT_OUT, false],
      ['GET /messages/{id}', 2, byId, PACED, true],
      ['GET /messages?refId=', 2, byRefId, PACED, true],
      ['GET /messages/{id}', 2, byId, NONE, true],
      ['GET /messages?refId=', 2, byRefId, NONE, true],
      ['GET /messages?destination=', 2, byDestination, FLAT_OUT, true],
      ['GET /messages?destination=', 2, byDestination, NONE, true],
    ];
    const cacheAtStart = fileCacheMiB();
    const lines = [
      `\n## Lookups with ${options.reports.toLocaleString('en')} reports (${messages.toLocaleString('en')} messages) stored, while ingest runs\n`,
      '| lookup | readers | ingest | requests/s | p50 ms | p99 ms | non-2xx | ingest meanwhile /s | ingest p99 ms | read from disk MB/s | one query per request: /s | one query: p99 ms | bare GET: p99 ms |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ];
    if (options.warmupSeconds > 0) {
      await Promise.all([
        runWrk({ url: server.url, connections: 2, seconds: options.warmupSeconds, script: lookupScript(byId), folder: options.folder }),
        runWrk({ url: queryServer.url, connections: 2, seconds: options.warmupSeconds, script: lookupScript(byId), folder: options.folder }),
        runWrk({
          url: server.url,
          connections: FLAT_OUT.connections,
          seconds: options.warmupSeconds,
          script: FLAT_OUT.script,
          folder: options.folder,
          env: { BENCH_PREFIX: `lookup-warmup-${Date.now()}-` },
        }),
      ]);
    }
    let baselineRuns = 0;
    for (const [name, readers, path, ingest, withBaselines] of scenarios) {
      const measure = (url: string, lookupPath = path) => measureLookups(options.folder, { url, readers, path: lookupPath, ingest, ingestUrl: server.url });
      // The baselines go first in every other scenario, so a noisy moment does not always hurt the same one.
      const baselineFirst = withBaselines && baselineRuns++ % 2 === 1;
      const early = baselineFirst ? await measureBaselines(measure, queryServer.url, bareServer.url) : null;
      const receiver = await measure(server.url);
      const baselines = withBaselines ? (early ?? (await measureBaselines(measure, queryServer.url, bareServer.url))) : null;
      const { lookup, ingested, readMBps } = receiver;
      lines.push(
        `| ${name} | ${readers} | ${ingest.name} | ${lookup.rate.toFixed(0)} | ${lookup.p50Ms.toFixed(2)} | ${lookup.p99Ms.toFixed(2)} | ${lookup.non2xx} | ` +
          `${ingested === null ? '-' : ingested.rate.toFixed(0)} | ${ingested === null ? '-' : ingested.p99Ms.toFixed(1)} | ${readMBps} | ` +
          (baselines === null
            ? '- | - | - |'
            : `${baselines.query.lookup.rate.toFixed(0)} | ${baselines.query.lookup.p99Ms.toFixed(2)} | ${baselines.bare.lookup.p99Ms.toFixed(2)} |`),
      );
    }
    lines.push('', `File cache: ${describeMiB(cacheAtStart)} before the lookups, ${describeMiB(fileCacheMiB())} after; tables and indexes ${await tablesMiB(options, schema)}.`);
    return lines.join('\n');
  } finally {
    await Promise.all([server.stop(), queryServer.stop(), bareServer.stop()]);
  }
}

/** Lua for wrk: a random message's id, a random refId, and a random number sent to, of the reports the fill generates. */
export function lookupPaths(reports: number): { readonly byId: string; readonly byRefId: string; readonly byDestination: string } {
  return {
    byId: `string.format("/messages/m%d", math.random(0, ${Math.floor(reports / 2) - 1}))`,
    byRefId: `string.format("/messages?refId=r%d", math.random(0, ${Math.floor(reports / 20) - 1}))`,
    byDestination: `string.format("/messages?destination=%%2B479%07d", math.random(0, ${Math.min(FILL_NUMBERS, Math.floor(reports / 2)) - 1}))`,
  };
}

export interface Measured {
  readonly lookup: LoadResult;
  readonly ingested: LoadResult | null;
  readonly readMBps: string;
}

/** Lookups of `path` on `url` for SECONDS, with `ingest` into the receiver at `ingestUrl` meanwhile. */
export async function measureLookups(
  folder: string,
  run: { readonly url: string; readonly readers: number; readonly path: string; readonly ingest: Ingest; readonly ingestUrl: string },
): Promise<Measured> {
  const readBefore = diskReadKiB();
  const [lookup, ingested] = await Promise.all([
    runWrk({ url: run.url, connections: run.readers, seconds: SECONDS, script: lookupScript(run.path), folder }),
    run.ingest.connections === 0
      ? null
      : runWrk({
          url: run.ingestUrl,
          connections: run.ingest.connections,
          seconds: SECONDS,
          script: run.ingest.script,
          folder,
          env: { BENCH_PREFIX: `lookup-${Date.now()}-` },
        }),
  ]);
  const readAfter = diskReadKiB();
  const readMBps = readBefore === null || readAfter === null ? '-' : ((readAfter - readBefore) / 1024 / lookup.seconds).toFixed(1);
  return { lookup, ingested, readMBps };
}

/** The same lookups on one SELECT per request, then a GET of the bare framework (its /healthz). */
async function measureBaselines(
  measure: (url: string, path?: string) => Promise<Measured>,
  queryUrl: string,
  bareUrl: string,
): Promise<{ query: Measured; bare: Measured }> {
  const query = await measure(queryUrl);
  const bare = await measure(bareUrl, '"/healthz"');
  return { query, bare };
}

function describeMiB(mib: number | null): string {
  return mib === null ? 'unknown' : `${(mib / 1024).toFixed(1)} GiB`;
}

/** The lookup tables' size with their indexes, which the file cache would have to hold. */
async function tablesMiB(options: LookupOptions, schema: string): Promise<string> {
  const [size] = await options.admin<{ bytes: string }>(
    `SELECT pg_total_relation_size('${schema}.reports') + pg_total_relation_size('${schema}.messages') AS bytes`,
  );
  return describeMiB(Number(size?.bytes ?? 0) / 1024 / 1024);
}

/**
 * Reads the tables and their indexes once (`pg_prewarm`), so that the lookups start from the file
 * cache that a receiver in service keeps warm. A host may take its guest's cache back between runs
 * (these machines' memory balloon did, leaving 0.7-1.8 GiB of the tables' 5.6): the lookups then
 * measured the disk, and the runs before a refill and after one could not be compared. The file
 * cache before and after the lookups, and the disk reads of each, are printed as before.
 */
async function readIntoFileCache(options: LookupOptions, schema: string): Promise<void> {
  const started = Date.now();
  try {
    await options.admin('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    const [read] = await options.admin<{ bytes: string }>(
      `SELECT sum(pg_prewarm(c.oid, 'read')) * current_setting('block_size')::int AS bytes FROM pg_class AS c
       WHERE c.relnamespace = '${schema}'::regnamespace AND c.relkind IN ('r', 'i')`,
    );
    const gib = Number(read?.bytes ?? 0) / 1024 ** 3;
    console.error(`  read ${gib.toFixed(1)} GiB of tables and indexes into the file cache in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } catch (error) {
    console.error(`  the tables were not read into the file cache first (${error instanceof Error ? error.message : String(error)})`);
  }
}

async function fill(options: LookupOptions, schema: string): Promise<void> {
  const existing = await options.admin<{ count: string }>(
    `SELECT count(*) AS count FROM pg_tables WHERE schemaname = '${schema}' AND tablename = 'fill_done'`,
  );
  if (Number(existing[0]?.count) > 0) return;
  await options.admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await options.admin(`CREATE SCHEMA ${schema}`);
  const database = openDatabase({ databaseUrl: options.databaseUrl, dataDir: '', schema });
  await migrateToLatest(database.db);
  await database.close();

  const started = Date.now();
  console.error(`  filling ${schema} with ${options.reports} reports inside PostgreSQL…`);
  const client = new pg.Client({ connectionString: options.inSchema(schema) });
  await client.connect();
  try {
    await client.query('SET synchronous_commit = off');
    await client.query(fillReportsSql(0, options.reports - 1));
    await client.query(fillMessagesSql(1, options.reports));
    // Settle the filled tables before measuring: VACUUM sets the hint bits and visibility map that
    // the first reads would otherwise write, and the checkpoint flushes the fill's pages. Without
    // them, the first lookup runs met autovacuum and a checkpoint, and every response stalled.
    await client.query('VACUUM (ANALYZE) reports, messages');
    await client.query('CHECKPOINT');
    await client.query('CREATE TABLE fill_done (at timestamptz DEFAULT now())');
  } finally {
    await client.end();
  }
  console.error(`  filled in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** How many numbers the fill's messages are sent to, in turn: 10 million reports send 5 messages to each. */
const FILL_NUMBERS = 1_000_000;

/**
 * Generates the reports numbered `first` to `last`: two parts per message, one message in seven
 * failed, twenty reports (ten messages) per refId, the messages sent to FILL_NUMBERS numbers in
 * turn, a report every 10 ms from 2026-01-01.
 */
export function fillReportsSql(first: number, last: number): string {
  return `
      INSERT INTO reports (fingerprint, report_id, message_id, part, ref_id, result_code, result_description, status, final,
                           delivery, billing, operator, operator_result_code, segments, sent_timestamp, report_timestamp,
                           source, destination, format, gate, remote_address, received_at, payload)
      SELECT md5(g::text)::uuid, 'm' || (g / 2) || '$' || (g % 2), 'm' || (g / 2), g % 2, 'r' || (g / 20),
             code, description, status, true, delivery, 'NOT_BILLED', 'no.telenor', '2', 2, ts, ts,
             'LINK', '+479' || lpad(((g / 2) % ${FILL_NUMBERS})::text, 7, '0'), 'json', NULL, '62.67.62.101', ts,
             json_build_object('id', 'm' || (g / 2) || '$' || (g % 2), 'resultCode', code)
      FROM generate_series(${first}, ${last}) AS g,
           LATERAL (SELECT timestamptz '2026-01-01T00:00:00Z' + g * interval '10 ms' AS ts,
                           (g / 2) % 7 = 0 AS failing) AS t,
           LATERAL (SELECT CASE WHEN failing THEN 1006 ELSE 1001 END AS code,
                           CASE WHEN failing THEN 'Not delivered' ELSE 'Billed and delivered' END AS description,
                           CASE WHEN failing THEN 'failed' ELSE 'delivered' END AS status,
                           CASE WHEN failing THEN 'NOT_DELIVERED' ELSE 'DELIVERED' END AS delivery) AS meaning
      ORDER BY g`;
}

/** The messages of the reports stored with seq `firstSeq` to `lastSeq`, whole messages, as their reports make them. */
export function fillMessagesSql(firstSeq: number, lastSeq: number): string {
  return `
      INSERT INTO messages (message_id, ref_id, status, final, segments_reported, total, delivered, failed, unknown, pending,
                            result_code, result_description, operator, source, destination, first_report_at, last_report_at, last_seq)
      SELECT message_id, min(ref_id), min(status), true, 2, 2,
             count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status = 'failed'), 0, 0,
             min(result_code), min(result_description), 'no.telenor', 'LINK', min(destination),
             min(received_at), max(received_at), max(seq)
      FROM reports WHERE seq BETWEEN ${firstSeq} AND ${lastSeq} GROUP BY message_id`;
}
