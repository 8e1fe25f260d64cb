/**
 * The logger. Lines carry no secrets and no phone numbers: requests are not logged one by one, and
 * whatever does log a request gets its method and path only (a GET report's query string carries
 * its data) with the Authorization header removed. A refusal's reason and an error's message can
 * quote what a sender wrote, so in those fields every number of seven digits or more is left out,
 * written in one run or in groups, but for a date, a time, an IPv4 address, the date that begins
 * the name of a migration, and in the receiver's own errors (`OwnTextError`).
 * The other fields hold the receiver's own text (migration names, states, counts, addresses).
 * An error is logged as its code and message alone, whoever logs it: the receiver passes a summary,
 * and the framework's own Error, whose stack repeats its message, is made one.
 */
import type { LoggerOptions } from 'pino';
import { errorSummary, inOwnText } from './lib/error-summary.js';

/**
 * A phone number as LINK writes one (`4799999999`, `+4799999999`) or as people do (`+47 999 99 999`,
 * `+47 (0)99-99-99-99`, `06.12.34.56.78`): seven digits or more, each apart from the next by at
 * most two spaces, dashes, dots or brackets. Ports and positions are shorter.
 */
const PHONE_LIKE = String.raw`\+?\(?\d(?:[ \-.()]{0,2}\d){6,}`;
/**
 * Numbers that would pass for one but are kept as they are, tried first at each place: a date
 * (`2015-11-19`), a time of day (`09:37:35.123`) and an IPv4 address.
 */
const NOT_A_PHONE = String.raw`\d{4}-\d{2}-\d{2}(?![-.]?\d)|\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?|(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])`;
const LONG_NUMBER = new RegExp(`(${NOT_A_PHONE})|${PHONE_LIKE}`, 'g');
const DIGITS_LEFT_OUT = '[digits]';
/**
 * A migration's name (`20261122T1200_initial`), in an error that names one: its date is the
 * receiver's own text, and without it the line did not say which migration failed or is unknown.
 */
const MIGRATION_NAME = /\d{8}T\d{4}_/y;
/**
 * The fields besides `err` that can quote a sender's text: a refusal's `reason`, the database's last
 * problem, and the query API's `filter` (a read that ran out of time), whose destination is a number.
 */
const QUOTING_FIELDS = new Set(['reason', 'lastProblem', 'filter']);

export function loggerOptions(level: string, pretty = process.stdout.isTTY): LoggerOptions {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], remove: true },
    serializers: {
      req: (request: { method?: string; url?: string }) => ({
        method: request.method,
        path: request.url?.split('?')[0],
      }),
      // Pino's own would give a summary `"type":"Object"` and an empty stack.
      err: (error: unknown) => {
        const summary = error instanceof Error ? errorSummary(error) : error;
        return inOwnText(summary) ? summary : maskValue(summary);
      },
    },
    formatters: { log: (fields) => withoutPhoneNumbers(fields) },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}

/** The fields, with every phone-like number replaced in the text of those that can quote a sender. */
function withoutPhoneNumbers(fields: Record<string, unknown>): Record<string, unknown> {
  let masked: Record<string, unknown> | null = null;
  for (const key of QUOTING_FIELDS) {
    if (fields[key] === undefined) continue;
    masked ??= { ...fields };
    masked[key] = maskValue(fields[key]);
  }
  return masked ?? fields;
}

function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(LONG_NUMBER, maskedNumber);
  if (Array.isArray(value)) return value.map(maskValue);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskValue(inner)]));
  return value;
}

function maskedNumber(number: string, notAPhone: string | undefined, at: number, text: string): string {
  return notAPhone !== undefined || beginsMigrationName(text, at) ? number : DIGITS_LEFT_OUT;
}

/** Whether a migration's name begins at `at`, read in place: copying the rest of the text for each number cost a long text time squared. */
function beginsMigrationName(text: string, at: number): boolean {
  MIGRATION_NAME.lastIndex = at;
  return MIGRATION_NAME.test(text);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
