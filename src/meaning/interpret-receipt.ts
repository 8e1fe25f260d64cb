/**
 * Gives an SMPP delivery receipt the same meaning a REST report gets: which message and part it
 * speaks for, and its status from `stat`. It has no result code; it carries `stat`, `err` and the
 * err's description instead.
 */
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import type { DeliveryReceipt } from './delivery-receipt.js';
import type { InterpretedReport } from './interpret-report.js';
import { meaningOfStat } from './receipt-states.js';
import { fingerprintOfFacts, isoTimeOrNull } from './fingerprint.js';
import { parseReportId } from './report-id.js';
import { describeErr } from './smpp-error-codes.js';

export function interpretReceipt(receipt: DeliveryReceipt): Result<InterpretedReport> {
  const target = parseReportId(receipt.id);
  if (!target.ok) return problem(target.problem);
  const meaning = meaningOfStat(receipt.stat);
  return ok({
    reportId: receipt.id,
    messageId: target.target.messageId,
    part: target.target.part,
    refId: null,
    operator: null,
    operatorResultCode: null,
    segments: null,
    sentTimestamp: receipt.submitDate,
    timestamp: receipt.doneDate,
    resultCode: null,
    resultDescription: meaning.description,
    status: meaning.status,
    final: meaning.final,
    delivery: meaning.delivery,
    // A receipt does not say whether the message was billed.
    billing: 'UNKNOWN',
    source: receipt.source,
    destination: receipt.destination,
    stat: receipt.stat === null ? null : receipt.stat.toUpperCase(),
    err: receipt.err,
    errDescription: receipt.err === null ? null : describeErr(receipt.err),
    fingerprint: fingerprintOf(receipt),
  });
}

/** The gateway redelivers a receipt it got no answer for unchanged: the same facts are the same receipt. */
function fingerprintOf(receipt: DeliveryReceipt): string {
  const facts = [
    'smpp',
    receipt.id,
    receipt.stat,
    receipt.err,
    isoTimeOrNull(receipt.submitDate),
    isoTimeOrNull(receipt.doneDate),
    receipt.submitted,
    receipt.delivered,
  ];
  return fingerprintOfFacts(facts);
}
