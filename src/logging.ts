/**
 * The logger. Lines carry no secrets and no phone numbers: requests are not logged one by one, and
 * whatever does log a request gets its method and path only (a GET report's query string carries
 * its data) with the Authorization header removed.
 */
import type { LoggerOptions } from 'pino';

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
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}
