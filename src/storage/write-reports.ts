/**
 * Stores reports in one transaction: the report rows, the deciding report of each touched part,
 * and each touched message's state. Safe with several receivers on one database: each transaction
 * first locks its messages in one fixed order, so work on one message is serialised.
 */
import type { InterpretedReport } from '../meaning/interpret-report.js';
import type { JsonRow } from './json-rows.js';
import { timeOf } from './json-rows.js';
import type { FreshReport } from './plan-message-update.js';
import { planMessageUpdates } from './plan-message-update.js';
import type { MessageRow, PartRow } from './tables.js';
import type { SecondStep, WriteTransaction } from './write-transaction.js';
import { MISSING_PREPARED_STATEMENT, sqlLiteral } from './write-transaction.js';
import { errorCode } from '../lib/error-code.js';

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

/**
 * Settings of the write transaction. No JIT: once the tables held some 50,000 reports, the
 * planner's cost estimate for the batch insert passed `jit_above_cost`, and PostgreSQL spent about
 * 30 ms compiling every batch, one-report batches included, which halved the ingest rate for good.
 */
export const TRANSACTION_SETTINGS = 'SET LOCAL jit = off';

/**
 * The insert reads `messages` and `parts`, so it is planned for each batch: after five runs a
 * prepared statement may settle on one generic plan, and one made while the tables were small reads
 * `parts` by scanning it whole, until statistics are next gathered. The lock and the state write
 * read no table and keep their generic plans (cheaper: 15% more reports/s at 20 connections).
 */
export const PLAN_EACH_TIME = 'SET LOCAL plan_cache_mode = force_custom_plan';
const PLAN_ONCE = 'SET LOCAL plan_cache_mode = auto';

/** Retried: a serialization failure, a deadlock, a connection that lost its prepared statements. */
const RETRYABLE_CODES = new Set(['40001', '40P01', MISSING_PREPARED_STATEMENT]);
const ATTEMPTS = 3;

/** Stores the reports, all or none; resolves once they are committed. */
export async function storeReports(writeTransaction: WriteTransaction, items: readonly ReportToStore[]): Promise<StoreOutcome> {
  if (items.length === 0) return { stored: 0, duplicates: 0 };
  const messageIds = jsonLiteral([...new Set(items.map((item) => item.report.messageId))]);
  const first = `${TRANSACTION_SETTINGS};
    EXECUTE dlr_lock_messages(${messageIds});
    ${PLAN_EACH_TIME};
    EXECUTE dlr_insert_reports(${jsonLiteral(items.map(reportRow))}, ${messageIds})`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeTransaction({ setup: PREPARE_STATEMENTS, first, then: (rows) => writeState(items, rows) });
    } catch (error) {
      if (attempt >= ATTEMPTS || !isRetryable(error)) throw error;
    }
  }
}

/** A value as a json literal: a batch's rows travel as one JSON document that PostgreSQL unpacks. */
function jsonLiteral(value: unknown): string {
  return `${sqlLiteral(JSON.stringify(value))}::json`;
}

/**
 * Locks the messages (`$1`, a json array of ids) until commit, so work on one message is
 * serialised across receivers. Advisory locks cost no row writes; taking them in the order of their
 * keys means two transactions never wait on each other in a circle. The statements after this one
 * see what the lock holders committed.
 */
const LOCK_MESSAGES = `SELECT pg_advisory_xact_lock(key)
    FROM (SELECT DISTINCT hashtextextended(id, ${LOCK_SEED}) AS key FROM json_array_elements_text($1) AS id ORDER BY key) AS keys`;

/**
 * Inserts the reports (`$1`, json rows) that are not stored yet (the same report twice, even in one
 * call, is kept once) and, in the same statement, reads the stored state of the messages (`$2`, a
 * json array of ids) and their parts' deciders.
 */
