/**
 * Stores reports in one transaction: the report rows and each touched message's state, which
 * follows from the deciding report of each of its parts. Safe with several receivers on one
 * database: each transaction first locks its messages in one fixed order, so work on one message
 * is serialised.
 *
 * Most reports are the first of their message, whose new state needs nothing stored: a batch of
 * such reports is planned before it is sent and written by one statement, in one round trip. A
 * message stored already needs its stored state read first, so its reports are written in two.
 */
import type { InterpretedReport } from '../meaning/interpret-report.js';
import { MESSAGE_COLUMNS, REPORT_COLUMNS, batchDocument, columnNames, rowsFrom } from './batch-rows.js';
import type { JsonRow } from './json-rows.js';
import { timeOf } from './json-rows.js';
import type { DecidingFields, FreshReport } from './plan-message-update.js';
import { DECIDING_COLUMNS, planMessageUpdates } from './plan-message-update.js';
import type { MessageRow } from './tables.js';
import type { SecondStep, WriteTransaction } from './write-transaction.js';
import { DUPLICATE_PREPARED_STATEMENT, MISSING_PREPARED_STATEMENT, sqlLiteral } from './write-transaction.js';
import { errorCode } from '../lib/error-code.js';
import type { RecentMessages } from './recent-messages.js';

export interface ReportToStore {
  readonly report: InterpretedReport;
  /** The report as it arrived, as JSON text (see the intake readers). */
  readonly payloadJson: string;
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
export const LOCK_SEED = 0x646c72;

/**
 * Settings of the write path's connections (see PREPARE_STATEMENTS).
 *
 * No JIT: once the tables held some 50,000 reports, the planner's cost estimate for the batch
 * insert passed `jit_above_cost`, and PostgreSQL spent about 30 ms compiling every batch, one-report
 * batches included, which halved the ingest rate for good.
 *
 * No sequential scans: the write statements read `messages` and `reports` only by key. After five
 * runs a prepared statement may settle on one generic plan, kept for the connection's life, and one
 * made while the tables were small would read them by scanning them whole, every batch, until
 * statistics are next gathered. With scans ruled out the plan takes the keys whatever the tables'
 * size, so it can be made once: planning each batch instead cost a quarter of the ingest rate.
 *
 * Commits that wait for the disk: a `200` says the report is safe, but a server or role tuned to
 * `synchronous_commit = off` answers a commit before its write-ahead log is flushed, and a crash
 * then loses reports already acknowledged. The write connections turn `off` back to `on`; the
 * other values flush the local log before answering, and are kept.
 */
export const WRITE_SESSION_SETTINGS = `SET jit = off;
  SET enable_seqscan = off;
  SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'`;

/** SQLSTATE of an insert that met a key stored already. */
const UNIQUE_VIOLATION = '23505';

/**
 * Retried: a serialization failure, a deadlock, a connection that lost its prepared statements, or
 * one whose session has them already, made there by another of the receiver's connections (behind
 * a pooler in transaction mode; every such batch went to the journal).
 */
const RETRYABLE_CODES = new Set(['40001', '40P01', MISSING_PREPARED_STATEMENT, DUPLICATE_PREPARED_STATEMENT]);
const ATTEMPTS = 3;

/**
 * Stores the reports, all or none per transaction; resolves once they are committed. `recent`
 * names the messages this receiver wrote lately: a batch touching one of them goes straight to the
 * two-step write instead of first trying, and failing, to write its messages as new.
 */
export async function storeReports(
  writeTransaction: WriteTransaction,
  items: readonly ReportToStore[],
  recent?: RecentMessages,
): Promise<StoreOutcome> {
  if (items.length === 0) return { stored: 0, duplicates: 0 };
  const messageIds = items.map((item) => item.report.messageId);
  const outcome =
    recent?.includesAny(messageIds) === true ? await storeInTwoSteps(writeTransaction, items) : await storeAsNewMessages(writeTransaction, items);
  recent?.add(messageIds);
  return outcome;
}

/**
 * Writes the reports of messages not stored yet in one statement, planned as the first reports of
 * their messages. Reports of messages that turn out to be stored are left out of it, and written
 * in two steps afterwards. When a receiver beside this one stored one of the messages while the
 * statement waited for its lock, the statement fails on the message's key, stores nothing, and the
 * whole batch is written in two steps instead.
 */
async function storeAsNewMessages(writeTransaction: WriteTransaction, items: readonly ReportToStore[]): Promise<StoreOutcome> {
  const unique = firstOfEachReport(items);
  // Until the insert numbers them, a report's place in the batch stands for its seq: the insert
  // numbers them in that order, and the statement swaps each place for the seq it got.
  const messages = planMessageUpdates(
    new Map(),
    [],
    unique.map((item, index) => ({ seq: index + 1, receivedAt: item.receivedAt, report: item.report })),
  );
  const values = [
    batchDocument(unique, REPORT_COLUMNS),
    payloadsJson(unique),
    JSON.stringify([...new Set(unique.map((item) => item.report.messageId))]),
    batchDocument(messages, MESSAGE_COLUMNS),
  ];
  let storedAlready: Set<string>;
  try {
    storedAlready = await withRetries(() =>
      writeTransaction({ setup: PREPARE_STATEMENTS, statement: { name: 'dlr_store_new_messages', text: STORE_NEW_MESSAGES, values }, read: storedMessageIds }),
    );
  } catch (error) {
    if (errorCode(error) !== UNIQUE_VIOLATION) throw error;
    return storeInTwoSteps(writeTransaction, items);
  }
  const written = unique.filter((item) => !storedAlready.has(item.report.messageId)).length;
  if (written === unique.length) return { stored: written, duplicates: items.length - written };
  const rest = await storeInTwoSteps(
    writeTransaction,
    items.filter((item) => storedAlready.has(item.report.messageId)),
  );
  return { stored: written + rest.stored, duplicates: items.length - written - rest.stored };
}

/** The items without a report seen earlier in the batch: the same report twice is kept once, as it came first. */
function firstOfEachReport(items: readonly ReportToStore[]): ReportToStore[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    if (seen.has(item.report.fingerprint)) return false;
    seen.add(item.report.fingerprint);
    return true;
  });
}

