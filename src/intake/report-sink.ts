/** Where intake hands accepted reports; resolves only once they are durable. */
import type { Kysely } from 'kysely';
import type { Tables } from '../storage/tables.js';
import type { ReportToStore, StoreOutcome } from '../storage/write-reports.js';
import { storeReports } from '../storage/write-reports.js';

export interface ReportSink {
  readonly store: (items: readonly ReportToStore[]) => Promise<StoreOutcome>;
}

/** Each request's reports in a transaction of their own. */
export function directSink(db: Kysely<Tables>): ReportSink {
  return { store: (items) => storeReports(db, items) };
}