const INSERT_REPORTS = `WITH inserted AS (
    INSERT INTO reports (fingerprint, report_id, message_id, part, ref_id, result_code, result_description, status, final,
                         delivery, billing, operator, operator_result_code, segments, sent_timestamp, report_timestamp,
                         source, destination, stat, err, err_description, format, gate, remote_address, received_at, payload)
    SELECT fingerprint, report_id, message_id, part, ref_id, result_code, result_description, status, final,
           delivery, billing, operator, operator_result_code, segments, sent_timestamp, report_timestamp,
           source, destination, stat, err, err_description, format, gate, remote_address, received_at, payload::json
    FROM json_to_recordset($1) AS row (
      fingerprint text, report_id text, message_id text, part smallint, ref_id text, result_code integer,
      result_description text, status text, final boolean, delivery text, billing text, operator text,
      operator_result_code text, segments smallint, sent_timestamp timestamptz, report_timestamp timestamptz,
      source text, destination text, stat text, err text, err_description text, format text, gate text,
      remote_address text, received_at timestamptz, payload text)
    ON CONFLICT (message_id, fingerprint) DO NOTHING
    RETURNING seq, fingerprint)
    SELECT (SELECT coalesce(json_agg(json_build_array(seq, fingerprint)), '[]') FROM inserted) AS inserted,
           ${storedMessages('$2')} AS messages`;

/**
 * The stored state of the messages (a json array literal of ids), each with its parts' deciders.
 * Each message is read by its own key, and a stored message's parts by its id, so a new message
 * costs no lookup in `parts`. As one `= ANY(ids)` filter, or a join, PostgreSQL scanned the whole
 * messages table while it had no statistics (a new database's first minutes), which made every
 * batch slower than the last; a subquery per id cannot be turned into either. Migration
 * 20261123T1800 keeps the parts lookup on its index whatever the table's statistics.
 */
export function storedMessages(messageIds: string): string {
  return `(SELECT coalesce(json_agg(found.state) FILTER (WHERE found.state IS NOT NULL), '[]')
    FROM (SELECT (SELECT json_build_object(
                   'message', m,
                   'parts', (SELECT coalesce(json_agg(p), '[]') FROM parts AS p WHERE p.message_id = m.message_id))
                 FROM messages AS m WHERE m.message_id = wanted.id) AS state
          FROM json_array_elements_text(${messageIds}) AS wanted (id)) AS found)`;
}

interface StoredState {
  readonly inserted: Array<[number, string]>;
  readonly messages: Array<{ message: JsonRow; parts: JsonRow[] }>;
}

/** From what the insert returned, plans the parts' and messages' new state, as the second step's script. */
function writeState(items: readonly ReportToStore[], rows: ReadonlyArray<Record<string, unknown>>): SecondStep<StoreOutcome> {
  const [state] = rows as unknown as StoredState[];
  if (state === undefined) throw new Error('the report insert returned no row');
  const seqByFingerprint = new Map(state.inserted.map(([seq, fingerprint]) => [fingerprint, seq]));
  const fresh: FreshReport[] = [];
  for (const item of items) {
    const seq = seqByFingerprint.get(item.report.fingerprint);
    if (seq === undefined) continue;
    seqByFingerprint.delete(item.report.fingerprint);
    fresh.push({ seq, receivedAt: item.receivedAt, report: item.report });
  }
  const outcome = { stored: fresh.length, duplicates: items.length - fresh.length };
  if (fresh.length === 0) return { script: null, result: outcome };
  const messages = new Map(state.messages.map(({ message }) => [String(message.message_id), messageRowFromJson(message)]));
  const deciders = state.messages.flatMap(({ parts }) => parts.map(partRowFromJson));
  const plan = planMessageUpdates(messages, deciders, fresh);
  return {
    script: `${PLAN_ONCE};\n    EXECUTE dlr_write_state(${jsonLiteral(plan.parts.map(partJson))}, ${jsonLiteral(plan.messages.map(messageJson))})`,
    result: outcome,
  };
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
    sent_timestamp: isoTime(report.sentTimestamp),
    report_timestamp: isoTime(report.timestamp),
    source: report.source,
    destination: report.destination,
    stat: report.stat,
    err: report.err,
    err_description: report.errDescription,
    format,
    gate,
    remote_address: remoteAddress,
    received_at: receivedAt.toISOString(),
    payload: JSON.stringify(payload),
  };
}

