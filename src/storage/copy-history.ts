/**
 * Copies every report of one database into another (`npm run copy-to-server`: the embedded
 * database's history to a PostgreSQL server). Each report goes through the write path as it was
 * stored, with its payload's text, arrival time, format, gate and caller's address, so each
 * message's state on the target follows from all of its reports there, those the target held
 * already included, and a report the target holds already is not stored twice: a copy stopped
 * midway is run again, and finishes.
 *
 * Messages are read a page at a time in the listing's order (the time their newest report was
 * received, then its arrival number), and a page's reports in the order they arrived. So the target
 * numbers them in the same order: a part's tie between two reports of equal time still
 * goes to the one received last, and messages whose newest reports came in the same millisecond (a
 * JSON array's) are listed in the same order as before.
 */
import { sql } from 'kysely';
import type { InterpretedReport } from '../meaning/interpret-report.js';
import { BILLINGS, DELIVERIES, REPORT_STATUSES } from '../meaning/result-codes.js';
import type { Database } from './database.js';
import type { ReportToStore } from './write-reports.js';
import { storeReports } from './write-reports.js';
import type { ListingPlace } from './read-messages.js';
import { PLACE_MICROS, listedBeside } from './read-messages.js';
import type { ReportRow } from './tables.js';

export interface CopyCount {
  /** Messages read from the source. */
  readonly messages: number;
  /** Reports read from the source. */
  readonly reports: number;
  /** Reports the target did not hold, stored by the copy. */
  readonly stored: number;
  /** Reports the target held already. */
  readonly duplicates: number;
}

export interface CopyOptions {
  readonly from: Pick<Database, 'db'>;
  readonly to: Pick<Database, 'writeTransaction'>;
  /** Told after each page is stored, with the count so far. */
  readonly onPage?: (count: CopyCount) => void;
  /** Ends the copy after the page under way. */
  readonly stop?: AbortSignal;
  readonly messagesPerPage?: number;
  /** The most reports one write transaction stores, as the receiver's batches (src/app.ts). */
  readonly reportsPerBatch?: number;
}

export interface CopyOutcome extends CopyCount {
  /** Whether a stop ended the copy before the last message. */
  readonly stopped: boolean;
}

/** A report row the write path cannot take: a value no receiver writes. */
export class UnreadableReportError extends Error {
  constructor(reportId: string, column: string, value: string) {
    super(`report ${JSON.stringify(reportId)} has ${column} ${JSON.stringify(value)}, which no receiver writes: it was not copied`);
    this.name = 'UnreadableReportError';
  }
}

const DEFAULT_MESSAGES_PER_PAGE = 250;
const DEFAULT_REPORTS_PER_BATCH = 500;

/** Messages and reports in the source, for the progress lines. */
export async function countHistory(from: Pick<Database, 'db'>): Promise<{ messages: number; reports: number }> {
  const { rows } = await sql<{ messages: number; reports: number }>`SELECT
      (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM reports)::int AS reports`.execute(from.db);
  return rows[0] ?? { messages: 0, reports: 0 };
}

export async function copyHistory(options: CopyOptions): Promise<CopyOutcome> {
  const messagesPerPage = options.messagesPerPage ?? DEFAULT_MESSAGES_PER_PAGE;
  const reportsPerBatch = options.reportsPerBatch ?? DEFAULT_REPORTS_PER_BATCH;
  let count: CopyCount = { messages: 0, reports: 0, stored: 0, duplicates: 0 };
  const stopAsked = () => options.stop?.aborted === true;
  let after: ListingPlace | null = null;
  for (;;) {
    if (stopAsked()) return { ...count, stopped: true };
    const messages = await nextListedMessages(options.from, after, messagesPerPage);
    const last = messages[messages.length - 1];
    if (last === undefined) break;
    count = sum(count, await copyMessages(options, messages.map((message) => message.message_id), reportsPerBatch));
    options.onPage?.(count);
    after = { receivedAtMicros: last.place_micros, seq: last.last_seq };
  }
  // Messages without a place in the listing, which no receiver of this release writes: copied all the same.
  let afterId: string | null = null;
  for (;;) {
    if (stopAsked()) return { ...count, stopped: true };
    const messageIds = await nextUnlistedMessageIds(options.from, afterId, messagesPerPage);
    const last = messageIds[messageIds.length - 1];
    if (last === undefined) return { ...count, stopped: false };
    count = sum(count, await copyMessages(options, messageIds, reportsPerBatch));
    options.onPage?.(count);
    afterId = last;
  }
}

