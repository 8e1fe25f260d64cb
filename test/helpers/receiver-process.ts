/**
 * The receiver as users run it: the built server (`npm test` builds first) in its own process,
 * over real HTTP, and a sender that counts what it was told.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const SERVER = join(import.meta.dirname, '../../dist/src/server.js');

export interface Launched {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

export interface RunningReceiver extends Launched {
  readonly base: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => { resolve(port); });
    });
  });
}

/** Receivers still running: a test that fails midway must not leave one behind when its file ends. */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

export interface LaunchOptions {
  readonly cwd?: string;
  /** The largest file the receiver may write, in bytes (RLIMIT_FSIZE): a write past it fails with EFBIG. */
  readonly fileSizeLimit?: number;
  /** The user and group to run the receiver as, in place of this process's (switching takes root). */
  readonly user?: { readonly uid: number; readonly gid: number };
}

export function launchReceiver(env: Record<string, string>, options: LaunchOptions = {}): Launched {
  const [command, args] =
    options.fileSizeLimit === undefined ? [process.execPath, [SERVER]] : ['prlimit', [`--fsize=${options.fileSizeLimit}`, process.execPath, SERVER]];
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    cwd: options.cwd,
    uid: options.user?.uid,
    gid: options.user?.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': at 'exit' the last lines written may still be in the pipe.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => { resolve(code); }));
  return { child, output: () => output, exited };
}

/** Starts a receiver on a free loopback port that takes reports from loopback, and waits until it is ready. */
export async function startReceiver(env: Record<string, string>, options: LaunchOptions = {}): Promise<RunningReceiver> {
  const port = await freePort();
  const launched = launchReceiver({ PORT: String(port), HOST: '127.0.0.1', DLR_ALLOWED_IPS: '127.0.0.1', ...env }, options);
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt++) {
    if (launched.child.exitCode !== null) throw new Error(`receiver exited: ${launched.output()}`);
    const ready = await fetch(`${base}/readyz`).then((response) => response.ok, () => false);
    if (ready) return { ...launched, base };
    await sleep(100);
  }
  launched.child.kill('SIGKILL');
  throw new Error(`receiver did not start: ${launched.output()}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface SendTally {
  readonly sent: number;
  /** Message ids of the reports answered 200. */
  readonly acknowledged: string[];
  /** Answers other than 200, by status ("error" when the connection failed). */
  readonly refused: Record<string, number>;
  /** When each request that got no answer at all was sent (Date.now()). */
  readonly unansweredSentAt: number[];
}

export interface Sender {
  /** Stops sending and resolves with the tally once every request sent has its answer. */
  readonly stop: () => Promise<SendTally>;
  readonly tally: () => SendTally;
}

/**
 * Sends one delivered report per request, each for a message of its own, from `workers` loops,
 * until stopped. Each worker waits for its answer before the next request.
 */
export function startSending(base: () => string, prefix: string, workers = 8): Sender {
  let running = true;
  let sent = 0;
  const acknowledged: string[] = [];
  const refused: Record<string, number> = {};
  const unansweredSentAt: number[] = [];
  const worker = async (number: number) => {
    for (let index = 0; running; index++) {
      const messageId = `${prefix}-${number}-${index}`;
      sent += 1;
      const sentAt = Date.now();
      const status = await postReport(base(), messageId);
      if (status === 200) acknowledged.push(messageId);
      else {
        if (status === 'error') unansweredSentAt.push(sentAt);
        refused[status] = (refused[status] ?? 0) + 1;
        // The receiver is away or refusing: do not spin.
        await sleep(20);
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, number) => worker(number)));
  const tally = () => ({ sent, acknowledged: [...acknowledged], refused: { ...refused }, unansweredSentAt: [...unansweredSentAt] });
  return {
    stop: async () => {
      running = false;
      await done;
      return tally();
    },
    tally,
  };
}

export async function postReport(base: string, messageId: string): Promise<number | 'error'> {
  const report = { refId: `ref-${messageId}`, id: `${messageId}$1`, resultCode: 1001, segments: 1, timestamp: '2026-11-23T09:00:00Z' };
  try {
    const response = await fetch(`${base}/dlr`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(30_000),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'error';
  }
}

/** The acknowledged ids that the receiver at `base` does not have. */
export async function missingMessages(base: string, ids: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (let start = 0; start < ids.length; start += 50) {
    const slice = ids.slice(start, start + 50);
    const found = await Promise.all(slice.map(async (id) => (await fetch(`${base}/messages/${encodeURIComponent(id)}`)).status === 200));
    slice.forEach((id, index) => {
      if (!found[index]) missing.push(id);
    });
  }
  return missing;
}

export interface Readiness {
  status: string;
  database: string;
  storingTo: 'database' | 'journal';
  journalReports: number;
}

export async function readiness(base: string): Promise<Readiness | null> {
  return fetch(`${base}/readyz`).then((response) => response.json() as Promise<Readiness>, () => null);
}

/** Waits until the condition holds, or fails naming what was awaited. */
export async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}