function storedMessageIds(rows: ReadonlyArray<Record<string, unknown>>): Set<string> {
  const ids = rows[0]?.stored;
  if (!Array.isArray(ids)) throw new Error('the new-message write returned no list of stored messages');
  return new Set(ids.map(String));
}

/** Reads the stored state of the reports' messages, then writes their new state. */
async function storeInTwoSteps(writeTransaction: WriteTransaction, items: readonly ReportToStore[]): Promise<StoreOutcome> {
  const messageIds = jsonLiteral([...new Set(items.map((item) => item.report.messageId))]);
  const first = `EXECUTE dlr_lock_messages(${messageIds});
    EXECUTE dlr_insert_reports(${documentLiteral(batchDocument(items, REPORT_COLUMNS))}, ${sqlLiteral(payloadsJson(items))}::json, ${messageIds})`;
  return withRetries(() => writeTransaction({ setup: PREPARE_STATEMENTS, first, then: (rows) => writeState(items, rows) }));
}

async function withRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let count = 1; ; count++) {
    try {
      return await attempt();
    } catch (error) {
      if (count >= ATTEMPTS || !isRetryable(error)) throw error;
    }
  }
}

/** A value as a json literal, for a script. */
function jsonLiteral(value: unknown): string {
  return `${sqlLiteral(JSON.stringify(value))}::json`;
}

/** A batch's document (see batch-rows) as a literal, for a script. */
function documentLiteral(document: string): string {
  return `${sqlLiteral(document)}::jsonb`;
}

/**
 * Locks the messages (`$1`, a json array of ids) until commit, so work on one message is
 * serialised across receivers. Advisory locks cost no row writes; taking them in the order of their
 * keys means two transactions never wait on each other in a circle. The statements after this one
 * see what the lock holders committed. One row, the number of locks, whatever the batch's size.
 */
export const LOCK_MESSAGES = `SELECT count(pg_advisory_xact_lock(key)) AS locks
    FROM (SELECT DISTINCT hashtextextended(id, ${LOCK_SEED}) AS key FROM json_array_elements_text($1) AS id ORDER BY key) AS keys`;

/** The columns a report is inserted with: its batch row's and its payload. */
const REPORT_INSERT_COLUMNS = [...columnNames(REPORT_COLUMNS), 'payload'];
const MESSAGE_INSERT_COLUMNS = columnNames(MESSAGE_COLUMNS);

