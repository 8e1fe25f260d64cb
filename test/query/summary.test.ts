/**
 * `GET /summary`: what happened to an order of many messages, or to a day's, counted in one answer;
 * the same messages `GET /messages` pages through for the same filter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { MessageJson } from '../helpers/app.js';
import { createTestApp, deliveredReport, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
let app: App;

interface Summary {
  refId: string | null;
  destination: string | null;
  since: string | null;
  until: string | null;
  messages: number;
  final: number;
  statuses: Record<string, number>;
  segments: Record<string, number>;
  results: Array<{ status: string; resultCode: number | null; resultDescription: string | null; messages: number }>;
}

async function summary(query: string): Promise<Summary> {
  const response = await app.inject({ method: 'GET', url: `/summary?${query}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Summary>();
}

/** The listing for the same filter, counted by hand. */
async function listingCounted(query: string): Promise<Pick<Summary, 'messages' | 'final' | 'statuses'>> {
  const response = await app.inject({ method: 'GET', url: `/messages?${query}&limit=500` });
  expect(response.statusCode, response.body).toBe(200);
  const { messages, nextCursor } = response.json<{ messages: MessageJson[]; nextCursor: string | null }>();
  expect(nextCursor).toBeNull();
  const statuses: Record<string, number> = { pending: 0, delivered: 0, partially_delivered: 0, failed: 0, unknown: 0 };
  for (const message of messages) statuses[message.status] = (statuses[message.status] ?? 0) + 1;
  return { messages: messages.length, final: messages.filter((message) => message.final).length, statuses };
}

const report = (id: string, resultCode: number, segments = 1, refId = 'summary-order') => deliveredReport({ id, refId, resultCode, segments });

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = await createTestApp(testDb.database);
  const reports = [
    [report('s-long$0', 1001, 2), report('s-long$1', 2106, 2)], // partially delivered, final
    report('s-delivered', 1001),
    report('s-pending', 1005), // queued: not delivered yet, not final
    report('s-failed', 2106),
    report('s-unknown', 1010), // expired without an operator's report: final, delivery unknown
    report('s-three$0', 1001, 3), // two parts still without a report
    report('other', 1001, 1, 'other-order'),
  ];
  for (const body of reports) expect((await postJson(app, body)).statusCode).toBe(200);
});
afterAll(async () => {
  await app.close();
  await testDb.drop();
});

