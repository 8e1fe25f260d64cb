/**
 * Stores reports in one transaction: the report rows, the deciding report of each touched part,
 * and each touched message's state. Safe with several receivers on one database: each transaction
 * first locks its messages in one fixed order, so work on one message is serialised.
 */
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { InterpretedReport } from '../meaning/interpret-report.js';
import type { JsonRow } from './json-rows.js';
import { timeOf } from './json-rows.js';
import type { FreshReport } from './plan-message-update.js';
import { planMessageUpdates } from './plan-message-update.js';
import { preparedAs } from './prepared-statements.js';
import type { MessageRow, PartRow, Tables } from './tables.js';

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

/** Seeds the advisory lock keys, so they do not collide with other users of advisory locks. */
const LOCK_SEED = 0x646c72;

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
  const messageIds = [...new Set(items.map((item) => item.report.messageId))];
  await lockMessages(tx, messageIds);
  const { fresh, messages, deciders } = await insertReports(tx, items, messageIds);
  if (fresh.length === 0) return { stored: 0, duplicates: items.length };
  const plan = planMessageUpdates(messages, deciders, fresh);
  await writeState(tx, plan.parts, plan.messages);
  return { stored: fresh.length, duplicates: items.length - fresh.length };
}

// The batch statements pass their rows as one JSON document, or one array per column, and unpack
// them: a few parameters however many rows, where a multi-row VALUES list would bind (and plan)
// thousands.

/**
 * Locks the messages until commit, so work on one message is serialised across receivers. Advisory
 * locks cost no row writes; taking them in the order of their keys means two transactions never
 * wait on each other in a circle. The statements after this one see what the lock holders committed.
 */
async function lockMessages(tx: Transaction<Tables>, messageIds: readonly string[]): Promise<void> {
  await sql`${sql.raw(preparedAs('lock-messages'))}
    SELECT pg_advisory_xact_lock(key)
    FROM (SELECT DISTINCT hashtextextended(id, ${LOCK_SEED}) AS key FROM unnest(${messageIds}::text[]) AS id ORDER BY key) AS keys`.execute(tx);
}

interface StoredState {
  /** The reports this call added, with their arrival numbers. */
  readonly fresh: FreshReport[];
  readonly messages: Map<string, MessageRow>;
  readonly deciders: PartRow[];
}

/**
 * Inserts the reports that are not stored yet (the same report twice, even in one call, is kept
 * once) and, in the same round trip, reads the messages' stored state and their parts' deciders.
 * Parts are read per stored message, by its id: a new message costs no lookup in `parts`, and the
 * lookup stays on the index whatever the table's statistics (migration 20261123T1800).
 */
async function insertReports(tx: Transaction<Tables>, items: readonly ReportToStore[], messageIds: readonly string[]): Promise<StoredState> {
  const { rows } = await sql<{ inserted: Array<[number, string]>; messages: Array<{ message: JsonRow; parts: JsonRow[] }> }>`${sql.raw(preparedAs('insert-reports'))}
    WITH inserted AS (
    INSERT INTO reports (fingerprint, report_id, message_id, part, ref_id, result_code, result_description, status, final,
                         delivery, billing, operator, operator_result_code, segments, sent_timestamp, report_timestamp,
                         source, destination, stat, err, err_description, format, gate, remote_address, received_at, payload)
    SELECT fingerprint, report_id, message_id, part, ref_id, result_code, result_description, status, final,
           delivery, billing, operator, operator_result_code, segments, sent_timestamp, report_timestamp,
           source, destination, stat, err, err_description, format, gate, remote_address, received_at, payload::json
    FROM json_to_recordset(${JSON.stringify(items.map(reportRow))}::json) AS row (
      fingerprint text, report_id text, message_id text, part smallint, ref_id text, result_code integer,
      result_description text, status text, final boolean, delivery text, billing text, operator text,
      operator_result_code text, segments smallint, sent_timestamp timestamptz, report_timestamp timestamptz,
      source text, destination text, stat text, err text, err_description text, format text, gate text,
      remote_address text, received_at timestamptz, payload text)
    ON CONFLICT (fingerprint) DO NOTHING
    RETURNING seq, fingerprint)
    SELECT
      (SELECT coalesce(json_agg(json_build_array(seq, fingerprint)), '[]') FROM inserted) AS inserted,
      (SELECT coalesce(json_agg(json_build_object(
         'message', m,
         'parts', (SELECT coalesce(json_agg(p), '[]') FROM parts AS p WHERE p.message_id = m.message_id))), '[]')
       FROM messages AS m WHERE m.message_id = ANY(${messageIds}::text[])) AS messages`.execute(tx);
  const [state] = rows;
  if (state === undefined) throw new Error('the report insert returned no row');
  const seqByFingerprint = new Map(state.inserted.map(([seq, fingerprint]) => [fingerprint, seq]));
  const fresh: FreshReport[] = [];
  for (const item of items) {
    const seq = seqByFingerprint.get(item.report.fingerprint);
    if (seq === undefined) continue;
    seqByFingerprint.delete(item.report.fingerprint);
    fresh.push({ seq, receivedAt: item.receivedAt, report: item.report });
  }
  const messages = new Map(state.messages.map(({ message }) => [String(message.message_id), messageRowFromJson(message)]));
  const deciders = state.messages.flatMap(({ parts }) => parts.map(partRowFromJson));
  return { fresh, messages, deciders };
}

