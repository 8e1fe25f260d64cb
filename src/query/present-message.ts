/** The query API's JSON for a stored message, as the contract shows it. */
import { messageState } from '../meaning/message-state.js';
import type { ReportStatus } from '../meaning/result-codes.js';
import type { StoredMessage, StoredReport } from '../storage/read-messages.js';
import { rfc3339 } from './time.js';

export function presentMessage({ message, deciders, reports }: StoredMessage) {
  const ranked = (report: StoredReport) => ({ report, seq: report.seq, status: report.status as ReportStatus, final: report.final });
  const parts = new Map<number, ReturnType<typeof ranked>>();
  let whole: ReturnType<typeof ranked> | null = null;
  for (const { part, report } of deciders) {
    if (part === null) whole = ranked(report);
    else parts.set(part, ranked(report));
  }
  const state = messageState({ segments: message.segments_reported, parts, whole });

  return {
    messageId: message.message_id,
    refId: message.ref_id,
    status: message.status,
    final: message.final,
    resultCode: message.result_code,
    resultDescription: message.result_description,
    operator: message.operator,
    source: message.source,
    destination: message.destination,
    segments: {
      total: message.total,
      delivered: message.delivered,
      failed: message.failed,
      unknown: message.unknown,
      pending: message.pending,
    },
    parts: state.decided.map(({ part, report }) => presentPart(part, report.report)),
    reports: reports.map(presentReport),
    firstReportAt: rfc3339(message.first_report_at),
    lastReportAt: rfc3339(message.last_report_at),
  };
}

function presentPart(part: number, report: StoredReport) {
  return {
    part,
    status: report.status,
    final: report.final,
    resultCode: report.result_code,
    resultDescription: report.result_description,
    delivery: report.delivery,
    billing: report.billing,
    operator: report.operator,
    operatorResultCode: report.operator_result_code,
    sentTimestamp: rfc3339(report.sent_timestamp),
    timestamp: rfc3339(report.report_timestamp),
    receivedAt: rfc3339(report.received_at),
    ...receiptFields(report),
  };
}

/** An SMPP receipt has no result code: it carries its `stat`, `err` and the err's description instead. */
function receiptFields(report: StoredReport) {
  if (report.format !== 'smpp') return {};
  return { stat: report.stat, err: report.err, errDescription: report.err_description };
}

function presentReport(report: StoredReport) {
  return {
    id: report.report_id,
    part: report.part,
    resultCode: report.result_code,
    status: report.status,
    final: report.final,
    format: report.format,
    gate: report.gate,
    receivedAt: rfc3339(report.received_at),
    ...receiptFields(report),
    payload: report.payload,
  };
}

export type MessageJson = ReturnType<typeof presentMessage>;