describe('GET /summary', () => {
  it("counts an order's messages by status, the final ones, and their parts by state", async () => {
    expect(await summary('refId=summary-order')).toEqual({
      refId: 'summary-order',
      destination: null,
      since: null,
      until: null,
      messages: 6,
      final: 4,
      statuses: { pending: 2, delivered: 1, partially_delivered: 1, failed: 1, unknown: 1 },
      segments: { total: 9, delivered: 3, failed: 2, unknown: 1, pending: 3 },
      // One message each: in the order statuses are listed, then by code. The long message shows
      // the result of its part reported last; the three-part one, of its one part reported.
      results: [
        { status: 'pending', resultCode: 1001, resultDescription: 'Billed and delivered', messages: 1 },
        { status: 'pending', resultCode: 1005, resultDescription: 'Queued', messages: 1 },
        { status: 'delivered', resultCode: 1001, resultDescription: 'Billed and delivered', messages: 1 },
        { status: 'partially_delivered', resultCode: 2106, resultDescription: 'Number error', messages: 1 },
        { status: 'failed', resultCode: 2106, resultDescription: 'Number error', messages: 1 },
        { status: 'unknown', resultCode: 1010, resultDescription: 'Expired, absence of operator delivery report', messages: 1 },
      ],
    });
  });

  it('names every status, with 0 where an order has none, and counts nothing for an unknown refId', async () => {
    expect(await summary('refId=other-order')).toMatchObject({
      messages: 1,
      final: 1,
      statuses: { pending: 0, delivered: 1, partially_delivered: 0, failed: 0, unknown: 0 },
      segments: { total: 1, delivered: 1, failed: 0, unknown: 0, pending: 0 },
    });
    expect(await summary('refId=no-such-order')).toMatchObject({ messages: 0, final: 0, statuses: { delivered: 0 }, segments: { total: 0 } });
  });

  it('counts the messages the listing pages through for the same refId and window, and says which window it read', async () => {
    const listed = (await app.inject({ method: 'GET', url: '/messages?refId=summary-order' })).json<{ messages: MessageJson[] }>().messages;
    const middle = encodeURIComponent(listed[3]?.lastReportAt ?? '');
    const newest = new Date(listed[0]?.lastReportAt ?? '');
    const day = newest.toISOString().slice(0, 10);
    for (const query of [`since=${middle}`, `refId=summary-order&since=${middle}`, `refId=summary-order&until=${middle}`, `since=${day}`, `since=${day}&until=${middle}`]) {
      expect(await summary(query), query).toMatchObject(await listingCounted(query));
    }
    expect((await summary(`since=${middle}`)).messages).toBeLessThan((await summary(`since=${day}`)).messages);
    expect(await summary(`refId=summary-order&since=${day}&until=2999-01-01T01:00:00%2B01:00`)).toMatchObject({
      refId: 'summary-order',
      since: `${day}T00:00:00Z`,
      until: '2999-01-01T00:00:00Z',
      messages: 6,
    });
  });

  it('tells why messages failed: counted by the result each shows now, most messages first', async () => {
    const order = (id: string, resultCode: number) => report(id, resultCode, 1, 'reasons-order');
    const reports = [
      order('r-1', 2106), order('r-2', 2106), order('r-3', 2106),
      order('r-4', 1006), order('r-5', 1001), order('r-6', 1001),
      order('r-7', 1005), order('r-7', 1001), // queued, then delivered: counted once, as delivered
    ];
    for (const body of reports) expect((await postJson(app, body)).statusCode).toBe(200);
    const { messages, statuses, results } = await summary('refId=reasons-order');
    expect({ messages, statuses }).toEqual({ messages: 7, statuses: { pending: 0, delivered: 3, partially_delivered: 0, failed: 4, unknown: 0 } });
    expect(results).toEqual([
      { status: 'delivered', resultCode: 1001, resultDescription: 'Billed and delivered', messages: 3 },
      { status: 'failed', resultCode: 2106, resultDescription: 'Number error', messages: 3 },
      { status: 'failed', resultCode: 1006, resultDescription: 'Not delivered', messages: 1 },
    ]);
    // Each count is a listing away: the messages it counts, by status and result code.
    for (const result of results) {
      const query = `refId=reasons-order&status=${result.status}&resultCode=${String(result.resultCode)}&limit=500`;
      const listed = (await app.inject({ method: 'GET', url: `/messages?${query}` })).json<{ messages: MessageJson[] }>().messages;
      expect(listed.map((message) => [message.status, message.resultCode]), query).toEqual(Array.from({ length: result.messages }, () => [result.status, result.resultCode]));
    }
  });

  it('counts the messages sent to a number, however its + is written, as the listing lists them', async () => {
    const sentTo = (id: string, destination: string, resultCode: number) =>
      deliveredReport({ id, resultCode, refId: 'numbers-order', customParameters: { destination } });
    for (const body of [sentTo('n-1', '+4799800001', 1001), sentTo('n-2', '4799800001', 2106), sentTo('n-3', '+4799800002', 1001)]) {
      expect((await postJson(app, body)).statusCode).toBe(200);
    }
    // Given back as read: a + sent raw arrives as a space and is read as the + it was; groups are joined.
    for (const [destination, read] of [['%2B4799800001', '+4799800001'], ['+4799800001', '+4799800001'], ['4799800001', '4799800001'], ['%2B47%20998%2000%20001', '+4799800001']]) {
      const counted = await summary(`destination=${destination}`);
      expect(counted, destination).toMatchObject({
        refId: null,
        destination: read,
        messages: 2,
        statuses: { delivered: 1, failed: 1 },
      });
      expect(counted).toMatchObject(await listingCounted(`destination=${destination}`));
    }
    expect(await summary('destination=%2B4799800001&refId=other-order')).toMatchObject({ messages: 0 });
    expect(await summary('destination=%2B4799800002&since=2000-01-01')).toMatchObject({ destination: '+4799800002', messages: 1 });
  });

  it.each([
    ['', 'give refId, destination, since, or several'],
    ['until=2026-11-02', 'give refId, destination, since, or several'],
    ['destination=%2B', 'destination names no number'],
    ['phone=4799900001', 'phone is not a parameter; did you mean destination?'],
    ['refid=summary-order', 'refid is not a parameter; did you mean refId?'],
    ['from=2026-11-01', 'from is not a parameter; did you mean since?'],
    ['id=s-pending', 'id is not a parameter: one message is GET /messages/{messageId}'],
    ['since=yesterday', 'since must be an RFC 3339 date-time'],
    ['since=2026-12-01&until=2026-11-01', 'since (2026-12-01T00:00:00.000Z) is after until (2026-11-01T00:00:00.000Z)'],
    ['refId=order%00', 'refId contains a NUL character, which no stored message has'],
    ['refId=a&refId=b', 'refId is given 2 times; give it once'],
  ])('answers 400 to "%s", naming the problem', async (query, problem) => {
    const response = await app.inject({ method: 'GET', url: `/summary?${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Bad Request', message: expect.stringContaining(problem) as unknown });
  });
});
