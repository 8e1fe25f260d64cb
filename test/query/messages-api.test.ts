import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { MessageJson } from '../helpers/app.js';
import { createTestApp, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
let app: App;

interface Page {
  messages: MessageJson[];
  nextCursor: string | null;
}

async function list(query: string): Promise<Page> {
  const response = await app.inject({ method: 'GET', url: `/messages?${query}` });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<Page>();
}

const ids = (page: Page) => page.messages.map((message) => message.messageId);

/** The path and query a page's `Link` header names as the next page, resolved against the page's own URL as a client resolves it; null without one. */
function linkedNextPage(link: string | string[] | undefined, url: string): string | null {
  const target = typeof link === 'string' ? /^<([^>]*)>; rel="next"$/.exec(link)?.[1] : undefined;
  if (target === undefined) return null;
  const resolved = new URL(target, `http://receiver${url}`);
  return `${resolved.pathname}${resolved.search}`;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  app = await createTestApp(testDb.database);
  // Sent in this order, so the newest report belongs to list-7.
  for (let index = 0; index < 8; index++) {
    const resultCode = index % 3 === 0 ? 1001 : index % 3 === 1 ? 1006 : 1005;
    expect((await postJson(app, { id: `list-${index}`, resultCode, refId: index < 4 ? 'order-A' : 'order-B' })).statusCode).toBe(200);
  }
});
afterAll(async () => {
  await app.close();
  await testDb.drop();
});

