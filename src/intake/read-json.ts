/** Reads a JSON body: one report object, or an array of them. JSON's own types must match the fields'. */
import type { CustomParameters, DeliveryReport } from '../meaning/delivery-report.js';
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import { checkInteger, checkSegments, checkText, parseDateTime } from './field-values.js';
import type { ReadReport } from './read-report.js';
import { MAX_REPORTS_PER_REQUEST } from './read-report.js';

type JsonObject = Readonly<Record<string, unknown>>;

export function readJsonReports(body: string): Result<ReadReport[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return problem(`body is not valid JSON: ${syntaxErrorWithoutQuote(error)}`);
  }
  if (!Array.isArray(parsed)) {
    const report = reportFromJson(parsed);
    return report.ok ? ok([{ report: report.value, payload: parsed, payloadText: body }]) : report;
  }
  if (parsed.length === 0) return problem('the array holds no reports');
  if (parsed.length > MAX_REPORTS_PER_REQUEST) {
    return problem(`the array holds ${parsed.length} reports; at most ${MAX_REPORTS_PER_REQUEST} are taken in one request`);
  }
  const reports: ReadReport[] = [];
  for (const [index, item] of parsed.entries()) {
    const report = reportFromJson(item);
    if (!report.ok) return problem(`report [${index}]: ${report.problem}`);
    reports.push({ report: report.value, payload: item });
  }
  return ok(reports);
}

/**
 * V8 quotes up to 20 characters of the body around some syntax errors (`Unexpected token 'x',
 * "…" is not valid JSON`); a refusal is logged, and the body may hold phone numbers, so the quote
 * is left out. The whole body is kept among the rejected requests.
 */
function syntaxErrorWithoutQuote(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const quoted = message.indexOf('"');
  if (quoted === -1) return message;
  const before = message.slice(0, quoted).replace(/[\s,]*(\.\.\.)?$/, '');
  return before === '' ? 'the body is not a JSON value' : before;
}

function reportFromJson(value: unknown): Result<DeliveryReport> {
  if (!isObject(value)) return problem(`a report must be a JSON object, got ${jsonTypeOf(value)}`);

  const id = optionalString(value, 'id');
  if (!id.ok) return id;
  if (id.value === null) return problem('id is required');
  const checkedId = checkText('id', id.value);
  if (!checkedId.ok) return checkedId;

  const resultCode = value.resultCode;
  if (resultCode === undefined || resultCode === null) return problem('resultCode is required');
  if (typeof resultCode !== 'number') return problem(`resultCode must be a number, got ${jsonTypeOf(resultCode)}`);
  const checkedResultCode = checkInteger('resultCode', resultCode);
  if (!checkedResultCode.ok) return checkedResultCode;

  const refId = optionalString(value, 'refId');
  if (!refId.ok) return refId;
  const operator = optionalString(value, 'operator');
  if (!operator.ok) return operator;
  const operatorResultCode = optionalString(value, 'operatorResultCode');
  if (!operatorResultCode.ok) return operatorResultCode;
  const sentTimestamp = optionalDateTime(value, 'sentTimestamp');
  if (!sentTimestamp.ok) return sentTimestamp;
  const timestamp = optionalDateTime(value, 'timestamp');
  if (!timestamp.ok) return timestamp;
  const segments = optionalSegments(value.segments);
  if (!segments.ok) return segments;
  const customParameters = optionalParameters(value, 'customParameters');
  if (!customParameters.ok) return customParameters;
  const gateCustomParameters = optionalParameters(value, 'gateCustomParameters');
  if (!gateCustomParameters.ok) return gateCustomParameters;

  return ok({
    id: checkedId.value,
    resultCode: checkedResultCode.value,
    refId: refId.value,
    operator: operator.value,
    operatorResultCode: operatorResultCode.value,
    sentTimestamp: sentTimestamp.value,
    timestamp: timestamp.value,
    segments: segments.value,
    customParameters: customParameters.value,
    gateCustomParameters: gateCustomParameters.value,
  });
}

/** A string field; null, "" and absent all mean absent. */
function optionalString(report: JsonObject, field: string): Result<string | null> {
  const value = report[field];
  if (value === undefined || value === null || value === '') return ok(null);
  if (typeof value !== 'string') return problem(`${field} must be a string, got ${jsonTypeOf(value)}`);
  return checkText(field, value);
}

function optionalDateTime(report: JsonObject, field: string): Result<Date | null> {
  const text = optionalString(report, field);
  if (!text.ok || text.value === null) return text.ok ? ok(null) : text;
  return parseDateTime(field, text.value);
}

function optionalSegments(value: unknown): Result<number | null> {
  if (value === undefined || value === null || value === '') return ok(null);
  if (typeof value !== 'number') return problem(`segments must be a number, got ${jsonTypeOf(value)}`);
  return checkSegments(value);
}

/** Custom parameters as an object, or as a list of `{ key, value }` entries. */
function optionalParameters(report: JsonObject, field: string): Result<CustomParameters> {
  const value = report[field];
  if (value === undefined || value === null || value === '') return ok({});
  if (isObject(value)) return ok(value);
  if (Array.isArray(value)) {
    const entries: Array<[string, unknown]> = [];
    for (const entry of value) {
      if (!isObject(entry) || typeof entry.key !== 'string') {
        return problem(`${field} must be an object, or a list of { "key": ..., "value": ... } entries`);
      }
      entries.push([entry.key, entry.value ?? null]);
    }
    // fromEntries defines own properties, so a key such as `__proto__` stays a plain key.
    return ok(Object.fromEntries(entries));
  }
  return problem(`${field} must be an object, got ${jsonTypeOf(value)}`);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
