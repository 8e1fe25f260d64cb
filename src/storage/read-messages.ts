/**
 * Reads messages back for the query API: the message row, every report, and among them each
 * part's deciding report. One round trip per lookup or page: each message row comes with its
 * reports aggregated as JSON. A lookup by id reads the message's reports alone and works its row
 * out from them (see findMessage). Built with Kysely, run as statements each connection prepares
 * once.
 */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import { sql } from 'kysely';
import { decidersByPart } from '../meaning/deciding-report.js';
import { parseReportId } from '../meaning/report-id.js';
import type { Database } from './database.js';
import type { JsonRow } from './json-rows.js';
import { timeOf } from './json-rows.js';
import type { MessageFactFields } from './plan-message-update.js';
import { messageRowFromReports } from './plan-message-update.js';
import type { MessageRow, ReportRow, Tables } from './tables.js';

/** The columns of a report that the query API shows, read as one. */
const STORED_REPORT_COLUMNS = [
  'seq',
  'report_id',
  'part',
  'result_code',
  'result_description',
  'status',
  'final',
  'delivery',
  'billing',
  'operator',
  'operator_result_code',
  'sent_timestamp',
  'report_timestamp',
  'stat',
  'err',
  'err_description',
  'format',
  'gate',
  'received_at',
  'payload',
] as const satisfies ReadonlyArray<keyof ReportRow>;

/** The columns of a report that hold times. */
type TimeColumns = 'sent_timestamp' | 'report_timestamp' | 'received_at';

/**
 * A stored report as the API shows it. Its times stay the text PostgreSQL wrote into JSON (RFC 3339
 * with an offset): the API writes them out as text again, and reading each into a Date and writing
 * that out was about a third of the time shaping a page of messages took (see BENCHMARKS.md).
 */
export type StoredReport = Omit<Pick<ReportRow, (typeof STORED_REPORT_COLUMNS)[number]>, TimeColumns> & {
  readonly sent_timestamp: string | null;
  readonly report_timestamp: string | null;
  readonly received_at: string;
};

export interface StoredMessage {
  readonly message: MessageRow;
  /** Deciding reports by part; part null is the deciding whole-message report. */
  readonly deciders: ReadonlyArray<{ readonly part: number | null; readonly report: StoredReport }>;
  /** Every report of the message, oldest first. */
  readonly reports: readonly StoredReport[];
}

interface DetailColumns {
  report_rows: JsonRow[];
}

/** The columns a lookup by id reads besides, to work out the message's row from its reports. */
const MESSAGE_FACT_COLUMNS = ['message_id', 'ref_id', 'segments', 'source', 'destination'] as const satisfies ReadonlyArray<keyof ReportRow>;

/**
 * The column lists as SQL, made once: built from a reference per column on every request, they
 * were most of the 16-18 µs Kysely took to write each lookup's statement (2-6 µs without them, see
 * BENCHMARKS.md). The names are fixed lower-case identifiers, so they need no quoting.
 */
const STORED_REPORT_LIST = sql.raw(STORED_REPORT_COLUMNS.join(', '));
const LOOKUP_REPORT_LIST = sql.raw([...STORED_REPORT_COLUMNS, ...MESSAGE_FACT_COLUMNS].join(', '));

/**
 * A message by its id, or by the id of one of its parts (`abc$1`); an exact id wins. Its row is
 * worked out from its reports, by the rules the writes follow, instead of read: the message's key
 * and row are two more pages to read, and with 10 million reports, often from the disk. A lookup
 * of reports alone took PostgreSQL half the time (see BENCHMARKS.md).
 */
export async function findMessage({ db, readRows }: MessageReader, id: string): Promise<StoredMessage | undefined> {
  const [row] = await readRows(findMessageQuery(db, id));
  // findMessageQuery reads the message's facts beside the columns shown.
  const reports = (row?.report_rows ?? []) as unknown as Array<StoredReport & Omit<MessageFactFields, TimeColumns>>;
  const messageId = reports.some((report) => report.message_id === id) ? id : reports[0]?.message_id;
  if (messageId === undefined) return undefined;
  const own = reports.filter((report) => report.message_id === messageId);
  return withDeciders(messageRowFromReports(messageId, own.map(withTimesRead)), own);
}

