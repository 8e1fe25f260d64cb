/**
 * CPU time from /proc, to say what a request costs: rates swing with the shared machine's speed,
 * while the CPU a request takes swings less and shows where the time goes (the server process,
 * PostgreSQL, the whole machine with wrk and the kernel).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** CPU milliseconds used so far; `postgresMs` is null when no PostgreSQL process runs on this machine. */
export interface CpuReading {
  readonly serverMs: number;
  /** The server's main thread alone, where node runs JavaScript; null when /proc does not show it. */
  readonly mainThreadMs: number | null;
  readonly postgresMs: number | null;
  readonly machineBusyMs: number;
  /** `performance.now()` at the reading. */
  readonly atMs: number;
}

/** CPU microseconds per request between two readings. */
export interface CpuPerRequest {
  readonly serverUs: number;
  readonly postgresUs: number | null;
  readonly machineUs: number;
  /**
   * The share of the time between the readings that the server's main thread was on a CPU: near 1,
   * node's one thread is the limit, and work taken off it is what raises the rate.
   */
  readonly mainThreadBusy: number | null;
}

const ticksPerSecond = readTicksPerSecond();

export function readCpu(serverPid: number): CpuReading {
  return {
    serverMs: processMs(serverPid) ?? 0,
    // A process's main thread is the task whose id is the process's.
    mainThreadMs: processMs(`${serverPid}/task/${serverPid}`),
    postgresMs: postgresMs(),
    machineBusyMs: machineBusyMs(),
    atMs: performance.now(),
  };
}

export function cpuPerRequest(before: CpuReading, after: CpuReading, requests: number): CpuPerRequest {
  const per = (ms: number) => (requests > 0 ? (ms * 1000) / requests : 0);
  return {
    serverUs: per(after.serverMs - before.serverMs),
    postgresUs: before.postgresMs === null || after.postgresMs === null ? null : per(after.postgresMs - before.postgresMs),
    machineUs: per(after.machineBusyMs - before.machineBusyMs),
    mainThreadBusy:
      before.mainThreadMs === null || after.mainThreadMs === null ? null : (after.mainThreadMs - before.mainThreadMs) / (after.atMs - before.atMs),
  };
}

/** The fields of /proc/PID/stat after the command name, which may itself hold spaces. */
function statFields(pid: string | number): { comm: string; fields: string[] } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    return { comm: text.slice(text.indexOf('(') + 1, close), fields: text.slice(close + 2).split(' ') };
  } catch {
    return null;
  }
}

/** Fields 14 and 15 of stat (user and system time), 12 and 13 here, counted from the state. */
function ownTicks(fields: readonly string[]): number {
  return Number(fields[11]) + Number(fields[12]);
}

/** `pid` may name a thread as `PID/task/TID`. */
function processMs(pid: number | string): number | null {
  const stat = statFields(pid);
  return stat === null ? null : ticksToMs(ownTicks(stat.fields));
}

/**
 * Every PostgreSQL process's own time, plus the time of the ones that ended, which the postmaster
 * (the one whose parent is not PostgreSQL) holds as its reaped children's (fields 16 and 17): a
 * connection closed during a run still counts.
 */
function postgresMs(): number | null {
  const processes = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => ({ pid, stat: statFields(pid) }))
    .filter((each) => each.stat?.comm === 'postgres');
  if (processes.length === 0) return null;
  const pids = new Set(processes.map((each) => each.pid));
  let ticks = 0;
  for (const { stat } of processes) {
    if (stat === null) continue;
    ticks += ownTicks(stat.fields);
    const parent = stat.fields[1] ?? '';
    if (!pids.has(parent)) ticks += Number(stat.fields[13]) + Number(stat.fields[14]);
  }
  return ticksToMs(ticks);
}

/** All cores' user, nice, system, irq and softirq time: busy, not idle or waiting for the disk. */
function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).map(Number);
  return ticksToMs((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0));
}

function ticksToMs(ticks: number): number {
  return (ticks * 1000) / ticksPerSecond;
}

function readTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}
