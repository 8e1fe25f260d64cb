/**
 * `npm run bench`: the receiver beside its baselines on PostgreSQL (the bare framework, the
 * receiver's intake answering without storing, one insert per request, group commit alone), then
 * lookups on a large table, on the server and on the embedded database. Servers run in turn,
 * alternating order each round, so a noisy moment hurts all of them.
 *
 * Each run first warms its server up for BENCH_WARMUP_SECONDS at the same load, not counted in its
 * rates and latencies (a fresh process compiles its hot code, a fresh schema makes its first plans),
 * but counted in the check that every acknowledged report is stored.
 *
 * Settings (environment): BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
 * BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS ("20,100,500"),
 * BENCH_SOAK_SECONDS (60), BENCH_LOOKUP_REPORTS (10000000; 0 skips the lookup benchmarks),
 * BENCH_EMBEDDED (1; 0 skips the rounds and the lookups on the embedded database),
 * BENCH_SERVER (1; 0 skips everything measured on the PostgreSQL server),
 * BENCH_PARTS (1; n sends each message's report as n parts' reports, one after another),
 * BENCH_PREVIOUS (a folder holding another build of the receiver, run in the rounds beside this
 * one: on a machine whose speed swings, a change is measured against the build before it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { CpuPerRequest } from './cpu.js';
import { cpuPerRequest, readCpu } from './cpu.js';
import { describeHeapAfterCollections, fullCollections } from './gc-trace.js';
import { runEmbeddedBenchmark } from './embedded.js';
import { runEmbeddedLookupBenchmark } from './embedded-lookup.js';
import { runLookupBenchmark } from './lookup.js';
import { median } from './median.js';
import type { RunningServer } from './processes.js';
import { startServer } from './processes.js';
import type { WalPerRequest } from './wal.js';
import { readWal, walPerRequest } from './wal.js';
import type { LoadResult } from './wrk.js';
import { INGEST_SCRIPT, runWrk } from './wrk.js';

const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const connectionCounts = (process.env.BENCH_CONNECTIONS ?? '20,100,500').split(',').map(Number);
const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 60);
const lookupReports = Number(process.env.BENCH_LOOKUP_REPORTS ?? 10_000_000);
const embedded = process.env.BENCH_EMBEDDED !== '0';
const onServer = process.env.BENCH_SERVER !== '0';
const folder = mkdtempSync(join(tmpdir(), 'dlr-bench-'));
const root = join(import.meta.dirname, '..');
const previousBuild = process.env.BENCH_PREVIOUS === undefined ? null : resolve(process.env.BENCH_PREVIOUS);

type Kind = 'bare' | 'intake' | 'insert' | 'group' | 'receiver' | 'previous';
const SCRIPTS: Record<Kind, string> = {
  bare: join(root, 'bench/servers/bare.js'),
  intake: join(root, 'bench/servers/intake-only.js'),
  insert: join(root, 'bench/servers/insert-per-request.js'),
  group: join(root, 'bench/servers/group-commit.js'),
  receiver: join(root, 'src/server.js'),
  previous: join(previousBuild ?? root, 'dist/src/server.js'),
};
/** The servers of each round, in the order of the even rounds. */
const KINDS: readonly Kind[] = ['bare', 'intake', 'insert', 'group', 'receiver', ...(previousBuild === null ? [] : (['previous'] as const))];
/** The servers that store what they take. */
const WRITERS: ReadonlySet<Kind> = new Set(['insert', 'group', 'receiver', 'previous']);

interface Run extends LoadResult {
  readonly kind: Kind;
  readonly connections: number;
  readonly round: number;
  /** Requests answered 2xx, the warm-up's included. */
  readonly acknowledged: number;
  readonly stored: number | null;
  readonly peakRssMiB: number;
  readonly rssSamples: readonly number[];
  readonly cpu: CpuPerRequest;
  /** Null for the servers that write nothing. */
  readonly wal: WalPerRequest | null;
  /** A line on the heap V8's full collections left during the measured load, when the run traced them. */
  readonly heapAfterCollections: string | null;
}

async function admin<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

