/**
 * Builds a delivery report from fields that arrived as text (XML elements, key/value pairs), where
 * numbers are digits, names match case-insensitively and an empty value means absent.
 */
import type { CustomParameters, DeliveryReport, ReportField } from '../meaning/delivery-report.js';
import { REPORT_FIELDS } from '../meaning/delivery-report.js';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import { checkText, parseDateTime, parseResultCode, parseSegments } from './field-values.js';

const FIELD_BY_LOWER_NAME: ReadonlyMap<string, ReportField> = new Map(
  REPORT_FIELDS.map((field) => [field.toLowerCase(), field]),
);

/** The report field a name stands for, matched case-insensitively. */
export function reportFieldNamed(name: string): ReportField | undefined {
  return FIELD_BY_LOWER_NAME.get(name.toLowerCase());
}

export interface TextFields {
  /** Scalar fields by their canonical name; custom parameters are given apart. */
  readonly values: ReadonlyMap<ReportField, string>;
  readonly customParameters: CustomParameters;
  readonly gateCustomParameters: CustomParameters;
}

export function reportFromText(fields: TextFields): Result<DeliveryReport> {
  const text = (field: ReportField): string | null => {
    const value = fields.values.get(field);
    return value === undefined || value === '' ? null : value;
  };

  const id = text('id');
  if (id === null) return problem('id is required');
  const resultCodeText = text('resultCode');
  if (resultCodeText === null) return problem('resultCode is required');

  const checkedId = checkText('id', id);
  if (!checkedId.ok) return checkedId;
  const refId = optional(text('refId'), (value) => checkText('refId', value));
  if (!refId.ok) return refId;
  const operator = optional(text('operator'), (value) => checkText('operator', value));
  if (!operator.ok) return operator;
  const operatorResultCode = optional(text('operatorResultCode'), (value) => checkText('operatorResultCode', value));
  if (!operatorResultCode.ok) return operatorResultCode;
  const sentTimestamp = optional(text('sentTimestamp'), (value) => parseDateTime('sentTimestamp', value));
  if (!sentTimestamp.ok) return sentTimestamp;
  const timestamp = optional(text('timestamp'), (value) => parseDateTime('timestamp', value));
  if (!timestamp.ok) return timestamp;
  const resultCode = parseResultCode(resultCodeText);
  if (!resultCode.ok) return resultCode;
  const segments = optional(text('segments'), parseSegments);
  if (!segments.ok) return segments;

  return ok({
    id: checkedId.value,
    refId: refId.value,
    operator: operator.value,
    operatorResultCode: operatorResultCode.value,
    sentTimestamp: sentTimestamp.value,
    timestamp: timestamp.value,
    resultCode: resultCode.value,
    segments: segments.value,
    customParameters: fields.customParameters,
    gateCustomParameters: fields.gateCustomParameters,
  });
}

function optional<T>(value: string | null, check: (value: string) => Result<T>): Result<T | null> {
  return value === null ? ok(null) : check(value);
}
