/**
 * The embedded database (PGlite) in a worker thread of its own, and the main thread's handle on it.
 *
 * PGlite runs PostgreSQL compiled to WebAssembly, synchronously: each statement, and each commit
 * with its fsync, holds the thread it runs on. On the main thread that was the event loop, which
 * then neither read requests nor accepted connections: at 500 connections opened at once, some
 * waited seconds to be accepted (a p99 of 4-5 s), and the receiver's rate was what one core left over
 * from PostgreSQL. In a thread of its own, PostgreSQL runs on the second core while the main thread
 * goes on taking reports (see BENCHMARKS.md).
 *
 * Calls go to the thread as messages and are run there in the order they were sent, as PGlite would
 * run them in the same thread: a transaction keeps every other call out until it ends.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EmbeddedPlace, Opened, ThreadMessage, ThreadRequest } from './embedded-protocol.js';
import { errorFromText } from './embedded-protocol.js';

/** A statement's result, as PGlite gives it: rows with PostgreSQL's types read into JavaScript's. */
export interface StatementResult<R = Record<string, unknown>> {
  readonly rows: R[];
  readonly affectedRows?: number;
}

/** What the receiver asks of the embedded database inside a transaction. */
export interface EmbeddedStatements {
  /** Runs a script of statements (the simple query protocol); one result per statement. */
  exec(script: string): Promise<StatementResult[]>;
  /** Runs one statement with its values as parameters. */
  query<R>(text: string, parameters?: readonly unknown[]): Promise<StatementResult<R>>;
}

/** What a scripted transaction runs after its first script, and what it then resolves with. */
export interface SecondScript<T> {
  /** Statements to run before the commit; null commits at once. */
  readonly script: string | null;
  readonly result: T;
}

/** What the receiver asks of the embedded database. */
export interface EmbeddedSession extends EmbeddedStatements {
  /** Runs `work` in a transaction, committed if it returns and rolled back if it throws. */
  transaction<T>(work: (statements: EmbeddedStatements) => Promise<T>): Promise<T>;
  /**
   * Runs the script `first` in a transaction, then the script `then` makes of its results, and
   * commits; rolled back if either fails or `then` throws. The same as `transaction` with two
   * `exec`s, in two calls instead of four: in a thread of its own, the database waits idle, holding
   * the transaction, while each call's answer crosses back and the next is sent.
   */
  scriptedTransaction<T>(first: string, then: (results: StatementResult[]) => SecondScript<T>): Promise<T>;
}

/**
 * The embedded database as the receiver uses it: its thread here, or PGlite itself where a test
 * opens it in its own thread, to watch what it does there.
 */
export interface EmbeddedEngine extends EmbeddedSession {
  /** Settles when the database is open: rejected with why it could not be. */
  readonly waitReady: Promise<void>;
  /** Closes the database (PostgreSQL's shutdown checkpoint). */
  close(): Promise<void>;
}

export interface EmbeddedThreadHooks {
  /** Told when the disk failed the database; the thread is stopped for good, and the process must stop. */
  readonly onDiskFailure: (error: Error) => void;
  /** Told when there is no database yet and a new one is being made in `folder`. */
  readonly onCreation?: ((folder: string) => void) | undefined;
  /** Abandons the making of a new database. */
  readonly stopCreation?: AbortSignal | undefined;
  /** Told when the thread ended on its own (not closed), with why; every call from then on fails. */
  readonly onStopped?: ((error: Error) => void) | undefined;
}

/**
 * The thread ended (closed, or on its own): no call can be answered until the receiver is started
 * again, which it is made to be (see database.ts). Read as the database being unavailable, so that
 * reports that come meanwhile go to the local journal.
 */
export class EmbeddedDatabaseStoppedError extends Error {
  constructor(reason: string) {
    super(`the embedded database stopped (${reason})`);
    this.name = 'EmbeddedDatabaseStoppedError';
  }
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** A request before it is given its id: each kind of request without `id`. */
type Call = Extract<ThreadRequest, { readonly id: number }> extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

export class EmbeddedThread implements EmbeddedEngine {
  readonly waitReady: Promise<void>;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #stopped: Error | null = null;
  #closing: Promise<void> | undefined;

