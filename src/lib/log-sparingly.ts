/**
 * A warning that can come many times a second, such as every lookup answered `503` while the
 * database is away or every request of a caller intake refuses, logged at most once per interval:
 * the first at once, the ones within the interval after a logged one counted, and their number
 * given by the next line. An outage then shows in the log as a few lines, not as a line per request.
 */
export type SparingLog = (write: (suppressed: number) => void) => void;

export function logSparingly(intervalMs: number, now: () => number = Date.now): SparingLog {
  let lastLoggedAt: number | null = null;
  let suppressed = 0;
  return (write) => {
    const at = now();
    if (lastLoggedAt !== null && at - lastLoggedAt < intervalMs) {
      suppressed++;
      return;
    }
    write(suppressed);
    lastLoggedAt = at;
    suppressed = 0;
  };
}
