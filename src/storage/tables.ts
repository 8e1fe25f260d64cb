/** Row types of the tables the migrations create. */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

export interface ReportsTable {
  seq: Generated<number>;
  /** A uuid's text (see src/meaning/fingerprint.ts). */
  fingerprint: string;
  report_id: string;
  message_id: string;
  part: number | null;
  ref_id: string | null;
  result_code: number | null;
  result_description: string;
  status: string;
  final: boolean;
  delivery: string;
  billing: string;
  operator: string | null;
  operator_result_code: string | null;
  segments: number | null;
  sent_timestamp: Date | null;
  report_timestamp: Date | null;
  source: string | null;
  destination: string | null;
  /** An SMPP receipt's state word, err and its description; null for a REST report. */
  stat: string | null;
  err: string | null;
  err_description: string | null;
  format: string;
  gate: string | null;
  remote_address: string | null;
  received_at: Date;
  /** Written as JSON text, read back as the object. */
  payload: ColumnType<unknown, string, string>;
}

export interface MessagesTable {
  message_id: string;
  ref_id: string | null;
  status: Generated<string>;
  final: Generated<boolean>;
  segments_reported: number | null;
  total: Generated<number>;
  delivered: Generated<number>;
  failed: Generated<number>;
  unknown: Generated<number>;
  pending: Generated<number>;
  result_code: number | null;
  result_description: string | null;
  operator: string | null;
  source: string | null;
  destination: string | null;
  first_report_at: Date | null;
  last_report_at: Date | null;
  last_seq: number | null;
}

export interface RejectedRequestsTable {
  id: Generated<number>;
  received_at: Date;
  remote_address: string | null;
  method: string;
  path: string;
  content_type: string | null;
  reason: string;
  body: string;
  /**
   * The body's size as it arrived, in bytes; null for requests kept before it was recorded, and
   * for a body over the limit whose Content-Length gave none, or one past 2 GiB.
   */
  body_bytes: number | null;
  /** What makes two requests the same request arriving again; null for those kept before it was recorded. */
  digest: string | null;
  /** How many times the same request had arrived with this try, counted along the tries kept. */
  times: Generated<number>;
  /** When the same request first arrived; null where that is `received_at`. */
  first_received_at: Date | null;
}

export interface Tables {
  reports: ReportsTable;
  messages: MessagesTable;
  rejected_requests: RejectedRequestsTable;
}

export type ReportRow = Selectable<ReportsTable>;
export type NewReportRow = Insertable<ReportsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type RejectedRequestRow = Selectable<RejectedRequestsTable>;
