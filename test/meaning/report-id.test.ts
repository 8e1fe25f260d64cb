import { describe, expect, it } from 'vitest';
import { parseReportId } from '../../src/meaning/report-id.js';

describe('a report id', () => {
  it.each([
    ['abc123$0', 'abc123', 0],
    ['abc$2', 'abc', 2],
    ['abc$01', 'abc', 1],
    ['abc$0007', 'abc', 7],
    ['abc$0000000000254', 'abc', 254],
    ['a$b$3', 'a$b', 3],
    ['Dcshuhod0PMAAAFQ+/PbnR3x$254', 'Dcshuhod0PMAAAFQ+/PbnR3x', 254],
  ])('%s names message %s, part %s', (id, messageId, part) => {
    expect(parseReportId(id)).toEqual({ ok: true, target: { messageId, part } });
  });

  it.each(['abc', 'abc$', 'abc$x', 'abc$-1', '$', 'a$1b'])('%s without a part number speaks for the whole message', (id) => {
    expect(parseReportId(id)).toEqual({ ok: true, target: { messageId: id, part: null } });
  });

  it.each([
    ['$0', 'no message id'],
    ['abc$255', 'above the largest part number'],
    ['abc$99999999999', 'above the largest part number'],
    ['abc$000255', 'names part 255, above the largest part number'],
    ['x'.repeat(10_000), 'longer than 256'],
  ])('refuses %s: %s', (id, problem) => {
    const result = parseReportId(id);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(problem);
  });
});