function inSchema(schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** With `traceGc`, node runs with `--trace-gc` and the run describes its full collections. */
async function runOnce(kind: Kind, connections: number, round: number, runSeconds = seconds, traceGc = false): Promise<Run> {
  const schema = `bench_${kind}_${connections}_${round}_${process.pid}`;
  await admin(`CREATE SCHEMA ${schema}`);
  const prefix = `${schema}-`;
  let server: RunningServer | undefined;
  try {
    server = await startServer(
      SCRIPTS[kind],
      {
        DATABASE_URL: inSchema(schema),
        DLR_ALLOWED_IPS: '127.0.0.1',
        LOG_LEVEL: 'warn',
        // Each receiver build its own journal folder.
        DATA_DIR: join(folder, `data-${kind}`),
      },
      {
        readyPath: kind === 'receiver' || kind === 'previous' ? '/readyz' : '/healthz',
        ...(traceGc ? { nodeArgs: ['--trace-gc'], keepOutput: true } : {}),
      },
    );
    const { url } = server;
    const load = (loadSeconds: number, runPrefix: string) =>
      runWrk({ url, connections, seconds: loadSeconds, script: INGEST_SCRIPT, folder, env: { BENCH_PREFIX: runPrefix } });
    const warmup = warmupSeconds > 0 ? await load(warmupSeconds, `${prefix}warmup-`) : null;
    const writes = WRITERS.has(kind);
    const walBefore = writes ? await readWal(admin) : null;
    const cpuBefore = readCpu(server.pid);
    const loadFromMs = Date.now() - server.startedAt;
    const result = await load(runSeconds, prefix);
    const heapAfterCollections = traceGc
      ? describeHeapAfterCollections(fullCollections(server.output()), loadFromMs, Date.now() - server.startedAt)
      : null;
    const cpu = cpuPerRequest(cpuBefore, readCpu(server.pid), result.requests);
    const wal = walBefore === null ? null : walPerRequest(walBefore, await readWal(admin), result.requests);
    const acknowledged = result.requests - result.non2xx + (warmup === null ? 0 : warmup.requests - warmup.non2xx);
    const samples = server.rssSamples();
    await server.stop();
    server = undefined;
    const table = kind === 'receiver' || kind === 'previous' ? 'reports' : kind === 'insert' || kind === 'group' ? 'baseline_reports' : null;
    const stored = table === null ? null : Number((await admin<{ count: string }>(`SELECT count(*) AS count FROM ${schema}.${table}`))[0]?.count);
    return { ...result, kind, connections, round, acknowledged, stored, peakRssMiB: Math.max(0, ...samples), rssSamples: samples, cpu, wal, heapAfterCollections };
  } finally {
    await server?.stop();
    await admin(`DROP SCHEMA ${schema} CASCADE`);
  }
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);

function describeMachine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const postgres = execFileSync('psql', [databaseUrl, '-Atc', 'SHOW server_version'], { encoding: 'utf8' }).trim();
  return `${cpus().length} × ${cpu}, ${fixed(totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${postgres}, load generator wrk (-t1) on the same machine`;
}

/** The median over rounds of `runs`' rate over the rate of the `others` run of the same round. */
function medianRatioPerRound(runs: readonly Run[], others: readonly Run[]): number {
  return median(runs.map((run) => run.rate / (others.find((each) => each.round === run.round)?.rate ?? Number.NaN)));
}

/** The median of a CPU figure, or `-` when a run could not measure it (PostgreSQL on another machine). */
function cpuCell(values: ReadonlyArray<number | null>): string {
  return values.some((value) => value === null) ? '-' : fixed(median(values as number[]));
}

/** Table cells: the median rate, the median p99, and the median of one CPU figure of some runs. */
const rateCell = (measured: readonly Run[]) => fixed(median(measured.map((run) => run.rate)));
const p99Cell = (measured: readonly Run[]) => fixed(median(measured.map((run) => run.p99Ms)), 1);
const cpuPartCell = (measured: readonly Run[], part: keyof CpuPerRequest) => cpuCell(measured.map((run) => run.cpu[part]));

/** The runs of one server at one number of connections, in round order. */
function runsOf(runs: readonly Run[], kind: Kind, connections: number): Run[] {
  return runs.filter((run) => run.kind === kind && run.connections === connections);
}

/** The runs of each server at one number of connections. */
type RunsAt = (kind: Kind) => Run[];

