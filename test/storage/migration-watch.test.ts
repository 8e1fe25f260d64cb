/**
 * The line a start whose migrations the database holds up writes: what each busy session waits
 * for, in words an operator can act on, and nothing while the database is simply away (that has
 * its own line).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeldUpMigrations } from '../../src/storage/migration-watch.js';
import { cancelMigrationsOnStop, heldUpLine, watchMigrations } from '../../src/storage/migration-watch.js';
import type { SessionWait } from '../../src/storage/session-waits.js';
import { describeWait } from '../../src/storage/session-waits.js';

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

describe('watching the migrations', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says what holds them up once they run long, again at each interval, and stops when told', async () => {
    const reports: HeldUpMigrations[] = [];
    let waits: SessionWait[] = [behindLock];
    const stop = watchMigrations({ database: { readSessionWaits: () => Promise.resolve(waits) }, onHeldUp: (heldUp) => reports.push(heldUp), firstAfterMs: 10_000, everyMs: 30_000 });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reports).toEqual([{ seconds: 10, sessions: [{ pid: 4242, seconds: 12, doing: describeWait(behindLock) }] }]);
    waits = [waitingForStandby];
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reports).toHaveLength(2);
    expect(reports[1]?.sessions[0]?.doing).toContain('synchronous standby');
    stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(reports).toHaveLength(2);
  });

  it('says nothing while no session is busy or the database does not answer, and speaks once one is held up', async () => {
    const reports: HeldUpMigrations[] = [];
    let answer: () => Promise<SessionWait[]> = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    const stop = watchMigrations({ database: { readSessionWaits: () => answer() }, onHeldUp: (heldUp) => reports.push(heldUp), firstAfterMs: 10_000, everyMs: 30_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    answer = () => Promise.resolve([]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reports).toEqual([]);
    answer = () => Promise.resolve([behindLock]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(reports).toHaveLength(1);
    stop();
  });

  it('cancels the sessions once a stop signal comes, again every 200 ms, and no more once they have ended', async () => {
    let cancels = 0;
    const stopSignal = new AbortController();
    const done = cancelMigrationsOnStop({ cancelReads: () => { cancels++; } }, stopSignal.signal);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(cancels).toBe(0);
    stopSignal.abort();
    expect(cancels).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cancels).toBe(6);
    done();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cancels).toBe(6);
  });
});

describe('the held-up line of npm run migrate', () => {
  it('names each session and what it waits for', () => {
    const line = heldUpLine({ seconds: 40, sessions: [{ pid: 4242, seconds: 39, doing: describeWait(behindLock) }, { pid: 4243, seconds: 2, doing: 'is running' }] });
    expect(line).toBe(`the migrations have not finished after 40 s: session 4242 ${describeWait(behindLock)}; session 4243 is running`);
  });
});
