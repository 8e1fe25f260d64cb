/**
 * Stores reports in one transaction: the report rows, the deciding report of each touched part,
 * and each touched message's state. Safe with several receivers on one database: each transaction
 * first locks its messages' rows in one fixed order, so work on one message is serialised.
 */
import type { Kysely, Transaction } from 'kysely';
import type { InterpretedReport } from '../meaning/interpret-report.js';
import type { FreshReport } from './plan-message-update.js';
import { planMessageUpdates } from './plan-message-update.js';
import type { MessageRow, NewReportRow, PartRow, Tables } from './tables.js';

export interface ReportToStore {
  readonly report: InterpretedReport;
  /** The report as it arrived (see the intake readers). */
  readonly payload: unknown;
  readonly format: string;
  readonly gate: string | null;
  readonly remoteAddress: string | null;
  readonly receivedAt: Date;
}

export interface StoreOutcome {
  /** Reports added by this call. */
  readonly stored: number;
  /** Reports that were stored already (a retry of the same report), added nothing. */
  readonly duplicates: number;
}

const RETRYABLE_CODES = new Set(['40001', '40P01']);
const ATTEMPTS = 3;

/** Stores the reports, all or none; resolves once they are committed. */
export async function storeReports(db: Kysely<Tables>, items: readonly ReportToStore[]): Promise<StoreOutcome> {
  if (items.length === 0) return { stored: 0, duplicates: 0 };
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute((tx) => storeInTransaction(tx, items));
    } catch (error) {
      if (attempt >= ATTEMPTS || !isRetryable(error)) throw error;
    }
  }
}

async function storeInTransaction(tx: Transaction<Tables>, items: readonly ReportToStore[]): Promise<StoreOutcome> {
  const messageIds = [...new Set(items.map((item) => item.report.messageId))].sort();
  const messages = await lockMessages(tx, messageIds);
  const fresh = await insertReports(tx, items);
  if (fresh.length === 0) return { stored: 0, duplicates: items.length };

  const touched = [...new Set(fresh.map((item) => item.report.messageId))];
  const deciders = await tx.selectFrom('parts').selectAll().where('message_id', 'in', touched).execute();
  const plan = planMessageUpdates(messages, deciders, fresh);
  await upsertDeciders(tx, plan.parts);
  await tx
    .insertInto('messages')
    .values(plan.messages)
    .onConflict((conflict) =>
      conflict.column('message_id').doUpdateSet((eb) => ({
        ref_id: eb.ref('excluded.ref_id'),
        status: eb.ref('excluded.status'),
        final: eb.ref('excluded.final'),
        segments_reported: eb.ref('excluded.segments_reported'),
        total: eb.ref('excluded.total'),
        delivered: eb.ref('excluded.delivered'),
        failed: eb.ref('excluded.failed'),
        unknown: eb.ref('excluded.unknown'),
        pending: eb.ref('excluded.pending'),
        result_code: eb.ref('excluded.result_code'),
        result_description: eb.ref('excluded.result_description'),
        operator: eb.ref('excluded.operator'),
        source: eb.ref('excluded.source'),
        destination: eb.ref('excluded.destination'),
        first_report_at: eb.ref('excluded.first_report_at'),
        last_report_at: eb.ref('excluded.last_report_at'),
        last_seq: eb.ref('excluded.last_seq'),
      })),
    )
    .execute();
  return { stored: fresh.length, duplicates: items.length - fresh.length };
}

/**
 * Creates the messages' rows if new and locks them until commit. The fixed order (sorted ids) means
 * two transactions never wait on each other in a circle.
 */
async function lockMessages(tx: Transaction<Tables>, messageIds: readonly string[]): Promise<Map<string, MessageRow>> {
  const rows = await tx
    .insertInto('messages')
    .values(messageIds.map((message_id) => ({ message_id })))
    .onConflict((conflict) => conflict.column('message_id').doUpdateSet((eb) => ({ message_id: eb.ref('excluded.message_id') })))
    .returningAll()
    .execute();
  return new Map(rows.map((row) => [row.message_id, row]));
}

/** Inserts the reports that are not stored yet; the same report twice (even in one call) is kept once. */
async function insertReports(tx: Transaction<Tables>, items: readonly ReportToStore[]): Promise<FreshReport[]> {
  const inserted = await tx
    .insertInto('reports')
    .values(items.map(reportRow))
    .onConflict((conflict) => conflict.column('fingerprint').doNothing())
    .returning(['seq', 'fingerprint'])
    .execute();
  const seqByFingerprint = new Map(inserted.map((row) => [row.fingerprint, row.seq]));
  const fresh: FreshReport[] = [];
  for (const item of items) {
    const seq = seqByFingerprint.get(item.report.fingerprint);
    if (seq === undefined) continue;
    seqByFingerprint.delete(item.report.fingerprint);
    fresh.push({ seq, receivedAt: item.receivedAt, report: item.report });
  }
  return fresh;
}

async function upsertDeciders(tx: Transaction<Tables>, rows: readonly PartRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx
    .insertInto('parts')
    .values(rows)
    .onConflict((conflict) =>
      conflict.columns(['message_id', 'part']).doUpdateSet((eb) => ({
        report_seq: eb.ref('excluded.report_seq'),
        status: eb.ref('excluded.status'),
        final: eb.ref('excluded.final'),
        report_timestamp: eb.ref('excluded.report_timestamp'),
        result_code: eb.ref('excluded.result_code'),
        result_description: eb.ref('excluded.result_description'),
        operator: eb.ref('excluded.operator'),
      })),
    )
    .execute();
}

function reportRow({ report, payload, format, gate, remoteAddress, receivedAt }: ReportToStore): NewReportRow {
  return {
    fingerprint: report.fingerprint,
    report_id: report.reportId,
    message_id: report.messageId,
    part: report.part,
    ref_id: report.refId,
    result_code: report.resultCode,
    result_description: report.resultDescription,
    status: report.status,
    final: report.final,
    delivery: report.delivery,
    billing: report.billing,
    operator: report.operator,
    operator_result_code: report.operatorResultCode,
    segments: report.segments,
    sent_timestamp: report.sentTimestamp,
    report_timestamp: report.timestamp,
    source: report.source,
    destination: report.destination,
    format,
    gate,
    remote_address: remoteAddress,
    received_at: receivedAt,
    payload: JSON.stringify(payload),
  };
}

function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && RETRYABLE_CODES.has(String(error.code));
}
