/**
 * The receiver process stops under load: killed outright (SIGKILL), or asked to stop (SIGTERM).
 * Either way every report that got a 200 is found after a restart; asked to stop, it also finishes
 * its work and exits 0 within 10 seconds. Runs on the embedded database and on the server.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessDatabase } from '../helpers/database.js';
import { createProcessDatabase } from '../helpers/database.js';
import type { RunningReceiver } from '../helpers/receiver-process.js';
import { missingMessages, readiness, sleep, startReceiver, startSending, waitFor } from '../helpers/receiver-process.js';

let database: ProcessDatabase;

beforeAll(async () => {
  database = await createProcessDatabase();
});
afterAll(() => database.drop());

/** A receiver on the suite's database with a data folder that outlives it, for the restart. */
function receiverEnv(dataDir: string): Record<string, string> {
  return { ...database.env, DATA_DIR: dataDir };
}

async function restartAndFindMissing(dataDir: string, acknowledged: readonly string[]): Promise<string[]> {
  const restarted = await startReceiver(receiverEnv(dataDir));
  try {
    await waitFor('the receiver to be ready with its journal stored', async () => {
      const ready = await readiness(restarted.base);
      return ready?.status === 'ready' && ready.journalReports === 0;
    });
    return await missingMessages(restarted.base, acknowledged);
  } finally {
    restarted.child.kill('SIGTERM');
    await restarted.exited;
  }
}

/** How long before the signal a request must have been started to have surely reached the receiver. */
const SURELY_READ_MS = 250;

async function loadThen(receiver: RunningReceiver, prefix: string, signal: NodeJS.Signals) {
  const sender = startSending(() => receiver.base, prefix, 32);
  await waitFor('reports under load', async () => sender.tally().acknowledged.length >= 500, 60_000);
  const signalledAt = Date.now();
  receiver.child.kill(signal);
  const code = await receiver.exited;
  const stoppedMs = Date.now() - signalledAt;
  const tally = await sender.stop();
  // Requests started well before the signal were read by the receiver, which must answer each of
  // them. The stamp is taken when the request is started, before its bytes leave this process; on a
  // busy machine they can arrive after the receiver stopped accepting, so the last moments before
  // the signal are left out.
  const unansweredBeforeSignal = tally.unansweredSentAt.filter((sentAt) => sentAt < signalledAt - SURELY_READ_MS).length;
  return { code, stoppedMs, tally, unansweredBeforeSignal };
}

describe('the receiver process stopping under load', () => {
  it('loses no acknowledged report when killed with SIGKILL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-sigkill-'));
    const receiver = await startReceiver(receiverEnv(dataDir));
    const { code, tally } = await loadThen(receiver, `sigkill-${randomUUID().slice(0, 8)}`, 'SIGKILL');
    expect(code).toBeNull();
    const missing = await restartAndFindMissing(dataDir, tally.acknowledged);
    console.info(`SIGKILL: sent ${tally.sent}, acknowledged ${tally.acknowledged.length}, unanswered or refused ${JSON.stringify(tally.refused)}, lost ${missing.length}`);
    expect(missing).toEqual([]);
  }, 180_000);

  it('on SIGTERM finishes what it took, exits 0 within 10 seconds, and loses nothing acknowledged', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-sigterm-'));
    const receiver = await startReceiver(receiverEnv(dataDir));
    const { code, stoppedMs, tally, unansweredBeforeSignal } = await loadThen(receiver, `sigterm-${randomUUID().slice(0, 8)}`, 'SIGTERM');
    expect(code).toBe(0);
    expect(unansweredBeforeSignal).toBe(0);
    expect(stoppedMs).toBeLessThan(10_000);
    expect(receiver.output()).toContain('"signal":"SIGTERM"');
    const missing = await restartAndFindMissing(dataDir, tally.acknowledged);
    console.info(`SIGTERM: sent ${tally.sent}, acknowledged ${tally.acknowledged.length}, refused ${JSON.stringify(tally.refused)}, unanswered of those sent before the signal ${unansweredBeforeSignal}, stopped in ${stoppedMs} ms, lost ${missing.length}`);
    expect(missing).toEqual([]);
  }, 180_000);

  it('on SIGTERM answers a request still arriving, and does not wait for its kept-alive connection to be closed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dlr-sigterm-keepalive-'));
    const receiver = await startReceiver(receiverEnv(dataDir));
    const messageId = `keepalive-${randomUUID().slice(0, 8)}`;
    const body = JSON.stringify({ id: `${messageId}$0`, resultCode: 1001, segments: 1 });
    const { port } = new URL(receiver.base);
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => { answer += chunk.toString(); });
    try {
      await once(socket, 'connect');
      // A client that keeps its connection open after the answer, as LINK's may: its request's
      // body still arriving when the stop begins.
      socket.write(`POST /dlr HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
      await sleep(300);
      const signalledAt = Date.now();
      receiver.child.kill('SIGTERM');
      await sleep(300);
      socket.write(body.slice(10));
      expect(await receiver.exited, receiver.output()).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(5_000);
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
    }
    expect(await restartAndFindMissing(dataDir, [`${messageId}$0`])).toEqual([]);
  }, 60_000);
});
