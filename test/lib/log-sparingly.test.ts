import { describe, expect, it } from 'vitest';
import { logSparingly } from '../../src/lib/log-sparingly.js';

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
});