/**
 * A Markdown table: its heading, its column names and the line under them, then a row per number
 * of connections, whose cells after the first `cells` makes from the runs at that number.
 */
function printTable(runs: readonly Run[], heading: string, columns: readonly string[], cells: (of: RunsAt) => readonly string[]): void {
  console.log(`${heading}\n`);
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map(() => '---|').join('')}`);
  for (const connections of connectionCounts) {
    console.log(`| ${[String(connections), ...cells((kind) => runsOf(runs, kind, connections))].join(' | ')} |`);
  }
}

function printIngestTable(runs: readonly Run[]): void {
  printTable(runs, '## Ingest (unique report per request, medians of rounds)', [
    'connections',
    'bare framework /s',
    'one insert per request /s',
    'receiver /s',
    'receiver ÷ bare',
    'receiver ÷ insert',
    'receiver p50 ms',
    'receiver p99 ms',
    'bare p99 ms',
    'receiver non-2xx',
    'acknowledged but not stored',
    'receiver peak RSS MiB',
  ], (of) => {
    const receiver = of('receiver');
    const perRound = (other: Kind) => fixed(medianRatioPerRound(receiver, of(other)), 2);
    const lost = receiver.reduce((sum, run) => sum + Math.max(0, run.acknowledged - (run.stored ?? 0)), 0);
    return [
      rateCell(of('bare')),
      rateCell(of('insert')),
      rateCell(receiver),
      perRound('bare'),
      perRound('insert'),
      fixed(median(receiver.map((run) => run.p50Ms)), 1),
      p99Cell(receiver),
      p99Cell(of('bare')),
      String(receiver.reduce((sum, run) => sum + run.non2xx + run.socketErrors, 0)),
      String(lost),
      fixed(Math.max(...receiver.map((run) => run.peakRssMiB))),
    ];
  });
}

/**
 * What a request cost in CPU, beside the rates: on a machine whose speed swings, it says how much
 * of the gap to the bare route is the receiver's own work and how much is PostgreSQL's.
 */
function printCpuTable(runs: readonly Run[]): void {
  printTable(runs, '\n## CPU per request, µs (medians of rounds; the machine column is every process and the kernel, wrk included)', [
    'connections',
    'bare: server',
    'bare: machine',
    'one insert: server',
    'one insert: PostgreSQL',
    'one insert: machine',
    'receiver: server',
    'receiver: PostgreSQL',
    'receiver: machine',
  ], (of) => [
    cpuPartCell(of('bare'), 'serverUs'),
    cpuPartCell(of('bare'), 'machineUs'),
    ...(['insert', 'receiver'] as const).flatMap((kind) => (['serverUs', 'postgresUs', 'machineUs'] as const).map((part) => cpuPartCell(of(kind), part))),
  ]);
}

/**
 * The receiver's intake alone beside the bare route and the receiver: how much of the gap to the
 * bare route is reading a report (HTTP set up as the receiver's, the checks, the meaning) and how
 * much is storing it, and the rate the receiver's process could reach if storing cost it nothing.
 * The share of the time each server's main thread was busy says whether node's one thread was the
 * limit (near 100 %) or the server waited for something else, the database or the other processes.
 */
function printIntakeTable(runs: readonly Run[]): void {
  printTable(runs, '\n## The receiver\'s intake alone, answering without storing (medians of rounds)', [
    'connections',
    'bare /s',
    'intake only /s',
    'receiver /s',
    'intake only ÷ bare',
    'receiver ÷ intake only',
    'bare: server µs',
    'intake only: server µs',
    'receiver: server µs',
    'intake only p99 ms',
    'bare: main thread busy %',
    'intake only: main thread busy %',
    'receiver: main thread busy %',
  ], (of) => {
    const [bare, intake, receiver] = [of('bare'), of('intake'), of('receiver')];
    const server = (measured: readonly Run[]) => cpuPartCell(measured, 'serverUs');
    return [
      ...[bare, intake, receiver].map(rateCell),
      fixed(medianRatioPerRound(intake, bare), 2),
      fixed(medianRatioPerRound(receiver, intake), 2),
      ...[bare, intake, receiver].map(server),
      p99Cell(intake),
      ...[bare, intake, receiver].map(mainThreadCell),
    ];
  });
}

/**
 * Group commit alone (the bare route's reports, batched into one multi-row insert whenever a
 * connection is free) beside the receiver: how far batching alone takes the bare route on this
 * machine, and how much of that the receiver's own work (reading, meaning, parts, messages, the
 * raw payload) keeps.
 */
function printGroupCommitTable(runs: readonly Run[]): void {
  printTable(runs, '\n## Group commit alone, without the receiver\'s work (medians of rounds)', [
    'connections',
    'group commit /s',
    'receiver /s',
    'group commit ÷ bare',
    'receiver ÷ group commit',
    'group commit p99 ms',
    'group commit: server µs',
    'group commit: PostgreSQL µs',
    'receiver: server µs',
    'receiver: PostgreSQL µs',
  ], (of) => {
    const [bare, group, receiver] = [of('bare'), of('group'), of('receiver')];
    return [
      rateCell(group),
      rateCell(receiver),
      fixed(medianRatioPerRound(group, bare), 2),
      fixed(medianRatioPerRound(receiver, group), 2),
      p99Cell(group),
      cpuPartCell(group, 'serverUs'),
      cpuPartCell(group, 'postgresUs'),
      cpuPartCell(receiver, 'serverUs'),
      cpuPartCell(receiver, 'postgresUs'),
    ];
  });
}

/**
 * The write-ahead log a request wrote: the same for the same statements and schema however busy the
 * machine, so a change to the write path shows here first. Checkpoints started during the runs say
 * which tails may be the disk's.
 */
function printWalTable(runs: readonly Run[]): void {
  const writers = KINDS.filter((kind) => WRITERS.has(kind));
  const title = (kind: Kind) => (kind === 'insert' ? 'one insert' : kind === 'group' ? 'group commit' : kind);
  printTable(runs, '\n## Write-ahead log per request, bytes (medians of rounds), and checkpoints started during the runs', [
    'connections',
    ...writers.flatMap((kind) => [`${title(kind)}: bytes`, `${title(kind)}: checkpoints`]),
  ], (of) =>
    writers.flatMap((kind) => {
      const measured = of(kind);
      return [walCell(measured), String(measured.reduce((sum, run) => sum + (run.wal?.checkpoints ?? 0), 0))];
    }),
  );
}

/** The receiver against the build in BENCH_PREVIOUS, round by round. */
function printPreviousTable(runs: readonly Run[], build: string): void {
  printTable(runs, `\n## The receiver against the build in ${build} (medians of rounds)`, [
    'connections',
    'previous /s',
    'receiver /s',
    'receiver ÷ previous',
    'previous p99 ms',
    'receiver p99 ms',
    'previous: server µs',
    'receiver: server µs',
    'previous: PostgreSQL µs',
    'receiver: PostgreSQL µs',
  ], (of) => {
    const [previous, receiver] = [of('previous'), of('receiver')];
    return [
      rateCell(previous),
      rateCell(receiver),
      fixed(medianRatioPerRound(receiver, previous), 2),
      p99Cell(previous),
      p99Cell(receiver),
      ...(['serverUs', 'postgresUs'] as const).flatMap((part) => [cpuPartCell(previous, part), cpuPartCell(receiver, part)]),
    ];
  });
}