/** Every column but the key, set from the row that conflicted (`ON CONFLICT … DO UPDATE`). */
function updateFromExcluded(columns: readonly string[], key: readonly string[]): string {
  return columns
    .filter((column) => !key.includes(column))
    .map((column) => `${column} = excluded.${column}`)
    .join(', ');
}

/** The columns of the row `alias`, but `seqColumn`, which holds a place: the seq `batch` gave that place instead. */
function withSeqOfPlace(columns: readonly string[], alias: string, seqColumn: string): string {
  return columns.map((column) => (column === seqColumn ? 'batch.seq' : `${alias}.${column}`)).join(', ');
}

/**
 * Inserts the reports (`$1`, their batch document, and `$2`, their payloads) that are not stored
 * yet (the same report twice, even in one call, is kept once), numbered in the batch's order, and,
 * in the same statement, reads the stored state of the messages (`$3`, a json array of ids) with
 * the deciding columns of their stored reports.
 */
const INSERT_REPORTS = `WITH inserted AS (
    INSERT INTO reports (${REPORT_INSERT_COLUMNS.join(', ')})
    SELECT ${REPORT_INSERT_COLUMNS.join(', ')} FROM (${rowsFrom('$1', REPORT_COLUMNS, '$2')}) AS batch ORDER BY ord
    ON CONFLICT (message_id, fingerprint) DO NOTHING
    RETURNING seq, fingerprint)
    SELECT (SELECT coalesce(json_agg(json_build_array(seq, fingerprint)), '[]') FROM inserted) AS inserted,
           ${storedMessages('$3')} AS messages`;

/**
 * Writes messages not stored yet, in one statement that is its own transaction: their reports
 * (`$1`, their batch document, and `$2`, their payloads) and the messages' state (`$4`, a batch
 * document, where `last_seq` holds the place of the report). First it locks the messages (`$3`, a
 * json array of ids), as LOCK_MESSAGES does: the lookup waits for the locks, and the inserts read
 * the lookup. It reads which of the messages are stored already and leaves their reports out: it
 * answers their ids, for the two-step write. A message not stored has no reports stored either
 * (both are written in one transaction), so the plain inserts conflict only with a message another
 * receiver committed while this statement waited for its lock, which the statement's snapshot,
 * taken before the wait, does not show: the insert then fails on the message's key (see
 * storeAsNewMessages).
 * Each message is looked up by its own key, for the reason given at `storedMessages`: as `EXISTS`,
 * PostgreSQL joined the ids to the whole messages table.
 * The reports take their seqs from the sequence in the batch's order before they are inserted
 * (PostgreSQL keeps a subquery with ORDER BY apart, so `nextval` runs over its sorted rows), so
 * the messages read each report's seq from `batch` by its place: numbered by the insert, they had
 * to be matched back to their places by a join on (message_id, fingerprint), which with the join
 * of the payloads cost PostgreSQL 7-9 % of its CPU per report (see BENCHMARKS.md).
 */
const STORE_NEW_MESSAGES = `WITH locked AS MATERIALIZED (${LOCK_MESSAGES.replace('$1', '$3::json')}),
    looked_up AS MATERIALIZED (
      SELECT (SELECT m.message_id FROM messages AS m WHERE m.message_id = wanted.id) AS id
      FROM json_array_elements_text($3::json) AS wanted (id)
      WHERE (SELECT locks FROM locked) IS NOT NULL),
    stored AS (SELECT id FROM looked_up WHERE id IS NOT NULL),
    batch AS MATERIALIZED (
      SELECT nextval('reports_seq_seq') AS seq, fresh.* FROM (
        SELECT * FROM (${rowsFrom('$1::jsonb', REPORT_COLUMNS, '$2::json')}) AS b
        WHERE message_id NOT IN (SELECT id FROM stored) ORDER BY ord) AS fresh),
    inserted AS (
      INSERT INTO reports (seq, ${REPORT_INSERT_COLUMNS.join(', ')})
      SELECT seq, ${REPORT_INSERT_COLUMNS.join(', ')} FROM batch),
    written_messages AS (
      INSERT INTO messages (${MESSAGE_INSERT_COLUMNS.join(', ')})
      SELECT ${withSeqOfPlace(MESSAGE_INSERT_COLUMNS, 'm', 'last_seq')}
      FROM (${rowsFrom('$4::jsonb', MESSAGE_COLUMNS)}) AS m JOIN batch ON batch.ord = m.last_seq)
    SELECT coalesce(json_agg(id), '[]') AS stored FROM stored`;

