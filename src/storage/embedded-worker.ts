/**
 * The embedded database's thread (see embedded-thread.ts): opens PGlite and runs the main thread's
 * calls in the order they come.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Transaction } from '@electric-sql/pglite';
import { openPglite } from './embedded-open.js';
import type { EmbeddedPlace, Opened, ThreadMessage, ThreadRequest } from './embedded-protocol.js';
import { errorText } from './embedded-protocol.js';

const port = parentPort;
if (port === null) throw new Error('embedded-worker.js runs as a worker thread of the receiver, not on its own');
const send = (message: ThreadMessage) => { port.postMessage(message); };

const stopCreation = new AbortController();
const pglite = openPglite(workerData as EmbeddedPlace, {
  onDiskFailure: (error) => {
    send({ event: 'disk-failure', error: errorText(error) });
    // The main thread stops the process. Until then PostgreSQL must not go on, or a commit that is
    // not on disk could be answered as done.
    return holdForever();
  },
  onCreation: (folder) => { send({ event: 'creating', folder }); },
  stopCreation: stopCreation.signal,
});
pglite.waitReady.then(
  () => { send({ event: 'ready' }); },
  (error: unknown) => { send({ event: 'failed', error: errorText(error) }); },
);

/** How a transaction is ended: committed (after its script, if any) or rolled back. */
interface Ending {
  readonly commit: boolean;
  readonly script?: string | undefined;
}

/** The transactions under way, by number, and how each is ended. */
const transactions = new Map<number, { readonly statements: Transaction; readonly end: (ending: Ending, id: number) => void }>();
let nextTransaction = 0;

function answer(id: number, work: Promise<unknown>): void {
  work.then(
    (value) => { send({ id, ok: true, value }); },
    (error: unknown) => { send({ id, ok: false, error: errorText(error) }); },
  );
}

/** Where a statement runs: the transaction it names, or the database; null (and `id` answered) for a transaction not open. */
function inTransaction(id: number, transaction: number | undefined): Transaction | typeof pglite | null {
  if (transaction === undefined) return pglite;
  const open = transactions.get(transaction);
  if (open !== undefined) return open.statements;
  refuseNotOpen(id, transaction);
  return null;
}

function refuseNotOpen(id: number, transaction: number): void {
  send({ id, ok: false, error: errorText(new Error(`transaction ${String(transaction)} is not open`)) });
}

/**
 * Opens a transaction and runs `script` in it, if given; answers `id` with the transaction's number
 * and the script's results once it holds the database, and waits for the end, which is answered
 * once the commit or rollback is done. A transaction that fails to open, or whose script fails,
 * answers `id` with why, rolled back.
 */
function begin(id: number, script: string | undefined): void {
  const transaction = nextTransaction++;
  let endId: number | null = null;
  pglite.transaction(async (statements) => {
    const results = script === undefined ? [] : await statements.exec(script);
    const ending = await new Promise<Ending>((ended) => {
      transactions.set(transaction, { statements, end: (how, endingId) => { endId = endingId; ended(how); } });
      send({ id, ok: true, value: { transaction, results } satisfies Opened });
    });
    if (!ending.commit) await statements.rollback();
    else if (ending.script !== undefined) await statements.exec(ending.script);
  }).then(
    () => { if (endId !== null) send({ id: endId, ok: true, value: null }); },
    (error: unknown) => { send({ id: endId ?? id, ok: false, error: errorText(error) }); },
  ).finally(() => { transactions.delete(transaction); });
}

port.on('message', (request: ThreadRequest) => {
  switch (request.op) {
    case 'exec': {
      const target = inTransaction(request.id, request.transaction);
      if (target !== null) answer(request.id, target.exec(request.script));
      return;
    }
    case 'query': {
      const target = inTransaction(request.id, request.transaction);
      if (target !== null) answer(request.id, target.query(request.text, [...request.parameters]));
      return;
    }
    case 'begin':
      begin(request.id, request.script);
      return;
    case 'end': {
      const open = transactions.get(request.transaction);
      if (open === undefined) refuseNotOpen(request.id, request.transaction);
      else open.end({ commit: request.commit, script: request.script }, request.id);
      return;
    }
    case 'close':
      answer(request.id, pglite.close());
      return;
    case 'stop-creation':
      stopCreation.abort();
      return;
  }
});

function holdForever(): never {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0);
}