describe('GET /messages/{messageId}', () => {
  it('answers 404 with a JSON error for a message without reports', async () => {
    const response = await app.inject({ method: 'GET', url: '/messages/never-seen' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: 'Not Found' });
  });

  it('writes times as RFC 3339 in UTC', async () => {
    const response = await app.inject({ method: 'GET', url: '/messages/list-0' });
    const message = response.json<MessageJson>();
    expect(message.firstReportAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
    expect(message.lastReportAt).toBe(message.firstReportAt);
  });
});

describe('GET /messages', () => {
  it('lists messages newest report first, 50 by default', async () => {
    const page = await list('');
    expect(ids(page)).toEqual(['list-7', 'list-6', 'list-5', 'list-4', 'list-3', 'list-2', 'list-1', 'list-0']);
    expect(page.nextCursor).toBeNull();
  });

  it('moves a message to the front when a new report arrives for it', async () => {
    expect((await postJson(app, { id: 'list-2', resultCode: 1001, refId: 'order-A' })).statusCode).toBe(200);
    expect(ids(await list('limit=2'))).toEqual(['list-2', 'list-7']);
  });

  it('pages with a cursor until every message was seen once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list(`limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
  });

  it('filters by refId and by status', async () => {
    expect(ids(await list('refId=order-B')).sort()).toEqual(['list-4', 'list-5', 'list-6', 'list-7']);
    expect(ids(await list('status=failed')).sort()).toEqual(['list-1', 'list-4', 'list-7']);
    expect(ids(await list('refId=order-A&status=delivered')).sort()).toEqual(['list-0', 'list-2', 'list-3']);
    expect(ids(await list('refId=nobody'))).toEqual([]);
  });

  it('filters by several statuses, joined by commas or given again, newest report first, and pages across them by cursor and by link', async () => {
    const all = (await list('')).messages;
    const expected = all.filter((message) => ['failed', 'pending'].includes(message.status)).map((message) => message.messageId);
    expect(new Set(all.filter((message) => expected.includes(message.messageId)).map((message) => message.status))).toEqual(new Set(['failed', 'pending']));
    expect(all.length).toBeGreaterThan(expected.length);

    expect(ids(await list('status=failed,pending'))).toEqual(expected);
    expect(ids(await list('status=pending,%20failed,pending'))).toEqual(expected);
    // Given again, as query builders write a list (`params={'status': ['failed', 'pending']}`).
    expect(ids(await list('status=failed&status=pending'))).toEqual(expected);
    const byCursor: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(`status=pending,failed&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      byCursor.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor !== null && byCursor.length <= all.length);
    expect(byCursor).toEqual(expected);
    const byLink: string[] = [];
    let url: string | null = '/messages?status=pending,failed&limit=2';
    while (url !== null && byLink.length <= all.length) {
      const response = await app.inject({ method: 'GET', url });
      byLink.push(...ids(response.json<Page>()));
      url = linkedNextPage(response.headers.link, url);
    }
    expect(byLink).toEqual(expected);
  });

  it('filters by the result code each message shows, with or without the other filters, and keeps it in the next page\'s link', async () => {
    const all = (await list('')).messages;
    const notDelivered = all.filter((message) => message.resultCode === 1006).map((message) => message.messageId);
    expect(notDelivered.length).toBeGreaterThan(1);
    expect(notDelivered.length).toBeLessThan(all.length);
    expect(ids(await list('resultCode=1006'))).toEqual(notDelivered);
    expect(ids(await list('refId=order-B&resultCode=1006'))).toEqual(['list-7', 'list-4']);
    expect(ids(await list('status=failed&resultCode=1006'))).toEqual(notDelivered);
    expect(ids(await list('status=delivered&resultCode=1006'))).toEqual([]);
    expect(ids(await list('resultCode=9999'))).toEqual([]);

    const first = await app.inject({ method: 'GET', url: '/messages?refId=order-B&resultCode=1006&limit=1' });
    expect(ids(first.json<Page>())).toEqual(['list-7']);
    const next = linkedNextPage(first.headers.link, '/messages?refId=order-B&resultCode=1006&limit=1');
    expect(next).toContain('resultCode=1006');
    expect(ids(await list(new URL(next ?? '', 'http://receiver').search.slice(1)))).toEqual(['list-4']);
  });

  it('filters by the time of the newest report', async () => {
    const all = await list('');
    const times = all.messages.map((message) => message.lastReportAt ?? '');
    const newest = times[0] ?? '';
    expect(ids(await list(`since=${encodeURIComponent(newest)}`))).toContain(all.messages[0]?.messageId);
    expect(ids(await list(`until=${encodeURIComponent(newest)}`))).not.toContain(all.messages[0]?.messageId);
    expect(ids(await list('since=2999-01-01T00:00:00Z'))).toEqual([]);
    expect(ids(await list('until=2000-01-01T00:00:00Z'))).toEqual([]);
  });

  it('reads since and until as people type them: a date alone is its midnight in UTC, a + left unescaped is still the offset', async () => {
    const all = await list('');
    const newest = all.messages[0];
    const newestAt = new Date(newest?.lastReportAt ?? '');
    const day = newestAt.toISOString().slice(0, 10);
    expect(ids(await list(`since=${day}`))).toContain(newest?.messageId);
    expect(ids(await list(`until=${day}`))).not.toContain(newest?.messageId);
    expect(ids(await list('since=2999-01-01'))).toEqual([]);
    // The same instant an hour ahead, its + sent raw, as a browser's address bar sends it.
    const anHourAhead = `${new Date(newestAt.getTime() + 3_600_000).toISOString().slice(0, 23)}+01:00`;
    expect(ids(await list(`since=${anHourAhead}`))).toContain(newest?.messageId);
    expect(ids(await list(`until=${anHourAhead}`))).not.toContain(newest?.messageId);
    expect(ids(await list('until=2999-01-01T00:00:00+0100'))).toHaveLength(all.messages.length);
  });

  it('serves a limit above 500 as 500, however many digits it has', async () => {
    expect(ids(await list('limit=100000'))).toHaveLength(8);
    expect(ids(await list('limit=99999999999999999999'))).toHaveLength(8);
    expect(ids(await list(`limit=${'9'.repeat(400)}`))).toHaveLength(8);
  });

  it.each([
    ['limit=0', 'limit must be at least 1 (one above 500 is served as 500), got 0'],
    ['limit=-3', 'limit must be at least 1'],
    ['limit=-99999999999999999999', 'limit must be at least 1 (one above 500 is served as 500), got -99999999999999999999'],
    ['limit=abc', 'limit must be a whole number'],
    ['status=lost', 'status must be one of'],
    ['status=failed,lost', 'status must be one of pending, delivered, partially_delivered, failed, unknown, or several joined by commas (status=failed,unknown); got "lost"'],
    ['resultCode=abc', 'resultCode must be a whole number, got "abc"'],
    ['resultCode=99999999999', 'resultCode must be between -2147483648 and 2147483647, got 99999999999'],
    ['resultcode=1006', 'resultcode is not a parameter; did you mean resultCode? (names are case-sensitive)'],
    ['result_code=1006', 'result_code is not a parameter; did you mean resultCode?'],
    ['status=failed,', 'status must be one of pending, delivered, partially_delivered, failed, unknown, or several joined by commas (status=failed,unknown); got an empty one in "failed,"'],
    ['since=last-week', 'since must be an RFC 3339 date-time'],
    ['until=2026-02-30', 'until is not a real date: "2026-02-30"'],
    ['cursor=not-a-cursor', 'cursor is not one this service gave out'],
    ['cursor=djE6NQ', 'cursor is from an earlier version of this service, which ordered pages otherwise: start again from the first page'],
    ['refId=order%00', 'refId contains a NUL character, which no stored message has'],
    ['refId=order-A&refId=order-B', 'refId is given 2 times; give it once'],
    ['status=failed&status=', 'status must be one of pending, delivered, partially_delivered, failed, unknown, or several joined by commas (status=failed,unknown); got an empty one in "failed,"'],
    ['limit=1&limit=2&limit=3', 'limit is given 3 times; give it once'],
    ['refid=order-17', 'refid is not a parameter; did you mean refId? (names are case-sensitive)'],
    ['ref_id=order-17', 'ref_id is not a parameter; did you mean refId?'],
    ['Status=failed', 'Status is not a parameter; did you mean status?'],
    ['refId[]=order-17', 'refId[] is not a parameter: give refId once, as refId=…'],
    ['status%5B0%5D=failed', 'status[0] is not a parameter: give status once, as status=…'],
    ['id=m1', 'id is not a parameter: one message is GET /messages/{messageId}'],
    ['messageId=m1', 'messageId is not a parameter: one message is GET /messages/{messageId}'],
    ['message_id=m1', 'message_id is not a parameter: one message is GET /messages/{messageId}'],
    ['offset=50', 'offset is not a parameter: the next page is cursor={the nextCursor of this one}'],
    ['page=2', 'page is not a parameter: the next page is cursor={the nextCursor of this one}'],
    ['from=2026-11-01', 'from is not a parameter; did you mean since?'],
    ['after=2026-11-01', 'after is not a parameter; did you mean since?'],
    ['to=2026-11-02', 'to is not a parameter; did you mean until (a time) or destination (the number sent to)?'],
    ['msisdn=4799900001', 'msisdn is not a parameter; did you mean destination?'],
    ['recipient=4799900001', 'recipient is not a parameter; did you mean destination?'],
    ['Destination=4799900001', 'Destination is not a parameter; did you mean destination? (names are case-sensitive)'],
    ['destination=%2B', 'destination names no number: "+"'],
    ['destination=+', 'destination names no number'],
    ['destination=4799%00', 'destination contains a NUL character, which no stored message has'],
    ['destination=4799900001&destination=4799900002', 'destination is given 2 times; give it once'],
    ['before=2026-11-02', 'before is not a parameter; did you mean until?'],
    ['since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00%2B01:00', 'since (2026-12-01T00:00:00.000Z) is after until (2026-10-31T23:00:00.000Z): no time lies between them; swap them'],
  ])('answers 400 to %s, naming it', async (query, problem) => {
    const response = await app.inject({ method: 'GET', url: `/messages?${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Bad Request', message: expect.stringContaining(problem) as unknown });
  });

  it('names the next page in a Link header too, with the filter kept, so that following links gives the pages nextCursor gives', async () => {
    const query = `refId=${encodeURIComponent('order A+1')}&status=failed&since=2000-01-01&until=2999-01-01T00:00:00%2B01:00&limit=1`;
    for (let index = 0; index < 3; index++) {
      expect((await postJson(app, { id: `linked-${index}`, resultCode: 1006, refId: 'order A+1' })).statusCode).toBe(200);
    }
    expect((await postJson(app, { id: 'linked-delivered', resultCode: 1001, refId: 'order A+1' })).statusCode).toBe(200);

    const byCursor: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(`${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
      byCursor.push(ids(page));
      cursor = page.nextCursor;
    } while (cursor !== null && byCursor.length <= 4);
    expect(byCursor).toEqual([['linked-2'], ['linked-1'], ['linked-0']]);

    const byLink: string[][] = [];
    let url: string | null = `/messages?${query}`;
    while (url !== null && byLink.length <= 4) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json<Page>();
      byLink.push(ids(page));
      const next = linkedNextPage(response.headers.link, url);
      expect(next === null ? null : new URL(next, 'http://receiver').searchParams.get('cursor')).toBe(page.nextCursor);
      url = next;
    }
    expect(byLink).toEqual(byCursor);
  });
});

describe('GET /messages?destination=', () => {
  /** A report as LINK's REST platform sends it, the number it went to among its custom parameters. */
  const sentTo = (id: string, destination: string, resultCode: number, refId = 'order-D') =>
    ({ id, resultCode, refId, customParameters: { source: 'LINK', destination } });

  beforeAll(async () => {
    // Sent in this order: to-3, written as an SMPP receipt's address is, without its +, is newest.
    const reports = [
      sentTo('to-0', '+4799900001', 1001),
      sentTo('to-1', '+4799900002', 1001),
      sentTo('to-2', '+4799900001', 2106, 'order-E'),
      sentTo('to-other', '+47999000011', 1001),
      sentTo('to-3', '4799900001', 1005),
    ];
    for (const report of reports) expect((await postJson(app, report)).statusCode).toBe(200);
  });

  it('lists the messages sent to a number, newest report first, however its + and its groups are written', async () => {
    const spellings = ['%2B4799900001', '+4799900001', '4799900001', '%2B47%20999%2000%20001', '+47-999-00-001', '(%2B47)%2099900001', '%2B47%20(0)999%2000%20001'];
    for (const destination of spellings) {
      expect(ids(await list(`destination=${destination}`)), destination).toEqual(['to-3', 'to-2', 'to-0']);
    }
    expect(ids(await list('destination=%2B4799900002'))).toEqual(['to-1']);
    expect(ids(await list('destination=%2B4799900009'))).toEqual([]);
    const shown = (await list('destination=4799900001')).messages.map((message) => message.destination);
    expect(shown).toEqual(['4799900001', '+4799900001', '+4799900001']);
  });

  it('keeps the other filters, and the number in the next page\'s link', async () => {
    expect(ids(await list('destination=%2B4799900001&refId=order-D'))).toEqual(['to-3', 'to-0']);
    expect(ids(await list('destination=%2B4799900001&status=failed,pending'))).toEqual(['to-3', 'to-2']);
    expect(ids(await list('destination=%2B4799900001&resultCode=1001'))).toEqual(['to-0']);

    const pages: string[][] = [];
    let url: string | null = '/messages?destination=%2B47%20999%2000%20001&limit=2';
    while (url !== null && pages.length <= 3) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, response.body).toBe(200);
      pages.push(ids(response.json<Page>()));
      url = linkedNextPage(response.headers.link, url);
    }
    expect(pages).toEqual([['to-3', 'to-2'], ['to-0']]);
  });
});

describe('GET /rejected', () => {
  it('lists the latest rejected requests newest first, up to the limit', async () => {
    for (const id of ['r1', 'r2', 'r3']) {
      await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: `{"id":"${id}"}` });
    }
    const response = await app.inject({ method: 'GET', url: '/rejected?limit=2' });
    expect(response.statusCode).toBe(200);
    const { rejected } = response.json<{ rejected: Array<{ body: string; reason: string; receivedAt: string }> }>();
    expect(rejected.map((row) => row.body)).toEqual(['{"id":"r3"}', '{"id":"r2"}']);
    expect(rejected[0]?.reason).toBe('resultCode is required');
  });

  it('answers 400 to a misspelled limit rather than serve 50, and leaves other parameters alone', async () => {
    const misspelled = await app.inject({ method: 'GET', url: '/rejected?Limit=1' });
    expect(misspelled.statusCode).toBe(400);
    expect(misspelled.json<{ message: string }>().message).toBe('Limit is not a parameter; did you mean limit? (names are case-sensitive)');
    expect((await app.inject({ method: 'GET', url: '/rejected?limit=1&_=1733280000' })).json<{ rejected: unknown[] }>().rejected).toHaveLength(1);
  });

  /** A page of GET /rejected: its bodies, and the URL its link names for the next page. */
  async function rejectedPage(url: string): Promise<{ bodies: string[]; next: string | null }> {
    const response = await app.inject({ method: 'GET', url });
    expect(response.statusCode, response.body).toBe(200);
    const bodies = response.json<{ rejected: Array<{ body: string }> }>().rejected.map((row) => row.body);
    return { bodies, next: linkedNextPage(response.headers.link, url) };
  }

  it('pages through every kept request, newest first, by the link each page gives to the next', async () => {
    for (let index = 1; index <= 5; index++) {
      await app.inject({ method: 'POST', url: '/dlr', headers: { 'content-type': 'application/json' }, payload: `{"id":"p${index}"}` });
    }
    const whole = await rejectedPage('/rejected?limit=500');
    expect(whole.next).toBeNull();
    const all = whole.bodies;
    expect(all.slice(0, 5)).toEqual(['{"id":"p5"}', '{"id":"p4"}', '{"id":"p3"}', '{"id":"p2"}', '{"id":"p1"}']);

    const pages: string[][] = [];
    let url: string | null = '/rejected?limit=2';
    while (url !== null && pages.length <= all.length) {
      const page = await rejectedPage(url);
      pages.push(page.bodies);
      url = page.next;
    }
    expect(pages.map((page) => page.length)).toEqual([...Array.from({ length: Math.floor(all.length / 2) }, () => 2), ...(all.length % 2 === 1 ? [1] : [])]);
    expect(pages.flat()).toEqual(all);
    // A page that ends exactly at the oldest gives no link.
    expect((await rejectedPage(`/rejected?limit=${all.length}`)).next).toBeNull();
    expect((await app.inject({ method: 'GET', url: `/rejected?limit=${all.length - 1}` })).headers.link).toMatch(/^<\?limit=\d+&cursor=[\w-]+>; rel="next"$/);
  });

  it('lists every try of a request arriving again, each counting the tries so far and giving the time of the first', async () => {
    interface Kept { body: string; path: string; times: number; receivedAt: string; firstReceivedAt: string; remoteAddress: string | null }
    const refuse = (payload: string, remoteAddress: string, url = '/dlr') =>
      app.inject({ method: 'POST', url, remoteAddress, headers: { 'content-type': 'application/json' }, payload });
    expect((await refuse('{"id":"again"}', '127.0.0.1')).statusCode).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await refuse('{"id":"between"}', '127.0.0.1')).statusCode).toBe(400);
    // LINK retries until it gets a 200, from any of its hosts.
    expect((await refuse('{"id":"again"}', '::1')).statusCode).toBe(400);
    expect((await refuse('{"id":"again"}', '127.0.0.1')).statusCode).toBe(400);
    // Another gate's path is another request, though its body is the same.
    expect((await refuse('{"id":"again"}', '::1', '/dlr/other-gate')).statusCode).toBe(400);

    const kept = (await app.inject({ method: 'GET', url: '/rejected?limit=5' })).json<{ rejected: Kept[] }>().rejected;
    expect(kept.map(({ body, path, times, remoteAddress }) => ({ body, path, times, remoteAddress }))).toEqual([
      { body: '{"id":"again"}', path: '/dlr/other-gate', times: 1, remoteAddress: '::1' },
      { body: '{"id":"again"}', path: '/dlr', times: 3, remoteAddress: '127.0.0.1' },
      { body: '{"id":"again"}', path: '/dlr', times: 2, remoteAddress: '::1' },
      { body: '{"id":"between"}', path: '/dlr', times: 1, remoteAddress: '127.0.0.1' },
      { body: '{"id":"again"}', path: '/dlr', times: 1, remoteAddress: '127.0.0.1' },
    ]);
    const [otherGate, third, second, between, first] = kept;
    for (const once of [otherGate, between, first]) expect(once?.firstReceivedAt).toBe(once?.receivedAt);
    for (const again of [third, second]) expect(again?.firstReceivedAt).toBe(first?.receivedAt);
    expect(Date.parse(first?.receivedAt ?? '')).toBeLessThan(Date.parse(between?.receivedAt ?? ''));
  });

  it('answers 400 to a cursor it did not give out, a listing\'s cursor included, and to an offset or a page number, naming them', async () => {
    const listing = await list('limit=1');
    expect(listing.nextCursor).not.toBeNull();
    for (const cursor of ['bogus', String(listing.nextCursor)]) {
      const response = await app.inject({ method: 'GET', url: `/rejected?cursor=${encodeURIComponent(cursor)}` });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: 'Bad Request', message: 'cursor is not one GET /rejected gave out' });
    }
    const misspelled = await app.inject({ method: 'GET', url: '/rejected?Cursor=x' });
    expect(misspelled.json<{ message: string }>().message).toBe('Cursor is not a parameter; did you mean cursor? (names are case-sensitive)');
    for (const paging of ['offset=2', 'page=2']) {
      const response = await app.inject({ method: 'GET', url: `/rejected?limit=2&${paging}` });
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toBe(
        `${paging.split('=')[0] ?? ''} is not a parameter: the next page is the one the Link header of this one names (cursor=…)`,
      );
    }
  });

  it('answers 400 to a limit below 1, naming it', async () => {
    const response = await app.inject({ method: 'GET', url: '/rejected?limit=0' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Bad Request', message: 'limit must be at least 1 (one above 500 is served as 500), got 0' });
  });
});
