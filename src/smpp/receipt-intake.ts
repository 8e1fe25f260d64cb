/**
 * What the receiver does with a `deliver_sm` (or a `data_sm`), and which command status its answer carries.
 * A receipt goes through the same storage path as an HTTP report (format `smpp`), and `ESME_ROK` is
 * answered only once it is committed or safe in the journal; when it cannot be made durable, a
 * temporary error makes the gateway deliver it again. A `deliver_sm` that is not a receipt, or a
 * receipt that cannot be read, is kept among the rejected requests and answered `ESME_ROK`: with a
 * window of one, an error would make the gateway resend it forever and hold back every receipt
 * behind it. A receipt with a date that cannot be read is stored without that date.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { DeliverSm } from '../intake/read-receipt.js';
import { readDeliverSm } from '../intake/read-receipt.js';
import type { ReportSink } from '../intake/report-sink.js';
import { errorSummary } from '../lib/error-summary.js';
import { logSparingly } from '../lib/log-sparingly.js';
import { interpretReceipt } from '../meaning/interpret-receipt.js';
import type { RejectedRequest } from '../storage/rejected-requests.js';
import { isDataError } from '../storage/report-batcher.js';
import { COMMAND_STATUS } from './smpp-library.js';

export interface ReceiptIntakeOptions {
  readonly sink: ReportSink;
  readonly keepRejected: (request: RejectedRequest) => Promise<void>;
  readonly logger: FastifyBaseLogger;
}

/** Where a `deliver_sm` came from: the gateway's address and the `smpp://host:port` it was bound at. */
export interface Gateway {
  readonly remoteAddress: string | null;
  readonly label: string;
}

/**
 * The PDU a receipt came in: `deliver_sm`, as LINK's gateway sends them, or `data_sm`, which SMPP
 * 3.4 (4.7) lets a gateway use for receipts too. Both are read alike and answered once stored.
 */
export type ReceiptCommand = 'deliver_sm' | 'data_sm';

export type DeliverSmHandler = (deliverSm: DeliverSm, gateway: Gateway, command: ReceiptCommand) => Promise<number>;

/** A gateway that writes its dates in a way of its own does so in every receipt: a line a minute says so. */
const UNREAD_DATE_LOG_MS = 60_000;

export function receiptIntake(options: ReceiptIntakeOptions): DeliverSmHandler {
  const { sink, logger } = options;
  const logUnreadDate = logSparingly(UNREAD_DATE_LOG_MS);

  const keep = async (gateway: Gateway, command: ReceiptCommand, reason: string, text: string, receivedAt: Date): Promise<number> => {
    const body = Buffer.from(text);
    try {
      await options.keepRejected({
        receivedAt,
        remoteAddress: gateway.remoteAddress,
        method: command,
        path: gateway.label,
        contentType: null,
        reason,
        body,
        bodyBytes: body.length,
      });
      return COMMAND_STATUS.ok;
    } catch (error) {
      logger.error({ err: errorSummary(error), command }, 'could not keep a receipt PDU that was not stored: answering a temporary error');
      return COMMAND_STATUS.temporaryAppError;
    }
  };

  return async (deliverSm, gateway, command) => {
    const receivedAt = new Date();
    const reading = readDeliverSm(deliverSm);
    if (reading.kind === 'not a receipt') {
      logger.info({ esmClass: deliverSm.esmClass, command }, `a ${command} that is not a delivery receipt: kept among the rejected requests`);
      return keep(gateway, command, 'not a delivery receipt (an incoming message): acknowledged, not stored as a report', reading.text, receivedAt);
    }
    if (reading.kind === 'unreadable') {
      logger.warn({ reason: reading.problem }, 'receipt refused: kept among the rejected requests');
      return keep(gateway, command, reading.problem, reading.text, receivedAt);
    }
    const report = interpretReceipt(reading.receipt);
    if (!report.ok) {
      logger.warn({ reason: report.problem }, 'receipt refused: kept among the rejected requests');
      return keep(gateway, command, report.problem, reading.payload.short_message, receivedAt);
    }
    const [unreadDate] = reading.unreadDates;
    if (unreadDate !== undefined) {
      logUnreadDate((suppressed) => {
        logger.warn({ reason: unreadDate, alsoUnreadSinceLastLine: suppressed }, 'a receipt date could not be read: the receipt is stored without it');
      });
    }
    try {
      // The command first: which PDU carried the receipt, as `/rejected` names it for one refused.
      const payload = { command, ...reading.payload };
      await sink.store([{ report: report.value, payloadJson: JSON.stringify(payload), format: 'smpp', gate: null, remoteAddress: gateway.remoteAddress, receivedAt }]);
      return COMMAND_STATUS.ok;
    } catch (error) {
      if (isDataError(error)) {
        logger.warn({ err: errorSummary(error) }, 'the database refused a receipt: kept among the rejected requests');
        return keep(gateway, command, `the database refused the receipt: ${errorSummary(error).message}`, reading.payload.short_message, receivedAt);
      }
      logger.error({ err: errorSummary(error) }, 'receipt not stored: answering a temporary error so the gateway delivers it again');
      return COMMAND_STATUS.temporaryAppError;
    }
  };
}