/** The report with the times the message's rules compare, read into Dates. */
function withTimesRead(report: Omit<MessageFactFields, TimeColumns> & Pick<StoredReport, TimeColumns>): MessageFactFields {
  return { ...report, report_timestamp: timeOf(report.report_timestamp), received_at: timeOf(report.received_at) ?? new Date(0) };
}

/** Reads with the builder of `db` and runs with `readRows`, as `Database` gives them. */
export type MessageReader = Pick<Database, 'db' | 'readRows'>;

/** The reports of the message `id`, and of the message `abc` when `id` names its part (`abc$1`). */
export function findMessageQuery(db: Kysely<Tables>, id: string) {
  const target = parseReportId(id);
  const candidates = target.ok && target.target.part !== null ? [id, target.target.messageId] : [id];
  return db
    .selectNoFrom(
      sql<JsonRow[]>`(SELECT coalesce(json_agg(r ORDER BY r.seq), '[]')
        FROM (SELECT ${LOOKUP_REPORT_LIST} FROM reports WHERE message_id IN (${sql.join(candidates)})) AS r)`.as('report_rows'),
    )
    .compile();
}

export interface MessageFilter {
  readonly refId?: string;
  /** Messages sent to this number, its leading `+` or none (see destinationIs). */
  readonly destination?: string;
  /** Messages of any of these statuses; all of them when absent. */
  readonly statuses?: readonly string[];
  /** Messages showing this result code (that of the deciding report received last among their parts). */
  readonly resultCode?: number;
  /** Messages whose newest report was received at or after this time. */
  readonly since?: Date;
  /** Messages whose newest report was received before this time. */
  readonly until?: Date;
  /** Keyset cursor: only messages that come after this place, newest report first. */
  readonly before?: ListingPlace;
  readonly limit: number;
}

/**
 * A message's place in the listing: when its newest report was received, in microseconds since
 * 1970 (the database's own precision, so that no message shares a place by rounding), and that
 * report's arrival number, which orders messages received in the same microsecond.
 */
export interface ListingPlace {
  readonly receivedAtMicros: number;
  readonly seq: number;
}

/** A message row's ListingPlace's time, selected as `place_micros`. */
export const PLACE_MICROS = sql<number>`(extract(epoch FROM last_report_at) * 1000000)::int8`;

/**
 * Messages sent to `number`, with or without the `+` before it on either side: LINK's REST reports
 * write `+4799999999`, an SMPP receipt's address and people often `4799999999`. The left side is
 * the expression `messages_destination_idx` leads with, so the match is a range of it.
 */
export function destinationIs(number: string) {
  return sql<boolean>`ltrim(destination, '+') = ltrim(${number}, '+')`;
}

/** Messages listed before (`<`) or after (`>`) `place`, as a range of the listing indexes. */
export function listedBeside(side: '<' | '>', place: ListingPlace) {
  const at = sql`(timestamptz 'epoch' + ${place.receivedAtMicros}::int8 * interval '1 microsecond', ${place.seq}::int8)`;
  return sql<boolean>`(last_report_at, last_seq) ${sql.raw(side)} ${at}`;
}

export interface MessagePage {
  readonly messages: StoredMessage[];
  /** Where the next page starts, or null on the last page. */
  readonly nextBefore: ListingPlace | null;
}

/** Messages newest report first, a page at a time; each page costs the same however deep it is. */
export async function listMessages({ db, readRows }: MessageReader, filter: MessageFilter): Promise<MessagePage> {
  const rows = await readRows(listMessagesQuery(db, filter));
  const page = rows.slice(0, filter.limit);
  const lastOfPage = page.at(-1);
  return {
    messages: page.map(storedMessage),
    nextBefore:
      rows.length > filter.limit && lastOfPage?.last_seq != null ? { receivedAtMicros: lastOfPage.place_micros, seq: lastOfPage.last_seq } : null,
  };
}