/**
 * The stored state of the messages (a json array literal of ids), each with the deciding columns
 * of its reports. Each message is read by its own key, and a stored message's reports by its id
 * (the reports' key begins with it), so a new message costs no lookup in `reports`. As one
 * `= ANY(ids)` filter, or a join, PostgreSQL scanned the whole messages table while it had no
 * statistics (a new database's first minutes), which made every batch slower than the last; a
 * subquery per id cannot be turned into either. Migration 20261123T1800 keeps the reports lookup
 * on its index whatever the table's statistics.
 */
export function storedMessages(messageIds: string): string {
  return `(SELECT coalesce(json_agg(found.state) FILTER (WHERE found.state IS NOT NULL), '[]')
    FROM (SELECT (SELECT json_build_object(
                   'message', m,
                   'reports', (SELECT coalesce(json_agg(r), '[]')
                               FROM (SELECT ${DECIDING_COLUMNS.join(', ')} FROM reports WHERE reports.message_id = m.message_id) AS r))
                 FROM messages AS m WHERE m.message_id = wanted.id) AS state
          FROM json_array_elements_text(${messageIds}) AS wanted (id)) AS found)`;
}

interface StoredState {
  readonly inserted: Array<[number, string]>;
  readonly messages: Array<{ message: JsonRow; reports: JsonRow[] }>;
}

/** From what the insert returned, plans the messages' new state, as the second step's script. */
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
  const storedReports = state.messages.flatMap(({ reports }) => reports.map(decidingFieldsFromJson));
  const nextRows = planMessageUpdates(messages, storedReports, fresh);
  return { script: `EXECUTE dlr_write_state(${documentLiteral(batchDocument(nextRows, MESSAGE_COLUMNS))})`, result: outcome };
}

/**
 * The batch's payloads, in its order, as one json array, apart from the rows' jsonb document: as
 * an element of a json array a payload is read once and stored as it came, where jsonb would sort
 * its keys, drop a duplicate key and refuse a `\u0000`.
 */
function payloadsJson(items: readonly ReportToStore[]): string {
  return `[${items.map((item) => item.payloadJson).join(',')}]`;
}

/** Rows read as JSON carry times as text; the rest of the types survive as they are. */
function messageRowFromJson(row: JsonRow): MessageRow {
  return { ...(row as unknown as MessageRow), first_report_at: timeOf(row.first_report_at), last_report_at: timeOf(row.last_report_at) };
}

function decidingFieldsFromJson(row: JsonRow): DecidingFields {
  return { ...(row as unknown as DecidingFields), report_timestamp: timeOf(row.report_timestamp) };
}

/** Writes the messages' new state (`$1`, a batch document). */
const WRITE_STATE = `INSERT INTO messages (${MESSAGE_INSERT_COLUMNS.join(', ')})
    SELECT ${MESSAGE_INSERT_COLUMNS.join(', ')} FROM (${rowsFrom('$1', MESSAGE_COLUMNS)}) AS m
    ON CONFLICT (message_id) DO UPDATE SET ${updateFromExcluded(MESSAGE_INSERT_COLUMNS, ['message_id'])}`;

/**
 * Each connection takes the write path's settings and prepares the two-step statements once; a
 * batch then EXECUTEs them with its values (the new-message statement is prepared by name by the
 * driver, or on the embedded database by PREPARE after this). DEALLOCATE ALL first: the embedded
 * database, one session, runs this again after one of its statements went missing, and must start
 * clean instead of failing on the ones it still has.
 */
export const PREPARE_STATEMENTS = `${WRITE_SESSION_SETTINGS};
  DEALLOCATE ALL;
  PREPARE dlr_lock_messages(json) AS ${LOCK_MESSAGES};
  PREPARE dlr_insert_reports(jsonb, json, json) AS ${INSERT_REPORTS};
  PREPARE dlr_write_state(jsonb) AS ${WRITE_STATE}`;

function isRetryable(error: unknown): boolean {
  return RETRYABLE_CODES.has(errorCode(error) ?? '');
}
