/**
 * Which of a part's reports decides its state: the final report with the latest `timestamp`; while
 * the part has no final report, the non-final one with the latest `timestamp`. A tie goes to the
 * report received last. A report without a timestamp counts as older than any with one.
 */

export interface RankedReport {
  readonly final: boolean;
  readonly timestamp: Date | null;
  /** Arrival order: a larger number was received later. */
  readonly seq: number;
}

/** Whether `candidate` decides over `current`. */
export function decidesOver(candidate: RankedReport, current: RankedReport): boolean {
  if (candidate.final !== current.final) return candidate.final;
  // Compared, not subtracted: two reports without a timestamp are a tie, where -Infinity minus
  // -Infinity is NaN, which made the first one seen decide.
  const candidateTime = timeOf(candidate);
  const currentTime = timeOf(current);
  if (candidateTime !== currentTime) return candidateTime > currentTime;
  return candidate.seq > current.seq;
}

/** The deciding report among `reports`, or undefined when there are none. */
export function decidingReport<T extends RankedReport>(reports: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const report of reports) {
    if (best === undefined || decidesOver(report, best)) best = report;
  }
  return best;
}

/**
 * The deciding report of each part among a message's reports, by part; `null` holds the deciding
 * report among those for the whole message (an id without `$n`).
 */
export function decidersByPart<T extends RankedReport & { readonly part: number | null }>(reports: Iterable<T>): Map<number | null, T> {
  const deciders = new Map<number | null, T>();
  for (const report of reports) {
    const current = deciders.get(report.part);
    if (current === undefined || decidesOver(report, current)) deciders.set(report.part, report);
  }
  return deciders;
}

function timeOf(report: RankedReport): number {
  return report.timestamp === null ? Number.NEGATIVE_INFINITY : report.timestamp.getTime();
}