/**
 * One row more than the page: whether it comes says whether there is a next page. The time bounds
 * and the cursor are ranges of the listing indexes (time received, then arrival number), so a page
 * costs the same at any depth and for any window, however few messages fall in it.
 */
export function listMessagesQuery(db: Kysely<Tables>, filter: MessageFilter) {
  const [only, ...more] = filter.statuses ?? [];
  if (only === undefined || more.length === 0) return pageQuery(withDetails(filteredMessages(db, filter, only)), filter.limit);
  // Several statuses: a page of each from its range of the status index, merged in listing order.
  // One range for all (`status IN (…)`) comes out of the index in status order, so every message of
  // those statuses would be read and sorted for each page. Named as the table, the merge reads as
  // the table does. Kysely puts each page in parentheses, its ORDER BY and LIMIT kept.
  const pages = [only, ...more].map((status) => inListingOrder(filteredMessages(db, filter, status), filter.limit));
  const merged = sql<MessageRow>`(${sql.join(pages, sql` UNION ALL `)})`;
  return pageQuery(withDetails(db.selectFrom(merged.as('messages')).selectAll('messages')), filter.limit);
}

/** The messages the filter names, of the one status given or of any. */
function filteredMessages(db: Kysely<Tables>, filter: MessageFilter, status: string | undefined) {
  let query = db.selectFrom('messages').selectAll('messages').where('last_report_at', 'is not', null);
  if (filter.refId !== undefined) query = query.where('ref_id', '=', filter.refId);
  if (filter.destination !== undefined) query = query.where(destinationIs(filter.destination));
  if (status !== undefined) query = query.where('status', '=', status);
  // No index has it: the messages of the other filters are read along theirs and this one kept.
  if (filter.resultCode !== undefined) query = query.where('result_code', '=', filter.resultCode);
  if (filter.since !== undefined) query = query.where('last_report_at', '>=', filter.since);
  if (filter.until !== undefined) query = query.where('last_report_at', '<', filter.until);
  if (filter.before !== undefined) query = query.where(listedBeside('<', filter.before));
  return query;
}

/** Newest report first, one row more than the page. */
function inListingOrder<DB extends { messages: object }, O>(query: SelectQueryBuilder<DB, 'messages', O>, limit: number) {
  return query.orderBy(sql`last_report_at`, 'desc').orderBy(sql`last_seq`, 'desc').limit(limit + 1);
}

/** The page's statement, each message with its place for the next page's cursor. */
function pageQuery<DB extends { messages: object }, O>(query: SelectQueryBuilder<DB, 'messages', O>, limit: number) {
  return inListingOrder(query.select(PLACE_MICROS.as('place_micros')), limit).compile();
}

/**
 * Each message with its reports as JSON. Only the columns the API shows are aggregated: the whole
 * row (its key, fingerprint, numbers and address too) made a refId lookup's JSON about a third
 * larger, for PostgreSQL to write and the receiver to read.
 */
function withDetails<DB extends { messages: object }, O>(query: SelectQueryBuilder<DB, 'messages', O>) {
  return query.select(
    sql<JsonRow[]>`(SELECT coalesce(json_agg(r ORDER BY r.seq), '[]')
      FROM (SELECT ${STORED_REPORT_LIST} FROM reports WHERE reports.message_id = messages.message_id) AS r)`.as(
      'report_rows',
    ),
  );
}

/** Rows read as JSON carry times as text (kept so, see StoredReport); the other types, and the payload, survive as they are. */
function storedMessage({ report_rows, ...message }: MessageRow & DetailColumns): StoredMessage {
  return withDeciders(message, report_rows as unknown as StoredReport[]);
}

function withDeciders(message: MessageRow, reports: StoredReport[]): StoredMessage {
  const ranked = reports.map((report) => ({ report, part: report.part, final: report.final, timestamp: timeOf(report.report_timestamp), seq: report.seq }));
  const deciders = [...decidersByPart(ranked)].map(([part, { report }]) => ({ part, report }));
  return { message, deciders, reports };
}