  /** `script` is the thread's own (embedded-worker.ts) unless a test stands another in. */
  constructor(place: EmbeddedPlace, hooks: EmbeddedThreadHooks, script: string | URL = workerFile()) {
    this.#worker = new Worker(script, { workerData: place });
    let ready: () => void = () => undefined;
    let failed: (error: Error) => void = () => undefined;
    this.waitReady = new Promise((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    // A database that cannot be opened fails every call with the reason, the migrations at start
    // first, which report it. Failing before any call waits, it must not end the process unheard.
    this.waitReady.catch(() => undefined);
    this.#worker.on('message', (message: ThreadMessage) => {
      if ('id' in message) {
        this.#settle(message);
        return;
      }
      switch (message.event) {
        case 'ready':
          ready();
          return;
        case 'failed':
          failed(errorFromText(message.error));
          return;
        case 'creating':
          hooks.onCreation?.(message.folder);
          return;
        case 'disk-failure':
          hooks.onDiskFailure(errorFromText(message.error));
          return;
      }
    });
    this.#worker.on('error', (error) => {
      this.#stop(error.message, hooks);
      failed(error);
    });
    this.#worker.on('exit', (exitCode) => {
      failed(this.#stop(`its thread ended with exit code ${String(exitCode)}`, hooks));
    });
    const stopCreation = hooks.stopCreation;
    if (stopCreation !== undefined) {
      const stop = () => { this.#worker.postMessage({ op: 'stop-creation' } satisfies ThreadRequest); };
      if (stopCreation.aborted) stop();
      else stopCreation.addEventListener('abort', stop, { once: true });
      // Once open, there is nothing left to stop.
      this.waitReady.then(() => { stopCreation.removeEventListener('abort', stop); }, () => undefined);
    }
  }

  exec(script: string): Promise<StatementResult[]> {
    return this.#call({ op: 'exec', script }) as Promise<StatementResult[]>;
  }

  query<R>(text: string, parameters: readonly unknown[] = []): Promise<StatementResult<R>> {
    return this.#call({ op: 'query', text, parameters }) as Promise<StatementResult<R>>;
  }

  async transaction<T>(work: (statements: EmbeddedStatements) => Promise<T>): Promise<T> {
    const { transaction } = await this.#begin();
    const statements: EmbeddedStatements = {
      exec: (script) => this.#call({ op: 'exec', script, transaction }) as Promise<StatementResult[]>,
      query: <R>(text: string, parameters: readonly unknown[] = []) =>
        this.#call({ op: 'query', text, parameters, transaction }) as Promise<StatementResult<R>>,
    };
    return this.#end(transaction, async () => ({ script: null, result: await work(statements) }));
  }

  async scriptedTransaction<T>(first: string, then: (results: StatementResult[]) => SecondScript<T>): Promise<T> {
    const { transaction, results } = await this.#begin(first);
    return this.#end(transaction, () => then(results as StatementResult[]));
  }

  #begin(script?: string): Promise<Opened> {
    return this.#call(script === undefined ? { op: 'begin' } : { op: 'begin', script }) as Promise<Opened>;
  }

  /** Commits the transaction, after the script `work` gives; rolls it back if `work` throws. */
  async #end<T>(transaction: number, work: () => SecondScript<T> | Promise<SecondScript<T>>): Promise<T> {
    let second: SecondScript<T>;
    try {
      second = await work();
    } catch (error) {
      // The work's own error is the one to tell; a failed rollback ends the transaction all the same.
      await this.#call({ op: 'end', transaction, commit: false }).catch(() => undefined);
      throw error;
    }
    const { script, result } = second;
    await this.#call(script === null ? { op: 'end', transaction, commit: true } : { op: 'end', transaction, commit: true, script });
    return result;
  }

  /** Closes the database and ends the thread. Closing twice is closing once. */
  close(): Promise<void> {
    this.#closing ??= this.#call({ op: 'close' }).then(
      () => this.#worker.terminate().then(() => undefined),
      async (error: unknown) => {
        await this.#worker.terminate();
        // A thread that had stopped has nothing left to close.
        if (!(error instanceof EmbeddedDatabaseStoppedError)) throw error;
      },
    );
    return this.#closing;
  }

  #call(call: Call): Promise<unknown> {
    if (this.#stopped !== null) return Promise.reject(this.#stopped);
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve, reject });
      const request: ThreadRequest = { ...call, id };
      this.#worker.postMessage(request);
    });
  }

  #settle(message: Extract<ThreadMessage, { readonly id: number }>): void {
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(errorFromText(message.error));
  }

  /** Fails every call waiting and every call to come, and tells of it once; the error it fails them with. */
  #stop(reason: string, hooks: EmbeddedThreadHooks): Error {
    if (this.#stopped !== null) return this.#stopped;
    const stopped = new EmbeddedDatabaseStoppedError(reason);
    this.#stopped = stopped;
    for (const pending of this.#pending.values()) pending.reject(stopped);
    this.#pending.clear();
    if (this.#closing === undefined) hooks.onStopped?.(stopped);
    return stopped;
  }
}

/**
 * The worker's script: beside this module when built (`dist/`); run from the TypeScript sources (the
 * tests), the build's, which `npm test` makes first.
 */
function workerFile(): string {
  const beside = fileURLToPath(new URL('./embedded-worker.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = fileURLToPath(new URL('../../dist/src/storage/embedded-worker.js', import.meta.url));
  if (existsSync(built)) return built;
  throw new Error(`the embedded database's thread has no script: neither ${beside} nor ${built} exists; run \`npm run build\``);
}
