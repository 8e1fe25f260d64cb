/** The fields of a LINK delivery report (REST document, "Delivery Reports"), checked and typed. */

export type CustomParameters = Readonly<Record<string, unknown>>;

export interface DeliveryReport {
  readonly id: string;
  readonly refId: string | null;
  readonly operator: string | null;
  readonly sentTimestamp: Date | null;
  readonly timestamp: Date | null;
  readonly resultCode: number;
  readonly operatorResultCode: string | null;
  readonly segments: number | null;
  readonly gateCustomParameters: CustomParameters;
  readonly customParameters: CustomParameters;
}

export const REPORT_FIELDS = [
  'refId',
  'id',
  'operator',
  'sentTimestamp',
  'timestamp',
  'resultCode',
  'operatorResultCode',
  'segments',
  'gateCustomParameters',
  'customParameters',
] as const;

export type ReportField = (typeof REPORT_FIELDS)[number];

/**
 * Why a text cannot be stored as text, or null: PostgreSQL's text holds no NUL character, and no
 * half of a UTF-16 surrogate pair (a JSON `\uD800` alone), which has no UTF-8 form.
 */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character';
  if (!text.isWellFormed()) return 'contains half of a UTF-16 surrogate pair (\\uD800-\\uDFFF alone)';
  return null;
}

export const MAX_REF_ID_LENGTH = 1024;
/**
 * A refId is a key of the messages' refId index, whose entries PostgreSQL caps at 2704 bytes: 2048
 * bytes of UTF-8 leave room for the rest of the entry. 1024 ASCII characters fit; 1024 CJK
 * characters (3 bytes each) would make a report the database refuses on every retry.
 */
export const MAX_REF_ID_BYTES = 2048;
export const MAX_TEXT_FIELD_LENGTH = 1024;
/** LINK splits a message into at most 254 segments; 255 leaves room for the GSM maximum. */
export const MAX_SEGMENTS = 255;
