/**
 * Lookups on the embedded database (PGlite, what `npm start` uses without DATABASE_URL) with many
 * reports stored, while ingest runs into the same receiver, as lookup.ts measures them on a server:
 * the same reports, generated inside the database, by id and by refId, beside flat-out ingest, paced
 * ingest, and none. Beside each, the bare framework's GET under the same ingest, the floor this
 * machine puts under any request's latency.
 *
 * The filled data folder is kept between runs under the system's temporary folder, named by its
 * size and the schema's version, as the server's filled schema is. The embedded database takes one
 * receiver at a time, so the builds take turns: the receiver, then the build in BENCH_PREVIOUS.
 */
import { closeSync, existsSync, openSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { migrations } from '../migrations/index.js';
import { openDatabase } from '../src/storage/database.js';
import { migrateToLatest } from '../src/storage/migrate.js';
import type { EmbeddedBuild } from './embedded.js';
import type { Ingest, Measured } from './lookup.js';
import { FLAT_OUT, NONE, PACED, fillMessagesSql, fillReportsSql, lookupPaths, measureLookups } from './lookup.js';
import { startServer } from './processes.js';
import { INGEST_SCRIPT, lookupScript, runWrk } from './wrk.js';

interface EmbeddedLookupOptions {
  readonly builds: readonly EmbeddedBuild[];
  readonly reports: number;
  readonly bareScript: string;
  /** The run's scratch folder (wrk's scripts). */
  readonly folder: string;
  readonly warmupSeconds: number;
}

/** Reports generated per statement: PGlite holds a statement's work in its own memory. */
const FILL_CHUNK = 1_000_000;
/** Marks a folder whose fill finished, beside the database in it. */
const FILL_DONE = 'fill-done';

export async function runEmbeddedLookupBenchmark(options: EmbeddedLookupOptions): Promise<string> {
  const dataDir = join(tmpdir(), `dlr-bench-embedded-lookup-${options.reports}-v${Object.keys(migrations).length}`);
  await fill(dataDir, options.reports);
  readIntoFileCache(dataDir);
  const { byId, byRefId } = lookupPaths(options.reports);
  const scenarios: Array<[string, string, Ingest]> = [
    ['GET /messages/{id}', byId, FLAT_OUT],
    ['GET /messages?refId=', byRefId, FLAT_OUT],
    ['GET /messages/{id}', byId, PACED],
    ['GET /messages?refId=', byRefId, PACED],
    ['GET /messages/{id}', byId, NONE],
    ['GET /messages?refId=', byRefId, NONE],
  ];
  const bare = await startServer(options.bareScript, {});
  const results = new Map<string, { receiver: Measured; bareP99Ms: number | null }>();
  try {
    for (const build of options.builds) {
      const server = await startServer(build.script, { DATA_DIR: dataDir, DLR_ALLOWED_IPS: '127.0.0.1', LOG_LEVEL: 'warn' }, { readyPath: '/readyz' });
      try {
        if (options.warmupSeconds > 0) {
          await Promise.all([
            runWrk({ url: server.url, connections: 2, seconds: options.warmupSeconds, script: lookupScript(byId), folder: options.folder }),
            runWrk({
              url: server.url,
              connections: FLAT_OUT.connections,
              seconds: options.warmupSeconds,
              script: INGEST_SCRIPT,
              folder: options.folder,
              env: { BENCH_PREFIX: `embedded-lookup-warmup-${Date.now()}-` },
            }),
          ]);
        }
        for (const [name, path, ingest] of scenarios) {
          const measure = (url: string, lookupPath = path) => measureLookups(options.folder, { url, readers: 2, path: lookupPath, ingest, ingestUrl: server.url });
          const receiver = await measure(server.url);
          // The floor once per scenario, under the first build's ingest.
          const bareP99Ms = build === options.builds[0] ? (await measure(bare.url, '"/healthz"')).lookup.p99Ms : null;
          results.set(`${build.name} ${name} ${ingest.name}`, { receiver, bareP99Ms });
          console.error(`  embedded ${build.name} ${name}, ingest ${ingest.name}: p99 ${receiver.lookup.p99Ms.toFixed(2)} ms`);
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await bare.stop();
  }
  const lines = [
    `\n## Lookups on the embedded database with ${options.reports.toLocaleString('en')} reports stored, while ingest runs (2 readers)\n`,
    '| lookup | ingest | build | requests/s | p50 ms | p99 ms | non-2xx | ingest meanwhile /s | ingest p99 ms | bare GET: p99 ms |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, , ingest] of scenarios) {
    const floor = results.get(`${options.builds[0]?.name ?? ''} ${name} ${ingest.name}`)?.bareP99Ms;
    for (const build of options.builds) {
      const result = results.get(`${build.name} ${name} ${ingest.name}`);
      if (result === undefined) continue;
      const { lookup, ingested } = result.receiver;
      lines.push(
        `| ${name} | ${ingest.name} | ${build.name} | ${lookup.rate.toFixed(0)} | ${lookup.p50Ms.toFixed(2)} | ${lookup.p99Ms.toFixed(2)} | ${lookup.non2xx} | ` +
          `${ingested === null ? '-' : ingested.rate.toFixed(0)} | ${ingested === null ? '-' : ingested.p99Ms.toFixed(1)} | ${floor === undefined || floor === null ? '-' : floor.toFixed(2)} |`,
      );
    }
  }
  lines.push('', `The data folder (${describeGiB(folderBytes(dataDir))}) is kept for the next run at ${dataDir}; remove it to reclaim the space.`);
  return lines.join('\n');
}

/** Fills a data folder, unless an earlier run did: reports, then their messages, a chunk at a time, then the upkeep a fill needs. */
async function fill(dataDir: string, reports: number): Promise<void> {
  if (existsSync(join(dataDir, FILL_DONE))) return;
  rmSync(dataDir, { recursive: true, force: true });
  const started = Date.now();
  console.error(`  filling ${dataDir} with ${reports} reports inside the embedded database…`);
  const database = openDatabase({ databaseUrl: null, dataDir });
  try {
    await migrateToLatest(database.db);
    for (let first = 0; first < reports; first += FILL_CHUNK) {
      const last = Math.min(reports, first + FILL_CHUNK) - 1;
      await sql.raw(fillReportsSql(first, last)).execute(database.db);
      // Reports numbered from 0 are stored with seq from 1; a chunk holds whole messages.
      await sql.raw(fillMessagesSql(first + 1, last + 1)).execute(database.db);
      // Each chunk's log checkpointed away, as the receiver's upkeep would.
      await sql`CHECKPOINT`.execute(database.db);
    }
    await sql`VACUUM (ANALYZE) reports, messages`.execute(database.db);
    await sql`CHECKPOINT`.execute(database.db);
  } finally {
    await database.close();
  }
  closeSync(openSync(join(dataDir, FILL_DONE), 'w'));
  console.error(`  filled in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Reads every file of the folder once, so the lookups start from the file cache a receiver in service keeps warm (see lookup.ts). */
function readIntoFileCache(dataDir: string): void {
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (const path of filesUnder(dataDir)) {
    const descriptor = openSync(path, 'r');
    try {
      while (readSync(descriptor, buffer, 0, buffer.length, null) > 0);
    } finally {
      closeSync(descriptor);
    }
  }
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .map((name) => join(folder, name))
    .filter((path) => statSync(path).isFile());
}

function folderBytes(folder: string): number {
  return filesUnder(folder).reduce((sum, path) => sum + statSync(path).size, 0);
}

function describeGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
