import { describe, expect, it } from 'vitest';
import type { MessageJson } from '../helpers/app.js';
import { getMessage, postJson, useTestReceiver } from '../helpers/app.js';

const receiver = useTestReceiver();

interface Spec {
  id: string;
  resultCode: number;
  timestamp?: string;
  segments?: number;
}

const report = ({ id, resultCode, timestamp, segments = 3 }: Spec) => ({
  id,
  resultCode,
  segments,
  refId: 'order-parts',
  operator: 'no.telenor',
  ...(timestamp === undefined ? {} : { timestamp: `2026-11-22T${timestamp}Z` }),
});

async function send(specs: readonly Spec[]): Promise<void> {
  for (const spec of specs) {
    const response = await postJson(receiver.app, report(spec));
    expect(response.statusCode).toBe(200);
  }
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

/** What a message looks like apart from arrival details (times, report order). */
function outcome(message: MessageJson) {
  return {
    status: message.status,
    final: message.final,
    segments: message.segments,
    parts: message.parts.map(({ part, status, final, resultCode }) => ({ part, status, final, resultCode })),
    reportCount: message.reports.length,
  };
}

describe('a multipart message', () => {
  // Part 0: queued, then delivered. Part 1: sent, then failed, and a late "sent" after the failure.
  // Part 2: delivered, and the same report retried.
  const reports: Spec[] = [
    { id: 'M$0', resultCode: 1005, timestamp: '10:00:00' },
    { id: 'M$0', resultCode: 1001, timestamp: '10:01:00' },
    { id: 'M$1', resultCode: 1000, timestamp: '10:00:00' },
    { id: 'M$1', resultCode: 1006, timestamp: '10:02:00' },
    { id: 'M$1', resultCode: 1000, timestamp: '10:05:00' },
    { id: 'M$2', resultCode: 1001, timestamp: '10:01:30' },
    { id: 'M$2', resultCode: 1001, timestamp: '10:01:30' },
  ];
  const expected = {
    status: 'partially_delivered',
    final: true,
    segments: { total: 3, delivered: 2, failed: 1, unknown: 0, pending: 0 },
    parts: [
      { part: 0, status: 'delivered', final: true, resultCode: 1001 },
      { part: 1, status: 'failed', final: true, resultCode: 1006 },
      { part: 2, status: 'delivered', final: true, resultCode: 1001 },
    ],
    reportCount: 6,
  };

  it('ends in the same state whatever order its reports arrive in, retries and late reports included', async () => {
    // Every order of the seven would be 5040 runs; 60 spread-out orders cover each report first and last.
    const orders = permutations([0, 1, 2, 3, 4]).filter((_, index) => index % 2 === 0);
    for (const [run, order] of orders.entries()) {
      const arranged = [...order.map((index) => reports[index] as Spec), reports[5] as Spec, reports[6] as Spec];
      if (run % 2 === 1) arranged.reverse();
      const messageId = `order-run-${run}`;
      await send(arranged.map((spec) => ({ ...spec, id: spec.id.replace('M', messageId) })));
      expect(outcome(await getMessage(receiver.app, messageId)), `order ${arranged.map((spec) => `${spec.id}:${spec.resultCode}`).join(' ')}`).toEqual(expected);
    }
  });

  it('finds the message from the id of any of its parts', async () => {
    await send([{ id: 'by-part$1', resultCode: 1001 }]);
    expect((await getMessage(receiver.app, 'by-part$1')).messageId).toBe('by-part');
    expect((await getMessage(receiver.app, 'by-part$0')).messageId).toBe('by-part');
  });

  it('reads a part number written with leading zeros as its value', async () => {
    await send([{ id: 'zeros$0007', resultCode: 1001, segments: 8 }]);
    const message = await getMessage(receiver.app, 'zeros$7');
    expect(message).toMatchObject({ messageId: 'zeros', segments: { total: 8, delivered: 1, pending: 7 } });
    expect(message.parts.map((part) => part.part)).toEqual([7]);
  });

  it('stays pending while a part has not reported, and counts parts from the highest part seen', async () => {
    await send([{ id: 'gap$0', resultCode: 1001, segments: 1 }, { id: 'gap$2', resultCode: 1001, segments: 1 }]);
    const message = await getMessage(receiver.app, 'gap');
    expect(message).toMatchObject({ status: 'pending', final: false, segments: { total: 3, delivered: 2, pending: 1 } });
    expect(message.parts.map((part) => part.part)).toEqual([0, 2]);
  });

  it('lets a non-final report decide only until a final one arrives, whatever their timestamps', async () => {
    await send([{ id: 'late-temp', resultCode: 1001, timestamp: '10:00:00', segments: 1 }]);
    await send([{ id: 'late-temp', resultCode: 1005, timestamp: '11:00:00', segments: 1 }]);
    const message = await getMessage(receiver.app, 'late-temp');
    expect(message).toMatchObject({ status: 'delivered', final: true, resultCode: 1001 });
    expect(message.reports).toHaveLength(2);
  });

  it('lets the report received last decide between reports without a timestamp', async () => {
    await send([{ id: 'untimed', resultCode: 1005, segments: 1 }, { id: 'untimed', resultCode: 1000, segments: 1 }]);
    expect(await getMessage(receiver.app, 'untimed')).toMatchObject({ status: 'pending', resultCode: 1000 });
    await send([{ id: 'untimed', resultCode: 1006, segments: 1 }, { id: 'untimed', resultCode: 1001, segments: 1 }]);
    expect(await getMessage(receiver.app, 'untimed')).toMatchObject({ status: 'delivered', final: true, resultCode: 1001 });
  });

  it('reports 1007 as delivered but not final', async () => {
    await send([{ id: 'billing-delayed', resultCode: 1007, segments: 1 }]);
    expect(await getMessage(receiver.app, 'billing-delayed')).toMatchObject({ status: 'delivered', final: false });
  });
});

describe('a whole-message report (an id without $n)', () => {
  it('speaks for every part without a report of its own', async () => {
    await send([
      { id: 'whole', resultCode: 1006, segments: 3, timestamp: '10:00:00' },
      { id: 'whole$1', resultCode: 1001, segments: 3, timestamp: '10:00:05' },
    ]);
    const message = await getMessage(receiver.app, 'whole');
    expect(outcome(message)).toEqual({
      status: 'partially_delivered',
      final: true,
      segments: { total: 3, delivered: 1, failed: 2, unknown: 0, pending: 0 },
      parts: [
        { part: 0, status: 'failed', final: true, resultCode: 1006 },
        { part: 1, status: 'delivered', final: true, resultCode: 1001 },
        { part: 2, status: 'failed', final: true, resultCode: 1006 },
      ],
      reportCount: 2,
    });
    expect(message.reports.map((item) => item.part)).toEqual([null, 1]);
  });

  it('is the single part of a one-part message', async () => {
    await send([{ id: 'single', resultCode: 1001, segments: 1 }]);
    expect((await getMessage(receiver.app, 'single')).parts).toMatchObject([{ part: 0, status: 'delivered' }]);
  });
});

describe('the message status', () => {
  it.each([
    ['pending', [{ id: 's-pending$0', resultCode: 1001 }, { id: 's-pending$1', resultCode: 1005 }]],
    ['delivered', [{ id: 's-delivered$0', resultCode: 1001 }, { id: 's-delivered$1', resultCode: 1001 }]],
    ['partially_delivered', [{ id: 's-partial$0', resultCode: 1001 }, { id: 's-partial$1', resultCode: 1004 }]],
    ['failed', [{ id: 's-failed$0', resultCode: 1002 }, { id: 's-failed$1', resultCode: 5 }]],
    ['unknown', [{ id: 's-unknown$0', resultCode: 4 }, { id: 's-unknown$1', resultCode: 1010 }]],
  ] as const)('is %s', async (status, specs) => {
    await send(specs.map((spec) => ({ ...spec, segments: 2 })));
    const messageId = specs[0].id.split('$')[0] ?? '';
    expect((await getMessage(receiver.app, messageId)).status).toBe(status);
  });

  it('takes resultCode, description and operator at the top from the deciding report received last', async () => {
    await postJson(receiver.app, { id: 'top$0', resultCode: 1001, segments: 2, operator: 'no.telenor' });
    await postJson(receiver.app, { id: 'top$1', resultCode: 1006, segments: 2, operator: 'no.telia' });
    expect(await getMessage(receiver.app, 'top')).toMatchObject({ resultCode: 1006, resultDescription: 'Not delivered', operator: 'no.telia' });
  });
});

describe('the same report delivered again', () => {
  it('is stored once and changes nothing', async () => {
    await send([{ id: 'retry$0', resultCode: 1001, timestamp: '10:00:00', segments: 1 }]);
    const first = await getMessage(receiver.app, 'retry');
    await send([{ id: 'retry$0', resultCode: 1001, timestamp: '10:00:00', segments: 1 }]);
    await send([{ id: 'retry$0', resultCode: 1001, timestamp: '10:00:00', segments: 1 }]);
    expect(await getMessage(receiver.app, 'retry')).toEqual(first);
  });

  it('is stored once even when it comes twice in one array', async () => {
    const body = [report({ id: 'twice$0', resultCode: 1001, segments: 1 }), report({ id: 'twice$0', resultCode: 1001, segments: 1 })];
    expect((await postJson(receiver.app, body)).statusCode).toBe(200);
    expect((await getMessage(receiver.app, 'twice')).reports).toHaveLength(1);
  });
});
