/** Checks for single report fields, shared by every format reader. Each problem names its field. */
import type { Result } from '../lib/result.js';
import { ok, problem } from '../lib/result.js';
import { MAX_REF_ID_BYTES, MAX_REF_ID_LENGTH, MAX_SEGMENTS, MAX_TEXT_FIELD_LENGTH, textProblem } from '../meaning/delivery-report.js';
import { MAX_ID_LENGTH } from '../meaning/report-id.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

// RFC 3339, also with a space for the `T` (as LINK writes `received`); without an offset it is UTC.
// The fraction may have any number of digits; the field's length limit bounds it.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})?$/;

export function parseDateTime(field: string, text: string): Result<Date> {
  const match = DATE_TIME.exec(text.trim());
  if (match === null) return problem(`${field} must be an RFC 3339 date-time, got "${clip(text)}"`);
  const group = (index: number) => Number(match[index]);
  const [year, month, day, hour, minute, second] = [group(1), group(2), group(3), group(4), group(5), group(6)];
  const leapSecond = second === 60;
  if (!isRealDateTime(year, month, day, hour, minute, leapSecond ? 59 : second)) return problem(`${field} is not a real date-time: "${clip(text)}"`);
  const offset = offsetMinutes(match[8] ?? 'Z');
  if (offset === null) return problem(`${field} is not a real date-time: "${clip(text)}"`);
  // Milliseconds cut from the digits, not from a float, which rounds .99999999999999999 up to 1.
  const millis = Number((match[7] ?? '').slice(0, 3).padEnd(3, '0'));
  let instant = utcInstant(year, month, day, hour, minute, leapSecond ? 59 : second, millis) - offset * 60_000;
  if (leapSecond) {
    if (!endsUtcMonth(instant)) return problem(`${field} is not a real date-time: "${clip(text)}"`);
    // A Date has no 61st second: the leap second is read as the second after it, as PostgreSQL does.
    instant += 1_000;
  }
  if (instant > LAST_INSTANT) return problem(`${field} falls after the year 9999 in UTC: "${clip(text)}"`);
  if (instant < FIRST_INSTANT) return problem(`${field} falls before the year 1 in UTC: "${clip(text)}"`);
  return ok(new Date(instant));
}

/** An offset after the seconds whose `+` a URL's encoding turned into a space (`10:00:00 01:00`). */
const SPACED_OFFSET = /(:\d{2}(?:\.\d+)?) (\d{2}:?\d{2})$/;

/**
 * A date-time read from a query string or a form, where `+` means a space: an offset whose `+` was
 * not written `%2B` arrives as ` 01:00`, which can only have been `+01:00`.
 */
export function withPlusOffset(text: string): string {
  return text.trimEnd().replace(SPACED_OFFSET, '$1+$2');
}

/** Date.UTC reads the years 0-99 as 1900-1999; setUTCFullYear takes them as written. */
function utcInstant(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime();
}

/**
 * Times are answered in UTC as RFC 3339, whose years have four digits. The year 0 is left out:
 * PostgreSQL has none (1 BC comes right before 1 AD).
 */
const FIRST_INSTANT = utcInstant(1, 1, 1, 0, 0, 0, 0);
const LAST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Whether an instant falls in the last second of a month in UTC: the only place RFC 3339 lets a
 * leap second (`23:59:60Z`, or the same moment in another offset) stand.
 */
function endsUtcMonth(instant: number): boolean {
  const at = new Date(instant);
  return at.getUTCHours() === 23 && at.getUTCMinutes() === 59 && at.getUTCSeconds() === 59 && new Date(instant + 1_000).getUTCDate() === 1;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** By the calendar: cheaper than making a Date and seeing whether it moved. */
function isRealDateTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  const leapDay = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 1 : 0;
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= (DAYS_IN_MONTH[month - 1] ?? 0) + leapDay &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  );
}

/** Minutes east of UTC; null for an offset RFC 3339 does not allow (hours past 23, minutes past 59). */
function offsetMinutes(zone: string): number | null {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 23 || minutes > 59) return null;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

export function checkInteger(field: string, value: number, min = INT32_MIN, max = INT32_MAX): Result<number> {
  if (!Number.isInteger(value)) return problem(`${field} must be a whole number, got ${clip(String(value))}`);
  if (value < min || value > max) return problem(`${field} must be between ${min} and ${max}, got ${clip(String(value))}`);
  return ok(value);
}

/**
 * Digits, however many, and a fraction of zeros if any: `1001.0` is the whole number JSON reads
 * from the same text, so a form, a query string and XML take it as JSON does.
 */
const WHOLE_NUMBER = /^[+-]?\d+(?:\.0+)?$/;

/**
 * A whole number written as text. One too long for the range is out of it, not "not a whole
 * number" (past 2^53 its value is rounded, and past about 10^308 Infinity, either way beyond any
 * range).
 */
export function parseIntegerText(field: string, text: string, min = INT32_MIN, max = INT32_MAX): Result<number> {
  const trimmed = text.trim();
  if (!WHOLE_NUMBER.test(trimmed)) return problem(`${field} must be a whole number, got "${clip(text)}"`);
  const value = Number(trimmed);
  if (value < min || value > max) return problem(`${field} must be between ${min} and ${max}, got ${clip(trimmed)}`);
  return ok(value);
}

export function parseResultCode(text: string): Result<number> {
  return parseIntegerText('resultCode', text);
}

export function parseSegments(text: string): Result<number> {
  return parseIntegerText('segments', text, 0, MAX_SEGMENTS);
}

export function checkSegments(value: number): Result<number> {
  return checkInteger('segments', value, 0, MAX_SEGMENTS);
}

const TEXT_LIMITS: Readonly<Record<string, number>> = {
  id: MAX_ID_LENGTH,
  refId: MAX_REF_ID_LENGTH,
};

/** A text field: bounded in length, and storable as text (see textProblem). */
export function checkText(field: string, text: string): Result<string> {
  const limit = TEXT_LIMITS[field] ?? MAX_TEXT_FIELD_LENGTH;
  if (text.length > limit) return problem(`${field} is longer than ${limit} characters`);
  if (field === 'refId' && Buffer.byteLength(text) > MAX_REF_ID_BYTES) {
    return problem(`refId is longer than ${MAX_REF_ID_BYTES} bytes of UTF-8, the most its index holds`);
  }
  const unstorable = textProblem(text);
  return unstorable === null ? ok(text) : problem(`${field} ${unstorable}`);
}

/** Shortens a quoted value in a message, so an error never echoes a huge input. */
export function clip(text: string, length = 40): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
