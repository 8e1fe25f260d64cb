import { describe, expect, it } from 'vitest';
import { decidersByPart, decidingReport } from '../../src/meaning/deciding-report.js';
import type { PartDecider } from '../../src/meaning/message-state.js';
import { messageState } from '../../src/meaning/message-state.js';

const at = (time: string | null) => (time === null ? null : new Date(`2026-01-01T${time}Z`));

describe('the deciding report of a part', () => {
  it('is the final report with the latest timestamp', () => {
    const reports = [
      { name: 'final early', final: true, timestamp: at('10:00:00'), seq: 3 },
      { name: 'final late', final: true, timestamp: at('10:05:00'), seq: 1 },
      { name: 'temp latest', final: false, timestamp: at('11:00:00'), seq: 4 },
    ];
    expect(decidingReport(reports)?.name).toBe('final late');
  });

  it('is the latest non-final report while there is no final one', () => {
    const reports = [
      { name: 'queued', final: false, timestamp: at('10:00:00'), seq: 2 },
      { name: 'sent', final: false, timestamp: at('10:01:00'), seq: 1 },
    ];
    expect(decidingReport(reports)?.name).toBe('sent');
  });

  it('goes to the report received last on a tie, and ranks a missing timestamp lowest', () => {
    expect(
      decidingReport([
        { name: 'first', final: true, timestamp: at('10:00:00'), seq: 1 },
        { name: 'second', final: true, timestamp: at('10:00:00'), seq: 2 },
      ])?.name,
    ).toBe('second');
    expect(
      decidingReport([
        { name: 'timed', final: true, timestamp: at('10:00:00'), seq: 1 },
        { name: 'untimed', final: true, timestamp: null, seq: 2 },
      ])?.name,
    ).toBe('timed');
  });

  it('goes to the report received last between reports without a timestamp, whatever order they are read in', () => {
    const sent = { name: 'sent', final: false, timestamp: null, seq: 1 };
    const queued = { name: 'queued', final: false, timestamp: null, seq: 2 };
    expect(decidingReport([sent, queued])?.name).toBe('queued');
    expect(decidingReport([queued, sent])?.name).toBe('queued');
  });
});

describe('the deciding reports of a message', () => {
  it('are picked per part, the whole-message reports apart, whatever order the reports come in', () => {
    const reports = [
      { name: 'part 1 queued', part: 1, final: false, timestamp: at('10:00:00'), seq: 1 },
      { name: 'whole late', part: null, final: true, timestamp: at('12:00:00'), seq: 2 },
      { name: 'part 1 delivered', part: 1, final: true, timestamp: at('09:00:00'), seq: 3 },
      { name: 'part 0 failed', part: 0, final: true, timestamp: at('10:00:00'), seq: 4 },
      { name: 'whole early', part: null, final: true, timestamp: at('11:00:00'), seq: 5 },
    ];
    const names = (picked: Map<number | null, { name: string }>) => new Map([...picked].map(([part, { name }]) => [part, name]));
    const expected = new Map([
      [0, 'part 0 failed'],
      [1, 'part 1 delivered'],
      [null, 'whole late'],
    ]);
    expect(names(decidersByPart(reports))).toEqual(expected);
    expect(names(decidersByPart([...reports].reverse()))).toEqual(expected);
  });
});

const report = (status: PartDecider['status'], final: boolean, seq: number): PartDecider => ({ status, final, seq });

describe('a message', () => {
  it('counts parts from segments, from the highest part seen, and at least one', () => {
    expect(messageState({ segments: null, parts: new Map(), whole: null }).segments.total).toBe(1);
    expect(messageState({ segments: 3, parts: new Map(), whole: null }).segments.total).toBe(3);
    expect(messageState({ segments: 1, parts: new Map([[4, report('delivered', true, 1)]]), whole: null }).segments.total).toBe(5);
  });

  it.each([
    ['pending', [report('delivered', true, 1), report('pending', false, 2)], false],
    ['delivered', [report('delivered', true, 1), report('delivered', true, 2)], true],
    ['partially_delivered', [report('delivered', true, 1), report('failed', true, 2)], true],
    ['failed', [report('failed', true, 1), report('unknown', true, 2)], true],
    ['unknown', [report('unknown', true, 1), report('unknown', true, 2)], true],
  ] as const)('is %s', (status, parts, final) => {
    const state = messageState({ segments: 2, parts: new Map(parts.map((part, index) => [index, part])), whole: null });
    expect(state.status).toBe(status);
    expect(state.final).toBe(final);
  });

  it('is pending while a part has no report at all', () => {
    const state = messageState({ segments: 2, parts: new Map([[0, report('delivered', true, 1)]]), whole: null });
    expect(state).toMatchObject({ status: 'pending', final: false, segments: { total: 2, delivered: 1, pending: 1 } });
    expect(state.decided.map((item) => item.part)).toEqual([0]);
  });

  it('lets a whole-message report speak for every part without a report of its own', () => {
    const whole = report('failed', true, 1);
    const state = messageState({ segments: 3, parts: new Map([[1, report('delivered', true, 2)]]), whole });
    expect(state.segments).toEqual({ total: 3, delivered: 1, failed: 2, unknown: 0, pending: 0 });
    expect(state.status).toBe('partially_delivered');
    expect(state.decided.map((item) => item.report)).toEqual([whole, state.decided[1]?.report, whole]);
    expect(state.latest?.seq).toBe(2);
  });
});