function describeWal(wal: WalPerRequest | null): string {
  return wal === null ? '' : `; WAL bytes/request ${fixed(wal.bytesPerRequest)}, checkpoints started ${wal.checkpoints}`;
}

/** The median of the runs' WAL bytes per request, or `-` for runs that write nothing. */
function walCell(runs: readonly Run[]): string {
  const bytes = runs.flatMap((run) => (run.wal === null ? [] : [run.wal.bytesPerRequest]));
  return bytes.length === 0 ? '-' : fixed(median(bytes));
}

function describeCpu({ serverUs, postgresUs, machineUs, mainThreadBusy }: CpuPerRequest): string {
  return (
    `CPU µs/request server ${fixed(serverUs)} PostgreSQL ${postgresUs === null ? '-' : fixed(postgresUs)} machine ${fixed(machineUs)}` +
    `; server's main thread busy ${mainThreadBusy === null ? '-' : `${fixed(mainThreadBusy * 100)} %`}`
  );
}

/** The median share of the run's time the server's main thread was busy, in percent, or `-`. */
function mainThreadCell(measured: readonly Run[]): string {
  return cpuCell(measured.map(({ cpu }) => (cpu.mainThreadBusy === null ? null : cpu.mainThreadBusy * 100)));
}

async function main(): Promise<void> {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk exits 1 on --version; only a missing binary matters.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error('wrk is needed for the benchmark: apt-get install wrk');
      process.exitCode = 1;
      return;
    }
  }
  if (previousBuild !== null && !existsSync(SCRIPTS.previous)) {
    console.error(`BENCH_PREVIOUS: ${SCRIPTS.previous} does not exist; build that checkout first (npm ci && npm run build)`);
    process.exitCode = 1;
    return;
  }
  console.log(`# Benchmark\n\nMachine: ${describeMachine()}\nLoad generator: wrk, ${seconds} s per run after ${warmupSeconds} s of warm-up\n`);

  const runs: Run[] = [];
  for (const connections of onServer ? connectionCounts : []) {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? KINDS : [...KINDS].reverse();
      for (const kind of order) {
        const run = await runOnce(kind, connections, round);
        runs.push(run);
        console.error(
          `  ${kind.padEnd(9)} c=${connections} round ${round + 1}: ${fixed(run.rate)}/s p99 ${fixed(run.p99Ms, 1)} ms non-2xx ${run.non2xx}` +
            (run.stored === null ? '' : ` acknowledged ${run.acknowledged} stored ${run.stored}`) +
            `; ${describeCpu(run.cpu)}${describeWal(run.wal)}`,
        );
      }
    }
  }

  // BENCH_ROUNDS=0 runs only what follows: no ingest table of empty rounds.
  if (onServer && rounds > 0) {
    printIngestTable(runs);
    printCpuTable(runs);
    printIntakeTable(runs);
    printGroupCommitTable(runs);
    printWalTable(runs);
    if (previousBuild !== null) printPreviousTable(runs, previousBuild);
  }

  const embeddedBuilds = [{ name: 'receiver', script: SCRIPTS.receiver }, ...(previousBuild === null ? [] : [{ name: 'previous', script: SCRIPTS.previous }])];
  if (embedded && rounds > 0) {
    console.log(await runEmbeddedBenchmark({ builds: embeddedBuilds, rounds, seconds, warmupSeconds, connectionCounts, folder }));
  }

  if (onServer && soakSeconds > 0) {
    const soak = await runOnce('receiver', 100, 99, soakSeconds, true);
    console.log(
      `\n## Memory over ${soakSeconds} s at 100 connections\n\n${fixed(soak.rate)} reports/s, p99 ${fixed(soak.p99Ms, 1)} ms, ` +
        `non-2xx ${soak.non2xx}, acknowledged ${soak.acknowledged}, stored ${soak.stored ?? 0}, peak RSS ${fixed(soak.peakRssMiB)} MiB, ${describeCpu(soak.cpu)}${describeWal(soak.wal)}`,
    );
    const at = (share: number) => soak.rssSamples[Math.min(soak.rssSamples.length - 1, Math.floor(share * soak.rssSamples.length))] ?? 0;
    console.log(`RSS over the run (MiB): ${[0.1, 0.25, 0.5, 0.75, 1].map((share) => `${share * 100}%: ${fixed(at(share))}`).join(', ')}`);
    console.log(soak.heapAfterCollections ?? '');
  }

  if (onServer && lookupReports > 0) {
    console.log(
      await runLookupBenchmark({
        databaseUrl,
        reports: lookupReports,
        folder,
        receiverScript: SCRIPTS.receiver,
        bareScript: SCRIPTS.bare,
        queryScript: join(root, 'bench/servers/query-per-request.js'),
        admin,
        inSchema,
        warmupSeconds,
      }),
    );
  }

  if (embedded && lookupReports > 0) {
    console.log(await runEmbeddedLookupBenchmark({ builds: embeddedBuilds, reports: lookupReports, bareScript: SCRIPTS.bare, folder, warmupSeconds }));
  }
}

try {
  await main();
} finally {
  // The servers' journals and wrk's script: nothing in them is worth keeping once the figures are out.
  rmSync(folder, { recursive: true, force: true });
}
