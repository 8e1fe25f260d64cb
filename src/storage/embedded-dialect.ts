/**
 * Kysely's dialect for the embedded database: PostgreSQL's SQL, adapter and introspection, over
 * its one session. Kysely's queries take the session one at a time, so that a Kysely transaction
 * (the migrations') holds it from its begin to its end.
 */
import type { DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';
import { CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { EmbeddedEngine } from './embedded-thread.js';

export class EmbeddedDialect implements Dialect {
  readonly #engine: EmbeddedEngine;

  constructor(engine: EmbeddedEngine) {
    this.#engine = engine;
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new EmbeddedDriver(this.#engine);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

class EmbeddedConnection implements DatabaseConnection {
  readonly #engine: EmbeddedEngine;

  constructor(engine: EmbeddedEngine) {
    this.#engine = engine;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const { rows, affectedRows } = await this.#engine.query<R>(query.sql, query.parameters);
    return affectedRows === undefined ? { rows } : { rows, numAffectedRows: BigInt(affectedRows) };
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(query);
    for (let start = 0; start < rows.length; start += chunkSize) yield { rows: rows.slice(start, start + chunkSize) };
  }
}

class EmbeddedDriver implements Driver {
  readonly #connection: EmbeddedConnection;
  /** Settles when the connection's holder releases it; the next in line waits for it. */
  #released: Promise<void> = Promise.resolve();
  #release: () => void = () => undefined;

  constructor(engine: EmbeddedEngine) {
    this.#connection = new EmbeddedConnection(engine);
  }

  // The database opens by itself; one that could not be opened fails each query with why.
  init(): Promise<void> {
    return Promise.resolve();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const before = this.#released;
    let release: () => void = () => undefined;
    this.#released = new Promise((resolve) => { release = resolve; });
    await before;
    this.#release = release;
    return this.#connection;
  }

  releaseConnection(): Promise<void> {
    this.#release();
    return Promise.resolve();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const modes = [
      ...(settings.isolationLevel === undefined ? [] : [`isolation level ${settings.isolationLevel}`]),
      ...(settings.accessMode === undefined ? [] : [settings.accessMode]),
    ];
    await connection.executeQuery(CompiledQuery.raw(modes.length === 0 ? 'begin' : `start transaction ${modes.join(', ')}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  // The database is closed by its owner (database.ts), whether Kysely ever ran a query or not:
  // Kysely destroys only a driver it initialised.
  destroy(): Promise<void> {
    return Promise.resolve();
  }
}