/**
 * Times go into the batch's JSON as text already: JSON.stringify calls a Date's toJSON through its
 * slow generic path, which made the document three times as costly to build.
 */
function isoTime(time: Date | null): string | null {
  return time === null ? null : time.toISOString();
}

function partJson(row: PartRow) {
  return { ...row, report_timestamp: isoTime(row.report_timestamp) };
}

function messageJson(row: MessageRow) {
  return { ...row, first_report_at: isoTime(row.first_report_at), last_report_at: isoTime(row.last_report_at) };
}

/** Rows read as JSON carry times as text; the rest of the types survive as they are. */
function messageRowFromJson(row: JsonRow): MessageRow {
  return { ...(row as unknown as MessageRow), first_report_at: timeOf(row.first_report_at), last_report_at: timeOf(row.last_report_at) };
}

function partRowFromJson(row: JsonRow): PartRow {
  return { ...(row as unknown as PartRow), report_timestamp: timeOf(row.report_timestamp) };
}

/** Writes the touched parts' deciders (`$1`, json rows) and the messages' new state (`$2`) in one statement. */
const WRITE_STATE = `WITH written_parts AS (
      INSERT INTO parts (message_id, part, report_seq, status, final, report_timestamp, result_code, result_description, operator)
      SELECT * FROM json_to_recordset($1) AS row (
        message_id text, part smallint, report_seq bigint, status text, final boolean, report_timestamp timestamptz,
        result_code integer, result_description text, operator text)
      ON CONFLICT (message_id, part) DO UPDATE SET
        report_seq = excluded.report_seq, status = excluded.status, final = excluded.final,
        report_timestamp = excluded.report_timestamp, result_code = excluded.result_code,
        result_description = excluded.result_description, operator = excluded.operator)
    INSERT INTO messages (message_id, ref_id, status, final, segments_reported, total, delivered, failed, unknown, pending,
                          result_code, result_description, operator, source, destination, first_report_at, last_report_at, last_seq)
    SELECT * FROM json_to_recordset($2) AS row (
      message_id text, ref_id text, status text, final boolean, segments_reported smallint, total smallint,
      delivered smallint, failed smallint, unknown smallint, pending smallint, result_code integer,
      result_description text, operator text, source text, destination text, first_report_at timestamptz,
      last_report_at timestamptz, last_seq bigint)
    ON CONFLICT (message_id) DO UPDATE SET
      ref_id = excluded.ref_id, status = excluded.status, final = excluded.final,
      segments_reported = excluded.segments_reported, total = excluded.total, delivered = excluded.delivered,
      failed = excluded.failed, unknown = excluded.unknown, pending = excluded.pending,
      result_code = excluded.result_code, result_description = excluded.result_description, operator = excluded.operator,
      source = excluded.source, destination = excluded.destination, first_report_at = excluded.first_report_at,
      last_report_at = excluded.last_report_at, last_seq = excluded.last_seq`;

/**
 * Each connection prepares the write statements once; a batch then EXECUTEs them with its values.
 * DEALLOCATE ALL first: a connection preparing again (after one of its statements went missing)
 * starts clean instead of failing on the statements it still has. The receiver names no others.
 */
export const PREPARE_STATEMENTS = `DEALLOCATE ALL;
  PREPARE dlr_lock_messages(json) AS ${LOCK_MESSAGES};
  PREPARE dlr_insert_reports(json, json) AS ${INSERT_REPORTS};
  PREPARE dlr_write_state(json, json) AS ${WRITE_STATE}`;

function isRetryable(error: unknown): boolean {
  return RETRYABLE_CODES.has(errorCode(error) ?? '');
}
