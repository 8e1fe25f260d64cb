import { errorCode } from './error-code.js';

/**
 * An error whose message the receiver writes from its own settings and the system's facts (a
 * folder, a process and its host, a byte limit, a file), never from what a sender wrote. Its long
 * runs of digits stay in the log, where those of any other error are left out as possible phone
 * numbers: a process 4194303, a container's host a1b2345678cd or a limit of 1073741824 bytes were
 * logged as `[digits]`.
 */
export class OwnTextError extends Error {}

/** Marks the summary of an OwnTextError; a symbol, so that it is not written into the log line. */
const OWN_TEXT = Symbol('own text');

/** What a log line says about an error: its code and message, never a payload. */
export function errorSummary(error: unknown): { code?: string; message: string } {
  if (error instanceof Error) {
    const code = errorCode(error);
    const summary = code === undefined ? { message: error.message } : { code, message: error.message };
    if (error instanceof OwnTextError) Object.defineProperty(summary, OWN_TEXT, { value: true });
    return summary;
  }
  return { message: String(error) };
}

/** Whether a summary is of an OwnTextError, whose message is the receiver's own text. */
export function inOwnText(summary: unknown): boolean {
  return typeof summary === 'object' && summary !== null && OWN_TEXT in summary;
}