/**
 * A report as a row of the reports table. The batch's rows travel as one JSON document that
 * PostgreSQL unpacks (json_to_recordset): one native JSON.stringify, where an array per column had
 * the driver escape every value, which was most of its work. The payload travels as its JSON text:
 * json_to_recordset decodes every string in the document, and a payload may hold a `\u0000` that
 * only the json type can keep.
 */
function reportRow({ report, payload, format, gate, remoteAddress, receivedAt }: ReportToStore) {
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
    stat: report.stat,
    err: report.err,
    err_description: report.errDescription,
    format,
    gate,
    remote_address: remoteAddress,
    received_at: receivedAt,
    payload: JSON.stringify(payload),
  };
}

/** Rows read as JSON carry times as text; the rest of the types survive as they are. */
function messageRowFromJson(row: JsonRow): MessageRow {
  return { ...(row as unknown as MessageRow), first_report_at: timeOf(row.first_report_at), last_report_at: timeOf(row.last_report_at) };
}

function partRowFromJson(row: JsonRow): PartRow {
  return { ...(row as unknown as PartRow), report_timestamp: timeOf(row.report_timestamp) };
}

/** Writes the touched parts' deciders and the messages' new state in one statement. */
async function writeState(tx: Transaction<Tables>, parts: readonly PartRow[], messages: readonly MessageRow[]): Promise<void> {
  const part = <T>(value: (row: PartRow) => T): T[] => parts.map(value);
  const message = <T>(value: (row: MessageRow) => T): T[] => messages.map(value);
  await sql`${sql.raw(preparedAs('write-state'))}
    WITH written_parts AS (
      INSERT INTO parts (message_id, part, report_seq, status, final, report_timestamp, result_code, result_description, operator)
      SELECT * FROM unnest(
        ${part((row) => row.message_id)}::text[], ${part((row) => row.part)}::smallint[],
        ${part((row) => row.report_seq)}::bigint[], ${part((row) => row.status)}::text[],
        ${part((row) => row.final)}::boolean[], ${part((row) => row.report_timestamp)}::timestamptz[],
        ${part((row) => row.result_code)}::integer[], ${part((row) => row.result_description)}::text[],
        ${part((row) => row.operator)}::text[])
      ON CONFLICT (message_id, part) DO UPDATE SET
        report_seq = excluded.report_seq, status = excluded.status, final = excluded.final,
        report_timestamp = excluded.report_timestamp, result_code = excluded.result_code,
        result_description = excluded.result_description, operator = excluded.operator)
    INSERT INTO messages (message_id, ref_id, status, final, segments_reported, total, delivered, failed, unknown, pending,
                          result_code, result_description, operator, source, destination, first_report_at, last_report_at, last_seq)
    SELECT * FROM unnest(
      ${message((row) => row.message_id)}::text[], ${message((row) => row.ref_id)}::text[],
      ${message((row) => row.status)}::text[], ${message((row) => row.final)}::boolean[],
      ${message((row) => row.segments_reported)}::smallint[], ${message((row) => row.total)}::smallint[],
      ${message((row) => row.delivered)}::smallint[], ${message((row) => row.failed)}::smallint[],
      ${message((row) => row.unknown)}::smallint[], ${message((row) => row.pending)}::smallint[],
      ${message((row) => row.result_code)}::integer[], ${message((row) => row.result_description)}::text[],
      ${message((row) => row.operator)}::text[], ${message((row) => row.source)}::text[],
      ${message((row) => row.destination)}::text[], ${message((row) => row.first_report_at)}::timestamptz[],
      ${message((row) => row.last_report_at)}::timestamptz[], ${message((row) => row.last_seq)}::bigint[])
    ON CONFLICT (message_id) DO UPDATE SET
      ref_id = excluded.ref_id, status = excluded.status, final = excluded.final,
      segments_reported = excluded.segments_reported, total = excluded.total, delivered = excluded.delivered,
      failed = excluded.failed, unknown = excluded.unknown, pending = excluded.pending,
      result_code = excluded.result_code, result_description = excluded.result_description, operator = excluded.operator,
      source = excluded.source, destination = excluded.destination, first_report_at = excluded.first_report_at,
      last_report_at = excluded.last_report_at, last_seq = excluded.last_seq`.execute(tx);
}

function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && RETRYABLE_CODES.has(String(error.code));
}
