/**
 * The logger. Lines carry no secrets and no phone numbers: requests are not logged one by one, and
 * whatever does log a request gets its method and path only (a GET report's query string carries
 * its data) with the Authorization header removed. Refusal reasons and database errors can quote
 * what a sender wrote, so every run of seven digits or more in a line's fields is left out too.
 */
import type { LoggerOptions } from 'pino';

/** A phone number as LINK writes one (`4799999999`, `+4799999999`); ports and positions are shorter. */
const DIGIT_RUN = /\+?\d{7,}/g;
export const DIGITS_LEFT_OUT = '[digits]';

export function loggerOptions(level: string, pretty = process.stdout.isTTY): LoggerOptions {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], remove: true },
    serializers: {
      req: (request: { method?: string; url?: string }) => ({
        method: request.method,
        path: request.url?.split('?')[0],
      }),
    },
    formatters: { log: (fields) => withoutDigitRuns(fields) },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}

/** The fields with every long run of digits in their text replaced; numbers and the rest unchanged. */
export function withoutDigitRuns(fields: Record<string, unknown>): Record<string, unknown> {
  const masked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) masked[key] = maskValue(value);
  return masked;
}

function maskValue(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(DIGIT_RUN, DIGITS_LEFT_OUT);
  if (Array.isArray(value)) return value.map(maskValue);
  if (isPlainObject(value)) return withoutDigitRuns(value);
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
