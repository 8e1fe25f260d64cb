/**
 * A message's state is kept twice: its row, which every write brings up to date from the reports
 * it adds (the listing reads it), and its reports, from which a lookup by id works the same state
 * out afresh. Random reports of a few messages, in random arrays sent at once to two receivers on
 * one database, must leave the two saying the same, each part decided as the contract says, and
 * each distinct report kept once; and so when some of them were acknowledged from the receivers'
 * journals while the database refused writes, and stored when it took them again.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { MessageJson } from '../helpers/app.js';
import { createTestApp, getMessage, postJson } from '../helpers/app.js';
import type { TestDatabase } from '../helpers/database.js';
import { createTestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/receiver-process.js';

let testDb: TestDatabase;
let receivers: App[];

beforeAll(async () => {
  testDb = await createTestDatabase();
  // On a server the second is a pool of its own, as a second receiver process would have.
  // Journals are replayed every 50 ms, so that a test need not wait long for them.
  const env = { JOURNAL_RETRY_MS: '50' };
  receivers = [await createTestApp(testDb.database, env), await createTestApp(testDb.openAnother(), env)];
});
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await testDb.drop();
});

/** Final and not, delivered, failed and unknown, "delivered but not final" and a code the table lacks. */
const RESULT_CODES = [1000, 1005, 1001, 1006, 1007, 4, 2103, 7777] as const;
// Few parts and times, and no timestamp as often as one: ties are what the rules must settle.
const TIMES = [null, null, '2026-11-22T10:00:00Z', '2026-11-22T10:01:00Z'] as const;

interface ReportSpec {
  readonly message: number;
  /** null: a report for the whole message. */
  readonly part: number | null;
  readonly resultCode: number;
  readonly timestamp: string | null;
  readonly segments: number | null;
  readonly operator: string;
  readonly destination: string | null;
}

const reportSpec = fc.record({
  message: fc.integer({ min: 0, max: 2 }),
  part: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 4 }),
  resultCode: fc.constantFrom(...RESULT_CODES),
  timestamp: fc.constantFrom(...TIMES),
  segments: fc.option(fc.integer({ min: 1, max: 4 })),
  operator: fc.constantFrom('no.telenor', 'no.telia'),
  destination: fc.option(fc.constantFrom('+4799999999', '+4798888888')),
});

/**
 * The reports as they are sent: some of them twice (a retry), in arrays of one to four, each array
 * to one of the two receivers, all arrays at once.
 */
const delivery = fc
  .array(reportSpec, { minLength: 1, maxLength: 10 })
  .chain((reports) =>
    fc.record({
      reports: fc.constant(reports),
      sent: fc.shuffledSubarray([...reports.keys(), ...reports.keys()], { minLength: reports.length }).chain((order) =>
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 4 }), receiver: fc.integer({ min: 0, max: 1 }) }), {
          minLength: order.length,
          maxLength: order.length,
        }).map((arrays) => ({ order, arrays })),
      ),
    }),
  );

function body(run: string, spec: ReportSpec): Record<string, unknown> {
  return {
    id: `state-${run}-${spec.message}${spec.part === null ? '' : `$${spec.part}`}`,
    refId: `state-run-${run}`,
    resultCode: spec.resultCode,
    operator: spec.operator,
    ...(spec.timestamp === null ? {} : { timestamp: spec.timestamp }),
    ...(spec.segments === null ? {} : { segments: spec.segments }),
    customParameters: { source: 'LINK', ...(spec.destination === null ? {} : { destination: spec.destination }) },
  };
}

/** Cuts `items` into consecutive arrays of the given sizes; with a size per item, every item is sent. */
function arraysOf<T>(items: readonly T[], arrays: ReadonlyArray<{ size: number; receiver: number }>): Array<{ items: T[]; receiver: number }> {
  const cut: Array<{ items: T[]; receiver: number }> = [];
  let start = 0;
  for (const { size, receiver } of arrays) {
    if (start >= items.length) break;
    cut.push({ items: items.slice(start, start + size), receiver });
    start += size;
  }
  return cut;
}

type StoredReportJson = MessageJson['reports'][number];

/**
 * The contract's rules, worked out here apart from the receiver's code: per part, the final report
 * before a non-final one, then the latest timestamp (none is oldest), then the one received last
 * (`reports` is oldest first); a part without reports of its own takes the whole message's. The
 * message's status from its parts' counts, its top from the deciding report received last, its
 * destination the latest given.
 */
