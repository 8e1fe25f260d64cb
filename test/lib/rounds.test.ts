import { afterEach, describe, expect, it, vi } from 'vitest';
import { rounds } from '../../src/lib/rounds.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('work in rounds', () => {
  it('runs a round every interval, the first at once when asked, and none after stop', async () => {
    vi.useFakeTimers();
    let done = 0;
    const work = rounds(async () => ++done, 1_000, () => undefined);
    work.start({ now: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(done).toBe(3);
    await work.stop();
    work.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(done).toBe(3);
  });

  it('runs one round at a time: a round asked for while one is in hand is that one', async () => {
    let release: () => void = () => undefined;
    let started = 0;
    const work = rounds(() => new Promise<number>((resolve) => { started++; release = () => { resolve(started); }; }), 60_000, () => undefined);
    const first = work.runOnce();
    const second = work.runOnce();
    release();
    expect(await first).toBe(1);
    expect(await second).toBe(1);
    expect(started).toBe(1);
  });

  it('hands a failed round to its handler, and goes on at the next interval', async () => {
    vi.useFakeTimers();
    const failures: unknown[] = [];
    let attempts = 0;
    const work = rounds(async () => {
      attempts++;
      if (attempts === 1) throw new Error('database away');
      return attempts;
    }, 1_000, (error) => failures.push(error));
    work.start({ now: true });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(failures).toEqual([new Error('database away')]);
    expect(attempts).toBe(2);
    await work.stop();
  });

  it('waits at stop for the round in hand', async () => {
    let finished = false;
    const work = rounds(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      finished = true;
    }, 60_000, () => undefined);
    void work.runOnce();
    await work.stop();
    expect(finished).toBe(true);
  });
});
