/** Gives a delivery report its meaning: which message and part it speaks for, and what its code says. */
import type { DeliveryReport } from './delivery-report.js';
import { textProblem } from './delivery-report.js';
import type { Billing, Delivery, ReportStatus } from './result-codes.js';
import { meaningOfResultCode } from './result-codes.js';
import { fingerprintOfFacts, isoTimeOrNull } from './fingerprint.js';
import { parseReportId } from './report-id.js';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';

export interface InterpretedReport {
  /** The id as the report gave it, e.g. `abc$1`. */
  readonly reportId: string;
  readonly messageId: string;
  readonly part: number | null;
  readonly refId: string | null;
  readonly operator: string | null;
  readonly operatorResultCode: string | null;
  readonly segments: number | null;
  readonly sentTimestamp: Date | null;
  readonly timestamp: Date | null;
  readonly resultCode: number | null;
  readonly resultDescription: string;
  readonly status: ReportStatus;
  readonly final: boolean;
  readonly delivery: Delivery;
  readonly billing: Billing;
  /** From `customParameters`, where LINK copies the original request's addresses. */
  readonly source: string | null;
  readonly destination: string | null;
  /** An SMPP receipt's state word, `err` and the err's description; null for a REST report. */
  readonly stat: string | null;
  readonly err: string | null;
  readonly errDescription: string | null;
  /** Equal for the same report delivered again, so a retry is stored once. */
  readonly fingerprint: string;
}

export function interpretReport(report: DeliveryReport): Result<InterpretedReport> {
  const target = parseReportId(report.id);
  if (!target.ok) return problem(target.problem);
  const meaning = meaningOfResultCode(report.resultCode);
  const source = textParameter(report.customParameters, 'source');
  if (!source.ok) return source;
  const destination = textParameter(report.customParameters, 'destination');
  if (!destination.ok) return destination;
  return ok({
    reportId: report.id,
    messageId: target.target.messageId,
    part: target.target.part,
    refId: report.refId,
    operator: report.operator,
    operatorResultCode: report.operatorResultCode,
    segments: report.segments,
    sentTimestamp: report.sentTimestamp,
    timestamp: report.timestamp,
    resultCode: report.resultCode,
    resultDescription: meaning.description,
    status: meaning.status,
    final: meaning.final,
    delivery: meaning.delivery,
    billing: meaning.billing,
    source: source.value,
    destination: destination.value,
    stat: null,
    err: null,
    errDescription: null,
    fingerprint: fingerprintOf(report),
  });
}

/**
 * What makes two reports the same report: LINK resends a report unchanged until it gets a 200, so
 * the reported facts identify it. The format and gate it came through do not: the same report sent
 * to two gates is still one report.
 */
function fingerprintOf(report: DeliveryReport): string {
  const facts = [
    report.id,
    report.resultCode,
    isoTimeOrNull(report.timestamp),
    isoTimeOrNull(report.sentTimestamp),
    report.operator,
    report.operatorResultCode,
    report.segments,
    report.refId,
  ];
  return fingerprintOfFacts(facts);
}

/** A custom parameter kept in its own column; refused when it could not be stored as text. */
function textParameter(parameters: Readonly<Record<string, unknown>>, name: string): Result<string | null> {
  const value = parameters[name];
  if (typeof value === 'number') return ok(String(value));
  if (typeof value !== 'string' || value === '') return ok(null);
  const unstorable = textProblem(value);
  return unstorable === null ? ok(value) : problem(`customParameters.${name} ${unstorable}`);
}
