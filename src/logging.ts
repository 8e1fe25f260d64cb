/**
 * The logger. Lines carry no secrets and no phone numbers: requests are not logged one by one, and
 * whatever does log a request gets its method and path only (a GET report's query string carries
 * its data) with the Authorization header removed. A refusal's reason and an error's message can
 * quote what a sender wrote, so in those fields every run of seven digits or more is left out,
 * but for the date that begins the name of a migration, and in the receiver's own errors
 * (`OwnTextError`).
 * The other fields hold the receiver's own text (migration names, states, counts, addresses).
 * An error is logged as its code and message alone, whoever logs it: the receiver passes a summary,
 * and the framework's own Error, whose stack repeats its message, is made one.
 */
import type { LoggerOptions } from 'pino';
import { errorSummary, inOwnText } from './lib/error-summary.js';

/** A phone number as LINK writes one (`4799999999`, `+4799999999`); ports and positions are shorter. */
const DIGIT_RUN = /\+?\d{7,}/g;
const DIGITS_LEFT_OUT = '[digits]';
/**
 * A migration's name (`20261122T1200_initial`), in an error that names one: its date is the
 * receiver's own text, and without it the line did not say which migration failed or is unknown.
 */
const MIGRATION_NAME = /^\d{8}T\d{4}_/;
/** The fields besides `err` that can quote a sender's text: a refusal's `reason`, a bind's last problem. */
const QUOTING_FIELDS = new Set(['reason', 'lastProblem']);

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
    formatters: { log: (fields) => withoutDigitRuns(fields) },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}

/** The fields, with every long run of digits replaced in the text of those that can quote a sender. */
function withoutDigitRuns(fields: Record<string, unknown>): Record<string, unknown> {
  let masked: Record<string, unknown> | null = null;
  for (const key of QUOTING_FIELDS) {
    if (fields[key] === undefined) continue;
    masked ??= { ...fields };
    masked[key] = maskValue(fields[key]);
  }
  return masked ?? fields;
}

function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(DIGIT_RUN, (digits: string, at: number) => (MIGRATION_NAME.test(value.slice(at)) ? digits : DIGITS_LEFT_OUT));
  if (Array.isArray(value)) return value.map(maskValue);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, maskValue(inner)]));
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
