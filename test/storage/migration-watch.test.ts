/**
 * The line a start whose migrations the database holds up writes: what each busy session waits
 * for, in words an operator can act on, and nothing while the database is simply away (that has
 * its own line).
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchMigrations } from '../../src/storage/migration-watch.js';
import type { SessionWait } from '../../src/storage/session-waits.js';
import { describeWait } from '../../src/storage/session-waits.js';
import { capturedLog } from '../helpers/captured-log.js';

const running: SessionWait = { pid: 4242, waitEventType: null, waitEvent: null, blockedBy: [], seconds: 3 };
const behindLock: SessionWait = { pid: 4242, waitEventType: 'Lock', waitEvent: 'relation', blockedBy: [77, 78], seconds: 12 };
const waitingForStandby: SessionWait = { pid: 4242, waitEventType: 'IPC', waitEvent: 'SyncRep', blockedBy: [], seconds: 12 };

describe('what a busy session is said to wait for', () => {
  it('names the sessions holding the lock it waits for', () => {
    expect(describeWait(behindLock)).toMatch(/^waits for a lock held by session 77, 78 /);
  });
  it('names the synchronous standby a commit waits for', () => {
    expect(describeWait(waitingForStandby)).toContain('synchronous standby');
  });
  it('says a session that waits for nothing is running', () => {
    expect(describeWait(running)).toBe('is running');
  });
  it('gives any other wait as PostgreSQL names it', () => {
    expect(describeWait({ ...running, waitEventType: 'IO', waitEvent: 'DataFileRead' })).toBe('waits for IO DataFileRead');
  });
});

describe('watching the migrations at start', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const messages = (text: string) => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; sessions: unknown });

  it('says what holds them up once they run long, again at each interval, and stops when told', async () => {
    const log = capturedLog();
    let waits: SessionWait[] = [behindLock];
    const stop = watchMigrations({ database: { readSessionWaits: () => Promise.resolve(waits) }, logger: pino(log.stream), firstAfterMs: 10_000, everyMs: 30_000 });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(log.text()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(messages(log.text())).toEqual([
      expect.objectContaining({
        msg: 'the migrations have not finished: taking no reports until they do',
        sessions: [{ pid: 4242, seconds: 12, doing: describeWait(behindLock) }],
      }),
    ]);
    waits = [waitingForStandby];
    await vi.advanceTimersByTimeAsync(30_000);
    expect(messages(log.text())).toHaveLength(2);
    expect(log.text()).toContain('synchronous standby');
    stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(messages(log.text())).toHaveLength(2);
  });

  it('says nothing while no session is busy or the database does not answer, and speaks once one is held up', async () => {
    const log = capturedLog();
    let answer: () => Promise<SessionWait[]> = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    const stop = watchMigrations({ database: { readSessionWaits: () => answer() }, logger: pino(log.stream), firstAfterMs: 10_000, everyMs: 30_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    answer = () => Promise.resolve([]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(log.text()).toBe('');
    answer = () => Promise.resolve([behindLock]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(messages(log.text())).toHaveLength(1);
    stop();
  });
});
