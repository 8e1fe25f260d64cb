import { errorCode } from './error-code.js';

/** What a log line says about an error: its code and message, never a payload. */
export function errorSummary(error: unknown): { code?: string; message: string } {
  if (error instanceof Error) {
    const code = errorCode(error);
    return code === undefined ? { message: error.message } : { code, message: error.message };
  }
  return { message: String(error) };
}