function partsByTheContract(reports: readonly StoredReportJson[]) {
  const timeOf = (report: StoredReportJson) => {
    const { timestamp } = report.payload as { timestamp?: string };
    return timestamp === undefined ? Number.NEGATIVE_INFINITY : Date.parse(timestamp);
  };
  const outranks = (a: StoredReportJson, b: StoredReportJson) =>
    a.final !== b.final ? a.final : timeOf(a) >= timeOf(b);
  const deciderAmong = (candidates: readonly StoredReportJson[]) =>
    candidates.reduce<StoredReportJson | undefined>((best, report) => (best === undefined || outranks(report, best) ? report : best), undefined);
  const segments = reports.map((report) => (report.payload as { segments?: number }).segments ?? 0);
  const total = Math.max(1, ...segments, ...reports.map((report) => (report.part ?? -1) + 1));
  const whole = deciderAmong(reports.filter((report) => report.part === null));
  const counts = { total, delivered: 0, failed: 0, unknown: 0, pending: 0 };
  const parts: Array<{ part: number; resultCode: number | null }> = [];
  let final = true;
  let latest: StoredReportJson | undefined;
  for (let part = 0; part < total; part++) {
    const decider = deciderAmong(reports.filter((report) => report.part === part)) ?? whole;
    const status = (decider?.status ?? 'pending') as keyof typeof counts;
    counts[status] += 1;
    final &&= decider?.final === true;
    if (decider === undefined) continue;
    parts.push({ part, resultCode: decider.resultCode as number | null });
    if (latest === undefined || reports.indexOf(decider) > reports.indexOf(latest)) latest = decider;
  }
  const destinations = reports.map((report) => (report.payload as { customParameters: { destination?: string } }).customParameters.destination);
  return {
    status: statusOf(counts),
    final,
    resultCode: latest?.resultCode ?? null,
    destination: destinations.filter((each) => each !== undefined).at(-1) ?? null,
    segments: counts,
    parts,
  };
}

function statusOf(counts: { total: number; delivered: number; failed: number; pending: number }): string {
  if (counts.pending > 0) return 'pending';
  if (counts.delivered === counts.total) return 'delivered';
  if (counts.delivered > 0) return 'partially_delivered';
  return counts.failed > 0 ? 'failed' : 'unknown';
}

async function listed(app: App, refId: string): Promise<MessageJson[]> {
  const response = await app.inject({ method: 'GET', url: `/messages?refId=${refId}&limit=500` });
  expect(response.statusCode).toBe(200);
  return response.json<{ messages: MessageJson[] }>().messages;
}

/** Sends the arrays, each to its receiver, all at once; answers their status codes. */
async function send(arrays: ReadonlyArray<{ items: unknown[]; receiver: number }>): Promise<number[]> {
  return Promise.all(arrays.map(async (array) => (await postJson(receivers[array.receiver] as App, array.items)).statusCode));
}

/** Checks what the receivers show of the reports sent in `run`, against each other and the contract. */
async function expectStoredAsTheContractSays(run: string, bodies: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  const messageIds = [...new Set(bodies.map((each) => String(each.id).replace(/\$\d+$/, '')))].sort();
  const listing = (await listed(receivers[0] as App, `state-run-${run}`)).sort((a, b) => a.messageId.localeCompare(b.messageId));
  const lookups = await Promise.all(messageIds.map((id) => getMessage(receivers[1] as App, id)));
  expect(listing).toEqual(lookups);
  for (const message of lookups) {
    const { status, final, resultCode, destination, segments } = message;
    const shown = { status, final, resultCode, destination, segments, parts: message.parts.map(({ part, resultCode: code }) => ({ part, resultCode: code })) };
    expect(shown, message.messageId).toEqual(partsByTheContract(message.reports));
  }

  // Each distinct report is kept once, however often and through whichever receiver it came.
  // Its custom parameters do not make a report another (see fingerprint).
  const distinct = new Set(bodies.map((each) => JSON.stringify({ ...each, customParameters: null })));
  expect(lookups.reduce((sum, message) => sum + message.reports.length, 0)).toBe(distinct.size);
}

/** Until moved back, every write fails as when another release's migration moved a column: reports go to the journals. */
const moveColumnAway = () => sql`ALTER TABLE reports RENAME COLUMN gate TO gate_label`.execute(testDb.database.db);
const moveColumnBack = () => sql`ALTER TABLE reports RENAME COLUMN gate_label TO gate`.execute(testDb.database.db);

async function journalsStored(): Promise<void> {
  for (const receiver of receivers) {
    const storingToDatabase = async () => (await receiver.inject({ method: 'GET', url: '/readyz' })).json<{ storingTo: string }>().storingTo === 'database';
    await waitFor('the journal to be stored', storingToDatabase, 10_000);
  }
}

describe('the state a message is listed with', () => {
  it('is the state its lookup works out from its reports, and the contract gives, whatever the order, the arrays and the receivers they came through', async () => {
    let count = 0;
    await fc.assert(
      fc.asyncProperty(delivery, async ({ reports, sent }) => {
        const run = `direct-${(count += 1)}`;
        const bodies = sent.order.map((index) => body(run, reports[index] as ReportSpec));
        expect((await send(arraysOf(bodies, sent.arrays))).every((status) => status === 200)).toBe(true);
        await expectStoredAsTheContractSays(run, bodies);
      }),
      { numRuns: 100 },
    );
  });

  it('is the same when some of the reports were acknowledged from the journals while the database refused writes', async () => {
    let count = 0;
    await fc.assert(
      fc.asyncProperty(delivery, fc.nat(), async ({ reports, sent }, cutAt) => {
        const run = `journal-${(count += 1)}`;
        const bodies = sent.order.map((index) => body(run, reports[index] as ReportSpec));
        const arrays = arraysOf(bodies, sent.arrays);
        const cut = cutAt % (arrays.length + 1);
        const before = await send(arrays.slice(0, cut));
        await moveColumnAway();
        const during = await send(arrays.slice(cut));
        await moveColumnBack();
        expect([...before, ...during].every((status) => status === 200)).toBe(true);
        await journalsStored();
        await expectStoredAsTheContractSays(run, bodies);
      }),
      { numRuns: 30 },
    );
  });
});
