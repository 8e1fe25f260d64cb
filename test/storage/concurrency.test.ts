import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { MessageJson } from '../helpers/app.js';
import { createTestApp, getMessage, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';

let testDb: TestDatabase;
let receiverA: App;
let receiverB: App;

beforeAll(async () => {
  testDb = await createTestDatabase();
  receiverA = await createTestApp(testDb.database);
  // On a server this is a second pool, as a second receiver process would have.
  receiverB = await createTestApp(testDb.openAnother());
});
afterAll(async () => {
  await receiverA.close();
  await receiverB.close();
  await testDb.drop();
});

const MESSAGES = 12;
const PARTS = 4;
// Each part: sent, queued, then a final code; timestamps differ, so the outcome does not hang on arrival order.
const FINAL_CODES = [1001, 1006, 4, 1001];

function reportsFor(messageId: string) {
  const reports: Array<Record<string, unknown>> = [];
  for (let part = 0; part < PARTS; part++) {
    const codes = [1000, 1005, FINAL_CODES[part] ?? 1001];
    codes.forEach((resultCode, step) => {
      reports.push({
        id: `${messageId}$${part}`,
        resultCode,
        segments: PARTS,
        refId: `ref-${messageId}`,
        timestamp: new Date(Date.UTC(2026, 10, 22, 10, part, step)).toISOString(),
      });
    });
  }
  return reports;
}

/** A fixed shuffle, so a failure can be replayed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let index = result.length - 1; index > 0; index--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}

const outcome = (message: MessageJson) => ({
  status: message.status,
  final: message.final,
  segments: message.segments,
  resultCodes: message.parts.map((part) => part.resultCode),
  reports: message.reports.map((report) => `${report.id}:${String(report.resultCode)}`).sort(),
});

describe('two receivers on one database', () => {
  it('end, under concurrent reports and retries for the same parts, where one receiver ends', async () => {
    const concurrent: Array<() => Promise<number>> = [];
    for (let message = 0; message < MESSAGES; message++) {
      for (const body of reportsFor(`race-${message}`)) {
        // Each report goes to both receivers: a retry arriving at the other one at the same moment.
        concurrent.push(async () => (await postJson(receiverA, body)).statusCode);
        concurrent.push(async () => (await postJson(receiverB, body)).statusCode);
      }
    }
    const statuses = await Promise.all(shuffled(concurrent, 7).map((send) => send()));
    expect(statuses.every((status) => status === 200)).toBe(true);

    for (let message = 0; message < MESSAGES; message++) {
      for (const body of reportsFor(`calm-${message}`)) expect((await postJson(receiverA, body)).statusCode).toBe(200);
    }

    for (let message = 0; message < MESSAGES; message++) {
      const raced = outcome(await getMessage(receiverA, `race-${message}`));
      const calm = outcome(await getMessage(receiverB, `calm-${message}`));
      expect({ ...raced, reports: raced.reports.map((id) => id.replace('race', 'x')) }).toEqual({
        ...calm,
        reports: calm.reports.map((id) => id.replace('calm', 'x')),
      });
      expect(raced).toMatchObject({ status: 'partially_delivered', final: true, segments: { total: 4, delivered: 2, failed: 1, unknown: 1 } });
      expect(raced.reports).toHaveLength(PARTS * 3);
    }
  });
});
