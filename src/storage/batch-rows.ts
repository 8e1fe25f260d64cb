/**
 * How a batch's rows travel to PostgreSQL: as one jsonb document per table, an array of rows, each
 * row an array of its values in the order of its columns, which `rowsFrom` unpacks in SQL.
 *
 * Values by place cost less at both ends than an object per row: JSON.stringify writes no keys, and
 * PostgreSQL reads each value by its place in a parsed jsonb array, where json_to_recordset built a
 * table of every object's keys and matched each column by name, and took about half again as long
 * to read the rows. Times travel as milliseconds since the epoch: formatting a Date as text took
 * the receiver longer than the rest of the row, and PostgreSQL reads a number faster than a
 * date-time text.
 */
import type { MessageRow } from './tables.js';
import type { ReportToStore } from './write-reports.js';

type BatchValue = string | number | boolean | null;

export interface Column<T> {
  readonly name: string;
  /** The column's SQL type; a `timestamptz` travels as milliseconds since the epoch. */
  readonly type: string;
  readonly value: (row: T) => BatchValue;
}

/** A report's columns but its payload, which travels apart (see `payloadsJson` in write-reports). */
export const REPORT_COLUMNS: ReadonlyArray<Column<ReportToStore>> = [
  { name: 'fingerprint', type: 'uuid', value: ({ report }) => report.fingerprint },
  { name: 'report_id', type: 'text', value: ({ report }) => report.reportId },
  { name: 'message_id', type: 'text', value: ({ report }) => report.messageId },
  { name: 'part', type: 'smallint', value: ({ report }) => report.part },
  { name: 'ref_id', type: 'text', value: ({ report }) => report.refId },
  { name: 'result_code', type: 'integer', value: ({ report }) => report.resultCode },
  { name: 'result_description', type: 'text', value: ({ report }) => report.resultDescription },
  { name: 'status', type: 'text', value: ({ report }) => report.status },
  { name: 'final', type: 'boolean', value: ({ report }) => report.final },
  { name: 'delivery', type: 'text', value: ({ report }) => report.delivery },
  { name: 'billing', type: 'text', value: ({ report }) => report.billing },
  { name: 'operator', type: 'text', value: ({ report }) => report.operator },
  { name: 'operator_result_code', type: 'text', value: ({ report }) => report.operatorResultCode },
  { name: 'segments', type: 'smallint', value: ({ report }) => report.segments },
  { name: 'sent_timestamp', type: 'timestamptz', value: ({ report }) => epochMs(report.sentTimestamp) },
  { name: 'report_timestamp', type: 'timestamptz', value: ({ report }) => epochMs(report.timestamp) },
  { name: 'source', type: 'text', value: ({ report }) => report.source },
  { name: 'destination', type: 'text', value: ({ report }) => report.destination },
  { name: 'stat', type: 'text', value: ({ report }) => report.stat },
  { name: 'err', type: 'text', value: ({ report }) => report.err },
  { name: 'err_description', type: 'text', value: ({ report }) => report.errDescription },
  { name: 'format', type: 'text', value: (item) => item.format },
  { name: 'gate', type: 'text', value: (item) => item.gate },
  { name: 'remote_address', type: 'text', value: (item) => item.remoteAddress },
  { name: 'received_at', type: 'timestamptz', value: (item) => item.receivedAt.getTime() },
];

export const MESSAGE_COLUMNS: ReadonlyArray<Column<MessageRow>> = [
  { name: 'message_id', type: 'text', value: (row) => row.message_id },
  { name: 'ref_id', type: 'text', value: (row) => row.ref_id },
  { name: 'status', type: 'text', value: (row) => row.status },
  { name: 'final', type: 'boolean', value: (row) => row.final },
  { name: 'segments_reported', type: 'smallint', value: (row) => row.segments_reported },
  { name: 'total', type: 'smallint', value: (row) => row.total },
  { name: 'delivered', type: 'smallint', value: (row) => row.delivered },
  { name: 'failed', type: 'smallint', value: (row) => row.failed },
  { name: 'unknown', type: 'smallint', value: (row) => row.unknown },
  { name: 'pending', type: 'smallint', value: (row) => row.pending },
  { name: 'result_code', type: 'integer', value: (row) => row.result_code },
  { name: 'result_description', type: 'text', value: (row) => row.result_description },
  { name: 'operator', type: 'text', value: (row) => row.operator },
  { name: 'source', type: 'text', value: (row) => row.source },
  { name: 'destination', type: 'text', value: (row) => row.destination },
  { name: 'first_report_at', type: 'timestamptz', value: (row) => epochMs(row.first_report_at) },
  { name: 'last_report_at', type: 'timestamptz', value: (row) => epochMs(row.last_report_at) },
  { name: 'last_seq', type: 'bigint', value: (row) => row.last_seq },
];

/** The rows as the batch's jsonb document. */
export function batchDocument<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  return JSON.stringify(rows.map((row) => columns.map((column) => column.value(row))));
}

/**
 * SQL reading a batch's document (`document`, an SQL expression of type jsonb) as a table of the
 * columns, each row with its place `ord` in the batch, from 1. With `payloads` (a json array in the
 * same order), each row also has its element as `payload`, read beside the document in one scan
 * rather than joined to it by place.
 */
export function rowsFrom<T>(document: string, columns: ReadonlyArray<Column<T>>, payloads?: string): string {
  const values = columns.map((column, index) => `${valueAt(index, column.type)} AS ${column.name}`).join(', ');
  if (payloads === undefined) return `SELECT ${values}, rows.ord FROM jsonb_array_elements(${document}) WITH ORDINALITY AS rows (row, ord)`;
  return `SELECT ${values}, rows.payload, rows.ord
      FROM ROWS FROM (jsonb_array_elements(${document}), json_array_elements(${payloads})) WITH ORDINALITY AS rows (row, payload, ord)`;
}

export function columnNames<T>(columns: ReadonlyArray<Column<T>>): string[] {
  return columns.map((column) => column.name);
}

function valueAt(index: number, type: string): string {
  const text = `(rows.row->>${index})`;
  if (type === 'timestamptz') return timeFromEpochMs(`${text}::bigint`);
  return type === 'text' ? text : `${text}::${type}`;
}

/**
 * Whole seconds and the milliseconds apart: `to_timestamp(ms / 1000.0)` goes through a double of
 * microseconds, which past the year 2255 is off by some microseconds (…59.123 became …59.122976).
 */
function timeFromEpochMs(ms: string): string {
  return `to_timestamp(div(${ms}, 1000)) + mod(${ms}, 1000) * interval '1 millisecond'`;
}

function epochMs(time: Date | null): number | null {
  return time === null ? null : time.getTime();
}
