/** What every format reader gives: checked reports, each with its payload as read. */
import type { DeliveryReport } from '../meaning/delivery-report.js';

export interface ReadReport {
  readonly report: DeliveryReport;
  /** The report as it arrived: the JSON object, or the object XML or key/value pairs were read into. */
  readonly payload: unknown;
  /** The payload's JSON text exactly as it arrived, when the body was this one report alone. */
  readonly payloadText?: string;
}

export type ReportFormat = 'json' | 'xml' | 'form' | 'query';

/** A JSON array may carry several reports; past this many the request is refused whole. */
export const MAX_REPORTS_PER_REQUEST = 1000;
