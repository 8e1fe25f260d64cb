/**
 * Whether a database call failed because the database could not serve it (stopped, restarting,
 * connections cut or refused, out of connections, its own files unreadable, a write or read not
 * finished in time, the embedded database's thread gone) rather than because of the statement or
 * its data: the same call may well succeed a moment later.
 */
import { errorCode } from '../lib/error-code.js';
import { ReadTimeoutError } from './prepared-reads.js';
import { WriteTimeoutError } from './write-transaction.js';
import { EmbeddedDatabaseStoppedError } from './embedded-thread.js';

/** SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention), 58 (system). */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)/;
/** A Node system error on the connection: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EAI_AGAIN… (not Node's own `ERR_…`). */
const SYSTEM_ERROR = /^(E[A-Z]+|EAI_[A-Z]+)$/;
/** What the driver says, with no code, when the server closes the connection or none is free in time. */
const DRIVER_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof WriteTimeoutError || error instanceof ReadTimeoutError || error instanceof EmbeddedDatabaseStoppedError) return true;
  const code = errorCode(error);
  if (code !== undefined) return UNAVAILABLE_SQLSTATE.test(code) || SYSTEM_ERROR.test(code);
  return error instanceof Error && DRIVER_MESSAGE.test(error.message);
}
