/**
 * The receiver as users run it: the built server in its own process, over real HTTP. `npm test`
 * builds first (pretest), so dist/ is current.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverUrl } from '../helpers/database.js';

const SERVER = join(import.meta.dirname, '../../dist/src/server.js');

interface Running {
  readonly child: ChildProcess;
  readonly base: string;
  readonly output: () => string;
}

let databaseEnv: Record<string, string>;
let dropSchema = async () => {};

beforeAll(async () => {
  if (serverUrl === null) {
    databaseEnv = { DATA_DIR: mkdtempSync(join(tmpdir(), 'dlr-server-')) };
    return;
  }
  const schema = `test_${randomUUID().replaceAll('-', '')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  databaseEnv = { DATABASE_URL: url.toString() };
  dropSchema = () => admin(`DROP SCHEMA ${schema} CASCADE`);
});
afterAll(() => dropSchema());

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl ?? undefined });
  await client.connect();
  await client.query(text).finally(() => client.end());
}

async function freePort(): Promise<number> {
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

function launch(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...databaseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
  return { child, output: () => output, exited };
}

async function start(): Promise<Running & { exited: Promise<number | null> }> {
  const port = await freePort();
  const launched = launch({ PORT: String(port), HOST: '127.0.0.1', DLR_ALLOWED_IPS: '127.0.0.1', DLR_ACK_BODY: 'THANKS' });
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 300; attempt++) {
    if (launched.child.exitCode !== null) throw new Error(`server exited: ${launched.output()}`);
    const up = await fetch(`${base}/healthz`).then((response) => response.ok, () => false);
    if (up) return { ...launched, base };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  launched.child.kill('SIGKILL');
  throw new Error(`server did not start: ${launched.output()}`);
}

describe('the server process', () => {
  it('stops at start with a message naming a bad variable', async () => {
    const launched = launch({ PORT: '99999' });
    expect(await launched.exited).toBe(1);
    expect(launched.output()).toContain('PORT: "99999" is not a port');
  });

  it('takes a report over HTTP, answers only after storing it, keeps it across a restart, and stops cleanly', async () => {
    const first = await start();
    const report = { refId: 'order-17', id: 'process-1$0', resultCode: 1001, segments: 1, timestamp: '2015-11-19T09:37:00Z' };
    const posted = await fetch(`${first.base}/dlr`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) });
    expect(posted.status).toBe(200);
    expect(await posted.text()).toBe('THANKS');
    const ready = await fetch(`${first.base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'up', smpp: 'disabled' });

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).not.toContain('order-17');

    const second = await start();
    try {
      const message = await fetch(`${second.base}/messages/process-1`);
      expect(message.status).toBe(200);
      expect(await message.json()).toMatchObject({ messageId: 'process-1', refId: 'order-17', status: 'delivered', final: true });
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});
