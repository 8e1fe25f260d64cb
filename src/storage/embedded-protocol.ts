/**
 * What the receiver's main thread and the embedded database's thread say to each other (see
 * embedded-thread.ts and embedded-worker.ts): requests with their ids, answers, events, and errors
 * as they can cross.
 */
import { errorCode } from '../lib/error-code.js';
import { OwnTextError } from '../lib/error-summary.js';

/** Where the embedded database is: a folder on disk, or `memory://`. */
export interface EmbeddedPlace {
  /** DATA_DIR as given: `memory://` keeps the database in memory. */
  readonly dataDir: string;
  /** The folder the database is in; null in memory. */
  readonly folder: string | null;
}

/** An error as it crosses between the threads: structured clone keeps neither its class nor its code. */
export interface ErrorText {
  readonly message: string;
  readonly name: string;
  readonly code?: string;
  /** It is an OwnTextError, whose digits may be logged (see error-summary.ts). */
  readonly ownText: boolean;
}

export type ThreadRequest =
  | { readonly id: number; readonly op: 'exec'; readonly script: string; readonly transaction?: number }
  | { readonly id: number; readonly op: 'query'; readonly text: string; readonly parameters: readonly unknown[]; readonly transaction?: number }
  /** Opens a transaction and runs `script` in it, if given; answered with an `Opened`. */
  | { readonly id: number; readonly op: 'begin'; readonly script?: string }
  /** Commits (after running `script`, if given) or rolls back. */
  | { readonly id: number; readonly op: 'end'; readonly transaction: number; readonly commit: boolean; readonly script?: string }
  | { readonly id: number; readonly op: 'close' }
  | { readonly op: 'stop-creation' };

/** The answer to `begin`: the transaction's number, and the results of its script (none without one). */
export interface Opened {
  readonly transaction: number;
  readonly results: unknown[];
}

export type ThreadMessage =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: ErrorText }
  | { readonly event: 'ready' }
  | { readonly event: 'failed'; readonly error: ErrorText }
  | { readonly event: 'creating'; readonly folder: string }
  | { readonly event: 'disk-failure'; readonly error: ErrorText };

export function errorText(error: unknown): ErrorText {
  if (!(error instanceof Error)) return { message: String(error), name: 'Error', ownText: false };
  const code = errorCode(error);
  return { message: error.message, name: error.name, ...(code === undefined ? {} : { code }), ownText: error instanceof OwnTextError };
}

export function errorFromText(text: ErrorText): Error {
  const error: Error & { code?: string } = text.ownText ? new OwnTextError(text.message) : new Error(text.message);
  error.name = text.name;
  if (text.code !== undefined) error.code = text.code;
  return error;
}
