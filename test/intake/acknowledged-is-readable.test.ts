/**
 * Whatever intake acknowledges, the database takes and the query API finds again: a report intake
 * answers 200 must never be one the database refuses on every retry, nor one whose message cannot
 * be read back. Random reports with every field near its limits (ids and refIds of any Unicode, up
 * to the longest taken, times in any year and offset), sent to the routes, each either refused with a
 * 400 naming the problem or stored and found by its id and its refId.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessageJson } from '../helpers/app.js';
import { useTestReceiver } from '../helpers/app.js';

const receiver = useTestReceiver();

/** Any Unicode text, from short to as long as a field takes, astral and 3-byte characters included. */
function text(maxLength: number) {
  const wide = fc.integer({ min: 0x4e00, max: 0x9fff }).map((code) => String.fromCodePoint(code));
  return fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength }),
    fc.string({ unit: wide, minLength: Math.floor(maxLength / 2), maxLength }),
  );
}

function two(value: number): string {
  return String(value).padStart(2, '0');
}

/** A day of any year intake reads, the first and last days it reads among them. */
const day = fc.oneof(
  fc
    .record({ year: fc.integer({ min: 100, max: 9999 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 28 }) })
    .map(({ year, month, day }) => `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}`),
  fc.constantFrom('0100-01-01', '9999-12-31'),
);

/** An RFC 3339 date-time on such a day, with any offset. */
const dateTime = fc
  .record({
    day,
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    offsetMinutes: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
  })
  .map(({ day, hour, minute, offsetMinutes }) => {
    const sign = offsetMinutes < 0 ? '-' : '+';
    const offset = Math.abs(offsetMinutes);
    return `${day}T${two(hour)}:${two(minute)}:00${sign}${two(Math.floor(offset / 60))}:${two(offset % 60)}`;
  });

const report = fc.record(
  {
    // Up to 256 characters with the run's prefix (see below) and a part number.
    id: fc.tuple(text(246), fc.option(fc.integer({ min: 0, max: 254 }))).map(([id, part]) => (part === null ? id : `${id}$${part}`)),
    resultCode: fc.oneof(fc.constantFrom(1001, 1005, 1006, 1007, 2103), fc.integer({ min: -2147483648, max: 2147483647 })),
    refId: text(1024),
    operator: text(1024),
    operatorResultCode: text(40),
    segments: fc.integer({ min: 0, max: 255 }),
    timestamp: dateTime,
    sentTimestamp: dateTime,
    customParameters: fc.record({ source: text(64), destination: text(64) }, { requiredKeys: [] }),
  },
  { requiredKeys: ['id', 'resultCode'] },
);

describe('a report intake acknowledges', () => {
  it('is stored, found by its id and listed under its refId; anything else is a 400 naming the problem', async () => {
    // Each run's ids are its own, so a message an earlier run stored does not stand in its way.
    let run = 0;
    await fc.assert(
      fc.asyncProperty(report, async (generated) => {
        run += 1;
        const each = { ...generated, id: `${run}~${generated.id}` };
        const posted = await receiver.app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(each) });
        if (posted.statusCode === 400) {
          expect(posted.json<{ message: string }>().message).toMatch(/\S/);
          return;
        }
        expect(posted.statusCode, posted.body).toBe(200);
        const found = await receiver.app.inject({ method: 'GET', url: `/messages/${encodeURIComponent(each.id)}` });
        expect(found.statusCode, found.body).toBe(200);
        const message = found.json<MessageJson>();
        if (each.refId === undefined) return;
        const listed = await receiver.app.inject({ method: 'GET', url: `/messages?refId=${encodeURIComponent(each.refId)}&limit=500` });
        expect(listed.statusCode, listed.body).toBe(200);
        expect(listed.json<{ messages: MessageJson[] }>().messages.map((listedMessage) => listedMessage.messageId)).toContain(message.messageId);
      }),
      // Runs and shrinking stop after 45 s (they take a few seconds when all pass), so that a failure
      // is reported, shrunk as far as it got, before the test times out.
      { numRuns: 300, plugins: [fc.interruptAfterTimeLimit(45_000, { failOnInterrupt: true })] },
    );
  });
});
