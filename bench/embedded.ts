/**
 * Ingest into the embedded database (PGlite, what `npm start` uses without DATABASE_URL): the
 * receiver, and beside it the build in BENCH_PREVIOUS when one is given, taking the same reports as
 * the rounds on PostgreSQL, alternating order each round. Each run starts on a data folder of its
 * own, and afterwards the folder is opened as the receiver opens it, to count that every
 * acknowledged report is stored.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../src/storage/database.js';
import { median } from './median.js';
import { startServer } from './processes.js';
import type { LoadResult } from './wrk.js';
import { INGEST_SCRIPT, runWrk } from './wrk.js';

export interface EmbeddedBuild {
  readonly name: string;
  readonly script: string;
}

interface EmbeddedOptions {
  readonly builds: readonly EmbeddedBuild[];
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connectionCounts: readonly number[];
  readonly folder: string;
}

interface EmbeddedRun extends LoadResult {
  readonly build: string;
  readonly connections: number;
  readonly round: number;
  readonly acknowledged: number;
  readonly stored: number;
  readonly peakRssMiB: number;
}

export async function runEmbeddedBenchmark(options: EmbeddedOptions): Promise<string> {
  const runs: EmbeddedRun[] = [];
  for (const connections of options.connectionCounts) {
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? options.builds : [...options.builds].reverse();
      for (const build of order) {
        const run = await runOnEmbedded(options, build, connections, round);
        runs.push(run);
        console.error(
          `  embedded ${build.name.padEnd(9)} c=${connections} round ${round + 1}: ${run.rate.toFixed(0)}/s p99 ${run.p99Ms.toFixed(1)} ms ` +
            `non-2xx ${run.non2xx} acknowledged ${run.acknowledged} stored ${run.stored} peak RSS ${run.peakRssMiB.toFixed(0)} MiB`,
        );
      }
    }
  }
  return describe(runs, options);
}

async function runOnEmbedded(options: EmbeddedOptions, build: EmbeddedBuild, connections: number, round: number): Promise<EmbeddedRun> {
  const dataDir = join(options.folder, `embedded-${build.name}-${connections}-${round}`);
  try {
    const server = await startServer(build.script, { DATA_DIR: dataDir, DLR_ALLOWED_IPS: '127.0.0.1', LOG_LEVEL: 'warn' }, { readyPath: '/readyz' });
    let result: LoadResult;
    let acknowledged = 0;
    try {
      const load = (seconds: number, prefix: string) =>
        runWrk({ url: server.url, connections, seconds, script: INGEST_SCRIPT, folder: options.folder, env: { BENCH_PREFIX: prefix } });
      const prefix = `embedded-${build.name}-${connections}-${round}-`;
      const warmup = options.warmupSeconds > 0 ? await load(options.warmupSeconds, `${prefix}warmup-`) : null;
      result = await load(options.seconds, prefix);
      acknowledged = result.requests - result.non2xx + (warmup === null ? 0 : warmup.requests - warmup.non2xx);
    } finally {
      await server.stop();
    }
    const peakRssMiB = Math.max(0, ...server.rssSamples());
    return { ...result, build: build.name, connections, round, acknowledged, stored: await storedReports(dataDir), peakRssMiB };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The reports in a stopped receiver's embedded database. */
async function storedReports(dataDir: string): Promise<number> {
  const database = openDatabase({ databaseUrl: null, dataDir });
  try {
    const { rows } = await sql<{ count: string }>`SELECT count(*) AS count FROM reports`.execute(database.db);
    return Number(rows[0]?.count ?? 0);
  } finally {
    await database.close();
  }
}

function describe(runs: readonly EmbeddedRun[], options: EmbeddedOptions): string {
  const [receiver, previous] = options.builds;
  const of = (build: EmbeddedBuild | undefined, connections: number) =>
    runs.filter((run) => run.build === build?.name && run.connections === connections);
  const lines = [
    `\n## Ingest into the embedded database (PGlite), medians of ${options.rounds} rounds\n`,
    `| connections | receiver /s | receiver p50 ms | receiver p99 ms | ${previous === undefined ? '' : 'previous /s | previous p99 ms | receiver ÷ previous | '}non-2xx | acknowledged but not stored | receiver peak RSS MiB |${previous === undefined ? '' : ' previous peak RSS MiB |'}`,
    `|---|---|---|---|${previous === undefined ? '' : '---|---|---|'}---|---|---|${previous === undefined ? '' : '---|'}`,
  ];
  for (const connections of options.connectionCounts) {
    const mine = of(receiver, connections);
    const theirs = of(previous, connections);
    const ratios = mine.map((run) => run.rate / (theirs.find((each) => each.round === run.round)?.rate ?? Number.NaN));
    const compared = previous === undefined ? '' : `${median(theirs.map((run) => run.rate)).toFixed(0)} | ${median(theirs.map((run) => run.p99Ms)).toFixed(1)} | ${median(ratios).toFixed(2)} | `;
    const all = [...mine, ...theirs];
    const peakRss = (builds: readonly EmbeddedRun[]) => `${Math.max(...builds.map((run) => run.peakRssMiB)).toFixed(0)} |`;
    lines.push(
      `| ${connections} | ${median(mine.map((run) => run.rate)).toFixed(0)} | ${median(mine.map((run) => run.p50Ms)).toFixed(1)} | ` +
        `${median(mine.map((run) => run.p99Ms)).toFixed(1)} | ${compared}${all.reduce((sum, run) => sum + run.non2xx + run.socketErrors, 0)} | ` +
        `${all.reduce((sum, run) => sum + Math.max(0, run.acknowledged - run.stored), 0)} | ${peakRss(mine)}${previous === undefined ? '' : ` ${peakRss(theirs)}`}`,
    );
  }
  return lines.join('\n');
}
