import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { logSparingly, logSparinglyBy } from '../../src/lib/log-sparingly.js';

describe('a warning logged sparingly', () => {
  it('is written once per interval, and the next line tells how many were left out', () => {
    let clock = 0;
    const log = logSparingly(10_000, () => clock);
    const lines: number[] = [];
    const warn = () => {
      log((suppressed) => lines.push(suppressed));
    };

    warn();
    for (clock = 1; clock < 10_000; clock += 1_000) warn();
    expect(lines).toEqual([0]);

    clock = 10_000;
    warn();
    expect(lines).toEqual([0, 10]);

    clock = 60_000;
    warn();
    expect(lines).toEqual([0, 10, 0]);
  });

  it('is written again once the interval has passed, though the wall clock was set back meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-12-05T12:00:00Z'));
      const lines: number[] = [];
      const log = logSparingly(50);
      log((suppressed) => lines.push(suppressed));
      // NTP steps back a clock that ran two hours ahead at boot.
      vi.setSystemTime(new Date('2026-12-05T10:00:00Z'));
      await sleep(60);
      log((suppressed) => lines.push(suppressed));
      expect(lines).toEqual([0, 0]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('per key, is written once per interval for each key, and a new key past the limit starts afresh', () => {
    let clock = 0;
    const log = logSparinglyBy(10_000, 2, () => clock);
    const lines: string[] = [];
    const warn = (key: string) => {
      log(key, (suppressed) => lines.push(`${key}:${suppressed}`));
    };

    warn('ENOSPC');
    warn('ENOSPC');
    warn('EIO');
    warn('EIO');
    expect(lines).toEqual(['ENOSPC:0', 'EIO:0']);

    // A third key forgets the two: each is written again at its next failure.
    warn('53100');
    warn('ENOSPC');
    expect(lines).toEqual(['ENOSPC:0', 'EIO:0', '53100:0', 'ENOSPC:0']);

    warn('53100');
    clock = 10_000;
    warn('53100');
    expect(lines.at(-1)).toBe('53100:1');
  });
});
