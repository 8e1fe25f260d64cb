/** Where intake hands accepted reports: `store` resolves only once they are durable. */
import type { ReportToStore } from '../storage/write-reports.js';

export interface ReportSink {
  readonly store: (items: readonly ReportToStore[]) => Promise<void>;
}