function sum(a: CopyCount, b: CopyCount): CopyCount {
  return { messages: a.messages + b.messages, reports: a.reports + b.reports, stored: a.stored + b.stored, duplicates: a.duplicates + b.duplicates };
}

/** Reads the messages' reports and stores them in the target, at most `reportsPerBatch` a transaction. */
async function copyMessages(options: CopyOptions, messageIds: readonly string[], reportsPerBatch: number): Promise<CopyCount> {
  const items = (await reportsOf(options.from, messageIds)).map(reportToStore);
  let stored = 0;
  let duplicates = 0;
  for (let start = 0; start < items.length; start += reportsPerBatch) {
    const outcome = await storeReports(options.to.writeTransaction, items.slice(start, start + reportsPerBatch));
    stored += outcome.stored;
    duplicates += outcome.duplicates;
  }
  return { messages: messageIds.length, reports: items.length, stored, duplicates };
}

/** The messages after `after` in the listing's order, oldest first, along the listing's index. */
async function nextListedMessages(from: Pick<Database, 'db'>, after: ListingPlace | null, limit: number) {
  let query = from.db
    .selectFrom('messages')
    .select(['message_id', 'last_seq', PLACE_MICROS.as('place_micros')])
    .where('last_report_at', 'is not', null)
    .where('last_seq', 'is not', null)
    .$narrowType<{ last_seq: number }>()
    .orderBy('last_report_at')
    .orderBy('last_seq')
    .limit(limit);
  if (after !== null) query = query.where(listedBeside('>', after));
  return query.execute();
}

async function nextUnlistedMessageIds(from: Pick<Database, 'db'>, after: string | null, limit: number): Promise<string[]> {
  let query = from.db
    .selectFrom('messages')
    .select('message_id')
    .where((eb) => eb.or([eb('last_report_at', 'is', null), eb('last_seq', 'is', null)]))
    .orderBy('message_id')
    .limit(limit);
  if (after !== null) query = query.where('message_id', '>', after);
  const rows = await query.execute();
  return rows.map((row) => row.message_id);
}

type CopiedRow = Omit<ReportRow, 'payload' | 'seq'> & { readonly payload_text: string };

/** The messages' reports in the order they arrived; the payload as the text it was stored as. */
async function reportsOf(from: Pick<Database, 'db'>, messageIds: readonly string[]): Promise<CopiedRow[]> {
  return from.db
    .selectFrom('reports')
    .select([
      'fingerprint', 'report_id', 'message_id', 'part', 'ref_id', 'result_code', 'result_description', 'status', 'final',
      'delivery', 'billing', 'operator', 'operator_result_code', 'segments', 'sent_timestamp', 'report_timestamp',
      'source', 'destination', 'stat', 'err', 'err_description', 'format', 'gate', 'remote_address', 'received_at',
      sql<string>`payload::text`.as('payload_text'),
    ])
    .where('message_id', 'in', messageIds)
    .orderBy('seq')
    .execute();
}

function reportToStore(row: CopiedRow): ReportToStore {
  const report: InterpretedReport = {
    reportId: row.report_id,
    messageId: row.message_id,
    part: row.part,
    refId: row.ref_id,
    operator: row.operator,
    operatorResultCode: row.operator_result_code,
    segments: row.segments,
    sentTimestamp: row.sent_timestamp,
    timestamp: row.report_timestamp,
    resultCode: row.result_code,
    resultDescription: row.result_description,
    status: oneOf(REPORT_STATUSES, row.status, 'status', row.report_id),
    final: row.final,
    delivery: oneOf(DELIVERIES, row.delivery, 'delivery', row.report_id),
    billing: oneOf(BILLINGS, row.billing, 'billing', row.report_id),
    source: row.source,
    destination: row.destination,
    stat: row.stat,
    err: row.err,
    errDescription: row.err_description,
    fingerprint: row.fingerprint,
  };
  return {
    report,
    payloadJson: row.payload_text,
    format: row.format,
    gate: row.gate,
    remoteAddress: row.remote_address,
    receivedAt: row.received_at,
  };
}

function oneOf<T extends string>(allowed: readonly T[], value: string, column: string, reportId: string): T {
  const found = allowed.find((each) => each === value);
  if (found === undefined) throw new UnreadableReportError(reportId, column, value);
  return found;
}
