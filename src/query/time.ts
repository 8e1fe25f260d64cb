/**
 * A time as the API writes it: RFC 3339 in UTC, whole seconds without a fraction
 * (`2015-11-19T09:37:35Z`), others with the milliseconds a Date holds (`2015-11-19T09:37:35.120Z`).
 *
 * A time comes as a Date, or as the text PostgreSQL writes into JSON (`2015-11-19T09:37:35.12+00:00`,
 * up to microseconds, in the session's time zone). Text in UTC is rewritten as text, in a tenth of
 * the time that reading it into a Date and writing that out takes (about 1 µs, and a page of
 * messages holds some 100 times); text with another offset goes through a Date.
 */
import { isoTime } from '../lib/iso-time.js';

export function rfc3339(time: Date | string): string;
export function rfc3339(time: Date | string | null): string | null;
export function rfc3339(time: Date | string | null): string | null {
  if (time === null) return null;
  if (typeof time === 'string') return fromUtcText(time) ?? fromDate(new Date(time));
  return fromDate(time);
}

function fromDate(date: Date): string {
  const iso = isoTime(date);
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Whole seconds, then an optional fraction, in UTC; years before 1 or after 9999 do not match. */
const UTC_TEXT = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(?:\+00:00|Z)$/;

/** The text rewritten, or null when it is not in UTC. Cut to milliseconds, as a Date would. */
function fromUtcText(text: string): string | null {
  const match = UTC_TEXT.exec(text);
  if (match === null) return null;
  const [, seconds, fraction = ''] = match;
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  return millis === '000' ? `${seconds}Z` : `${seconds}.${millis}Z`;
}
