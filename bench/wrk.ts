/** Runs wrk with a Lua script and reads the one JSON line its `done` hook prints. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rate: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const DONE_HOOK = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nRESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;

/**
 * A report of about 330 bytes, as LINK sends it, with an id unique to this run and request. With
 * BENCH_PARTS set to n above 1, each message has n parts, reported one after another (`id$0`,
 * `id$1`, …): a part's report then usually finds its message stored by an earlier batch, the write
 * that reads a message's stored state first. Each message goes to a number of its own, spread over
 * ten million, as a sender's customers' numbers are (they land all over the receiver's index of them).
 */
export const INGEST_SCRIPT = `
local counter = 0
local prefix = os.getenv("BENCH_PREFIX") or "bench"
local parts = tonumber(os.getenv("BENCH_PARTS") or "1")
local template = '{"refId":"order-%d","id":"%s","operator":"no.telenor","sentTimestamp":"2015-11-19T09:37:35Z","timestamp":"2015-11-19T09:37:00Z","resultCode":1001,"operatorResultCode":"2","segments":%d,"gateCustomParameters":{},"customParameters":{"received":"2015-11-19 10:37:36","source":"LINK","destination":"+479%07d"}}'
local headers = { ["Content-Type"] = "application/json" }
request = function()
  counter = counter + 1
  local message = counter
  local id = string.format("%s-%d", prefix, counter)
  if parts > 1 then
    message = math.floor((counter - 1) / parts) + 1
    id = string.format("%s-%d$%d", prefix, message, (counter - 1) % parts)
  end
  return wrk.format("POST", "/dlr", headers, string.format(template, message, id, parts, message * 7919 % 10000000))
end
`;

/** The same reports, each connection waiting `delayMs` before each request: a steady, lighter load. */
export function pacedIngestScript(delayMs: number): string {
  return `${INGEST_SCRIPT}
delay = function()
  return ${delayMs}
end
`;
}

/** GETs of paths the script makes; `pathExpression` is Lua returning one path. */
export function lookupScript(pathExpression: string): string {
  return `
math.randomseed(os.time())
request = function()
  return wrk.format("GET", ${pathExpression})
end
`;
}

export async function runWrk(options: {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly script: string;
  readonly folder: string;
  readonly env?: Record<string, string>;
}): Promise<LoadResult> {
  const scriptFile = join(options.folder, `wrk-${Date.now()}-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(scriptFile, options.script + DONE_HOOK);
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s', '-s', scriptFile, options.url];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => { if (code === 0) resolve(text); else reject(new Error(`wrk exited ${String(code)}: ${text}`)); });
  });
  const line = output.split('\n').find((each) => each.startsWith('RESULT '));
  if (line === undefined) throw new Error(`wrk printed no result: ${output}`);
  const raw = JSON.parse(line.slice('RESULT '.length)) as Record<string, number>;
  const seconds = (raw.duration_us ?? 0) / 1e6;
  const requests = raw.requests ?? 0;
  return {
    requests,
    seconds,
    rate: requests / seconds,
    non2xx: raw.non2xx ?? 0,
    socketErrors: raw.socket_errors ?? 0,
    p50Ms: (raw.p50_us ?? 0) / 1000,
    p99Ms: (raw.p99_us ?? 0) / 1000,
    maxMs: (raw.max_us ?? 0) / 1000,
  };
}
