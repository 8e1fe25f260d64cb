/** Starts a server process for a benchmark run, watches its memory, and stops it. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { procNumber } from './proc.js';

export interface RunningServer {
  readonly url: string;
  readonly pid: number;
  /** Resident memory samples in MiB, one every 500 ms since start. */
  readonly rssSamples: () => readonly number[];
  /** `Date.now()` when the process was started. */
  readonly startedAt: number;
  /** Everything the process wrote, when started with `keepOutput`; else its last lines. */
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

let nextPort = 4100;

export interface StartOptions {
  /** Options for node itself, before the script. */
  readonly nodeArgs?: readonly string[];
  /** Keep all that the process writes (for `--trace-gc`), not only its last lines. */
  readonly keepOutput?: boolean;
  /** The path that answers 200 once the server takes requests: the receiver listens before it is ready. */
  readonly readyPath?: string;
}

export async function startServer(script: string, env: Record<string, string>, options: StartOptions = {}): Promise<RunningServer> {
  const port = nextPort++;
  const startedAt = Date.now();
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), script], {
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The server logs to stdout: its last lines say why it did not start.
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (options.keepOutput !== true) output = output.slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const samples: number[] = [];
  const sampler = setInterval(() => {
    const rss = residentMiB(child.pid);
    if (rss !== null) samples.push(rss);
  }, 500);

  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) break;
    if (await fetch(`${url}${options.readyPath ?? '/healthz'}`).then((response) => response.ok, () => false)) {
      return {
        url,
        pid: child.pid ?? 0,
        rssSamples: () => samples,
        startedAt,
        output: () => output,
        stop: async () => {
          clearInterval(sampler);
          if (child.exitCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  clearInterval(sampler);
  child.kill('SIGKILL');
  throw new Error(`${script} did not start:\n${output}`);
}

function residentMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  const kiB = procNumber(`/proc/${pid}/status`, /VmRSS:\s+(\d+) kB/);
  return kiB === null ? null : kiB / 1024;
}
