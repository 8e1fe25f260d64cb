/**
 * LINK's result-code table ("Result Codes" in the SMS REST API document, v1.15), one row per code,
 * with its description and "Transaction State" column as printed there.
 */

/** Every value of each, for reading them back from stored rows. */
export const DELIVERIES = ['DELIVERED', 'NOT_DELIVERED', 'UNKNOWN'] as const;
export const BILLINGS = ['BILLED', 'NOT_BILLED', 'UNKNOWN'] as const;
export const REPORT_STATUSES = ['delivered', 'failed', 'pending', 'unknown'] as const;

export type Delivery = (typeof DELIVERIES)[number];
export type Billing = (typeof BILLINGS)[number];
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export interface ResultCodeMeaning {
  readonly resultCode: number;
  readonly description: string;
  readonly final: boolean;
  readonly delivery: Delivery;
  readonly billing: Billing;
  readonly status: ReportStatus;
}

type Row = readonly [code: number, description: string, final: boolean, delivery: Delivery, billing: Billing];

const FINAL = true;
const TEMP = false;

// 2103's state lacks the FINAL/TEMP prefix in the document; it is a permanent refusal, so final.
const ROWS: readonly Row[] = [
  [0, 'Unknown error', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1, 'Temporary routing error', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2, 'Permanent routing error', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [3, 'Maximum throttling exceeded', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4, 'Timeout', FINAL, 'UNKNOWN', 'UNKNOWN'],
  [5, 'Operator unknown error', FINAL, 'UNKNOWN', 'UNKNOWN'],
  [6, 'Operator error', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [104, 'Configuration error', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [105, 'Internal error (internal Link Mobility error)', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1000, 'Sent (to operator)', TEMP, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1001, 'Billed and delivered', FINAL, 'DELIVERED', 'BILLED'],
  [1002, 'Expired', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1003, 'Deleted', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1004, 'Mobile full', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1005, 'Queued', TEMP, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1006, 'Not delivered', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1007, 'Delivered, Billed delayed', TEMP, 'DELIVERED', 'NOT_BILLED'],
  [1008, 'Billed OK (charged OK before sending message)', TEMP, 'NOT_DELIVERED', 'BILLED'],
  [1009, 'Billed OK and NOT Delivered', FINAL, 'NOT_DELIVERED', 'BILLED'],
  [1010, 'Expired, absence of operator delivery report', FINAL, 'UNKNOWN', 'UNKNOWN'],
  [1011, 'Billed OK and sent (to operator)', TEMP, 'NOT_DELIVERED', 'BILLED'],
  [1012, 'Delayed (temporary billing error, system will try to resend)', TEMP, 'NOT_DELIVERED', 'NOT_BILLED'],
  [1013, 'Message sent to operator, Bill delayed', TEMP, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2000, 'Invalid source, the specified source number or Alpha is invalid', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2001, 'Source shortnumber not supported, the source TON may not be set to shortnumber', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2002, 'Source alpha not supported, the source TON may not be set to alpha', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2003, 'Source MSISDN not supported, the source TON may not be set to MSISD', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2100, 'Destination shortnumber not supported, the destination TON may not be set to shortnumber', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2101, 'Destination alpha not supported, the destination TON may not be set to alpha', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2102, 'Destination MSIDN not supported, the destination TON may not be set to MSISDN', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2103, 'Operation blocked, requested operation is not supported for the specified destination', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2104, 'Unknown subscriber', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2105, 'Destination blocked (subscriber permanently barred)', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2106, 'Number error', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2107, 'Destination temporarily blocked (subscriber temporarily barred)', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2200, 'Charging error', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2201, 'Subscriber has low balance', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2202, 'Subscriber barred for overcharged (premium) messages', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2203, 'Subscriber too young (for this particular content)', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2204, 'Prepaid subscriber not allowed', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2205, 'Service rejected by subscriber', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2206, 'Subscriber not registered in payment system', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [2207, 'Subscriber has reached max balance', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [3000, 'GSM encoding is not supported', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [3001, 'UCS2 encoding is not supported', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [3002, 'Binary encoding is not supported', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4000, 'Delivery report is not supported', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4001, 'Invalid message content', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4002, 'Invalid tariff', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4003, 'Invalid user data', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4004, 'Invalid user data header', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4005, 'Invalid data coding', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4006, 'Invalid VAT', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
  [4007, 'Unsupported content for destination', FINAL, 'NOT_DELIVERED', 'NOT_BILLED'],
];

export const UNRECOGNISED_DESCRIPTION = 'Unrecognised result code';

/** The status a report gets from its delivery state: not delivered is failed once final, pending before. */
export function statusOf(delivery: Delivery, final: boolean): ReportStatus {
  if (delivery === 'DELIVERED') return 'delivered';
  if (delivery === 'UNKNOWN') return 'unknown';
  return final ? 'failed' : 'pending';
}

const TABLE: ReadonlyMap<number, ResultCodeMeaning> = new Map(
  ROWS.map(([resultCode, description, final, delivery, billing]) => [
    resultCode,
    { resultCode, description, final, delivery, billing, status: statusOf(delivery, final) },
  ]),
);

/** Every code the document lists, in the document's order. */
export const KNOWN_RESULT_CODES: readonly number[] = ROWS.map(([code]) => code);

/** What a result code means; a code the table lacks is unknown, not final, and still a report. */
export function meaningOfResultCode(resultCode: number): ResultCodeMeaning {
  return (
    TABLE.get(resultCode) ?? {
      resultCode,
      description: UNRECOGNISED_DESCRIPTION,
      final: false,
      delivery: 'UNKNOWN',
      billing: 'UNKNOWN',
      status: 'unknown',
    }
  );
}
